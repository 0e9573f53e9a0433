"""Bad-input corpus: every broken or hostile file fails with its own clear message and stores nothing."""

import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import layers_data as d

VRT = b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/http://169.254.169.254/</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>'
KML_XXE = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&xxe;</name>
<Point><coordinates>-122.36,38.4</coordinates></Point></Placemark></Document></kml>"""


def _shp(tmp: Path, **kw: Any) -> Path:
    return d.write_shapefile(tmp, d.parcels_frame(), **kw)


def _truncated_shp(tmp: Path) -> Path:
    archive = _shp(tmp)
    members = {}
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            members[name] = data[:150] if name.endswith(".shp") else data
    return d.write_bytes(tmp, "truncated.zip", d.zip_bytes(members))


def _unknown_prj(tmp: Path) -> Path:
    archive = _shp(tmp)
    with zipfile.ZipFile(archive) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members = {n: (b"GARBAGE[not a crs]" if n.endswith(".prj") else v) for n, v in members.items()}
    return d.write_bytes(tmp, "unknown-crs.zip", d.zip_bytes(members))


def _prj_url(tmp: Path) -> Path:
    archive = _shp(tmp)
    with zipfile.ZipFile(archive) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members = {
        n: (b"https://example.org/crs.prj" if n.endswith(".prj") else v) for n, v in members.items()
    }
    return d.write_bytes(tmp, "prj-url.zip", d.zip_bytes(members))


def _projected_out_of_area(tmp: Path) -> Path:
    frame = d.points_frame(crs=2226)
    frame.geometry = frame.geometry.translate(1e13, 1e13)
    return d.write_shapefile(tmp, frame, name="faraway")


def _gpkg_with_vsi(tmp: Path) -> Path:
    path = tmp / "vsi.gpkg"
    d.parcels_frame().to_file(path, layer="parcels", driver="GPKG")
    with sqlite3.connect(path) as db:
        db.execute("CREATE VIEW sneaky AS SELECT '/vsicurl/http://169.254.169.254/latest' AS src")
    return path


def _sqlite_not_gpkg(tmp: Path) -> Path:
    path = tmp / "plain.gpkg"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (a int)")
    return path


def _gpkg(tmp: Path) -> Path:
    path = tmp / "two.gpkg"
    d.parcels_frame().to_file(path, layer="parcels", driver="GPKG")
    return path


def _many_fields(tmp: Path) -> Path:
    props = {f"field_{i}": i for i in range(30)}
    return d.write_bytes(tmp, "wide.geojson", d.geojson_bytes([d.feature(d.point(), **props)]))


def _bomb(tmp: Path) -> Path:
    path = tmp / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.geojson", b" " * (20 * 1024 * 1024))
    return path


def _many_members(tmp: Path) -> Path:
    return d.write_bytes(tmp, "many.zip", d.zip_bytes({f"f{i}.txt": b"x" for i in range(12)}))


GJ_POINT = d.geojson_bytes([d.feature(d.point(), name="a")])

# (case id, builder, import options, expected message fragment)
CASES: list[tuple[str, Callable[[Path], Path], dict[str, Any], str]] = [
    ("empty file", lambda t: d.write_bytes(t, "empty.geojson", b""), {}, "is empty (0 bytes)"),
    (
        "wrong extension",
        lambda t: d.write_bytes(t, "data.gpkg", GJ_POINT),
        {},
        "named like GeoPackage but its content is GeoJSON",
    ),
    (
        "unsupported extension",
        lambda t: d.write_bytes(t, "data.docx", GJ_POINT),
        {},
        "extension we do not import",
    ),
    (
        "zip path traversal",
        lambda t: d.write_bytes(t, "trav.zip", d.zip_bytes({"../evil.geojson": GJ_POINT})),
        {},
        "points outside the archive",
    ),
    (
        "zip absolute member",
        lambda t: d.write_bytes(t, "abs.zip", d.zip_bytes({"/etc/evil.geojson": GJ_POINT})),
        {},
        "points outside the archive",
    ),
    ("zip bomb", _bomb, {}, "the limit is 10 MB"),
    ("zip with too many members", _many_members, {}, "holds 12 files; the limit is 5"),
    ("damaged zip", lambda t: d.write_bytes(t, "bad.zip", b"PK\x03\x04garbage"), {}, "damaged zip"),
    (
        "nested zip",
        lambda t: d.write_bytes(
            t, "nest.zip", d.zip_bytes({"inner.zip": d.zip_bytes({"a.geojson": GJ_POINT})})
        ),
        {},
        "contains no data we can read",
    ),
    ("shapefile without shx", lambda t: _shp(t, skip=(".shx",)), {}, "missing its .shx file"),
    ("shapefile without dbf", lambda t: _shp(t, skip=(".dbf",)), {}, "missing its .dbf file"),
    ("truncated shp", _truncated_shp, {}, "could not be read"),
    (
        "lone shp part",
        lambda t: d.write_bytes(t, "x.geojson", b"\x00\x00\x27\x0a" + b"\x00" * 96),
        {},
        ".shp part of a Shapefile on its own",
    ),
    (
        "shapefile without prj",
        lambda t: _shp(t, skip=(".prj",)),
        {},
        "has no .prj file, so its coordinate system is unknown",
    ),
    ("unknown crs in prj", _unknown_prj, {}, "cannot recognise"),
    ("prj pointing at a url", _prj_url, {}, "refers to a URL"),
    (
        "crs option given as a url",
        lambda t: d.write_bytes(t, "a.geojson", GJ_POINT),
        {"srid": "http://www.opengis.net/def/crs/EPSG/0/2226"},
        "not a URL",
    ),
    (
        "srid that is not a number",
        lambda t: d.write_bytes(t, "a.geojson", GJ_POINT),
        {"srid": "state plane"},
        "is not an EPSG code",
    ),
    (
        "unknown epsg code",
        lambda t: d.write_bytes(t, "a.geojson", GJ_POINT),
        {"srid": "999999"},
        "not a coordinate system we know",
    ),
    (
        "geojson crs as a link",
        lambda t: d.write_bytes(
            t,
            "l.geojson",
            d.geojson_bytes(
                [d.feature(d.point())],
                crs={
                    "type": "link",
                    "properties": {"href": "http://example.org/crs", "type": "proj4"},
                },
            ),
        ),
        {},
        "link to fetch",
    ),
    (
        "csv without coordinate columns",
        lambda t: d.write_bytes(t, "addr.csv", b"name,street\nTown hall,Main St\n"),
        {},
        "no coordinate columns",
    ),
    ("kml with an external entity", lambda t: d.write_bytes(t, "xxe.kml", KML_XXE), {}, "XXE"),
    (
        "file name is a vsicurl path",
        lambda t: d.write_bytes(t, "a.geojson", GJ_POINT),
        {"name_override": "/vsicurl/http://169.254.169.254/a.geojson"},
        "virtual path",
    ),
    (
        "file name is a connection string",
        lambda t: d.write_bytes(t, "a.geojson", GJ_POINT),
        {"name_override": "PG:dbname=sharedgis"},
        "connection string",
    ),
    (
        "source layer is a connection string",
        lambda t: d.write_bytes(t, "a.geojson", GJ_POINT),
        {"source_layer": "WFS:http://example.org/wfs"},
        "connection string",
    ),
    ("vrt disguised as geojson", lambda t: d.write_bytes(t, "vrt.geojson", VRT), {}, "VRT"),
    ("vrt disguised as gpkg", lambda t: d.write_bytes(t, "vrt.gpkg", VRT), {}, "VRT"),
    ("vrt disguised as tif", lambda t: d.write_bytes(t, "vrt.tif", VRT), {}, "VRT"),
    (
        "vrt inside a zip",
        lambda t: d.write_bytes(t, "v.zip", d.zip_bytes({"layer.vrt": VRT, "a.geojson": GJ_POINT})),
        {},
        "VRT",
    ),
    (
        "geojson pointing at vsicurl",
        lambda t: d.write_bytes(
            t, "v.geojson", d.geojson_bytes([d.feature(d.point(), src="/vsicurl/http://x/")])
        ),
        {},
        "virtual path",
    ),
    ("gpkg content pointing at vsicurl", _gpkg_with_vsi, {}, "references to GDAL virtual paths"),
    ("sqlite that is not a geopackage", _sqlite_not_gpkg, {}, "not a GeoPackage"),
    (
        "unknown layer in a geopackage",
        _gpkg,
        {"source_layer": "roads"},
        "has no layer named “roads”",
    ),
    ("huge attribute count", _many_fields, {}, "has 30 attributes; the limit is 20"),
    (
        "layer of zero features",
        lambda t: d.write_bytes(t, "none.geojson", d.geojson_bytes([])),
        {},
        "has no features",
    ),
    (
        "only empty geometries",
        lambda t: d.write_bytes(
            t, "e.geojson", d.geojson_bytes([d.feature(None, a=1), d.feature(None, a=2)])
        ),
        {},
        "no features with a geometry",
    ),
    (
        "coordinates out of range for epsg 4326",
        lambda t: d.write_bytes(t, "far.geojson", d.geojson_bytes([d.feature(d.point(500, 95))])),
        {},
        "outside the range of EPSG:4326",
    ),
    (
        "coordinates outside a projected crs",
        _projected_out_of_area,
        {},
        "outside the area EPSG:2226 covers",
    ),
    (
        "json array",
        lambda t: d.write_bytes(t, "arr.json", b"[1, 2, 3]"),
        {},
        "JSON array, not GeoJSON",
    ),
    (
        "binary garbage",
        lambda t: d.write_bytes(t, "junk.fgb", bytes(range(256)) * 4),
        {},
        "not a format we can read",
    ),
    (
        "xml that is not kml",
        lambda t: d.write_bytes(t, "gml.kml", b"<?xml version='1.0'?><gml:FeatureCollection/>"),
        {},
        "XML file but not KML",
    ),
    (
        "truncated geojson",
        lambda t: d.write_bytes(t, "cut.geojson", GJ_POINT[:40]),
        {},
        "could not be read",
    ),
]


@pytest.mark.parametrize(
    ("builder", "options", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_fails_with_a_clear_message_and_stores_nothing(
    world: Any,
    tmp_path: Path,
    settings: Any,
    builder: Callable[[Path], Path],
    options: dict[str, Any],
    expected: str,
) -> None:
    settings.UPLOAD_MAX_UNZIPPED_BYTES = 10 * 1024 * 1024
    settings.UPLOAD_MAX_ZIP_MEMBERS = 5
    settings.UPLOAD_MAX_FIELDS = 20
    path = builder(tmp_path)
    options = dict(options)
    name = options.pop("name_override", None)
    d.assert_fails_leaving_nothing(world.project_a, path, expected, filename=name, **options)


def test_the_corpus_has_at_least_thirty_hostile_or_broken_files() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)
