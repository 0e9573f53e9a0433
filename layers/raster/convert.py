"""One upload to one Cloud-Optimized GeoTIFF, written by GDAL's COG driver through rasterio.

Compression follows the content: JPEG + mask for 8-bit RGB imagery, DEFLATE + predictor for
measurements, DEFLATE with mode overviews for categories. Rotated, sheared or GCP-referenced
sources are warped north-up. The output is validated as a COG and sampled windows are compared
with the source, so a corrupting conversion fails loudly instead of storing a wrong layer.

JPEG imagery copied as it is (no warp, no mask) is written by the system GDAL's `gdal_translate`
in a subprocess: the rasterio wheel bundles IJG libjpeg 9, about 2.5x slower than Debian's
libjpeg-turbo on the same COG call (docs/architecture.md, raster section).
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from layers.ingest.errors import ImportFailed
from layers.raster import safety
from layers.raster.safety import RasterSource

BLOCKSIZE = 512
JPEG_QUALITY = 85
# Sampled windows of a JPEG output may differ by the codec's error (RMSE 16 = PSNR 24 dB, which
# quality 85 passes even on noise), never by what a shifted or garbled window gives (RMSE > 40).
JPEG_RMSE_TOLERANCE = 16.0
SPOT_WINDOWS = 6
SPOT_SIZE = 256
ProgressFn = Callable[[float], None]


@dataclass
class Plan:
    content: str  # RasterVersion.Content value
    options: dict[str, Any]
    warp_resampling: str
    mask_from_nodata: bool = False


@dataclass
class Converted:
    content: str
    width: int
    height: int
    bands: int
    dtype: str
    nodata: float | None
    compression: str
    resolution: list[float]
    crs_wkt: str
    srid: int | None
    crs_units: str
    bounds_4326: list[float]
    colormap: dict[str, str]
    descriptions: list[str]
    warped: bool
    # Per band: {"3": "Deciduous forest"} from the file's category names or attribute table.
    category_names: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def plan_for(dataset: Any) -> Plan:
    """Creation options of the COG driver chosen from what the pixels are."""
    from rasterio.enums import ColorInterp

    common = {"BLOCKSIZE": BLOCKSIZE, "BIGTIFF": "IF_SAFER", "NUM_THREADS": "ALL_CPUS"}
    dtype = dataset.dtypes[0]
    paletted = dataset.count == 1 and dataset.colorinterp[0] == ColorInterp.palette
    if paletted:
        return Plan(
            "categorical",
            {**common, "COMPRESS": "DEFLATE", "OVERVIEW_RESAMPLING": "MODE"},
            "nearest",
        )
    if dtype == "uint8" and dataset.count in (3, 4):
        return Plan(
            "imagery",
            {
                **common,
                "COMPRESS": "JPEG",
                "QUALITY": JPEG_QUALITY,
                "OVERVIEW_RESAMPLING": "AVERAGE",
            },
            "bilinear",
            mask_from_nodata=dataset.nodata is not None,
        )
    return Plan(
        "continuous",
        {**common, "COMPRESS": "DEFLATE", "PREDICTOR": "YES", "OVERVIEW_RESAMPLING": "AVERAGE"},
        "bilinear",
    )


def creation_args(plan: Plan) -> list[str]:
    """The plan's COG creation options as gdal_translate arguments (the benchmark reuses them)."""
    return [arg for key, value in plan.options.items() for arg in ("-co", f"{key}={value}")]


def system_gdal_translate() -> str | None:
    """The system GDAL's gdal_translate, unless settings turn it off or it is not installed."""
    from django.conf import settings

    configured = settings.RASTER_GDAL_TRANSLATE
    if configured.lower() == "none":
        return None
    return configured or shutil.which("gdal_translate")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    # PR_SET_PDEATHSIG: a SIGKILLed worker takes its gdal_translate with it.
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)


PROGRESS_MARK = re.compile(rb"(\d+)(?=\.)")


def translate_with_system(
    exe: str,
    source: RasterSource,
    out: Path,
    *,
    plan: Plan,
    extra: list[str],
    name: str,
    progress: ProgressFn | None,
) -> None:
    """`gdal_translate -of COG` on our own copy of the upload; its progress becomes the job's.

    Only paths we built and the plan's constant options reach the command line; the GDAL config
    is the same safe one as in-process reads (no network, no directory scan).
    """
    env = _system_gdal_env(source)
    cmd = [exe, "-of", "COG", "-if", source.driver, *extra, *creation_args(plan)]
    cmd += [str(source.path), str(out)]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads hold locks here
        )
        assert proc.stdout is not None
        seen = b""
        try:
            # "0...10...20..." on stdout, one mark per 2.5 %.
            while chunk := os.read(proc.stdout.fileno(), 256):
                seen = (seen + chunk)[-64:]
                marks = PROGRESS_MARK.findall(seen)
                if progress is not None and marks:
                    progress(min(int(marks[-1]) / 100, 0.99))
            returncode = proc.wait()
        finally:
            if proc.poll() is None:  # a time limit or another error stopped us: stop it too
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if returncode != 0:
            err.seek(0)
            raise ImportFailed(_translate_failure(name, err.read().decode("utf-8", "replace")))


def _system_gdal_env(source: RasterSource) -> dict[str, str]:
    """The whole environment of a system GDAL command: PATH, a fixed locale, and the same safe
    GDAL configuration as in-process reads (no network, no directory scan); nothing else of ours."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    env.update({key: str(value) for key, value in safety.gdal_env(readdir=source.readdir).items()})
    return env


def _translate_failure(name: str, stderr: str) -> str:
    """gdal_translate's stderr as a sentence for the analyst (no paths, no GDAL jargon first)."""
    if "No space left" in stderr:
        return (
            f"“{name}” could not be converted: the server ran out of disk space. Nothing was "
            "saved; the GIS team must free space before you try again."
        )
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR")]
    detail = re.sub(r"^ERROR \d+: ", "", errors[0]) if errors else stderr.strip()
    return (
        f"“{name}” could not be converted: its pixels could not be read (the file is damaged or "
        f"truncated: {_short(Exception(detail))})."
    )


MAX_CATEGORY_NAME = 100
# GDALRATFieldUsage values as gdalinfo -json writes them.
GFU_NAME, GFU_MIN, GFU_MINMAX = 2, 3, 5
NAME_COLUMNS = ("class_name", "class_names", "classname", "name", "label", "description")


def read_category_names(source: RasterSource, bands: int) -> list[dict[str, str]]:
    """Class names per band: GDAL's category names, else the raster attribute table's name column.

    rasterio exposes neither, so GDAL itself reads them (`gdalinfo -json` of the system GDAL, on
    our vetted copy, with the safe config): the GeoTIFF's PAM .aux.xml, an Erdas .img's own table.
    Without a system GDAL the classes keep their numbers.
    """
    import json

    exe = shutil.which("gdalinfo")
    if exe is None:
        return [{} for _ in range(bands)]
    env = _system_gdal_env(source)
    cmd = [exe, "-json", "-nomd", "-noct", "-nogcp", "-if", source.driver, str(source.path)]
    try:
        done = subprocess.run(cmd, capture_output=True, env=env, timeout=60, check=False)
        info = json.loads(done.stdout) if done.returncode == 0 else {}
    except (subprocess.TimeoutExpired, ValueError):
        info = {}
    out, described = [], info.get("bands") or []
    for i in range(bands):
        band = described[i] if i < len(described) else {}
        names = {
            str(value): str(name)[:MAX_CATEGORY_NAME]
            for value, name in enumerate(band.get("categories") or [])
            if name
        }
        # gdalinfo 3.6 writes the first band's table at the top level.
        rat = band.get("rat") or (info.get("rat") if i == 0 else None) or {}
        out.append(names or _rat_names(rat))
    return out


def _rat_names(rat: dict[str, Any]) -> dict[str, str]:
    """{pixel value: class name} from a raster attribute table as gdalinfo -json gives it."""
    fields = rat.get("fieldDefn") or []
    name_col = next((f["index"] for f in fields if f.get("usage") == GFU_NAME), None)
    if name_col is None:
        by_name = {str(f.get("name", "")).lower(): f["index"] for f in fields}
        name_col = next((by_name[n] for n in NAME_COLUMNS if n in by_name), None)
    value_col = next((f["index"] for f in fields if f.get("usage") in (GFU_MINMAX, GFU_MIN)), None)
    if name_col is None:
        return {}
    names = {}
    for row in rat.get("row") or []:
        cells, index = row.get("f") or [], int(row.get("index", 0))
        if name_col >= len(cells) or not str(cells[name_col]).strip():
            continue
        if value_col is not None and value_col < len(cells):
            value = cells[value_col]
        else:  # rows are values: row i is row0Min + i * binSize (default 0 + i * 1)
            value = rat.get("row0Min", 0) + index * rat.get("binSize", 1)
        if float(value).is_integer():
            names[str(int(value))] = str(cells[name_col]).strip()[:MAX_CATEGORY_NAME]
    return names


def _crs_from_text(text: str, what: str) -> Any:
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise ImportFailed(f"The {what} is not a coordinate system we understand ({exc}).") from exc


def _crs_for(dataset: Any, source: RasterSource, srid: int | None, name: str) -> Any:
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    if srid is not None:
        try:
            return CRS.from_epsg(srid)
        except CRSError as exc:
            raise ImportFailed(f"EPSG:{srid} is not a known coordinate system.") from exc
    if dataset.crs:
        return dataset.crs
    gcps, gcp_crs = dataset.gcps
    if gcps and gcp_crs:
        return gcp_crs
    if source.crs_text:
        return _crs_from_text(source.crs_text, ".prj file")
    raise ImportFailed(
        f"“{name}” has no coordinate system. Choose its EPSG code when uploading "
        "(for example 2226 for California zone 2, US feet)."
    )


def _bounds_4326(crs: Any, bounds: Any) -> list[float]:
    from rasterio.warp import transform_bounds

    west, south, east, north = transform_bounds(crs, "EPSG:4326", *bounds, densify_pts=21)
    return [float(west), float(south), float(east), float(north)]


@contextmanager
def open_for_copy(
    source: RasterSource, *, srid: int | None, name: str
) -> Iterator[tuple[Any, Any, Plan, bool, Any]]:
    """(dataset to copy, the upload's dataset, plan, warped, crs) inside the safe GDAL env."""
    import rasterio
    from rasterio.vrt import WarpedVRT

    with ExitStack() as stack:
        stack.enter_context(rasterio.Env(**safety.gdal_env(readdir=source.readdir)))
        try:
            src = stack.enter_context(rasterio.open(source.path, driver=source.driver))
        except read_errors() as exc:
            raise ImportFailed(
                f"“{name}” could not be read as {source.label}: the file is damaged, truncated or "
                f"not what its name says ({_short(exc)})."
            ) from exc
        safety.check_header(src, name)
        gcps, _ = src.gcps
        if src.transform.is_identity and not gcps:
            raise ImportFailed(
                f"“{name}” has no georeferencing: no geotransform, world file or ground control "
                "points place its pixels on the ground. Export it as a GeoTIFF, or zip it with its "
                "world file and .prj."
            )
        crs = _crs_for(src, source, srid, name)
        plan = plan_for(src)
        t = src.transform
        warped = bool(gcps) and src.transform.is_identity or t.b != 0 or t.d != 0
        if warped or plan.mask_from_nodata:
            from rasterio.enums import Resampling

            kwargs: dict[str, Any] = {
                "src_crs": crs,
                "crs": crs,
                "resampling": Resampling[plan.warp_resampling],
            }
            if plan.mask_from_nodata:
                kwargs["add_alpha"] = True
            if not warped:
                kwargs.update(transform=src.transform, width=src.width, height=src.height)
            copy_src = stack.enter_context(WarpedVRT(src, **kwargs))
        elif crs != src.crs and crs.to_epsg():
            # A CRS from the analyst or a .prj: a virtual copy with it assigned (no resampling).
            path = f"vrt://{source.path}?a_srs=EPSG:{crs.to_epsg()}"
            copy_src = stack.enter_context(rasterio.open(path))
        elif crs != src.crs:
            # WKT without an EPSG code: the same grid through the warper, nearest, so pixel-exact.
            from rasterio.enums import Resampling

            copy_src = stack.enter_context(
                WarpedVRT(
                    src,
                    src_crs=crs,
                    crs=crs,
                    transform=src.transform,
                    width=src.width,
                    height=src.height,
                    resampling=Resampling.nearest,
                )
            )
        else:
            copy_src = src
        yield copy_src, src, plan, warped, crs


def _short(exc: Exception) -> str:
    """GDAL's reason without our working paths (the analyst knows the file by its own name)."""
    text = str(exc).split("\n")[0]
    text = re.sub(r"'?/\S*?/(raster\.[a-z.]+)'?:?", "", text)
    return re.sub(r"\s+", " ", text).strip(" :")[:160] or "no detail"


def read_errors() -> tuple[type[Exception], ...]:
    from rasterio._err import CPLE_BaseError
    from rasterio.errors import RasterioError

    return (RasterioError, CPLE_BaseError)


@contextmanager
def _watch(out: Path, expected: int, progress: ProgressFn | None) -> Iterator[None]:
    """Progress of an opaque GDAL copy, from the bytes it has written so far."""
    if progress is None:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.5):
            written = sum(p.stat().st_size for p in out.parent.glob("*") if p.is_file())
            progress(min(written / max(expected, 1), 0.99))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def convert_to_cog(
    source: RasterSource,
    out: Path,
    *,
    srid: int | None,
    name: str,
    progress: ProgressFn | None = None,
) -> Converted:
    """Write `out` (a COG) from `source`; raises ImportFailed with the analyst's message."""
    import rasterio.shutil

    with open_for_copy(source, srid=srid, name=name) as (copy_src, src, plan, warped, crs):
        expected = int(copy_src.width * copy_src.height * copy_src.count * 0.25)
        exe = system_gdal_translate() if plan.content == "imagery" else None
        extra = _system_extra(copy_src, src, crs)
        try:
            if exe is not None and extra is not None:
                translate_with_system(
                    exe, source, out, plan=plan, extra=extra, name=name, progress=progress
                )
            else:
                with _watch(out, expected, progress):
                    rasterio.shutil.copy(copy_src, str(out), driver="COG", **plan.options)
        except read_errors() as exc:
            raise ImportFailed(
                f"“{name}” could not be converted: its pixels could not be read (the file is "
                f"damaged or truncated: {_short(exc)})."
            ) from exc
        colormap: dict[str, str] = {}
        if plan.content == "categorical":
            try:
                colormap = {
                    str(k): "#{:02x}{:02x}{:02x}".format(*v[:3])
                    for k, v in src.colormap(1).items()
                    if len(v) < 4 or v[3] > 0
                }
            except ValueError:
                colormap = {}
        names = read_category_names(source, src.count) if plan.content == "categorical" else []
        check_output(out, copy_src, plan, name)
        res = copy_src.res
        return Converted(
            content=plan.content,
            width=copy_src.width,
            height=copy_src.height,
            bands=src.count,
            dtype=src.dtypes[0],
            nodata=None if src.nodata is None or plan.mask_from_nodata else float(src.nodata),
            compression=str(plan.options["COMPRESS"]),
            resolution=[float(res[0]), float(res[1])],
            crs_wkt=crs.to_wkt(),
            srid=crs.to_epsg(),
            crs_units=(crs.linear_units or "") if crs.is_projected else "degree",
            bounds_4326=_bounds_4326(crs, copy_src.bounds),
            colormap=colormap,
            descriptions=[d or "" for d in src.descriptions],
            warped=warped,
            category_names=names,
        )


def _system_extra(copy_src: Any, src: Any, crs: Any) -> list[str] | None:
    """gdal_translate arguments giving what `copy_src` gives, or None (warped or masked: in-process)."""
    if copy_src is src:
        return []
    if str(copy_src.name).startswith("vrt://") and crs.to_epsg():
        return ["-a_srs", f"EPSG:{crs.to_epsg()}"]
    return None


def _windows(width: int, height: int) -> list[Any]:
    from rasterio.windows import Window

    rng = np.random.default_rng(width * 7919 + height)
    w, h = min(SPOT_SIZE, width), min(SPOT_SIZE, height)
    picks = [(0, 0), (width - w, height - h)]
    picks += [
        (int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)))
        for _ in range(SPOT_WINDOWS - 2)
    ]
    return [Window(x, y, w, h) for x, y in picks]


def check_output(out: Path, copy_src: Any, plan: Plan, name: str) -> None:
    """A valid COG whose sampled windows match the source within the codec's tolerance."""
    import rasterio
    from rio_cogeo.cogeo import cog_validate

    valid, errors, _warnings = cog_validate(str(out), quiet=True)
    if not valid:
        raise ImportFailed(
            f"Converting “{name}” produced an invalid Cloud-Optimized GeoTIFF ({'; '.join(errors)})."
        )
    bands = list(range(1, 4)) if plan.content == "imagery" else list(range(1, copy_src.count + 1))
    with rasterio.open(out) as cog:
        for window in _windows(copy_src.width, copy_src.height):
            a = copy_src.read(bands, window=window, masked=True)
            b = cog.read(bands, window=window, masked=True)
            valid_px = ~np.ma.getmaskarray(a) & ~np.ma.getmaskarray(b)
            if not valid_px.any():
                continue
            av, bv = a.data[valid_px].astype("float64"), b.data[valid_px].astype("float64")
            if plan.options["COMPRESS"] == "JPEG":
                ok = float(np.sqrt(np.mean((av - bv) ** 2))) <= JPEG_RMSE_TOLERANCE
            else:
                ok = bool(np.array_equal(av, bv, equal_nan=True))
            if not ok:
                raise ImportFailed(
                    f"Converting “{name}” changed its pixel values (window at column "
                    f"{window.col_off}, row {window.row_off}); the layer was not stored."
                )


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    return fn(), time.monotonic() - start
