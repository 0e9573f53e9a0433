"""Downloads: a layer version streamed from PostGIS into a file, in EPSG:4326 or its source CRS."""

import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyogrio
from django.db import connection, transaction

from layers.models import LayerVersion
from projects.csv_safety import safe_text
from projects.srid import STORAGE_SRID

FORMATS = {
    # key: (GDAL driver, extension, media type, label)
    "geojson": ("GeoJSON", ".geojson", "application/geo+json", "GeoJSON"),
    "gpkg": ("GPKG", ".gpkg", "application/geopackage+sqlite3", "GeoPackage"),
    "shp": ("ESRI Shapefile", ".zip", "application/zip", "Shapefile (zip)"),
    "csv": ("CSV", ".csv", "text/csv", "CSV (WKT)"),
    "kml": ("KML", ".kml", "application/vnd.google-earth.kml+xml", "KML"),
}
ARROW_TYPES = {
    "integer": pa.int64(),
    "real": pa.float64(),
    "boolean": pa.bool_(),
}
BATCH = 20000


class ExportError(Exception):
    pass


def _geometry_type(version: LayerVersion) -> str:
    base = version.geometry_type or "Unknown"
    if base in ("Geometry", "GeometryCollection"):
        base = "Unknown"
    return f"{base} Z" if version.has_z and base != "Unknown" else base


def _batches(
    version: LayerVersion, srid: int, *, spreadsheet: bool = False
) -> Iterator[pa.RecordBatch]:
    """The version's features in Arrow batches; `spreadsheet` neutralises formula-like text."""
    schema = version.schema or []
    arrow_schema = pa.schema(
        [pa.field(f["name"], ARROW_TYPES.get(f["type"], pa.string())) for f in schema]
        + [pa.field("geometry", pa.binary())]
    )
    transform = "geom" if srid == STORAGE_SRID else "ST_Transform(geom, %s)"
    params: list[object] = [] if srid == STORAGE_SRID else [srid]
    with transaction.atomic(), connection.cursor() as cursor:
        # A named (server-side) cursor keeps memory flat for layers of any size.
        raw = cursor.cursor.connection.cursor(name=f"export_{version.pk}")
        raw.execute(
            f"SELECT properties::text, ST_AsBinary({transform}) FROM layers_feature "
            "WHERE version_id = %s ORDER BY fid",
            [*params, version.pk],
        )
        while rows := raw.fetchmany(BATCH):
            props = [json.loads(r[0]) for r in rows]
            columns = []
            for f in schema:
                values = [p.get(f["name"]) for p in props]
                kind = ARROW_TYPES.get(f["type"])
                if kind is None:
                    values = [
                        v if v is None or isinstance(v, str) else json.dumps(v) for v in values
                    ]
                    if spreadsheet:
                        values = [v if v is None else safe_text(v) for v in values]
                columns.append(pa.array(values, type=kind or pa.string()))
            columns.append(pa.array([bytes(r[1]) for r in rows], type=pa.binary()))
            yield pa.RecordBatch.from_arrays(columns, schema=arrow_schema)
        raw.close()
        if False:  # pragma: no cover - keeps the generator typed when the layer is empty
            yield pa.RecordBatch.from_arrays([], schema=arrow_schema)


def _reader(version: LayerVersion, srid: int, spreadsheet: bool = False) -> pa.RecordBatchReader:
    schema = version.schema or []
    arrow_schema = pa.schema(
        [pa.field(f["name"], ARROW_TYPES.get(f["type"], pa.string())) for f in schema]
        + [pa.field("geometry", pa.binary())]
    )
    return pa.RecordBatchReader.from_batches(
        arrow_schema, _batches(version, srid, spreadsheet=spreadsheet)
    )


def export_version(*, version: LayerVersion, fmt: str, srid: int | None, out: Path) -> Path:
    """Write `version` to `out` (a file path; .zip for Shapefiles) and return it."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format “{fmt}”: choose one of {', '.join(FORMATS)}.")
    driver, _ext, _media, _label = FORMATS[fmt]
    target_srid = STORAGE_SRID if fmt == "kml" else (srid or STORAGE_SRID)
    if fmt == "shp" and _geometry_type(version) == "Unknown":
        raise ExportError("A Shapefile holds one kind of geometry; this layer mixes several.")
    layer_name = _safe_name(version.layer.name)
    out.unlink(missing_ok=True)  # GDAL appends to (or refuses) an existing file
    options: dict[str, object] = {}
    if fmt == "csv":
        options["GEOMETRY"] = "AS_WKT"
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
            pyogrio.write_arrow(_reader(version, target_srid), str(shp), encoding="UTF-8", **kwargs)
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                for part in sorted(Path(tmp).iterdir()):
                    archive.write(part, part.name)
        return out
    # A CSV opens in a spreadsheet: text cells must not run as formulas (=HYPERLINK(…)).
    pyogrio.write_arrow(_reader(version, target_srid, fmt == "csv"), str(out), **kwargs)
    return out


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return cleaned[:60] or "layer"


def download_filename(version: LayerVersion, fmt: str, srid: int) -> str:
    return f"{_safe_name(version.layer.name)}_v{version.number}_epsg{STORAGE_SRID if fmt == 'kml' else srid}{FORMATS[fmt][1]}"
