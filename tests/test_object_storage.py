"""Object storage: with STORAGE_URL=s3://… every stored file lives in a real S3 server (SeaweedFS).

The web side and a real Celery worker (a separate process) each get their own, empty media
folder: the upload, the import and the prepared download succeed without either ever writing
there, so no step relies on a disk shared between hosts.
"""

import io
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

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
from tests.map_factories import make_published_map, tile_of
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
    # Its own temporary folder too, so a test can see that every job's private copy is gone.
    (tmp_path / "worker-tmp").mkdir()
    queue = f"test-s3-{uuid.uuid4().hex[:8]}"
    env = dict(
        os.environ,
        DATABASE_URL=d.database_url_for_subprocesses(),
        CELERY_QUEUE=queue,
        STORAGE_URL=seaweedfs.storage_url(bucket),
        MEDIA_ROOT=str(media),
        TMPDIR=str(tmp_path / "worker-tmp"),
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
    # The upload was read from the bucket by the worker, then deleted there: right after the job
    # is marked finished (deleting it before that commit could lose the file), so wait for it.
    deadline = time.monotonic() + 30
    while ImportJob.objects.get(pk=job.pk).upload and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not ImportJob.objects.get(pk=job.pk).upload
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


# --- Rasters: imported by a worker, then read by GDAL over /vsis3/, never from a local disk


class RangeRecorder:
    """A loopback HTTP proxy in front of the object store that records what GDAL asks for.

    GDAL's /vsis3/ goes through it when the storage endpoint names it; each GET is kept as
    (path, Range header, bytes returned). SeaweedFS checks no signatures (no identities), so
    the Host header it sees may differ from the one GDAL signed.
    """

    def __init__(self, upstream: str) -> None:
        import http.client
        import http.server
        import threading

        target = urlparse(upstream)
        self.requests: list[tuple[str, str | None, int]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # curl keeps its connection alive

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                hop = {"connection", "keep-alive", "proxy-connection"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
                conn.request("GET", self.path, headers=headers)
                answer = conn.getresponse()
                body = answer.read()
                conn.close()
                recorder.requests.append((self.path, self.headers.get("Range"), len(body)))
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in hop | {"content-length", "transfer-encoding"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _png(response: Any) -> Any:
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))


def _dem_value_at(source: Path, lon: float, lat: float) -> float:
    import rasterio
    from pyproj import Transformer

    with rasterio.open(source) as ds:
        x, y = Transformer.from_crs(4326, ds.crs, always_xy=True).transform(lon, lat)
        return float(next(ds.sample([(x, y)]))[0])


def test_a_raster_imports_tiles_identifies_thumbnails_downloads_and_packages_from_object_storage(
    world: World,
    seaweedfs: SeaweedFS,  # noqa: F811
    bucket: str,
    worker_process: Path,
    settings: Any,
    tmp_path: Path,
) -> None:
    from collaboration.packages import build_package_file
    from layers.models import RasterVersion
    from layers.raster.storage import gdal_path
    from maps.models import MapVersion
    from maps.services import map_create, map_layer_add, map_publish, map_version_attach
    from tests import raster_data as rd

    (tmp_path / "src").mkdir()
    source = rd.dem(tmp_path / "src" / "dem.tif")
    analyst = client_for(world.analyst)
    response = analyst.post(
        f"/api/projects/{world.project_a.slug}/layers/imports/",
        {"file": SimpleUploadedFile("dem.tif", source.read_bytes())},
    )
    assert response.status_code == 202, response.content
    job = _wait(ImportJob, response.json()["id"])
    assert job.status == "succeeded", job.message
    raster = RasterVersion.objects.select_related("version").get()
    # The worker read the upload from the bucket, stored the COG and the original there, and
    # deleted the upload; GDAL reads the COG from the bucket itself.
    assert seaweedfs.keys(bucket) == sorted([raster.cog.name, raster.original.name])
    assert gdal_path(raster.cog) == f"/vsis3/{bucket}/{raster.cog.name}"
    layer_id, v = raster.version.layer_id, raster.pk

    lon, lat = -122.3595, 38.4025
    _, x, y = tile_of(lon, lat, 16)
    tile = analyst.get(f"/tiles/layers/{layer_id}/16/{x}/{y}.png?v={v}")
    assert tile.status_code == 200 and tile["Content-Type"] == "image/png"
    assert (_png(tile)[..., 3] == 255).mean() > 0.2  # the DEM covers part of the tile
    point = analyst.get(f"/tiles/layers/{layer_id}/identify.json?v={v}&lon={lon}&lat={lat}")
    assert point.status_code == 200, point.content
    assert point.json()["bands"][0]["value"] == pytest.approx(
        _dem_value_at(source, lon, lat), abs=0.01
    )

    link = analyst.get(f"/layers/{layer_id}/download/cog/")
    # A signed link straight to the object store: the web process streams nothing.
    assert link.status_code == 302 and link["Location"].startswith(seaweedfs.endpoint)
    with urllib.request.urlopen(link["Location"], timeout=10) as fetched:  # noqa: S310 - loopback
        assert "attachment" in fetched.headers["Content-Disposition"]
        downloaded = fetched.read()
    stored = seaweedfs.client().get_object(Bucket=bucket, Key=raster.cog.name)["Body"].read()
    assert downloaded == stored

    # The worker renders the published map's thumbnail, reading the COG over /vsis3/.
    new = map_create(project=world.project_a, title="Relief", by=world.analyst, basemap="none")
    map_layer_add(map=new, layer=raster.version.layer, by=world.analyst)
    version = map_publish(map=new, by=world.analyst, notes="v1")
    deadline = time.monotonic() + 60
    while (thumb := MapVersion.objects.get(pk=version.pk).thumbnail) is None:
        assert time.monotonic() < deadline, "no thumbnail from the worker"
        time.sleep(0.2)
    pixels = _png(type("R", (), {"content": bytes(thumb)}))
    assert pixels[..., :3].std() > 5  # the shaded relief, not an empty frame

    map_version_attach(version=version, deliverable=world.deliverable_a, by=world.analyst)
    build_package_file(world.deliverable_a, tmp_path / "package.zip")
    archive = zipfile.ZipFile(tmp_path / "package.zip")
    (tif,) = [n for n in archive.namelist() if n.endswith(".tif")]
    assert archive.read(tif) == stored

    assert _files_under(settings.MEDIA_ROOT) == [] and _files_under(worker_process) == []
    # The worker's private copies of the upload and its COG working folder were deleted.
    assert list((tmp_path / "worker-tmp").iterdir()) == []


def test_raster_tiles_read_only_the_cog_blocks_they_need_with_range_requests(
    world: World,
    seaweedfs: SeaweedFS,  # noqa: F811
    bucket: str,
    settings: Any,
    tmp_path: Path,
) -> None:
    from tests import raster_data as rd
    from tests.raster_helpers import import_raster

    version = import_raster(
        rd.dem(tmp_path / "dem.tif", size=1600, nodata=None),
        project=world.project_a,
        by=world.analyst,
        name="Big DEM",
    )
    raster = version.raster
    size = seaweedfs.client().head_object(Bucket=bucket, Key=raster.cog.name)["ContentLength"]
    recorder = RangeRecorder(seaweedfs.endpoint)
    try:
        # The web side now reaches the bucket through the recorder (same keys, same data).
        settings.STORAGES = {
            **settings.STORAGES,
            "default": storage_backend(seaweedfs.storage_url(bucket).split("?")[0]
                                       + f"?endpoint={recorder.endpoint}"),
        }  # fmt: skip
        analyst = client_for(world.analyst)
        for z in (13, 17):
            _, x, y = tile_of(-122.3595, 38.4025, z)
            tile = analyst.get(f"/tiles/layers/{version.layer_id}/{z}/{x}/{y}.png?v={raster.pk}")
            assert tile.status_code == 200
            assert (_png(tile)[..., 3] == 255).any()
    finally:
        recorder.close()
    reads = [r for r in recorder.requests if raster.cog.name in r[0]]
    assert reads, "GDAL did not read the COG from the object store"
    assert all(r[1] and r[1].startswith("bytes=") for r in reads), reads
    assert sum(r[2] for r in reads) < size / 4, (sum(r[2] for r in reads), size)
