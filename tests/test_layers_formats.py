"""Every supported format imports into PostGIS in EPSG:4326 with its schema, CRS, extent and count."""

import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon

from layers.models import Feature, Layer
from tests import layers_data as d


def test_a_zipped_shapefile_keeps_its_source_crs_and_is_stored_in_4326(
    world: Any, tmp_path: Path
) -> None:
    archive = d.write_shapefile(tmp_path, d.points_frame(crs=2226), name="hydrants")
    (version,) = d.run_import(world.project_a, archive)
    assert version.source_format == "ESRI Shapefile"
    assert version.source_srid == 2226
    assert version.feature_count == 20
    assert version.geometry_type == "Point"
    assert {f["name"]: f["type"] for f in version.schema} == {
        "name": "string",
        "flow": "real",
        "year": "integer",
    }
    minx, miny, maxx, maxy = version.extent.extent
    assert -122.38 < minx < maxx < -122.34 and 38.38 < miny < maxy < 38.42
    first = Feature.objects.filter(version=version).order_by("fid").first()
    assert first.geom.srid == 4326 and first.properties["name"] == "Hydrant 0"


def test_a_shapefile_without_prj_imports_when_the_analyst_gives_the_epsg_code(
    world: Any, tmp_path: Path
) -> None:
    archive = d.write_shapefile(tmp_path, d.points_frame(crs=2226), skip=(".prj",), name="noprj")
    (version,) = d.run_import(world.project_a, archive, srid="2226")
    assert version.source_srid == 2226
    assert -122.38 < version.extent.extent[0] < -122.34


def test_a_dbf_in_latin1_without_cpg_imports_with_an_encoding_warning(
    world: Any, tmp_path: Path
) -> None:
    frame = d.parcels_frame(2)
    frame["owner"] = ["Peña", "Müller"]
    archive = d.write_shapefile(
        tmp_path, frame, skip=(".cpg",), name="latin", encoding="ISO-8859-1"
    )
    (version,) = d.run_import(world.project_a, archive)
    assert any(".cpg" in w for w in version.warnings)
    owners = sorted(f.properties["owner"] for f in Feature.objects.filter(version=version))
    assert owners == ["Müller", "Peña"]


def test_a_geopackage_with_two_layers_imports_each_or_the_one_named(
    world: Any, tmp_path: Path
) -> None:
    path = tmp_path / "town.gpkg"
    d.parcels_frame().to_file(path, layer="parcels", driver="GPKG")
    d.points_frame().to_file(path, layer="hydrants", driver="GPKG")
    both = d.run_import(world.project_a, path)
    assert sorted(v.layer.name for v in both) == ["hydrants", "parcels"]
    (one,) = d.run_import(world.project_a, path, source_layer="hydrants", name="Fire hydrants")
    assert one.layer.name == "Fire hydrants" and one.feature_count == 20


def test_geojson_kml_kmz_flatgeobuf_and_csv_each_import(world: Any, tmp_path: Path) -> None:
    frame = d.points_frame(5)
    frame.to_file(tmp_path / "a.geojson", driver="GeoJSON")
    frame.to_file(tmp_path / "a.fgb", driver="FlatGeobuf")
    frame.to_file(tmp_path / "a.kml", driver="KML")
    with zipfile.ZipFile(tmp_path / "a.kmz", "w") as zf:
        zf.write(tmp_path / "a.kml", "doc.kml")
    csv_lonlat = tmp_path / "lonlat.csv"
    csv_lonlat.write_text("name,lon,lat\nA,-122.36,38.40\nB,-122.35,38.41\n")
    csv_wkt = tmp_path / "wkt.csv"
    csv_wkt.write_text(
        'id,WKT\n1,"POLYGON ((-122.36 38.4,-122.35 38.4,-122.35 38.41,-122.36 38.4))"\n'
    )
    expected = {"a.geojson": 5, "a.fgb": 5, "a.kml": 5, "a.kmz": 5, "lonlat.csv": 2, "wkt.csv": 1}
    for name, count in expected.items():
        (version,) = d.run_import(world.project_a, tmp_path / name, filename=name)
        assert version.feature_count == count, name
        assert version.source_srid == 4326
    assert Layer.objects.count() == len(expected)


def test_invalid_polygons_are_repaired_and_counted(world: Any, tmp_path: Path) -> None:
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    frame = gpd.GeoDataFrame(
        {"n": [1, 2]}, geometry=[bowtie, Polygon.from_bounds(2, 2, 3, 3)], crs=4326
    )
    frame.to_file(tmp_path / "bad.geojson", driver="GeoJSON")
    (version,) = d.run_import(world.project_a, tmp_path / "bad.geojson")
    assert version.repaired_count == 1
    assert any("repaired" in w for w in version.warnings)
    assert all(f.geom.valid for f in Feature.objects.filter(version=version))
    assert version.geometry_type == "MultiPolygon"


def test_mixed_single_and_multi_parts_are_promoted_to_multi(world: Any, tmp_path: Path) -> None:
    square = Polygon.from_bounds(0, 0, 1, 1)
    frame = gpd.GeoDataFrame(
        {"n": [1, 2]}, geometry=[square, MultiPolygon([Polygon.from_bounds(2, 2, 3, 3)])], crs=4326
    )
    frame.to_file(tmp_path / "mixed.geojson", driver="GeoJSON")
    (version,) = d.run_import(world.project_a, tmp_path / "mixed.geojson")
    assert version.geometry_type == "MultiPolygon"
    assert {f.geom.geom_type for f in Feature.objects.filter(version=version)} == {"MultiPolygon"}


def test_mixed_kinds_import_as_generic_geometry_with_a_warning(world: Any, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"n": [1, 2]}, geometry=[Point(0, 0), Polygon.from_bounds(2, 2, 3, 3)], crs=4326
    )
    frame.to_file(tmp_path / "kinds.geojson", driver="GeoJSON")
    (version,) = d.run_import(world.project_a, tmp_path / "kinds.geojson")
    assert version.geometry_type == "Geometry"
    assert any("mixes kinds" in w for w in version.warnings)


def test_empty_geometries_are_skipped_with_a_warning(world: Any, tmp_path: Path) -> None:
    path = d.write_bytes(
        tmp_path, "some.geojson", d.geojson_bytes([d.feature(d.point(), a=1), d.feature(None, a=2)])
    )
    (version,) = d.run_import(world.project_a, path)
    assert version.feature_count == 1
    assert any("empty or missing geometry" in w for w in version.warnings)


def test_3d_is_kept_unless_dropping_z_is_asked(world: Any, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(-122.36, 38.4, 12.5)], crs=4326)
    frame.to_file(tmp_path / "z.geojson", driver="GeoJSON")
    (kept,) = d.run_import(world.project_a, tmp_path / "z.geojson")
    assert kept.has_z and Feature.objects.get(version=kept).geom.z == pytest.approx(12.5)
    (flat,) = d.run_import(world.project_a, tmp_path / "z.geojson", drop_z="1")
    assert not flat.has_z and not Feature.objects.get(version=flat).geom.hasz


def test_measured_geometries_keep_their_m_values(world: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.gpkg"
    gpd.GeoDataFrame({"n": [1]}, geometry=[Point(-122.36, 38.4)], crs=4326).to_file(path, layer="m")
    with sqlite3.connect(path):
        pass
    (version,) = d.run_import(world.project_a, path)
    assert version.feature_count == 1
