"""Raster conversions on real Celery workers survive a worker SIGKILLed mid-conversion."""

import os
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import rasterio
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rio_cogeo.cogeo import cog_validate

from audit.models import AuditEntry
from layers.models import ImportJob, Layer, LayerVersion, RasterVersion
from layers.raster import importer
from layers.raster.storage import gdal_path
from layers.services import jobs_requeue_stuck
from portal.celery import app
from tests import raster_data as rd
from tests.worker_process import start_worker_process, stop_worker_process

pytestmark = pytest.mark.worker
SIDE = 6000  # about 5 s of gdal_translate here: time to kill the worker in the middle


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _gdal_children_of(pid: int) -> list[int]:
    """Processes still working in the killed worker's conversion directory (its gdal_translate)."""
    mark = f"{importer.WORKDIR_PREFIX}{pid}-".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _wait(job_id: Any, timeout: float) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.status}")


def test_a_worker_killed_mid_conversion_leaves_nothing_and_the_job_completes_once(
    world: Any, transactional_db: None, settings: Any, tmp_path: Path
) -> None:
    """SIGKILL a real worker while gdal_translate writes the COG; a new worker finishes the job."""
    from layers.tasks import layer_import_task

    media, worker_tmp = tmp_path / "media", tmp_path / "worker-tmp"
    media.mkdir()
    worker_tmp.mkdir()
    settings.MEDIA_ROOT = media
    source = rd.rgb_large(tmp_path / "ortho.tif", size=SIDE)
    job = ImportJob.objects.create(
        project=world.project_a,
        upload=SimpleUploadedFile("ortho.tif", source.read_bytes()),
        original_filename="ortho.tif",
        created_by=world.analyst,
    )
    uploads = _files(media)
    queue = f"test-rkill-{uuid.uuid4().hex[:8]}"
    env = {"MEDIA_ROOT": str(media), "TMPDIR": str(worker_tmp)}
    worker = start_worker_process(queue, **env)
    try:
        layer_import_task.apply_async(args=[str(job.pk)], queue=queue)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status == "running" and 0.15 < job.progress < 0.7:
                break
            time.sleep(0.05)
        assert job.status == "running" and 0.15 < job.progress < 0.7, job.progress
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    time.sleep(0.5)  # PostgreSQL rolls the dead backend's transaction back
    # Nothing partial: no rows, no stored raster, and its gdal_translate died with it.
    assert not Layer.objects.exists() and not LayerVersion.objects.exists()
    assert not RasterVersion.objects.exists()
    assert _files(media) == uploads  # only the upload waiting for the retry
    assert _gdal_children_of(worker.pid) == []

    ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=2))
    second = start_worker_process(queue, **env)
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        assert jobs_requeue_stuck() == 1
        done = _wait(job.pk, timeout=240)
    finally:
        app.conf.task_default_queue = previous
        stop_worker_process(second)

    assert done.status == "succeeded" and done.attempts == 2, done.message
    raster = RasterVersion.objects.get()  # exactly one version, one layer, one audit row
    assert Layer.objects.get().current_version_id == raster.version_id
    assert AuditEntry.objects.filter(action="layer.upload").count() == 1
    assert (raster.width, raster.height, raster.compression) == (SIDE, SIDE, "JPEG")
    assert cog_validate(gdal_path(raster.cog), quiet=True)[0]
    with rasterio.open(gdal_path(raster.cog)) as cog:
        assert cog.count == 3 and cog.overviews(1)
    stored = {str(p.relative_to(media)) for p in _files(media)}
    assert stored == {raster.cog.name, raster.original.name}  # the upload went after success
    assert list(worker_tmp.iterdir()) == []  # the dead worker's conversion directory too
