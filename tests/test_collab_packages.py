"""Deliverable packages: built by a Celery job, verifiable by their MANIFEST, rebuilt byte for byte."""

import hashlib
import io
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pyogrio
import pytest
from django.db import transaction

from collaboration.models import DeliverablePackage
from collaboration.packages import build_package_file
from projects.services import deliverable_transition
from tests.collab_helpers import delivered_with_map, verify_manifest
from tests.conftest import World, client_for


@pytest.mark.django_db
def test_a_package_holds_map_exports_data_styles_metadata_and_acceptance_and_rebuilds_identically(
    world: World, tmp_path: Path
) -> None:
    version = delivered_with_map(world)
    deliverable_transition(
        deliverable=world.deliverable_a, to_status="accepted", by=world.manager_a
    )
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    sha = build_package_file(world.deliverable_a, first)
    built_in = int(time.time())
    while int(time.time()) == built_in:  # a rebuild in another second: no timestamp may leak in
        time.sleep(0.05)
    assert build_package_file(world.deliverable_a, second) == sha
    assert first.read_bytes() == second.read_bytes()
    archive = zipfile.ZipFile(first)
    names = verify_manifest(archive)
    stem = f"zoning-v{version.number}"
    layer_title = version.definition["layers"][0]["title"]
    assert f"maps/{stem}.pdf" in names and f"maps/{stem}.png" in names
    assert {"README.txt", "acceptance.json", f"metadata/{stem}.xml"} <= set(names)
    (gpkg,) = [n for n in names if n.endswith(".gpkg")]
    assert {f"styles/{Path(gpkg).stem}.json", f"styles/{Path(gpkg).stem}.sld"} <= set(names)
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0) and (info.external_attr >> 16) == 0o100644
    assert archive.namelist() == sorted(archive.namelist())
    top = archive.namelist()[0].split("/")[0]
    # The data are the pinned version's 30 features, readable by GDAL.
    path = tmp_path / "layer.gpkg"
    path.write_bytes(archive.read(f"{top}/{gpkg}"))
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == 30 and frame.crs.to_epsg() == 4326 and "zone" in frame.columns
    # SLD and metadata are well-formed XML that say what they should.
    sld = ET.fromstring(archive.read(f"{top}/styles/{Path(gpkg).stem}.sld"))  # noqa: S314 - our own output
    assert sld.tag.endswith("StyledLayerDescriptor")
    assert len(sld.findall(".//{http://www.opengis.net/sld}Rule")) >= 2  # categories + other
    meta = archive.read(f"{top}/metadata/{stem}.xml").decode()
    assert "EPSG:4326" in meta and "Zoning map A" in meta and layer_title in meta
    acceptance = archive.read(f"{top}/acceptance.json").decode()
    assert '"to": "accepted"' in acceptance and "manager_a" in acceptance


@pytest.mark.django_db
def test_a_deliverable_not_yet_delivered_has_no_package(world: World) -> None:
    manager = client_for(world.manager_a)
    response = manager.post(f"/deliverables/{world.deliverable_a.pk}/package/build/", follow=True)
    assert "delivered or accepted" in response.content.decode()
    assert DeliverablePackage.objects.count() == 0
    assert manager.get(f"/deliverables/{world.deliverable_a.pk}/package.zip")["Location"] == (
        f"/deliverables/{world.deliverable_a.pk}/package/"
    )


@pytest.mark.worker
def test_the_package_is_built_by_a_celery_job_then_served(
    world: World, celery_worker: str, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    delivered_with_map(world)
    manager = client_for(world.manager_a)
    assert manager.post(f"/deliverables/{world.deliverable_a.pk}/package/build/").status_code == 302
    deadline = time.monotonic() + 120
    package = DeliverablePackage.objects.get()
    while package.status not in ("ready", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)  # polling the job's row, not waiting a fixed time
        package.refresh_from_db()
    assert package.status == "ready", package.message
    response = manager.get(f"/deliverables/{world.deliverable_a.pk}/package.zip")
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == package.sha256 == response["X-Content-SHA256"]
    verify_manifest(zipfile.ZipFile(io.BytesIO(body)))
    assert (
        "Download package.zip"
        in manager.get(f"/deliverables/{world.deliverable_a.pk}/package/").content.decode()
    )
    with transaction.atomic():
        assert (
            client_for(world.manager_b)
            .get(f"/deliverables/{world.deliverable_a.pk}/package.zip")
            .status_code
            == 404
        )


@pytest.mark.django_db
def test_a_package_carries_each_raster_layer_as_its_cloud_optimized_geotiff(
    world: World, tmp_path: Path, settings: object
) -> None:
    from maps.models import MapVersion
    from maps.services import map_layer_add, map_publish, map_version_attach
    from tests import raster_data
    from tests.map_factories import make_published_map
    from tests.raster_helpers import import_raster

    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    map_, _ = make_published_map(project=world.project_a, by=world.analyst, n=5)
    dem = import_raster(
        raster_data.dem(tmp_path / "dem.tif", size=64),
        project=world.project_a,
        by=world.analyst,
        name="Elevation A",
    )
    map_layer_add(map=map_, layer=dem.layer, by=world.analyst)
    version: MapVersion = map_publish(map=map_, by=world.analyst, notes="with elevation")
    map_version_attach(version=version, deliverable=world.deliverable_a, by=world.analyst)
    out = tmp_path / "p.zip"
    build_package_file(world.deliverable_a, out)
    archive = zipfile.ZipFile(out)
    names = verify_manifest(archive)
    (tif,) = [n for n in names if n.endswith(".tif")]
    top = archive.namelist()[0].split("/")[0]
    stored = dem.raster.cog.open("rb").read()
    assert archive.read(f"{top}/{tif}") == stored  # the COG as imported, byte for byte
    assert b"not included" not in archive.read(f"{top}/README.txt")
