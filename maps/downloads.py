"""Downloads of a published version's pinned layer data, streamed by GDAL's ogr2ogr from PostGIS."""

import os
import subprocess
import tempfile
from typing import Any

from django.db import connection
from django.http import FileResponse, HttpResponse

from layers.models import LayerVersion
from maps.styles import is_numeric_type

# format -> (GDAL driver, extension, content type)
DOWNLOAD_FORMATS = {
    "gpkg": ("GPKG", "gpkg", "application/geopackage+sqlite3"),
    "geojson": ("GeoJSON", "geojson", "application/geo+json"),
}


def _column(name: str, type_name: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    literal = "'" + name.replace("'", "''") + "'"
    if is_numeric_type(type_name):
        return (
            f"CASE WHEN jsonb_typeof(properties -> {literal}) = 'number' "
            f"THEN (properties ->> {literal})::float8 END AS {quoted}"
        )
    return f"properties ->> {literal} AS {quoted}"


def _pg_source() -> tuple[str, dict[str, str]]:
    s = connection.settings_dict
    parts = [f"dbname={s['NAME']}"]
    if s.get("HOST"):
        parts.append(f"host={s['HOST']}")
    if s.get("PORT"):
        parts.append(f"port={s['PORT']}")
    if s.get("USER"):
        parts.append(f"user={s['USER']}")
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])  # not on the command line
    return "PG:" + " ".join(parts), env


def layer_export(layer: dict[str, Any], fmt: str, basename: str) -> HttpResponse:
    """The pinned layer version of a map definition entry as a file download."""
    driver, ext, content_type = DOWNLOAD_FORMATS[fmt]
    version = LayerVersion.objects.get(pk=layer["version_id"])
    columns = [_column(str(f["name"]), str(f.get("type", ""))) for f in version.schema]
    sql = (
        f"SELECT fid, {', '.join([*columns, 'geom'])} FROM layers_feature "
        f"WHERE version_id = {int(version.pk)} ORDER BY fid"
    )
    source, env = _pg_source()
    workdir = tempfile.mkdtemp(prefix="sharedgis-dl-")
    path = os.path.join(workdir, f"{basename}.{ext}")
    result = subprocess.run(
        [
            "ogr2ogr",
            "-f",
            driver,
            path,
            source,
            "-sql",
            sql,
            "-nln",
            basename,
            "-a_srs",
            "EPSG:4326",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not os.path.exists(path):
        return HttpResponse("The download could not be prepared; please try again.", status=500)
    handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    os.unlink(path)  # the open handle keeps the data until the response is sent
    os.rmdir(workdir)
    return FileResponse(
        handle, as_attachment=True, filename=f"{basename}.{ext}", content_type=content_type
    )
