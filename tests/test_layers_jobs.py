"""Import jobs on a real Celery worker (real Redis): queued after commit, idempotent, swept when stuck."""

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEntry
from layers.models import Feature, ImportJob, Layer, LayerVersion
from layers.services import import_job_create, jobs_requeue_stuck, layer_import
from tests import layers_data as d
from tests.conftest import client_for
from tests.worker_process import start_worker_process

pytestmark = pytest.mark.worker


def _wait(job_id: Any, timeout: float = 30) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job.status}")


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


GOOD = d.geojson_bytes(
    [d.feature(d.point(), name="Inlet 1"), d.feature(d.point(d.LON + 0.001), name="Inlet 2")]
)


def test_an_api_upload_runs_on_the_worker_and_reports_its_layer(
    world: Any, celery_worker: str, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    api = client_for(world.analyst)
    response = api.post(
        "/api/projects/zoning-a/layers/imports/",
        {"file": _upload("inlets.geojson", GOOD), "name": "Inlets"},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["status_url"] == f"/api/imports/{body['id']}/"
    job = _wait(body["id"])
    assert job.status == "succeeded" and job.progress == 1.0
    status = api.get(body["status_url"]).json()
    assert status["layers"][0]["name"] == "Inlets" and status["layers"][0]["feature_count"] == 2
    assert AuditEntry.objects.filter(
        action="layer.upload", target_id=str(status["layers"][0]["id"])
    ).exists()


def test_a_bad_job_fails_cleanly_and_the_worker_serves_the_next_one(
    world: Any, celery_worker: str, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    bad = import_job_create(
        project=world.project_a,
        upload=_upload(
            "x.kml",
            d.KML_XXE
            if hasattr(d, "KML_XXE")
            else b"<?xml version='1.0'?><!DOCTYPE kml [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><kml/>",
        ),
        by=world.analyst,
        options={},
    )
    good = import_job_create(
        project=world.project_a, upload=_upload("ok.geojson", GOOD), by=world.analyst, options={}
    )
    failed = _wait(bad.pk)
    assert failed.status == "failed" and "DOCTYPE" in failed.message
    assert _wait(good.pk).status == "succeeded"
    assert Layer.objects.count() == 1 and LayerVersion.objects.count() == 1
    assert Feature.objects.count() == 2
    # Finished jobs do not keep the uploaded files around.
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_redelivered_job_does_not_duplicate_features(
    world: Any, transactional_db: None, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    job = ImportJob.objects.create(
        project=world.project_a,
        upload=_upload("ok.geojson", GOOD),
        original_filename="ok.geojson",
        created_by=world.analyst,
    )
    # A worker that died mid-import left the row "running" and, its transaction rolled back, no data.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, attempts=1)
    assert layer_import(job=job).status == "succeeded"
    # The broker redelivers after a lost acknowledgement: the second run is a no-op.
    assert layer_import(job=job).status == "succeeded"
    assert Feature.objects.count() == 2 and LayerVersion.objects.count() == 1
    assert ImportJob.objects.get(pk=job.pk).attempts == 2


def test_a_job_whose_worker_died_mid_import_is_requeued_and_completes_once(
    world: Any, celery_worker: str, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    job = ImportJob.objects.create(
        project=world.project_a,
        upload=_upload("ok.geojson", GOOD),
        original_filename="ok.geojson",
        created_by=world.analyst,
        status=ImportJob.Status.RUNNING,
        attempts=1,
        started_at=timezone.now() - timedelta(hours=3),
    )
    assert jobs_requeue_stuck() == 1
    done = _wait(job.pk)
    assert done.status == "succeeded" and done.attempts == 2
    assert Feature.objects.count() == 2


def test_a_replacement_upload_makes_a_new_version_and_keeps_the_old_one(
    world: Any, celery_worker: str, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    first = _wait(
        import_job_create(
            project=world.project_a, upload=_upload("a.geojson", GOOD), by=world.analyst, options={}
        ).pk
    )
    layer = first.result_versions.get().layer
    more = d.geojson_bytes([d.feature(d.point(), name=f"Inlet {i}") for i in range(5)])
    _wait(
        import_job_create(
            project=world.project_a,
            upload=_upload("b.geojson", more),
            by=world.analyst,
            options={},
            layer=layer,
        ).pk
    )
    layer.refresh_from_db()
    assert [v.number for v in layer.versions.all()] == [2, 1]
    assert layer.current_version.feature_count == 5
    assert Feature.objects.filter(version__number=1, version__layer=layer).count() == 2
    assert AuditEntry.objects.filter(action="layer.replace").exists()


def test_two_imports_at_the_same_time_both_complete(
    world: Any, transactional_db: None, tmp_path: Path
) -> None:
    import threading

    from django.db import connection

    paths = []
    for k in range(2):
        path = tmp_path / f"many-{k}.geojson"
        path.write_bytes(
            d.geojson_bytes(
                [d.feature(d.point(d.LON + i * 1e-5, d.LAT + k * 1e-3), n=i) for i in range(20000)]
            )
        )
        paths.append(path)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(path: Path) -> None:
        try:
            start.wait()
            d.run_import(world.project_a, path)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(LayerVersion.objects.values_list("feature_count", flat=True)) == [20000, 20000]
    assert Feature.objects.count() == 40000


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_completes_on_requeue(
    world: Any, celery_worker: str, settings: Any, tmp_path: Path
) -> None:
    """A real worker process is SIGKILLed during COPY; the sweeper hands the job to another worker."""
    import os
    import signal
    import uuid

    import numpy as np
    import pyarrow as pa
    import pyogrio
    import shapely
    from django.db import connection

    from layers.tasks import layer_import_task

    settings.MEDIA_ROOT = tmp_path
    n = 300_000
    rng = np.random.default_rng(1)
    big = tmp_path / "big.gpkg"
    pyogrio.write_arrow(
        pa.table(
            {
                "k": pa.array(np.arange(n)),
                "geometry": pa.array(
                    shapely.to_wkb(
                        shapely.points(rng.uniform(-122.4, -122.3, n), rng.uniform(38.3, 38.4, n))
                    ),
                    type=pa.binary(),
                ),
            }
        ),
        str(big),
        layer="big",
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="Point",
        crs="EPSG:4326",
    )
    job = ImportJob.objects.create(
        project=world.project_a,
        upload=_upload("big.gpkg", big.read_bytes()),
        original_filename="big.gpkg",
        created_by=world.analyst,
    )

    def partitions() -> int:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'layers_feature_p%%'")
            return cur.fetchone()[0]

    tables_before = partitions()
    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    worker = start_worker_process(queue, MEDIA_ROOT=str(tmp_path))
    try:
        layer_import_task.apply_async(args=[str(job.pk)], queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status == "running" and job.progress > 0.1:
                break
            time.sleep(0.05)
        assert job.status == "running" and job.progress > 0.1
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    time.sleep(0.5)  # PostgreSQL notices the dead backend and rolls its transaction back
    assert not LayerVersion.objects.exists() and not Feature.objects.exists()
    assert partitions() == tables_before  # the half-loaded partition went with the transaction
    ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=2))
    assert jobs_requeue_stuck() == 1
    done = _wait(job.pk, timeout=90)
    assert done.status == "succeeded" and done.attempts == 2
    assert Feature.objects.count() == n and LayerVersion.objects.get().feature_count == n
