"""Writes for layers: import (web, API, CLI and worker share `layer_import_file`), replace, delete.

An import runs in one transaction: the Layer (when new), its LayerVersion, the feature partition,
the job's success and the audit row commit together, so a failed or retried import leaves
nothing behind and cannot duplicate features.
"""

import logging
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.gis.geos import Polygon
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.utils import timezone

from layers import exports, partitions
from layers.ingest import safety
from layers.ingest.errors import ImportFailed
from layers.models import ExportJob, ImportJob, Job, Layer, LayerVersion, RasterVersion
from layers.raster import safety as raster_safety
from layers.storage import files
from projects.access import is_provider_staff
from projects.models import Project
from projects.services import audit_for

if TYPE_CHECKING:  # the pipeline pulls pyogrio, pandas and pyarrow: loaded where used
    from layers.ingest import pipeline

log = logging.getLogger(__name__)
ProgressFn = Callable[[float], None]
SRID_URL = re.compile(r"^\s*(https?|file|ftp)://|/vsi", re.IGNORECASE)


@dataclass(frozen=True)
class ImportOptions:
    name: str = ""
    source_layer: str = ""
    srid: int | None = None
    drop_z: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source_layer": self.source_layer,
            "srid": self.srid,
            "drop_z": self.drop_z,
        }


def import_options_parse(data: dict[str, Any]) -> ImportOptions:
    """Options from a form, the API, the CLI or a job row, with messages an analyst understands."""
    raw_srid = data.get("srid")
    srid: int | None = None
    if raw_srid not in (None, ""):
        text = str(raw_srid).strip()
        if SRID_URL.search(text):
            raise ImportFailed(
                "Give the coordinate system as an EPSG code (a number such as 2226), not a URL."
            )
        text = re.sub(r"^(EPSG:)", "", text, flags=re.IGNORECASE)
        if not (text.isascii() and text.isdigit()) or not 1024 <= int(text) <= 999999:
            raise ImportFailed(
                f"“{raw_srid}” is not an EPSG code. Give a number such as 2226 or 4326."
            )
        srid = int(text)
    source_layer = str(data.get("source_layer") or "").strip()
    safety.check_source_name(source_layer) if source_layer else None
    return ImportOptions(
        name=str(data.get("name") or "").strip()[:200],
        source_layer=source_layer,
        srid=srid,
        drop_z=str(data.get("drop_z", "")).lower() in {"1", "true", "on", "yes"},
    )


def can_edit_layers(user: User | AnonymousUser, project: Project) -> bool:
    """Uploads, replacements and deletes: the provider's staff (projects.access)."""
    return is_provider_staff(user, project)


def _require_editor(user: User | AnonymousUser | None, project: Project) -> None:
    # user None is the command line, run by someone with shell access to the server.
    if user is not None and not can_edit_layers(user, project):
        raise PermissionDenied("Only the provider's GIS staff can change layers.")


def _progress_writer(job_id: Any) -> tuple[Callable[[float], None], Callable[[], None]]:
    """Progress goes through its own autocommit connection: the import's transaction is still open."""
    side = connections.create_connection("default")
    # A raster conversion reports from a watcher thread while GDAL works in this one.
    side.inc_thread_sharing()
    last = [-1.0]

    def write(fraction: float) -> None:
        if fraction - last[0] < 0.02 and fraction < 1:
            return
        last[0] = fraction
        with side.cursor() as cur:
            cur.execute(
                "UPDATE layers_importjob SET progress = %s WHERE id = %s",
                [round(min(fraction, 1.0), 3), str(job_id)],
            )

    def close() -> None:
        side.close()
        side.dec_thread_sharing()

    return write, close


def layer_import_file(
    *,
    project: Project,
    path: Path,
    original_filename: str,
    by: User | None,
    options: ImportOptions,
    layer: Layer | None = None,
    progress: ProgressFn | None = None,
    job: ImportJob | None = None,
) -> list[LayerVersion]:
    """Import a file into `project` (new layers, or a new version of `layer`). All or nothing."""
    from layers.ingest import pipeline

    _require_editor(by, project)
    if raster_safety.looks_like_raster(path, original_filename):
        from layers.raster.importer import raster_import_file

        return [
            raster_import_file(
                project=project,
                path=path,
                original_filename=original_filename,
                by=by,
                srid=options.srid,
                name=options.name,
                layer=layer,
                progress=progress,
                job=job,
            )
        ]
    if layer is not None and layer.kind == Layer.Kind.RASTER:
        raise ImportFailed(f"“{layer.name}” is a raster layer: upload a raster to replace it.")
    filename = PurePosixPath(original_filename.replace("\\", "/")).name or original_filename
    with tempfile.TemporaryDirectory(prefix="sharedgis-import-") as tmp:
        detected = safety.prepare(path, original_filename, Path(tmp))
        available = pipeline.list_source_layers(detected)
        if options.source_layer:
            chosen = [s for s in available if s.name == options.source_layer]
            if not chosen:
                raise ImportFailed(
                    f"This file has no layer named “{options.source_layer}”. Its layers: "
                    + ", ".join(f"“{s.name}”" for s in available)
                    + "."
                )
        else:
            chosen = available
        if not chosen:
            raise ImportFailed(f"“{filename}” contains no layers.")
        if layer is not None and len(chosen) > 1:
            raise ImportFailed(
                f"This file has {len(chosen)} layers ("
                + ", ".join(f"“{s.name}”" for s in chosen)
                + "): choose the one that replaces the layer."
            )
        total = sum(max(s.feature_count, 0) for s in chosen) or 1
        done = [0]
        versions = []
        with transaction.atomic():
            for source in chosen:

                def on_progress(loaded: int, _of: int, base: int = done[0]) -> None:
                    if progress:
                        progress(0.05 + 0.9 * (base + loaded) / total)

                versions.append(
                    _import_one(
                        project=project,
                        detected=detected,
                        source=source,
                        multiple=len(chosen) > 1,
                        filename=filename,
                        by=by,
                        options=options,
                        layer=layer,
                        progress=on_progress,
                    )
                )
                done[0] += max(source.feature_count, 0)
            with connection.cursor() as cursor:
                partitions.attach(cursor, [v.pk for v in versions])
            if job is not None:
                job.status = ImportJob.Status.SUCCEEDED
                job.progress = 1.0
                job.message = " ".join(w for v in versions for w in v.warnings)
                job.finished_at = timezone.now()
                job.save(update_fields=["status", "progress", "message", "finished_at"])
                job.result_versions.set(versions)
            # Low-zoom tile overviews are built in the background once the data is committed.
            for version in versions:
                transaction.on_commit(partial(_tile_overviews_queue, version.pk), robust=True)
    return versions


def _tile_overviews_queue(version_id: int) -> None:
    from layers.tiles.tasks import tile_overviews_prepare_task

    tile_overviews_prepare_task.delay(version_id)


def _import_one(
    *,
    project: Project,
    detected: safety.Detected,
    source: "pipeline.SourceLayer",
    multiple: bool,
    filename: str,
    by: User | None,
    options: ImportOptions,
    layer: Layer | None,
    progress: Callable[[int, int], None],
) -> LayerVersion:
    from layers.ingest import pipeline

    replacing = layer is not None
    if layer is None:
        stem = PurePosixPath(filename).stem or filename
        if multiple:
            name = f"{options.name} – {source.name}" if options.name else source.name
        else:
            name = options.name or (source.name if detected.driver == safety.GPKG else stem)
        layer = Layer.objects.create(project=project, name=name[:200], created_by=by)
    else:
        layer = Layer.objects.select_for_update().get(pk=layer.pk)
    last = layer.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = LayerVersion.objects.create(
        layer=layer,
        number=last + 1,
        source_filename=filename[:255],
        source_format=detected.driver,
        source_layer=source.name[:255],
        created_by=by,
    )
    with connection.cursor() as cursor:
        result = pipeline.load_layer(
            cursor,
            version_id=version.pk,
            detected=detected,
            layer=source.name,
            srid=options.srid,
            drop_z=options.drop_z,
            max_fields=settings.UPLOAD_MAX_FIELDS,
            progress=progress,
        )
    version.feature_count = result.feature_count
    version.geometry_type = result.geometry_type
    version.has_z = result.has_z
    version.source_srid = result.source_srid
    version.source_crs_wkt = result.source_crs_wkt
    version.schema = result.schema
    version.repaired_count = result.repaired_count
    version.warnings = result.warnings
    if result.extent is not None:
        version.extent = Polygon.from_bbox(result.extent)
        version.extent.srid = pipeline.STORAGE_SRID
    version.save()
    layer.current_version = version
    layer.save(update_fields=["current_version", "updated_at"])
    audit_for(
        project.agreement,
        action="layer.replace" if replacing else "layer.upload",
        summary=f"{layer.name} v{version.number}: {result.feature_count:,} features from {filename}",
        actor=by,
        client_visible=False,
        target=layer,
        data={
            "version": version.number,
            "feature_count": result.feature_count,
            "source_filename": filename,
            "geometry_type": result.geometry_type,
            "repaired": result.repaired_count,
        },
    )
    return version


def import_job_create(
    *,
    project: Project,
    upload: UploadedFile,
    by: User,
    options: dict[str, Any],
    layer: Layer | None = None,
) -> ImportJob:
    """Save an upload as a queued job; the worker picks it up once this transaction commits."""
    _require_editor(by, project)
    parsed = import_options_parse(options)
    name = upload.name or "upload"
    safety.check_source_name(name)
    if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise ImportFailed(
            f"“{name}” is {upload.size / 1024**2:,.0f} MB; the limit is "
            f"{settings.UPLOAD_MAX_BYTES / 1024**2:,.0f} MB."
        )
    from layers.tasks import layer_import_task

    with transaction.atomic():
        job = ImportJob(
            project=project,
            layer=layer,
            original_filename=PurePosixPath(name.replace("\\", "/")).name[:255],
            options=parsed.as_dict(),
            created_by=by,
        )
        # Stored under our own name: the analyst's file name never becomes a path.
        upload.name = f"{job.id.hex}{PurePosixPath(name).suffix.lower()[:10]}"
        job.upload = upload
        stored_as = job.upload.field.generate_filename(job, upload.name)
        try:
            job.save()
        except OSError as exc:
            # Disk (or bucket) full: the storage may keep what it wrote; nothing partial stays.
            if job.upload.storage.exists(stored_as):
                job.upload.storage.delete(stored_as)
            log.error("storing upload %s failed: %s", name, exc)
            raise ImportFailed(
                f"“{name}” could not be stored: the server is out of space. Nothing was saved; "
                "the GIS team must free space before you try again."
            ) from exc
        # With the broker down the job stays queued and the sweeper sends it later (robust=True).
        transaction.on_commit(lambda: layer_import_task.delay(str(job.id)), robust=True)
    return job


def layer_import(*, job: ImportJob) -> ImportJob:
    """Run a queued job (the worker's entry point). Safe to run twice: the second run is a no-op."""
    job.refresh_from_db()
    if job.is_finished:
        return job
    job.start()
    write_progress, close_progress = _progress_writer(job.pk)
    try:
        with _failures_end(job, "import"):
            _import_run(job, write_progress)
    finally:
        close_progress()
    job.refresh_from_db()
    if job.is_finished and job.upload:
        # The data now lives in PostGIS (or was refused); a retry uploads the file again.
        job.upload.delete(save=True)
    return job


def _import_run(job: ImportJob, write_progress: Callable[[float], None]) -> None:
    """One import inside its transaction; a second delivery of the job returns at once."""
    options = import_options_parse(job.options)
    with transaction.atomic():
        with connection.cursor() as cur:
            # Two deliveries of the same job never import side by side.
            cur.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [str(job.pk)])
            if not cur.fetchone()[0]:
                return
        job.refresh_from_db()
        if job.status == ImportJob.Status.SUCCEEDED:
            return
        # The upload may be in object storage: the worker reads a private local copy.
        with files.local_copy(
            job.upload, suffix=PurePosixPath(job.upload.name or "").suffix
        ) as path:
            layer_import_file(
                project=job.project,
                path=path,
                original_filename=job.original_filename,
                by=job.created_by,
                options=options,
                layer=job.layer,
                progress=write_progress,
                job=job,
            )


@contextmanager
def _failures_end(job: Job, noun: str) -> Iterator[None]:
    """Whatever goes wrong ends the job as failed, with a message an analyst understands."""
    try:
        yield
    except ImportFailed as exc:
        job.fail(exc.message)
    except (PermissionDenied, exports.ExportError) as exc:
        job.fail(str(exc))
    except SoftTimeLimitExceeded:
        job.fail(f"The {noun} took longer than the time limit and was stopped.")
    except (OperationalError, InterfaceError):
        raise  # the database went away: nothing was committed; the task retries the job
    except Exception:
        log.exception("%s job %s failed", noun, job.pk)
        job.fail(f"The {noun} failed because of an internal error. The GIS team has the details.")


def _jobs_requeue(
    model: type[Job], task: Any, noun: str, max_attempts: int, queued_after: timedelta
) -> int:
    """Re-queue jobs whose worker died (running too long) or whose message was lost (queued too long)."""
    now = timezone.now()
    running_cutoff = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 120)
    queued_cutoff = now - queued_after
    manager: Any = model._default_manager
    stuck = manager.filter(status="running", started_at__lt=running_cutoff) | manager.filter(
        status="queued", created_at__lt=queued_cutoff
    )
    count = 0
    for job in stuck:
        if job.attempts >= max_attempts:
            job.fail(f"The {noun} was stopped {job.attempts} times; it was given up.")
            continue
        manager.filter(pk=job.pk).update(status="queued")
        task.delay(str(job.pk))
        count += 1
    return count


def jobs_requeue_stuck(
    *, max_attempts: int = 3, queued_after: timedelta = timedelta(minutes=10)
) -> int:
    """Re-queue import jobs whose worker died or whose message was lost."""
    from layers.tasks import layer_import_task

    return _jobs_requeue(ImportJob, layer_import_task, "import", max_attempts, queued_after)


def raster_orphans_sweep() -> int:
    """Delete stored raster files no version references (a worker killed before its commit) and
    dead workers' conversion directories on this host; the number of stored files deleted."""
    from django.core.files.storage import default_storage

    from layers.raster import importer

    importer.workdirs_sweep()
    grace = timedelta(seconds=settings.RASTER_ORPHAN_GRACE_SECONDS)
    deleted = importer.stored_orphans_sweep(storage=default_storage, grace=grace)
    if deleted:
        log.warning("deleted %d orphan raster file(s): %s", len(deleted), ", ".join(deleted[:10]))
    return len(deleted)


def partitions_drop_orphans() -> int:
    """Drop feature partitions whose versions are gone (a cascade delete, or a retire that gave up)."""
    return partitions.drop_orphans()


def layer_delete(*, layer: Layer, by: User | AnonymousUser | None) -> None:
    """Delete a layer with all its versions; their partitions go once the deletion has committed.

    The rows go in one short transaction; the partitions are then detached concurrently and
    dropped (layers/partitions.py), so no reader of another layer waits for this delete.
    """
    project = layer.project
    _require_editor(by, project)
    with transaction.atomic():
        version_ids = list(layer.versions.values_list("pk", flat=True))
        files = [
            name
            for pair in RasterVersion.objects.filter(version__layer=layer).values_list(
                "cog", "original"
            )
            for name in pair
            if name
        ]
        # Stored files go once the rows are gone for good; a rollback keeps both.
        transaction.on_commit(partial(_storage_delete, files))
        audit_for(
            project.agreement,
            action="layer.delete",
            summary=f"{layer.name} deleted ({len(version_ids)} version(s))",
            actor=by,
            client_visible=False,
            target=layer,
            data={"versions": len(version_ids)},
        )
        layer.current_version = None
        layer.save(update_fields=["current_version"])
        layer.delete()
        partitions.retire(version_ids)


def _storage_delete(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


# --- Export jobs: downloads too large to build inside a web request.


def export_job_request(*, version: LayerVersion, fmt: str, srid: int, by: User) -> ExportJob:
    """The user's job for this download: a running or ready one is reused, else one is queued."""
    exports.check_export(version, fmt)
    srid = exports.export_srid(fmt, srid)
    from layers.tasks import export_job_task

    with transaction.atomic():
        reusable = (
            ExportJob.objects.select_for_update()
            .filter(version=version, fmt=fmt, srid=srid, created_by=by)
            .exclude(status=ExportJob.Status.FAILED)
            .first()
        )
        if reusable is not None:
            return reusable
        job = ExportJob.objects.create(version=version, fmt=fmt, srid=srid, created_by=by)
        transaction.on_commit(lambda: export_job_task.delay(str(job.id)))
    return job


def export_job_run(*, job: ExportJob) -> ExportJob:
    """Build the job's file into storage (the worker's entry point). Running it twice is a no-op."""
    with connection.cursor() as cur:
        # Two deliveries of the same job never export side by side.
        cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"export:{job.pk}"])
        if not cur.fetchone()[0]:
            return job
    try:
        job.refresh_from_db()
        if job.is_finished:
            return job
        job.start()
        with _failures_end(job, "export"):
            _export_build(job)
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"export:{job.pk}"])
    job.refresh_from_db()
    return job


def _export_build(job: ExportJob) -> None:
    version = job.version
    total = max(version.feature_count, 1)
    last = [0.0]

    def done(rows: int) -> None:
        fraction = 0.02 + 0.9 * rows / total
        if fraction - last[0] >= 0.02:
            last[0] = fraction
            ExportJob.objects.filter(pk=job.pk).update(progress=round(fraction, 3))

    filename = exports.download_filename(version, job.fmt, job.srid)
    with tempfile.TemporaryDirectory(prefix="sharedgis-export-") as tmp:
        out = exports.export_version(
            version=version, fmt=job.fmt, srid=job.srid, out=Path(tmp) / filename, done=done
        )
        size = out.stat().st_size
        field = ExportJob._meta.get_field("file")
        name = files.save_file(
            field.storage, field.generate_filename(job, f"{job.pk.hex}/{filename}"), out
        )
    updated = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.SUCCEEDED,
        progress=1.0,
        file=name,
        size_bytes=size,
        finished_at=timezone.now(),
    )
    if not updated:  # the job was given up meanwhile: keep no orphan file
        field.storage.delete(name)


def export_jobs_sweep(*, max_attempts: int = 3) -> int:
    """Delete expired exports (file and row) and re-queue jobs whose worker died. Returns both."""
    from layers.tasks import export_job_task

    now = timezone.now()
    expired = ExportJob.objects.filter(
        finished_at__lt=now - timedelta(hours=settings.EXPORT_KEEP_HOURS)
    )
    count = 0
    for job in expired:
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count + _jobs_requeue(
        ExportJob, export_job_task, "export", max_attempts, timedelta(minutes=10)
    )
