"""Downloads: a layer version streamed from PostGIS, in EPSG:4326 or its source CRS.

GeoJSON and CSV are text written row by row from a server-side cursor, so they stream to the
browser (or into a file) with flat memory whatever the layer's size. GeoPackage, Shapefile and
KML need a real file: GDAL writes it from Arrow batches read the same way.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import connections, router, transaction

from layers.models import Feature, LayerVersion
from projects.csv_safety import safe_text
from projects.srid import STORAGE_SRID

if TYPE_CHECKING:  # pyarrow and pyogrio (which pulls pandas) load when a download runs
    import pyarrow as pa

FORMATS = {
    # key: (GDAL driver, extension, media type, label)
    "geojson": ("GeoJSON", ".geojson", "application/geo+json", "GeoJSON"),
    "gpkg": ("GPKG", ".gpkg", "application/geopackage+sqlite3", "GeoPackage"),
    "shp": ("ESRI Shapefile", ".zip", "application/zip", "Shapefile (zip)"),
    "csv": ("CSV", ".csv", "text/csv", "CSV (WKT)"),
    "kml": ("KML", ".kml", "application/vnd.google-earth.kml+xml", "KML"),
}
ARROW_TYPES = {"integer": "int64", "real": "float64", "boolean": "bool_"}  # pyarrow factories
BATCH = 20000
# Rows per chunk of a streamed text download (about 1 MB of GeoJSON for points).
STREAM_ROWS = 5000
STREAMED = frozenset({"geojson", "csv"})
RowsDone = Callable[[int], None]


class ExportError(Exception):
    pass


def _geometry_type(version: LayerVersion) -> str:
    base = version.geometry_type or "Unknown"
    if base in ("Geometry", "GeometryCollection"):
        base = "Unknown"
    return f"{base} Z" if version.has_z and base != "Unknown" else base


def _chunks(
    sql: str, params: list[object], rows: int, done: RowsDone | None = None
) -> Iterator[list[Any]]:
    """Chunks of rows from a server-side cursor: memory stays flat for layers of any size.

    `done` hears how many rows were handled after each chunk (a job's progress).
    """
    alias = router.db_for_read(Feature)
    count = 0
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        raw = cursor.cursor.connection.cursor(name="sharedgis_export")
        try:
            raw.execute(sql, params)
            while chunk := raw.fetchmany(rows):
                yield chunk
                count += len(chunk)
                if done:
                    done(count)
        finally:
            raw.close()


def _geom_sql(srid: int) -> tuple[str, list[object]]:
    return ("geom", []) if srid == STORAGE_SRID else ("ST_Transform(geom, %s)", [srid])


def _arrow_type(field_type: str) -> pa.DataType:
    import pyarrow as pa

    return getattr(pa, ARROW_TYPES.get(field_type, "string"))()


def _arrow_schema(version: LayerVersion) -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [pa.field(f["name"], _arrow_type(f["type"])) for f in version.schema or []]
        + [pa.field("geometry", pa.binary())]
    )


def _batches(
    version: LayerVersion, srid: int, done: RowsDone | None = None
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    schema = version.schema or []
    arrow_schema = _arrow_schema(version)
    transform, params = _geom_sql(srid)
    sql = (
        f"SELECT properties::text, ST_AsBinary({transform}) FROM layers_feature "
        "WHERE version_id = %s ORDER BY fid"
    )
    for rows in _chunks(sql, [*params, version.pk], BATCH, done):
        props = [json.loads(r[0]) for r in rows]
        columns = []
        for f in schema:
            values = [p.get(f["name"]) for p in props]
            if f["type"] not in ARROW_TYPES:
                values = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
            columns.append(pa.array(values, type=_arrow_type(f["type"])))
        columns.append(pa.array([bytes(r[1]) for r in rows], type=pa.binary()))
        yield pa.RecordBatch.from_arrays(columns, schema=arrow_schema)


def stream_geojson(
    version: LayerVersion, srid: int, done: RowsDone | None = None
) -> Iterator[bytes]:
    """A FeatureCollection, one feature a line, coordinates at full precision (they round-trip).

    A CRS other than EPSG:4326 is named in the legacy `crs` member, which GDAL and QGIS read.
    """
    transform, params = _geom_sql(srid)
    head: dict[str, Any] = {"type": "FeatureCollection", "name": _safe_name(version.layer.name)}
    if srid != STORAGE_SRID:
        head["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{srid}"}}
    yield (json.dumps(head)[:-1] + ',"features":[\n').encode()
    sql = (
        """SELECT '{"type":"Feature","id":' || fid || ',"geometry":' """
        f"|| ST_AsGeoJSON({transform}, 15) || ',\"properties\":' || properties::text || '}}' "
        "FROM layers_feature WHERE version_id = %s ORDER BY fid"
    )
    separator = ""
    for rows in _chunks(sql, [*params, version.pk], STREAM_ROWS, done):
        yield (separator + ",\n".join(r[0] for r in rows) + "\n").encode()
        separator = ","
    yield b"]}\n"


def _spreadsheet_safe(row: tuple[Any, ...], texts: list[int]) -> list[Any]:
    cells = list(row)
    for i in texts:
        if cells[i]:
            cells[i] = safe_text(cells[i])
    return cells


def stream_csv(version: LayerVersion, srid: int, done: RowsDone | None = None) -> Iterator[bytes]:
    """A CSV with the geometry as WKT in its first column, then the attributes in source order.

    PostgreSQL extracts each attribute as text (objects and lists as JSON). A CSV opens in a
    spreadsheet: text cells that would run as formulas (=HYPERLINK(…)) are neutralised.
    """
    names = [f["name"] for f in version.schema or []]
    # Positions (after the WKT column) of the attributes that are text rather than numbers.
    texts = [i + 1 for i, f in enumerate(version.schema or []) if f["type"] not in ARROW_TYPES]
    transform, params = _geom_sql(srid)
    columns = "".join(", properties ->> %s" for _ in names)
    sql = (
        f"SELECT ST_AsText({transform}){columns} FROM layers_feature "
        "WHERE version_id = %s ORDER BY fid"
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["WKT", *names])
    for rows in _chunks(sql, [*params, *names, version.pk], STREAM_ROWS, done):
        if texts:
            writer.writerows(_spreadsheet_safe(row, texts) for row in rows)
        else:
            writer.writerows(rows)
        yield out.getvalue().encode()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue().encode()


def stream_version(
    version: LayerVersion, fmt: str, srid: int, done: RowsDone | None = None
) -> Iterator[bytes]:
    return (stream_geojson if fmt == "geojson" else stream_csv)(version, srid, done)


def _reader(version: LayerVersion, srid: int, done: RowsDone | None) -> pa.RecordBatchReader:
    import pyarrow as pa

    return pa.RecordBatchReader.from_batches(_arrow_schema(version), _batches(version, srid, done))


def check_export(version: LayerVersion, fmt: str) -> None:
    """Refuse what cannot be exported, before any work starts (ExportError with the reason)."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format “{fmt}”: choose one of {', '.join(FORMATS)}.")
    if fmt == "shp" and _geometry_type(version) == "Unknown":
        raise ExportError("A Shapefile holds one kind of geometry; this layer mixes several.")


def export_srid(fmt: str, srid: int | None) -> int:
    return STORAGE_SRID if fmt == "kml" else (srid or STORAGE_SRID)


def export_version(
    *,
    version: LayerVersion,
    fmt: str,
    srid: int | None,
    out: Path,
    done: RowsDone | None = None,
) -> Path:
    """Write `version` to `out` (a file path; .zip for Shapefiles) and return it."""
    import pyogrio

    check_export(version, fmt)
    driver, _ext, _media, _label = FORMATS[fmt]
    target_srid = export_srid(fmt, srid)
    layer_name = _safe_name(version.layer.name)
    out.unlink(missing_ok=True)  # GDAL appends to (or refuses) an existing file
    if fmt in STREAMED:
        with out.open("wb") as handle:
            for chunk in stream_version(version, fmt, target_srid, done):
                handle.write(chunk)
        return out
    options: dict[str, object] = {}
    kwargs = dict(
        driver=driver,
        layer=layer_name,
        geometry_name="geometry",
        geometry_type=_geometry_type(version),
        crs=f"EPSG:{target_srid}",
        layer_options=options or None,
    )
    if fmt == "shp":
        with tempfile.TemporaryDirectory(prefix="sharedgis-export-") as tmp:
            shp = Path(tmp) / f"{layer_name}.shp"
            pyogrio.write_arrow(
                _reader(version, target_srid, done), str(shp), encoding="UTF-8", **kwargs
            )
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                for part in sorted(Path(tmp).iterdir()):
                    archive.write(part, part.name)
        return out
    pyogrio.write_arrow(_reader(version, target_srid, done), str(out), **kwargs)
    return out


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return cleaned[:60] or "layer"


def download_filename(version: LayerVersion, fmt: str, srid: int) -> str:
    return f"{_safe_name(version.layer.name)}_v{version.number}_epsg{export_srid(fmt, srid)}{FORMATS[fmt][1]}"
