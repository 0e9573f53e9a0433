"""Big downloads: small layers stream straight from the database; large ones become export jobs.

A job is built by a real Celery worker into Django's storage, shows its progress, links the file
when ready, belongs to whoever asked for it, and is swept away after EXPORT_KEEP_HOURS.
"""

import csv
import io
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from django.utils import timezone

from layers.models import ExportJob, LayerVersion
from layers.services import export_job_run, export_jobs_sweep
from tests.conftest import World, client_for
from tests.map_factories import make_published_map

N = 30


@pytest.fixture
def published(world: World, settings: Any, tmp_path: Path) -> LayerVersion:
    settings.MEDIA_ROOT = tmp_path / "media"
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=N)
    return LayerVersion.objects.get(pk=version.definition["layers"][0]["version_id"])


def _wait(job_id: Any, timeout: float = 60) -> ExportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ExportJob.objects.get(pk=job_id)
        if job.status in (ExportJob.Status.SUCCEEDED, ExportJob.Status.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError(f"export {job_id} still {job.status}")


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_small_geojson_download_streams_every_feature_from_the_database(
    world: World, published: LayerVersion
) -> None:
    response = client_for(world.manager_a).get(f"/layers/{published.layer_id}/download/geojson/")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(_body(response))
    assert data["type"] == "FeatureCollection" and len(data["features"]) == N
    first = data["features"][0]
    assert first["properties"]["name"] == "Parcel 0" and first["geometry"]["type"] == "Polygon"


def test_a_small_csv_download_streams_wkt_and_attributes_in_schema_order(
    world: World, published: LayerVersion
) -> None:
    response = client_for(world.manager_a).get(f"/layers/{published.layer_id}/download/csv/")
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(_body(response).decode())))
    assert rows[0] == ["WKT", "zone", "value", "name"]
    assert len(rows) == N + 1
    assert rows[1][0].startswith("POLYGON((") and rows[1][3] == "Parcel 0"


def test_a_large_layer_offers_a_prepared_download_instead_of_building_it_in_the_request(
    world: World, published: LayerVersion, settings: Any
) -> None:
    settings.EXPORT_JOB_MIN_FEATURES = N - 1
    client = client_for(world.manager_a)
    response = client.get(f"/layers/{published.layer_id}/download/gpkg/")
    assert response.status_code == 200 and not response.streaming
    assert b"prepared in the background" in response.content
    assert not ExportJob.objects.exists()
    page = client.get(f"/layers/{published.layer_id}/")
    assert b'action="/layers/%d/exports/"' % published.layer_id in page.content


@pytest.mark.worker
def test_a_large_export_runs_on_the_worker_with_progress_and_links_its_file_when_ready(
    world: World, settings: Any, tmp_path: Path, celery_worker: str
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_JOB_MIN_FEATURES = N - 1
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=N)
    layer_id = version.definition["layers"][0]["layer_id"]
    client = client_for(world.manager_a)
    response = client.post(f"/layers/{layer_id}/exports/", {"format": "gpkg"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response["Location"] == f"/exports/{job.pk}/"
    assert job.created_by == world.manager_a and job.fmt == "gpkg" and job.srid == 4326
    job = _wait(job.pk)
    assert job.status == "succeeded", job.message
    assert job.progress == 1.0 and job.size_bytes > 0
    status = client.get(f"/exports/{job.pk}/status.json").json()
    assert status["status"] == "succeeded" and status["file_url"] == f"/exports/{job.pk}/file/"
    assert b"Download the file" in client.get(f"/exports/{job.pk}/").content
    download = client.get(status["file_url"])
    assert download.status_code == 200
    assert "Parcels" in download["Content-Disposition"]
    out = tmp_path / "got.gpkg"
    out.write_bytes(_body(download))
    frame = pyogrio.read_dataframe(out)
    assert len(frame) == N and list(frame["name"][:2]) == ["Parcel 0", "Parcel 1"]
    # The same request again reuses the ready file rather than building another.
    again = client.post(f"/layers/{layer_id}/exports/", {"format": "gpkg"})
    assert again["Location"] == f"/exports/{job.pk}/" and ExportJob.objects.count() == 1


def test_an_export_job_is_its_requesters_alone(world: World, published: LayerVersion) -> None:
    job = ExportJob.objects.create(
        version=published, fmt="csv", srid=4326, created_by=world.manager_a
    )
    export_job_run(job=job)
    for url in (
        f"/exports/{job.pk}/",
        f"/exports/{job.pk}/status.json",
        f"/exports/{job.pk}/file/",
    ):
        assert client_for(world.manager_a).get(url).status_code == 200, url
        # A colleague of the same town and the provider's analyst get the same 404 as town B.
        for other in (world.viewer_a, world.analyst, world.manager_b):
            assert client_for(other).get(url).status_code == 404, (url, other.username)


def test_a_format_that_cannot_hold_the_layer_is_refused_with_a_message(
    world: World, published: LayerVersion
) -> None:
    response = client_for(world.analyst).post(
        f"/layers/{published.layer_id}/exports/", {"format": "xlsx"}
    )
    assert response.status_code == 400
    assert "Unknown format" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_the_sweeper_deletes_expired_exports_with_their_files(
    world: World, published: LayerVersion, settings: Any
) -> None:
    job = ExportJob.objects.create(
        version=published, fmt="geojson", srid=4326, created_by=world.manager_a
    )
    job = export_job_run(job=job)
    assert job.status == "succeeded", job.message
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)
    ExportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - timedelta(hours=settings.EXPORT_KEEP_HOURS, minutes=1)
    )
    assert export_jobs_sweep() == 1
    assert not ExportJob.objects.exists() and not storage.exists(name)
