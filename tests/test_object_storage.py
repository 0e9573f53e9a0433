"""Object storage: with STORAGE_URL=s3://… every stored file lives in a real S3 server (SeaweedFS).

The web side and a real Celery worker (a separate process) each get their own, empty media
folder: the upload, the import and the prepared download succeed without either ever writing
there, so no step relies on a disk shared between hosts.
"""

import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile

from layers.ingest import safety
from layers.models import ExportJob, ImportJob, LayerVersion
from layers.services import export_job_run
from layers.storage import files
from portal.celery import app
from portal.scaleout import storage_backend
from tests import layers_data as d
from tests.conftest import World, client_for
from tests.map_factories import make_published_map
from tests.seaweed import SeaweedFS, seaweedfs  # noqa: F401 - the session fixture

pytestmark = pytest.mark.worker
N = 25


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.fixture
def bucket(seaweedfs: SeaweedFS, settings: Any, tmp_path: Path) -> str:  # noqa: F811
    """This test's bucket as the portal's default storage; MEDIA_ROOT an empty folder."""
    name = seaweedfs.bucket()
    settings.STORAGES = {**settings.STORAGES, "default": seaweedfs.storage_settings(name)}
    settings.MEDIA_ROOT = tmp_path / "web-media"
    settings.MEDIA_ROOT.mkdir()
    return name


@pytest.fixture
def worker_process(
    seaweedfs: SeaweedFS,  # noqa: F811
    bucket: str,
    tmp_path: Path,
    transactional_db: None,
) -> Iterator[Path]:
    """A real Celery worker in its own process, on another (empty) media folder."""
    media = tmp_path / "worker-media"
    media.mkdir()
    queue = f"test-s3-{uuid.uuid4().hex[:8]}"
    env = dict(
        os.environ,
        DATABASE_URL=d.database_url_for_subprocesses(),
        CELERY_QUEUE=queue,
        STORAGE_URL=seaweedfs.storage_url(bucket),
        MEDIA_ROOT=str(media),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "solo", "-Q", queue]
        + ["-l", "warning"],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield media
    finally:
        app.conf.task_default_queue = previous
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def _wait(model: Any, pk: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = model.objects.get(pk=pk)
        if job.status in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"{model.__name__} {pk} still {job.status}")


def test_upload_import_and_download_go_through_object_storage_and_no_local_media_folder(
    world: World,
    seaweedfs: SeaweedFS,  # noqa: F811
    bucket: str,
    worker_process: Path,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.EXPORT_JOB_MIN_FEATURES = N - 1
    analyst = client_for(world.analyst)
    features = [d.feature(d.point(d.LON + i * 0.0001), name=f"Inlet {i}") for i in range(N)]
    response = analyst.post(
        f"/api/projects/{world.project_a.slug}/layers/imports/",
        {"file": SimpleUploadedFile("inlets.geojson", d.geojson_bytes(features))},
    )
    assert response.status_code == 202, response.content
    job = _wait(ImportJob, response.json()["id"])
    assert job.status == "succeeded", job.message
    version = LayerVersion.objects.get()
    assert version.feature_count == N
    # The upload was read from the bucket by the worker, then deleted there.
    assert not [k for k in seaweedfs.keys(bucket) if k.startswith("uploads/")]

    created = analyst.post(f"/layers/{version.layer_id}/exports/", {"format": "gpkg"})
    assert created.status_code == 302
    export = _wait(ExportJob, ExportJob.objects.get().pk)
    assert export.status == "succeeded", export.message
    assert seaweedfs.keys(bucket) == [export.file.name]
    link = analyst.get(f"/exports/{export.pk}/file/")
    # The browser fetches the file from the object store with a short-lived signed link.
    assert link.status_code == 302 and link["Location"].startswith(seaweedfs.endpoint)
    with urllib.request.urlopen(link["Location"], timeout=10) as fetched:  # noqa: S310 - loopback
        assert "attachment" in fetched.headers["Content-Disposition"]
        (tmp_path / "got.gpkg").write_bytes(fetched.read())
    frame = pyogrio.read_dataframe(tmp_path / "got.gpkg")
    assert sorted(frame["name"]) == sorted(f"Inlet {i}" for i in range(N))

    assert _files_under(settings.MEDIA_ROOT) == [] and _files_under(worker_process) == []


def test_gdal_reads_a_file_the_portal_stored_straight_from_object_storage_over_vsis3(
    world: World,
    seaweedfs: SeaweedFS,  # noqa: F811
    bucket: str,
    settings: Any,
) -> None:
    _, published = make_published_map(project=world.project_a, by=world.analyst, n=N)
    version = LayerVersion.objects.get(pk=published.definition["layers"][0]["version_id"])
    export = export_job_run(
        job=ExportJob.objects.create(version=version, fmt="gpkg", srid=4326, created_by=None)
    )
    assert export.status == "succeeded", export.message
    path = files.open_for_gdal(export.file)
    assert path == f"/vsis3/{bucket}/{export.file.name}"
    # Uploads keep GDAL off the network in this process; files we wrote ourselves may use it.
    pyogrio.set_gdal_config_options(
        {**files.gdal_config(), "GDAL_HTTP_PROXY": None, "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": None}
    )
    try:
        info = pyogrio.read_info(path)
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(files.gdal_config()))
        safety.configure_gdal()
    assert info["features"] == N and info["driver"] == "GPKG"
    assert _files_under(settings.MEDIA_ROOT) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://bucket", "must start with s3:// or file://"),
        ("s3://?endpoint=http://x", "needs a bucket"),
        ("s3://b?endpoint=127.0.0.1:9000", "endpoint must be http(s)://"),
        ("s3://b?colour=blue", "unknown parameters"),
        ("file://relative", "absolute path"),
    ],
)
def test_a_malformed_storage_url_stops_startup_with_a_clear_message(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        storage_backend(url)


def test_a_storage_url_names_bucket_prefix_endpoint_and_keys() -> None:
    backend = storage_backend("s3://key:se%2Fcret@maps/portal?endpoint=http://10.0.0.5:8333")
    assert backend["BACKEND"] == "storages.backends.s3.S3Storage"
    options = backend["OPTIONS"]
    assert options["bucket_name"] == "maps" and options["location"] == "portal"
    assert options["endpoint_url"] == "http://10.0.0.5:8333"
    assert options["addressing_style"] == "path"
    assert (options["access_key"], options["secret_key"]) == ("key", "se/cret")
