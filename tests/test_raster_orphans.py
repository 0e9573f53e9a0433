"""Orphan raster files: a worker killed between "file stored" and "rows committed" leaves a stored
file no row references; the beat sweeper deletes it after a grace period, through the storage API
(disk and S3 alike), and removes dead workers' conversion directories."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from layers.models import RasterVersion
from layers.raster import importer
from layers.services import raster_orphans_sweep
from tests import raster_data as rd
from tests.raster_helpers import import_raster
from tests.seaweed import SeaweedFS, seaweedfs  # noqa: F401 - the session fixture

pytestmark = pytest.mark.django_db
DAY = 24 * 3600


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _age(media: Path, name: str, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(media / name, (then, then))


def test_the_beat_schedule_runs_the_orphan_sweep() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "layers.tasks.raster_orphans_sweep_task" in tasks


def test_unreferenced_raster_files_go_after_the_grace_period_and_nothing_else_does(
    world: Any, media: Path
) -> None:
    version = import_raster(
        rd.dem(media.parent / "dem.tif"), project=world.project_a, by=world.analyst
    )
    raster = RasterVersion.objects.get(version=version)
    kept_cog, kept_original = raster.cog.name, raster.original.name
    old_orphan = default_storage.save("rasters/cog/2026/11/v999.tif", ContentFile(b"II*\0orphan"))
    new_orphan = default_storage.save("rasters/cog/2026/12/v1000.tif", ContentFile(b"II*\0new"))
    other = default_storage.save("uploads/someone.tif", ContentFile(b"not ours"))
    grace = settings.RASTER_ORPHAN_GRACE_SECONDS
    for name in (kept_cog, kept_original, old_orphan, other):
        _age(media, name, grace + DAY)

    assert raster_orphans_sweep() == 1

    assert not default_storage.exists(old_orphan)
    for name in (kept_cog, kept_original, new_orphan, other):
        assert default_storage.exists(name), name
    assert raster_orphans_sweep() == 0  # nothing left to do


def test_a_dead_workers_conversion_directory_is_removed_a_live_ones_is_kept() -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = Path(tempfile.mkdtemp(prefix=f"{importer.WORKDIR_PREFIX}{gone.stdout.strip()}-"))
    (dead / "out").mkdir()
    (dead / "out" / "layer.tif").write_bytes(b"half a COG")
    live = Path(tempfile.mkdtemp(prefix=f"{importer.WORKDIR_PREFIX}{os.getpid()}-"))
    try:
        importer.workdirs_sweep()
        assert not dead.exists() and live.exists()
    finally:
        for path in (dead, live):
            shutil.rmtree(path, ignore_errors=True)


@pytest.mark.worker
def test_the_sweep_works_through_object_storage(
    seaweedfs: SeaweedFS,  # noqa: F811
    settings: Any,
    tmp_path: Path,
) -> None:
    bucket = seaweedfs.bucket()
    settings.STORAGES = {**settings.STORAGES, "default": seaweedfs.storage_settings(bucket)}
    settings.MEDIA_ROOT = tmp_path / "empty-media"
    from django.core.files.storage import storages

    storage = storages["default"]
    orphan = storage.save("rasters/original/2026/12/v77.tif", ContentFile(b"II*\0orphan"))
    assert importer.stored_orphans_sweep(storage=storage, grace=timedelta(hours=1)) == []
    assert importer.stored_orphans_sweep(storage=storage, grace=timedelta(0)) == [orphan]
    assert seaweedfs.keys(bucket) == []
    assert not settings.MEDIA_ROOT.exists()  # nothing touched the local disk
