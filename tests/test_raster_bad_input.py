"""Broken and hostile rasters: each refused with a message an analyst understands, nothing left
behind (no row, no stored file), and the worker goes on with the next job."""

import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from layers.ingest.errors import ImportFailed
from layers.models import ImportJob, Layer, LayerVersion, RasterVersion
from layers.services import ImportOptions, import_job_create, layer_import_file
from tests import raster_data as rd

CORPUS = rd.hostile_corpus()


def test_the_corpus_holds_at_least_twenty_distinct_hostile_rasters() -> None:
    assert len(CORPUS) >= 20
    assert len({phrase for _make, phrase in CORPUS.values()}) >= 15


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(CORPUS))
def test_a_hostile_raster_is_refused_with_its_message_and_leaves_nothing(
    case: str, world: Any, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RASTER_MAX_BANDS = 16
    make, phrase = CORPUS[case]
    source = tmp_path / "src"
    source.mkdir()
    path, upload_name = make(source)
    with pytest.raises(ImportFailed) as failure:
        layer_import_file(
            project=world.project_a,
            path=path,
            original_filename=upload_name,
            by=world.analyst,
            options=ImportOptions(),
        )
    message = failure.value.message
    assert phrase in message, message
    assert "Traceback" not in message and "sharedgis-raster-" not in message
    assert not Layer.objects.exists() and not LayerVersion.objects.exists()
    assert not RasterVersion.objects.exists()
    assert not (settings.MEDIA_ROOT.exists() and any(settings.MEDIA_ROOT.rglob("*.*")))


@pytest.mark.django_db
def test_limits_come_from_settings(world: Any, tmp_path: Path, settings: Any) -> None:
    settings.RASTER_MAX_BANDS = 2
    settings.MEDIA_ROOT = tmp_path / "media"
    with pytest.raises(ImportFailed, match="3 bands; the limit is 2"):
        layer_import_file(
            project=world.project_a,
            path=rd.rgb(tmp_path / "rgb.tif", size=32),
            original_filename="rgb.tif",
            by=world.analyst,
            options=ImportOptions(),
        )


def test_a_crs_given_as_a_url_is_refused_before_anything_runs() -> None:
    from layers.services import import_options_parse

    with pytest.raises(ImportFailed, match="not a URL"):
        import_options_parse({"srid": "http://epsg.io/2226.wkt"})


def _wait(job_id: Any, timeout: float = 60) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job.status}")


@pytest.mark.worker
def test_a_bomb_fails_on_the_worker_which_then_converts_the_next_raster(
    world: Any, celery_worker: str, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"

    def upload(name: str, path: Path) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, path.read_bytes(), content_type="image/tiff")

    bad = import_job_create(
        project=world.project_a,
        upload=upload("bomb.tif", rd.bomb(tmp_path / "bomb.tif")),
        by=world.analyst,
        options={},
    )
    good = import_job_create(
        project=world.project_a,
        upload=upload("dem.tif", rd.dem(tmp_path / "dem.tif")),
        by=world.analyst,
        options={"name": "DEM"},
    )
    failed = _wait(bad.pk)
    assert failed.status == "failed" and "pixels per band; the limit is" in failed.message
    done = _wait(good.pk)
    assert done.status == "succeeded" and done.progress == 1.0
    assert "Cloud-Optimized GeoTIFF" in done.message and "MB in" in done.message
    assert Layer.objects.get().kind == "raster" and RasterVersion.objects.count() == 1
    # The uploads are gone; only the stored COG and original of the good raster remain.
    stored = sorted(p.name for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())
    version_id = LayerVersion.objects.get().pk
    assert stored == sorted([f"v{version_id}.tif", f"v{version_id}.tif"]) or len(stored) == 2
