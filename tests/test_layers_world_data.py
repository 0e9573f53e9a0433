"""World datasets import and tile: features touching ±180/±90 (with floating-point rounding),
polar caps and whole-globe layers, in every format, generated here as the common world files are.
"""

import json
import math
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import Point, Polygon, box, mapping

from layers.models import LayerVersion
from layers.tiles import TileSpec, render_tile
from tests.conftest import World
from tests.layers_data import run_import, write_shapefile

pytestmark = pytest.mark.django_db

# What many world files hold after a projection round trip or a float sum.
ROUNDED_EAST = 180.00000000000006
ROUNDED_SOUTH = -90.00000000000001


def world_frame() -> gpd.GeoDataFrame:
    """Countries-like polygons and points along the edges of EPSG:4326."""
    shapes = {
        # A Fiji-like island group cut at the antimeridian, east part ending past 180 by rounding.
        "east edge": box(178.0, -18.0, ROUNDED_EAST, -16.0),
        "west edge": box(-180.0, -18.0, -178.0, -16.0),
        # An Antarctica-like polar cap, from one edge of the world to the other, down to the pole.
        "polar cap": Polygon(
            [(-180, -60), (0, -63), (180, -60), (180, ROUNDED_SOUTH), (-180, -90), (-180, -60)]
        ),
        "arctic": box(-180.0, 80.0, 180.0, 90.0),
        "whole globe": box(-180.0, -90.0, 180.0, 90.0),
    }
    return gpd.GeoDataFrame({"name": list(shapes)}, geometry=list(shapes.values()), crs=4326)


def corner_points() -> gpd.GeoDataFrame:
    corners = [(180, 90), (-180, -90), (ROUNDED_EAST, 0), (-180, 90), (0, ROUNDED_SOUTH)]
    return gpd.GeoDataFrame(
        {"name": [f"{x},{y}" for x, y in corners]},
        geometry=[Point(x, y) for x, y in corners],
        crs=4326,
    )


def geojson_file(frame: gpd.GeoDataFrame, path: Path) -> Path:
    # Written by hand so the rounded coordinates keep every digit (repr) as real files do.
    features = [
        {"type": "Feature", "properties": {"name": n}, "geometry": mapping(g)}
        for n, g in zip(frame["name"], frame.geometry, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def csv_file(frame: gpd.GeoDataFrame, path: Path) -> Path:
    rows = ["name,wkt"] + [
        f'"{n}","{shapely.to_wkt(g, rounding_precision=-1)}"'
        for n, g in zip(frame["name"], frame.geometry, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def write(frame: gpd.GeoDataFrame, fmt: str, tmp: Path, stem: str) -> Path:
    if fmt == "geojson":
        return geojson_file(frame, tmp / f"{stem}.geojson")
    if fmt == "csv":
        return csv_file(frame, tmp / f"{stem}.csv")
    if fmt == "shp":
        return write_shapefile(tmp, frame, name=stem)
    suffix, driver = {"gpkg": (".gpkg", "GPKG"), "fgb": (".fgb", "FlatGeobuf")}[fmt]
    path = tmp / f"{stem}{suffix}"
    frame.to_file(path, driver=driver)
    return path


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "fgb", "csv"])
def test_world_polygons_touching_the_edges_import_in_every_format(
    world: World, tmp_path: Path, fmt: str
) -> None:
    (version,) = run_import(world.project_a, write(world_frame(), fmt, tmp_path, "countries"))
    assert version.feature_count == 5
    w, s, e, n = version.extent.extent
    assert (w, s, e, n) == (-180.0, -90.0, 180.0, 90.0)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_points_on_the_corners_of_the_world_import(world: World, tmp_path: Path, fmt: str) -> None:
    (version,) = run_import(world.project_a, write(corner_points(), fmt, tmp_path, "corners"))
    assert version.feature_count == 5


def test_a_web_mercator_world_file_imports(world: World, tmp_path: Path) -> None:
    edge = 20037508.342789244  # the square world of EPSG:3857; lon ±180 after the round trip
    frame = gpd.GeoDataFrame(
        {"name": ["world", "east"]},
        geometry=[box(-edge, -edge, edge, edge), box(edge - 100_000, 0, edge, 100_000)],
        crs=3857,
    )
    path = tmp_path / "mercator.gpkg"
    frame.to_file(path, driver="GPKG")
    (version,) = run_import(world.project_a, path)
    assert version.feature_count == 2
    w, _s, e, _n = version.extent.extent
    assert w == -180.0 and e == 180.0


def test_a_coordinate_really_outside_the_world_is_still_refused(
    world: World, tmp_path: Path
) -> None:
    from layers.ingest.errors import ImportFailed

    frame = gpd.GeoDataFrame({"name": ["far"]}, geometry=[Point(180.001, 0)], crs=4326)
    with pytest.raises(ImportFailed, match=r"x=180\.001"):
        run_import(world.project_a, geojson_file(frame, tmp_path / "far.geojson"))


def tile_names(version: LayerVersion, z: int, x: int, y: int) -> set[str]:
    spec = TileSpec(
        version_id=version.pk,
        layer_id=version.layer_id,
        z=z,
        x=x,
        y=y,
        fields=("name",),
        coarse_fields=("name",),
        feature_count=version.feature_count,
    )
    data = render_tile(spec)
    if not data:
        return set()
    features = mapbox_vector_tile.decode(data)[f"layer_{version.layer_id}"]["features"]
    return {f["properties"]["name"] for f in features}


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    lat = max(min(lat, 85.0511), -85.0511)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(int((lon + 180) / 360 * n), n - 1), min(y, n - 1)


def test_features_touching_the_antimeridian_draw_on_both_edges_of_the_world(
    world: World, tmp_path: Path
) -> None:
    (version,) = run_import(world.project_a, geojson_file(world_frame(), tmp_path / "w.geojson"))
    z = 4
    east = tile_names(version, z, *tile_xy(179.5, -17.0, z))
    west = tile_names(version, z, *tile_xy(-179.5, -17.0, z))
    assert "east edge" in east and "west edge" not in east
    assert "west edge" in west and "east edge" not in west
    # The caps reach the poles: the tiles nearest each pole draw them, at both edges.
    for x in (0, 2**z - 1):
        assert {"polar cap", "whole globe"} <= tile_names(version, z, x, 2**z - 1)
        assert {"arctic", "whole globe"} <= tile_names(version, z, x, 0)
    assert tile_names(version, 0, 0, 0) == set(world_frame()["name"])
