"""Untrusted uploads: detect the format from content, unpack zips within limits, keep GDAL local.

GDAL older than 3.9 cannot refuse network or arbitrary file access by itself, so every upload is
sniffed here and opened only through an allow-listed driver, from a private working directory.
"""

import json
import re
import shutil
import sqlite3
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.conf import settings

from layers.ingest.errors import ImportFailed

# Driver names as GDAL reports them; nothing else is ever opened.
SHAPEFILE = "ESRI Shapefile"
GPKG = "GPKG"
GEOJSON = "GeoJSON"
KML = "KML"
LIBKML = "LIBKML"
CSV = "CSV"
FLATGEOBUF = "FlatGeobuf"
ALLOWED_DRIVERS = {SHAPEFILE, GPKG, GEOJSON, KML, LIBKML, CSV, FLATGEOBUF}

FORMAT_LABELS = {
    SHAPEFILE: "Shapefile",
    GPKG: "GeoPackage",
    GEOJSON: "GeoJSON",
    KML: "KML",
    LIBKML: "KML",
    CSV: "CSV",
    FLATGEOBUF: "FlatGeobuf",
}

SUPPORTED = (
    "zipped Shapefile (.zip), GeoPackage (.gpkg), GeoJSON (.geojson/.json), KML (.kml), "
    "KMZ (.kmz), CSV with coordinates (.csv) or FlatGeobuf (.fgb)"
)
EXTENSIONS = {
    ".zip": "zip",
    ".kmz": "zip",
    ".gpkg": GPKG,
    ".geojson": GEOJSON,
    ".json": GEOJSON,
    ".kml": KML,
    ".csv": CSV,
    ".txt": CSV,
    ".fgb": FLATGEOBUF,
}

# GDAL configuration for every untrusted read: no network (dead proxy, no curl extensions),
# no directory scans next to the file, no VRT or Python pixel functions.
# A dead proxy is bypassed for hosts in NO_PROXY: workers must not set it (docs/security.md), and
# their egress firewall is the last line.
GDAL_SAFE_CONFIG = {
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTPS_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    # PROJ never downloads transformation grids for an upload.
    "PROJ_NETWORK": "OFF",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".sharedgis-no-network",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "GDAL_ENABLE_DEPRECATED_DRIVER_VRT": "NO",
    # File pages read through mmap count as our memory; plain reads keep peak RSS low.
    "OGR_SQLITE_PRAGMA": "mmap_size=0",
}

VIRTUAL_PATH = re.compile(
    r"(^|[\s\"'<>=(])(/vsi[a-z0-9_]+/|(PG|MYSQL|OCI|ODBC|MSSQL|WFS|WMS|WCS|OAPIF|ESRIJSON|"
    r"GPKG|SQLITE|CSV|GTIFF|NETCDF|HDF5|ELASTICSEARCH|MONGODB|COUCHDB|CARTO|AMIGOCLOUD|"
    r"GDAL|DRIVER):)",
    re.IGNORECASE,
)
VSI_PATH = re.compile(r"/vsi[a-z0-9_]+/?", re.IGNORECASE)
CONNECTION_STRING = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,20}:(?![\\/])")


def configure_gdal() -> None:
    """Apply the safe configuration to pyogrio's GDAL (idempotent, cheap)."""
    import pyogrio

    pyogrio.set_gdal_config_options(GDAL_SAFE_CONFIG)


def check_source_name(name: str) -> None:
    """Refuse names that GDAL would treat as something other than a plain local file."""
    if not name or not name.strip():
        raise ImportFailed("The file has no name.")
    stripped = name.strip()
    if VIRTUAL_PATH.search(stripped) or stripped.lower().startswith("/vsi"):
        raise ImportFailed(
            f"“{stripped}” is a GDAL virtual path or connection string, not a file. "
            "Upload the data file itself."
        )
    if CONNECTION_STRING.match(stripped):
        raise ImportFailed(
            f"“{stripped}” looks like a database or web-service connection string. Only files "
            f"can be imported: {SUPPORTED}."
        )


@dataclass
class Detected:
    driver: str
    path: Path  # the file (or .shp) GDAL opens, inside our working directory
    label: str
    warnings: list[str]
    encoding: str | None = None  # forced text encoding (a .dbf without .cpg or code page)


def _head(path: Path, n: int = 4096) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _text_head(head: bytes) -> str:
    for bom in (b"\xef\xbb\xbf",):
        if head.startswith(bom):
            head = head[len(bom) :]
    return head.decode("utf-8", errors="replace").lstrip()


def _refuse_vrt(text: str, name: str) -> None:
    if "<ogrvrtdatasource" in text.lower() or "<vrtdataset" in text.lower():
        raise ImportFailed(
            f"“{name}” is a GDAL VRT file (a pointer to other data), whatever its extension says. "
            "VRT files are not accepted: upload the data itself."
        )


def sniff(path: Path, name: str) -> str:
    """The driver (or "zip") this content is, from its bytes, never from its name."""
    size = path.stat().st_size
    if size == 0:
        raise ImportFailed(f"“{name}” is empty (0 bytes).")
    head = _head(path)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return GPKG
    if head.startswith(b"fgb\x03"):
        return FLATGEOBUF
    if head[:4] == b"\x00\x00\x27\x0a":
        raise ImportFailed(
            f"“{name}” is the .shp part of a Shapefile on its own. Zip the .shp, .shx, .dbf and "
            ".prj files together and upload the .zip."
        )
    if b"\x00" in head[:1024]:
        raise ImportFailed(f"“{name}” is not a format we can read. Supported: {SUPPORTED}.")
    text = _text_head(head)
    _refuse_vrt(text, name)
    lowered = text[:2000].lower()
    if text.startswith("<"):
        if "<kml" in lowered or "opengis.net/kml" in lowered:
            return KML
        raise ImportFailed(
            f"“{name}” is an XML file but not KML. Supported: {SUPPORTED}.",
        )
    if text.startswith("{"):
        return GEOJSON
    if text.startswith("["):
        raise ImportFailed(
            f"“{name}” is a JSON array, not GeoJSON: GeoJSON starts with an object of type "
            "FeatureCollection."
        )
    first_line = text.splitlines()[0] if text else ""
    if any(sep in first_line for sep in (",", ";", "\t", "|")):
        return CSV
    raise ImportFailed(f"“{name}” is not a format we can read. Supported: {SUPPORTED}.")


def _check_extension(driver: str, name: str) -> None:
    suffix = PurePosixPath(name.lower()).suffix
    expected = EXTENSIONS.get(suffix)
    if expected is None:
        raise ImportFailed(
            f"“{name}” has an extension we do not import ({suffix or 'none'}). Supported: "
            f"{SUPPORTED}."
        )
    if expected != driver:
        raise ImportFailed(
            f"“{name}” is named like {_label(expected)} but its content is {_label(driver)}. "
            "Rename it or export it again in the right format."
        )


def _label(kind: str) -> str:
    return "a zip archive" if kind == "zip" else FORMAT_LABELS[kind]


def _check_text_file(path: Path, name: str, driver: str) -> list[str]:
    """Deep checks on text formats GDAL would otherwise follow (XXE, external CRS links)."""
    with path.open("rb") as fh:
        chunk = fh.read(1024 * 1024)
    text = chunk.decode("utf-8", errors="replace")
    _refuse_vrt(text, name)
    lowered = text.lower()
    if driver == KML and ("<!doctype" in lowered or "<!entity" in lowered):
        raise ImportFailed(
            f"“{name}” declares a DOCTYPE or XML entities, which KML never needs and which can "
            "read files from the server (XXE). Remove the DOCTYPE and upload it again."
        )
    if VSI_PATH.search(text):
        raise ImportFailed(
            f"“{name}” refers to a GDAL virtual path or connection string (such as /vsicurl/). "
            "Files that point at other data are not accepted."
        )
    if driver == GEOJSON:
        _check_geojson_crs(path, name)
    return []


# A JSON key that decodes to "crs" in any case, letters possibly written as \u escapes. A match can
# only be a real key: inside a string value its quotes would have to be escaped.
CRS_KEY = re.compile(rb'"(?:[cC]|\\u00[46]3)(?:[rR]|\\u00[57]2)(?:[sS]|\\u00[57]3)"\s*:\s*')
# CRS names GDAL resolves from its own tables, never by opening a file or a URL.
SAFE_CRS_NAME = re.compile(
    r"^(urn:ogc:def:crs:[A-Za-z0-9.:_-]+|[A-Za-z]{2,10}::?[A-Za-z0-9_.]{1,20}|CRS:?(84|83|27)"
    r"|https?://www\.opengis\.net/def/crs/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+)$"
)
SCAN_CHUNK = 8 * 1024 * 1024
CRS_VALUE_MAX = 64 * 1024


def _crs_is_safe(value: object) -> bool:
    """Whether GDAL reads this `crs` member without fetching or opening anything."""
    if not isinstance(value, dict):
        return True  # GDAL only reads an object; anything else is plain data
    members = {str(k).lower(): v for k, v in value.items()}
    kind = str(members.get("type", "")).lower()
    props = members.get("properties")
    props = {str(k).lower(): v for k, v in props.items()} if isinstance(props, dict) else {}
    if kind == "name":
        return bool(SAFE_CRS_NAME.match(str(props.get("name", "")).strip()))
    if kind == "epsg":
        code = props.get("code")
        return isinstance(code, int) or str(code).isascii() and str(code).isdigit()
    if kind == "ogc":
        return bool(SAFE_CRS_NAME.match(str(props.get("urn", "")).strip()))
    return False  # "link" (href to fetch) and anything GDAL might treat as a file name


def _crs_values(path: Path) -> Iterator[object]:
    """Every value of a `crs` member anywhere in the document, parsed as JSON (escapes decoded)."""
    decoder = json.JSONDecoder()
    with path.open("rb") as fh:
        offset, carry = 0, b""
        while chunk := fh.read(SCAN_CHUNK):
            data = carry + chunk
            for match in CRS_KEY.finditer(data):
                before = match.start() - 1
                while before >= 0 and data[before] == 0x5C:  # backslash
                    before -= 1
                if (match.start() - 1 - before) % 2:
                    continue  # an escaped quote: text inside a string value
                yield _crs_value_at(fh, data, match.end(), offset - len(carry), decoder)
            offset += len(chunk)
            # Keys cut by the chunk boundary are found in the next round.
            carry = data[-64:]


def _crs_value_at(
    fh: BinaryIO, data: bytes, at: int, data_offset: int, decoder: json.JSONDecoder
) -> object:
    """The JSON value starting at data[at], read on from the file when the chunk cuts it."""
    readers = (
        lambda: data[at : at + 4096].decode("utf-8", errors="replace"),
        lambda: _read_at(fh, data_offset + at, CRS_VALUE_MAX),
    )
    for read in readers:
        try:
            return decoder.raw_decode(read())[0]
        except json.JSONDecodeError:
            continue
    return {"type": "unreadable"}  # longer than any CRS, or broken: refused


def _read_at(fh: BinaryIO, position: int, size: int) -> str:
    back = fh.tell()
    fh.seek(position)
    text = fh.read(size).decode("utf-8", errors="replace")
    fh.seek(back)
    return text


def _check_geojson_crs(path: Path, name: str) -> None:
    for value in _crs_values(path):
        if not _crs_is_safe(value):
            raise ImportFailed(
                f"“{name}” gives its coordinate system as a link to fetch or a file to open. "
                "Give it as an EPSG code instead (choose one when uploading)."
            )


def _check_gpkg(path: Path, name: str) -> None:
    """A GeoPackage is a SQLite file: refuse virtual tables and anything naming GDAL paths."""
    try:
        uri = f"file:{path}?mode=ro&immutable=1"
        with sqlite3.connect(uri, uri=True) as db:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            rows = db.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master").fetchall()
            contents = []
            if any(r[1] == "gpkg_contents" for r in rows):
                contents = db.execute("SELECT table_name FROM gpkg_contents").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ImportFailed(f"“{name}” is a damaged GeoPackage or SQLite file ({exc}).") from exc
    if app_id not in (0x47504B47, 0x47503130, 0x47503131) and not contents:
        raise ImportFailed(
            f"“{name}” is a SQLite database but not a GeoPackage (no gpkg_contents table)."
        )
    for _kind, _obj, sql in rows:
        lowered = sql.lower()
        foreign_virtual = "virtual table" in lowered and not re.search(
            r"using\s+rtree\s*\(", lowered
        )
        if foreign_virtual or VSI_PATH.search(sql):
            raise ImportFailed(
                f"“{name}” contains virtual tables or references to GDAL virtual paths "
                "(such as /vsicurl/). Such GeoPackages are not accepted."
            )
    if not contents:
        raise ImportFailed(f"“{name}” is a GeoPackage with no layers in it.")


def _safe_member_name(member: str) -> PurePosixPath | None:
    normalized = member.replace("\\", "/")
    pure = PurePosixPath(normalized)
    if normalized.startswith("/") or ".." in pure.parts or re.match(r"^[A-Za-z]:", normalized):
        return None
    return pure


def unzip(path: Path, name: str, workdir: Path) -> Path:
    """Extract a zip into workdir within the member, size and ratio limits; refuse traversal."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ImportFailed(f"“{name}” is a damaged zip file ({exc}).") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > settings.UPLOAD_MAX_ZIP_MEMBERS:
            raise ImportFailed(
                f"“{name}” holds {len(members)} files; the limit is "
                f"{settings.UPLOAD_MAX_ZIP_MEMBERS}. Zip only the layer's own files."
            )
        total = sum(m.file_size for m in members)
        if total > settings.UPLOAD_MAX_UNZIPPED_BYTES:
            raise ImportFailed(
                f"“{name}” would unpack to {total / 1024**2:,.0f} MB; the limit is "
                f"{settings.UPLOAD_MAX_UNZIPPED_BYTES / 1024**2:,.0f} MB."
            )
        extracted = 0
        for member in members:
            pure = _safe_member_name(member.filename)
            is_link = stat.S_ISLNK(member.external_attr >> 16)
            if pure is None or is_link:
                raise ImportFailed(
                    f"“{name}” contains a file that points outside the archive "
                    f"(“{member.filename}”). The zip was refused; nothing was unpacked."
                )
            if pure.parts and pure.parts[0] == "__MACOSX":
                continue
            target = workdir / Path(*pure.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, target.open("wb") as dst:
                # Count real bytes too: the sizes in a zip's directory can lie.
                while chunk := src.read(1024 * 1024):
                    extracted += len(chunk)
                    if extracted > settings.UPLOAD_MAX_UNZIPPED_BYTES:
                        raise ImportFailed(
                            f"“{name}” unpacks to more than "
                            f"{settings.UPLOAD_MAX_UNZIPPED_BYTES / 1024**2:,.0f} MB, the limit."
                        )
                    dst.write(chunk)
    return workdir


def _pick_from_zip(workdir: Path, name: str) -> tuple[str, Path, list[str], str | None]:
    files = [p for p in workdir.rglob("*") if p.is_file()]
    by_suffix: dict[str, list[Path]] = {}
    for f in files:
        by_suffix.setdefault(f.suffix.lower(), []).append(f)
    for f in files:
        if f.suffix.lower() in {".vrt", ".ovr"}:
            raise ImportFailed(
                f"“{name}” contains a GDAL VRT file (“{f.name}”). VRT files are not accepted."
            )
    shps = by_suffix.get(".shp", [])
    if len(shps) > 1:
        raise ImportFailed(
            f"“{name}” holds {len(shps)} Shapefiles ({', '.join(sorted(p.name for p in shps))}). "
            "Zip one Shapefile per upload."
        )
    if shps:
        shp = shps[0]
        siblings = {p.suffix.lower(): p for p in shp.parent.iterdir() if p.stem == shp.stem}
        missing = [ext for ext in (".shx", ".dbf") if ext not in siblings]
        if missing:
            raise ImportFailed(
                f"This Shapefile is missing its {' and '.join(missing)} file"
                f"{'s' if len(missing) > 1 else ''}. A Shapefile needs .shp, .shx and .dbf "
                "(and .prj) with the same name: zip them all together."
            )
        header = shp.read_bytes()[:100]
        declared = int.from_bytes(header[24:28], "big") * 2 if len(header) >= 28 else 0
        actual = shp.stat().st_size
        if len(header) < 100 or declared > actual:
            raise ImportFailed(
                f"The .shp file of this Shapefile is truncated ({actual:,} of {declared:,} bytes), "
                "so it could not be read. Export or copy it again."
            )
        warnings = []
        encoding = None
        dbf_head = siblings[".dbf"].read_bytes()[:32]
        if ".cpg" not in siblings and (len(dbf_head) < 30 or dbf_head[29] == 0):
            encoding = "ISO-8859-1"
        if ".cpg" not in siblings:
            warnings.append(
                "This Shapefile has no .cpg file, so the text encoding of its attributes was "
                "guessed (ISO-8859-1 unless the .dbf says otherwise). If names look wrong, add a "
                ".cpg file containing UTF-8 or the right code page."
            )
        # Shapefile parts must be renamed consistently: keep them as they are.
        return SHAPEFILE, shp, warnings, encoding
    for suffix, driver in (
        (".kml", KML),
        (".gpkg", GPKG),
        (".geojson", GEOJSON),
        (".fgb", FLATGEOBUF),
        (".json", GEOJSON),
        (".csv", CSV),
    ):
        found = by_suffix.get(suffix, [])
        if len(found) == 1:
            return driver, found[0], [], None
        if len(found) > 1:
            raise ImportFailed(
                f"“{name}” holds {len(found)} {suffix} files. Zip one dataset per upload."
            )
    raise ImportFailed(
        f"“{name}” contains no data we can read (expected a .shp with its .shx and .dbf, or a "
        f".kml, .gpkg, .geojson, .fgb or .csv)."
    )


def prepare(source: Path, name: str, workdir: Path) -> Detected:
    """Copy or unpack an upload into workdir and return what GDAL should open, with which driver."""
    check_source_name(name)
    if not source.is_file():
        raise ImportFailed(f"“{name}” is not a file.")
    size = source.stat().st_size
    if size > settings.UPLOAD_MAX_BYTES:
        raise ImportFailed(
            f"“{name}” is {size / 1024**2:,.0f} MB; the limit is "
            f"{settings.UPLOAD_MAX_BYTES / 1024**2:,.0f} MB."
        )
    kind = sniff(source, name)
    _check_extension(kind, name)
    warnings: list[str] = []
    encoding = None
    if kind == "zip":
        unzip(source, name, workdir / "unzipped")
        driver, path, warnings, encoding = _pick_from_zip(workdir / "unzipped", name)
        if driver != SHAPEFILE:
            inner_kind = sniff(path, path.name)
            if inner_kind != driver:
                raise ImportFailed(
                    f"“{path.name}” inside “{name}” is named like {_label(driver)} but its "
                    f"content is {_label(inner_kind)}."
                )
    else:
        driver = kind
        # Our own file name: the user's name never reaches GDAL.
        suffix = {GPKG: ".gpkg", GEOJSON: ".geojson", KML: ".kml", CSV: ".csv", FLATGEOBUF: ".fgb"}[
            driver
        ]
        path = workdir / f"upload{suffix}"
        shutil.copyfile(source, path)
    if driver in (KML, GEOJSON, CSV):
        warnings += _check_text_file(path, name, driver)
    if driver == GPKG:
        _check_gpkg(path, name)
    if driver == SHAPEFILE:
        for part in path.parent.iterdir():
            if part.stem == path.stem and part.suffix.lower() in {".prj", ".cpg"}:
                text = part.read_bytes()[:65536].decode("latin-1")
                if VSI_PATH.search(text) or re.search(r"https?://|file:", text, re.I):
                    raise ImportFailed(
                        f"The {part.suffix} file of this Shapefile refers to a URL or a GDAL "
                        "virtual path. Give the coordinate system as an EPSG code instead."
                    )
    return Detected(
        driver=driver, path=path, label=FORMAT_LABELS[driver], warnings=warnings, encoding=encoding
    )
