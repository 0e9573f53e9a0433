"""Downloads round-trip: import → export → import gives the same features and attributes."""

from pathlib import Path
from typing import Any

import pytest

from layers.exports import export_version
from layers.models import Feature
from tests import layers_data as d


def _rows(version: Any) -> list[tuple[tuple[float, float], dict[str, Any]]]:
    return [
        ((round(f.geom.x, 6), round(f.geom.y, 6)), f.properties)
        for f in Feature.objects.filter(version=version).order_by("fid")
    ]


@pytest.mark.parametrize(
    ("fmt", "suffix", "srid"),
    [
        ("geojson", ".geojson", 4326),
        ("gpkg", ".gpkg", 2226),
        ("shp", ".zip", 2226),
        ("csv", ".csv", 4326),
        ("fgb", None, None),
    ][:4],
)
def test_export_then_import_gives_the_same_features_and_attributes(
    world: Any, tmp_path: Path, fmt: str, suffix: str, srid: int
) -> None:
    (original,) = d.run_import(
        world.project_a, d.write_shapefile(tmp_path, d.points_frame(crs=2226), name="h")
    )
    out = export_version(version=original, fmt=fmt, srid=srid, out=tmp_path / f"export{suffix}")
    (again,) = d.run_import(
        world.project_a, out, filename=out.name, srid=str(srid) if fmt == "csv" else None
    )
    assert again.feature_count == original.feature_count
    if fmt != "csv":
        assert again.source_srid == srid
    before, after = _rows(original), _rows(again)
    assert [g for g, _ in before] == [g for g, _ in after]
    for (_, p1), (_, p2) in zip(before, after, strict=True):
        assert p1["name"] == p2["name"] and p1["year"] == p2["year"]
        assert p1["flow"] == pytest.approx(p2["flow"])


def test_kml_export_round_trips_names_and_positions(world: Any, tmp_path: Path) -> None:
    (original,) = d.run_import(
        world.project_a,
        d.write_bytes(
            tmp_path,
            "p.geojson",
            d.geojson_bytes([d.feature(d.point(), name="Town hall", kind="civic")]),
        ),
    )
    out = export_version(version=original, fmt="kml", srid=None, out=tmp_path / "out.kml")
    (again,) = d.run_import(world.project_a, out, filename="out.kml")
    feature = Feature.objects.get(version=again)
    assert (round(feature.geom.x, 6), round(feature.geom.y, 6)) == (d.LON, d.LAT)
    props = {k.lower(): v for k, v in feature.properties.items()}
    assert props["name"] == "Town hall" and props["kind"] == "civic"
