"""Untrusted raster uploads: detect the format from content, vet zips and side files, check the
header against the limits before a single pixel is read.

Only allow-listed GDAL drivers ever open an upload, from a private directory holding our own copy
under our own name, so side files (.ovr, .msk, .aux.xml) next to the original never reach GDAL.
"""

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings

from layers.ingest import safety as vector_safety
from layers.ingest.errors import ImportFailed

GTIFF = "GTiff"
JP2 = "JP2OpenJPEG"
HFA = "HFA"
AAIGRID = "AAIGrid"
PNG = "PNG"
JPEG = "JPEG"
ALLOWED_DRIVERS = (GTIFF, JP2, HFA, AAIGRID, PNG, JPEG)
LABELS = {
    GTIFF: "GeoTIFF",
    JP2: "JPEG 2000",
    HFA: "Erdas Imagine (.img)",
    AAIGRID: "ASCII grid",
    PNG: "PNG",
    JPEG: "JPEG",
    "zip": "a zip archive",
}
SUPPORTED = (
    "GeoTIFF/BigTIFF/COG (.tif), JPEG 2000 (.jp2), Erdas Imagine (.img), ASCII grid (.asc), or a "
    "PNG/JPEG zipped with its world file (.pgw/.jgw/.wld) and .prj"
)
EXTENSIONS = {
    ".tif": GTIFF,
    ".tiff": GTIFF,
    ".gtif": GTIFF,
    ".jp2": JP2,
    ".j2k": JP2,
    ".img": HFA,
    ".asc": AAIGRID,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
}
WORLD_FILES = {".pgw": PNG, ".pngw": PNG, ".jgw": JPEG, ".jpgw": JPEG, ".tfw": GTIFF, ".j2w": JP2}
GENERIC_WORLD = ".wld"
SIDE_REFUSED = {".ovr", ".msk", ".vrt", ".rrd"}
DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64")
LINK = re.compile(r"https?://|ftp://|file:|/vsi[a-z0-9_]+|sourcefilename", re.IGNORECASE)

# Applied around every read of an upload: no network, no directory scans, no VRT tricks.
GDAL_CONFIG: dict[str, Any] = {
    **{k: v for k, v in vector_safety.GDAL_SAFE_CONFIG.items() if not k.startswith("OGR_")},
    "GDAL_PAM_ENABLED": "NO",  # never write .aux.xml next to a file we read
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".sharedgis-no-network",
    "GTIFF_REPORT_COMPD_CS": "NO",
}


def gdal_env(*, readdir: bool = False) -> dict[str, Any]:
    """rasterio.Env options; `readdir` lets GDAL see our vetted world file and .aux.xml."""
    options = {**GDAL_CONFIG, "GDAL_CACHEMAX": settings.RASTER_GDAL_CACHE_MB}
    if readdir:
        options["GDAL_DISABLE_READDIR_ON_OPEN"] = "FALSE"
        options["GDAL_PAM_ENABLED"] = "YES"  # reads our copy of the .aux.xml
    return options


@dataclass
class RasterSource:
    driver: str
    path: Path  # our copy, inside the working directory
    label: str
    crs_text: str = ""  # WKT of a .prj that came with a world file
    readdir: bool = False
    warnings: list[str] = field(default_factory=list)


def _head(path: Path, n: int = 4096) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def sniff(path: Path) -> str | None:
    """The raster driver (or "zip") this content is, from its first bytes; None if not a raster."""
    head = _head(path)
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return GTIFF
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xffO\xffQ"):
        return JP2
    if head.startswith(b"EHFA_HEADER_TAG"):
        return HFA
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    text = head.decode("latin-1").lstrip().lower()
    if text.startswith(("ncols", "nrows", "xllcorner", "xllcenter")):
        return AAIGRID
    return None


def _refuse_pointer(path: Path, name: str) -> None:
    text = _head(path, 65536).decode("latin-1").lower()
    if "<vrtdataset" in text or "<ogrvrtdatasource" in text:
        raise ImportFailed(
            f"“{name}” is a GDAL VRT file (a pointer to other files), whatever its extension "
            "says. VRT files are not accepted: upload the raster itself."
        )


def looks_like_raster(path: Path, name: str) -> bool:
    """Whether an upload goes down the raster path (by content, or by a raster extension)."""
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in EXTENSIONS or suffix in WORLD_FILES or suffix == GENERIC_WORLD:
        return True
    if not path.is_file() or path.stat().st_size == 0:
        return False
    kind = sniff(path)
    if kind == "zip":
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                suffixes = {PurePosixPath(n.lower()).suffix for n in archive.namelist()}
        except zipfile.BadZipFile:
            return False
        vector = {".shp", ".gpkg", ".geojson", ".json", ".kml", ".csv", ".fgb"}
        raster = set(EXTENSIONS) | set(WORLD_FILES) | {GENERIC_WORLD}
        return bool(suffixes & raster) and not suffixes & vector
    return kind is not None


def _check_text_side(path: Path, what: str) -> str:
    text = path.read_bytes()[:262144].decode("utf-8", errors="replace")
    if LINK.search(text) or "<vrtdataset" in text.lower():
        raise ImportFailed(
            f"The {what} refers to a URL, a GDAL virtual path or another file. Side files that "
            "point elsewhere are not accepted; give the coordinate system as an EPSG code instead."
        )
    return text


def _from_zip(source: Path, name: str, workdir: Path) -> RasterSource:
    unpacked = workdir / "unzipped"
    vector_safety.unzip(source, name, unpacked)
    files = [p for p in unpacked.rglob("*") if p.is_file()]
    for f in files:
        if f.suffix.lower() in SIDE_REFUSED:
            raise ImportFailed(
                f"“{name}” contains “{f.name}”, a side file (overviews, mask or VRT) that can "
                "point at other files. Zip only the image, its world file and its .prj."
            )
        _refuse_pointer(f, f.name)
    images = [f for f in files if f.suffix.lower() in EXTENSIONS]
    worlds = [
        f for f in files if f.suffix.lower() in WORLD_FILES or f.suffix.lower() == GENERIC_WORLD
    ]
    if not images:
        if worlds:
            raise ImportFailed(
                f"“{name}” contains a world file (“{worlds[0].name}”) but no image. Zip the image "
                "together with its world file and .prj."
            )
        raise ImportFailed(f"“{name}” contains no raster we can read. Supported: {SUPPORTED}.")
    if len(images) > 1:
        raise ImportFailed(
            f"“{name}” holds {len(images)} images ({', '.join(sorted(p.name for p in images))}). "
            "Zip one image per upload."
        )
    image = images[0]
    driver = _check_content(image, image.name)
    ext = image.suffix.lower()
    target = workdir / f"raster{ext}"
    shutil.move(image, target)
    crs_text = ""
    for f in files:
        if f == image or f.stem.split(".")[0] != image.stem.split(".")[0]:
            continue
        suffix = "".join(f.suffixes[-2:]).lower() if f.name.lower().endswith(".aux.xml") else ""
        if suffix == ".aux.xml":
            _check_text_side(f, ".aux.xml file")
            shutil.move(f, workdir / f"raster{ext}.aux.xml")
        elif f.suffix.lower() == ".prj":
            crs_text = _check_text_side(f, ".prj file").strip()
        elif f.suffix.lower() in WORLD_FILES or f.suffix.lower() == GENERIC_WORLD:
            _check_world_file(f)
            shutil.move(f, workdir / f"raster{f.suffix.lower()}")
    return RasterSource(
        driver=driver, path=target, label=LABELS[driver], crs_text=crs_text, readdir=True
    )


def _check_world_file(path: Path) -> None:
    lines = [ln.strip() for ln in path.read_bytes()[:4096].decode("latin-1").splitlines()]
    numbers = [ln for ln in lines if ln]
    try:
        values = [float(v) for v in numbers]
    except ValueError:
        values = []
    if len(values) != 6:
        raise ImportFailed(
            f"The world file “{path.name}” must hold six numbers, one a line (pixel size, "
            "rotation, origin)."
        )


def _check_content(path: Path, name: str) -> str:
    if path.stat().st_size == 0:
        raise ImportFailed(f"“{name}” is empty (0 bytes).")
    _refuse_pointer(path, name)
    kind = sniff(path)
    suffix = PurePosixPath(name.lower()).suffix
    expected = EXTENSIONS.get(suffix)
    if kind is None or kind == "zip":
        raise ImportFailed(f"“{name}” is not a raster format we can read. Supported: {SUPPORTED}.")
    if expected is not None and expected != kind:
        raise ImportFailed(
            f"“{name}” is named like {LABELS[expected]} but its content is {LABELS[kind]}. "
            "Rename it or export it again in the right format."
        )
    return kind


def prepare(source: Path, name: str, workdir: Path) -> RasterSource:
    """Copy or unpack an upload into `workdir` and say which driver opens which file."""
    vector_safety.check_source_name(name)
    if not source.is_file():
        raise ImportFailed(f"“{name}” is not a file.")
    size = source.stat().st_size
    if size == 0:
        raise ImportFailed(f"“{name}” is empty (0 bytes).")
    if size > settings.UPLOAD_MAX_BYTES:
        raise ImportFailed(
            f"“{name}” is {size / 1024**2:,.0f} MB; the limit is "
            f"{settings.UPLOAD_MAX_BYTES / 1024**2:,.0f} MB."
        )
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in WORLD_FILES or suffix == GENERIC_WORLD:
        raise ImportFailed(
            f"“{name}” is a world file on its own. Zip it together with its image and .prj."
        )
    if sniff(source) == "zip":
        if suffix not in (".zip", ""):
            raise ImportFailed(f"“{name}” is a zip archive named like {suffix}. Rename it .zip.")
        return _from_zip(source, name, workdir)
    driver = _check_content(source, name)
    if driver in (PNG, JPEG):
        raise ImportFailed(
            f"“{name}” is a plain {LABELS[driver]} image: it carries no georeferencing. Zip it "
            "with its world file (.pgw/.jgw/.wld) and .prj, and upload the .zip."
        )
    ext = {GTIFF: ".tif", JP2: ".jp2", HFA: ".img", AAIGRID: ".asc"}[driver]
    target = workdir / f"raster{ext}"
    _link_or_copy(source, target)
    return RasterSource(driver=driver, path=target, label=LABELS[driver])


def _link_or_copy(source: Path, target: Path) -> None:
    """Our own name for the upload in our own directory (a hard link when possible: only read)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def check_header(dataset: Any, name: str) -> None:
    """Limits and types from the header alone: nothing here reads a pixel."""
    width, height, count = dataset.width, dataset.height, dataset.count
    if width <= 0 or height <= 0 or count <= 0:
        raise ImportFailed(f"“{name}” has no pixels ({width} × {height}, {count} bands).")
    if max(width, height) > settings.RASTER_MAX_SIDE:
        raise ImportFailed(
            f"“{name}” claims {width:,} × {height:,} pixels; a side may be at most "
            f"{settings.RASTER_MAX_SIDE:,} pixels."
        )
    if width * height > settings.RASTER_MAX_PIXELS:
        raise ImportFailed(
            f"“{name}” claims {width:,} × {height:,} = {width * height:,} pixels per band; the "
            f"limit is {settings.RASTER_MAX_PIXELS:,}. Split it into tiles or lower its resolution."
        )
    if count > settings.RASTER_MAX_BANDS:
        raise ImportFailed(
            f"“{name}” has {count} bands; the limit is {settings.RASTER_MAX_BANDS}. Export only "
            "the bands you need."
        )
    dtypes = set(dataset.dtypes)
    unsupported = sorted(dtypes - set(DTYPES))
    if unsupported:
        raise ImportFailed(
            f"“{name}” stores {', '.join(unsupported)} pixels, which we do not import. Supported "
            "pixel types: 8/16/32-bit integers and 32/64-bit floating point."
        )
    if len(dtypes) > 1:
        raise ImportFailed(
            f"“{name}” mixes pixel types across bands ({', '.join(sorted(dtypes))}). Export all "
            "bands with one type."
        )
    if getattr(dataset, "subdatasets", None):
        raise ImportFailed(
            f"“{name}” is a container of {len(dataset.subdatasets)} datasets (subdatasets). "
            "Export the one you need as a GeoTIFF."
        )
