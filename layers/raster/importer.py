"""Import of a raster upload as a layer version: convert outside the transaction, then store the
files and the rows together. A failure at any point leaves no row and no stored file behind.
"""

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from django.contrib.auth.models import User
from django.contrib.gis.geos import Polygon
from django.core.files.storage import Storage
from django.db import transaction

from layers.ingest.errors import ImportFailed
from layers.models import ImportJob, Layer, LayerVersion, RasterVersion
from layers.raster import convert, safety, storage
from layers.raster.stats import band_statistics
from projects.models import Project
from projects.services import audit_for
from projects.srid import STORAGE_SRID

ProgressFn = Callable[[float], None]
# Stored COGs and originals live under this prefix (RasterVersion's upload_to).
STORED_PREFIX = "rasters"
# A working directory names the worker process that owns it, so a dead worker's can be found.
WORKDIR_PREFIX = "sharedgis-raster-"


def raster_import_file(
    *,
    project: Project,
    path: Path,
    original_filename: str,
    by: User | None,
    srid: int | None,
    name: str,
    layer: Layer | None = None,
    progress: ProgressFn | None = None,
    job: ImportJob | None = None,
) -> LayerVersion:
    """Convert `path` to a COG and store it as a new layer (or a new version of `layer`)."""
    safety.vector_safety.check_source_name(original_filename)
    filename = PurePosixPath(original_filename.replace("\\", "/")).name or original_filename
    if layer is not None and layer.kind != Layer.Kind.RASTER:
        raise ImportFailed(f"“{layer.name}” is a vector layer: a raster cannot replace it.")
    report = progress or (lambda _f: None)
    started = time.monotonic()
    workdirs_sweep()
    with tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-") as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        (work / "out").mkdir()
        source = safety.prepare(path, filename, work / "in")
        report(0.05)
        cog_path = work / "out" / "layer.tif"
        result = convert.convert_to_cog(
            source,
            cog_path,
            srid=srid,
            name=filename,
            progress=lambda f: report(0.05 + 0.75 * f),
        )
        report(0.85)
        stats = band_statistics(
            str(cog_path), env=safety.gdal_env(), categorical=result.content == "categorical"
        )
        report(0.95)
        seconds = time.monotonic() - started
        return _store(
            project=project,
            layer=layer,
            by=by,
            filename=filename,
            source=source,
            original=path,
            cog_path=cog_path,
            result=result,
            stats=stats,
            seconds=seconds,
            name=name,
            job=job,
        )


def _store(
    *,
    project: Project,
    layer: Layer | None,
    by: User | None,
    filename: str,
    source: safety.RasterSource,
    original: Path,
    cog_path: Path,
    result: convert.Converted,
    stats: dict[str, Any],
    seconds: float,
    name: str,
    job: ImportJob | None,
) -> LayerVersion:
    saved: list[str] = []
    files = RasterVersion()  # holds the two stored files until the rows exist
    size_in, size_out = original.stat().st_size, cog_path.stat().st_size
    try:
        # The files are stored before the transaction, under a name of their own (the version's
        # id does not exist yet): a multi-GB copy or upload to object storage then holds no
        # transaction open and no lock on the layer being replaced. A worker killed between the
        # two leaves files no row names, which stored_orphans_sweep removes.
        stem = uuid.uuid4().hex
        cog_name = storage.save_file(files.cog, f"{stem}.tif", cog_path, move=True)
        saved.append(cog_name)
        suffix = PurePosixPath(filename.lower()).suffix[:10] or ".bin"
        # A job's upload is deleted once it succeeds: its bytes may be linked, not copied
        # (the CLI's file stays the analyst's, so it is copied).
        original_name = storage.save_file(
            files.original, f"{stem}{suffix}", original, move=job is not None
        )
        saved.append(original_name)
        with transaction.atomic():
            replacing = layer is not None
            if layer is None:
                stem = PurePosixPath(filename).stem or filename
                layer = Layer.objects.create(
                    project=project,
                    name=(name or stem)[:200],
                    kind=Layer.Kind.RASTER,
                    created_by=by,
                )
            else:
                layer = Layer.objects.select_for_update().get(pk=layer.pk)
            last = layer.versions.order_by("-number").values_list("number", flat=True).first() or 0
            west, south, east, north = result.bounds_4326
            extent = Polygon.from_bbox((west, south, east, north))
            extent.srid = STORAGE_SRID
            version = LayerVersion.objects.create(
                layer=layer,
                number=last + 1,
                source_filename=filename[:255],
                source_format=source.driver,
                source_srid=result.srid,
                source_crs_wkt=result.crs_wkt,
                geometry_type="Raster",
                extent=extent,
                warnings=result.warnings + source.warnings,
                created_by=by,
            )
            bands = stats["bands"]
            for i, band in enumerate(bands):
                if i < len(result.descriptions) and result.descriptions[i]:
                    band["description"] = result.descriptions[i]
                # Class names live with their band (GDAL keeps names and attribute tables per band).
                if i < len(result.category_names) and result.category_names[i]:
                    band["category_names"] = result.category_names[i]
            raster = RasterVersion(
                version=version,
                content=result.content,
                width=result.width,
                height=result.height,
                bands=result.bands,
                dtype=result.dtype,
                nodata=result.nodata,
                compression=result.compression,
                resolution=result.resolution,
                crs_units=result.crs_units,
                band_stats=bands,
                colormap=result.colormap,
                categories=stats["categories"],
                size_in=size_in,
                size_out=size_out,
                convert_seconds=round(seconds, 3),
            )
            raster.cog.name, raster.original.name = cog_name, original_name
            raster.save()
            layer.current_version = version
            layer.save(update_fields=["current_version", "updated_at"])
            audit_for(
                project.agreement,
                action="layer.replace" if replacing else "layer.upload",
                summary=(
                    f"{layer.name} v{version.number}: {result.width:,} × {result.height:,} "
                    f"raster, {result.bands} band(s) from {filename}"
                ),
                actor=by,
                client_visible=False,
                target=layer,
                data={
                    "version": version.number,
                    "kind": "raster",
                    "source_filename": filename,
                    "size_in": raster.size_in,
                    "size_out": raster.size_out,
                    "seconds": raster.convert_seconds,
                },
            )
            if job is not None:
                job.status = ImportJob.Status.SUCCEEDED
                job.progress = 1.0
                job.message = (
                    f"Converted to a Cloud-Optimized GeoTIFF in {seconds:,.1f} s "
                    f"({raster.size_in / 1024**2:,.1f} MB in, {raster.size_out / 1024**2:,.1f} MB out)."
                )
                from django.utils import timezone

                job.finished_at = timezone.now()
                job.save(update_fields=["status", "progress", "message", "finished_at"])
                job.result_versions.set([version])
    except BaseException:
        storage.delete_names(files.cog, saved)
        raise
    return version


def workdirs_sweep() -> int:
    """Delete the working directories of conversions whose worker process is gone (SIGKILL, OOM).

    Only this host's temporary directory: each host's next conversion (or its beat sweep) cleans
    its own. A live process's directory is never touched.
    """
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        pid = path.name[len(WORKDIR_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def stored_orphans_sweep(*, storage: Storage, grace: timedelta) -> list[str]:
    """Delete stored raster files no RasterVersion references, once older than `grace`.

    A worker killed between "file stored" and "rows committed" leaves such a file. Through the
    storage API only (listdir, get_modified_time, delete), so it works on object storage too; the
    grace period keeps a conversion that is committing right now safe.
    """
    from django.utils import timezone

    referenced = {
        name
        for pair in RasterVersion.objects.values_list("cog", "original").iterator()
        for name in pair
        if name
    }
    cutoff = timezone.now() - grace
    deleted = []
    for name in _walk(storage, STORED_PREFIX):
        if name in referenced:
            continue
        try:
            if storage.get_modified_time(name) >= cutoff:
                continue
        except (FileNotFoundError, OSError):
            continue  # gone meanwhile
        # A row may have committed since the list was read: look once more before deleting.
        if RasterVersion.objects.filter(cog=name).exists() or (
            RasterVersion.objects.filter(original=name).exists()
        ):
            continue
        storage.delete(name)
        deleted.append(name)
    return deleted


def _walk(storage: Storage, prefix: str) -> Iterator[str]:
    try:
        directories, names = storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        yield f"{prefix}/{name}"
    for directory in directories:
        yield from _walk(storage, f"{prefix}/{directory}")


# key: (label, media type)
RASTER_FORMATS = {
    "cog": ("Cloud-Optimized GeoTIFF", "image/tiff; application=geotiff; profile=cloud-optimized"),
    "original": ("Original upload", "application/octet-stream"),
}


def raster_file(version: LayerVersion, fmt: str) -> Any:
    """The stored FieldFile of a raster version for a download format."""
    from layers.exports import ExportError

    raster = RasterVersion.objects.filter(version=version).first()
    if raster is None:
        raise ExportError("This layer is not a raster: export it as GeoJSON, GeoPackage...")
    if fmt not in RASTER_FORMATS:
        raise ExportError(f"Rasters export as {' or '.join(RASTER_FORMATS)}, not “{fmt}”.")
    field = raster.cog if fmt == "cog" else raster.original
    if not field:
        raise ExportError("The original upload of this version was not kept.")
    return field


def raster_download_name(version: LayerVersion, fmt: str) -> str:
    from layers.exports import _safe_name

    suffix = ".tif" if fmt == "cog" else PurePosixPath(version.source_filename.lower()).suffix
    tag = "cog" if fmt == "cog" else "original"
    return f"{_safe_name(version.layer.name)}_v{version.number}_{tag}{suffix}"


def export_raster(*, version: LayerVersion, fmt: str, out: Path) -> Path:
    """Copy a stored raster file to `out` in bounded memory (also from object storage)."""
    field = raster_file(version, fmt)
    with out.open("wb") as dst:
        storage.copy_to(field, dst)
    return out
