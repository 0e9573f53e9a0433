"""Layer pages and API: what analysts and clients see, and that every route is tenancy-checked."""

import math
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from layers.models import Layer
from tests import layers_data as d
from tests.conftest import client_for


@pytest.fixture
def layer_a(world: Any, tmp_path: Path) -> Layer:
    (version,) = d.run_import(
        world.project_a, d.write_shapefile(tmp_path, d.points_frame(crs=2226), name="hydrants")
    )
    return version.layer


def routes(layer: Layer) -> list[str]:
    pk = layer.pk
    return [
        f"/layers/{pk}/",
        f"/layers/{pk}/features/",
        f"/layers/{pk}/geojson/",
        f"/layers/{pk}/download/geojson/",
        f"/layers/{pk}/download/shp/?crs=source",
        f"/layers/{pk}/replace/",
    ]


def test_the_project_page_lists_layers_with_count_and_geometry(world: Any, layer_a: Layer) -> None:
    page = client_for(world.analyst).get("/projects/zoning-a/").content.decode()
    assert "hydrants" in page and "Point" in page and "Upload layers" in page


def test_the_layer_page_shows_metadata_schema_downloads_and_versions(
    world: Any, layer_a: Layer
) -> None:
    page = client_for(world.analyst).get(f"/layers/{layer_a.pk}/").content.decode()
    for text in (
        "EPSG:2226",
        "ESRI Shapefile",
        "flow",
        "GeoPackage",
        "Shapefile (zip)",
        "v1",
        "Delete layer",
    ):
        assert text in page, text


def test_the_attribute_table_pages_sorts_and_filters_in_the_database(
    world: Any, layer_a: Layer
) -> None:
    api = client_for(world.analyst)
    page = api.get(f"/layers/{layer_a.pk}/features/?size=5&page=2").json()
    assert page["total"] == 20 and [r["fid"] for r in page["rows"]] == [5, 6, 7, 8, 9]
    by_year = api.get(f"/layers/{layer_a.pk}/features/?sort=year&dir=desc&size=3").json()
    assert [r["year"] for r in by_year["rows"]] == [2009, 2008, 2007]
    found = api.get(f"/layers/{layer_a.pk}/features/?q=Hydrant 1").json()
    assert found["total"] == 11  # Hydrant 1 and 10-19


def test_downloads_come_in_4326_or_the_source_crs(world: Any, layer_a: Layer) -> None:
    api = client_for(world.analyst)
    plain = api.get(f"/layers/{layer_a.pk}/download/geojson/")
    assert plain.status_code == 200 and b"-122." in b"".join(plain.streaming_content)
    source = api.get(f"/layers/{layer_a.pk}/download/geojson/?crs=source")
    assert "epsg2226" in source["Content-Disposition"]


def test_the_geojson_preview_returns_every_feature(world: Any, layer_a: Layer) -> None:
    data = client_for(world.analyst).get(f"/layers/{layer_a.pk}/geojson/").json()
    assert len(data["features"]) == 20 and data["features"][0]["properties"]["name"] == "Hydrant 0"


def test_deleting_a_layer_removes_it_and_is_audited(world: Any, layer_a: Layer) -> None:
    response = client_for(world.analyst).post(f"/layers/{layer_a.pk}/delete/")
    assert response.status_code == 302
    assert not Layer.objects.filter(pk=layer_a.pk).exists()
    assert AuditEntry.objects.filter(action="layer.delete").exists()


def test_town_b_gets_404_on_every_route_of_a_town_a_layer(world: Any, layer_a: Layer) -> None:
    town_b = client_for(world.manager_b)
    for url in routes(layer_a):
        assert town_b.get(url).status_code == 404, url
    assert town_b.post(f"/layers/{layer_a.pk}/delete/").status_code == 404
    assert town_b.get("/projects/zoning-a/layers/upload/").status_code == 404
    assert town_b.post("/api/projects/zoning-a/layers/imports/", {}).status_code == 404
    assert Layer.objects.filter(pk=layer_a.pk).exists()


def test_town_b_gets_404_for_a_town_a_import_job(world: Any, tmp_path: Path, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from layers.models import ImportJob

    settings.MEDIA_ROOT = tmp_path
    job = ImportJob.objects.create(
        project=world.project_a,
        upload=SimpleUploadedFile("a.geojson", b"{}"),
        original_filename="a.geojson",
    )
    assert client_for(world.analyst).get(f"/api/imports/{job.pk}/").status_code == 200
    assert client_for(world.manager_b).get(f"/api/imports/{job.pk}/").status_code == 404
    assert client_for(world.manager_a).get(f"/api/imports/{job.pk}/").status_code == 404


def test_a_client_of_town_a_gets_404_for_its_own_unpublished_layer(
    world: Any, layer_a: Layer
) -> None:
    town_a = client_for(world.manager_a)
    for url in routes(layer_a):
        assert town_a.get(url).status_code == 404, url
    assert "hydrants" not in town_a.get("/projects/zoning-a/").content.decode()


def test_a_client_sees_and_downloads_a_published_version_but_cannot_change_it(
    world: Any, layer_a: Layer
) -> None:
    layer_a.versions.update(published_at=timezone.now())
    town_a = client_for(world.viewer_a)
    assert town_a.get(f"/layers/{layer_a.pk}/").status_code == 200
    assert town_a.get(f"/layers/{layer_a.pk}/features/").json()["total"] == 20
    assert town_a.get(f"/layers/{layer_a.pk}/download/gpkg/").status_code == 200
    assert town_a.get(f"/layers/{layer_a.pk}/replace/").status_code == 403
    town_a.post(f"/layers/{layer_a.pk}/delete/")
    assert Layer.objects.filter(pk=layer_a.pk).exists()
    assert town_a.post("/api/projects/zoning-a/layers/imports/", {}).status_code == 403


def test_anonymous_users_are_sent_to_login_or_refused(world: Any, layer_a: Layer) -> None:
    anonymous = Client()
    for url in routes(layer_a):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert anonymous.post("/api/projects/zoning-a/layers/imports/", {}).status_code in (401, 403)


def test_the_upload_page_offers_drag_and_drop_for_analysts(world: Any) -> None:
    page = client_for(world.analyst).get("/projects/zoning-a/layers/upload/").content.decode()
    assert 'id="dropzone"' in page and "multiple" in page and "layers_upload.js" in page


def test_the_demo_layers_load_through_the_import_service_and_reload_idempotently(db: None) -> None:
    from django.conf import settings

    from layers import demo
    from projects import demo as projects_demo

    projects_demo.load(settings.DEMO_PASSWORD)
    demo.load()
    demo.load()
    names = sorted(Layer.objects.values_list("name", flat=True))
    assert names == sorted(name for _, name, _ in demo.DEMO_LAYERS)
    inlets = Layer.objects.get(name="Stormwater inlets")
    assert inlets.project.slug == "calistoga-stormwater"
    assert inlets.current_version.feature_count == 80
    assert inlets.current_version.created_by.username == "analyst"


def test_a_large_layer_is_previewed_from_vector_tiles_not_geojson(
    world: Any, layer_a: Layer, monkeypatch: Any
) -> None:
    from layers import selectors

    monkeypatch.setattr(selectors, "GEOJSON_PREVIEW_LIMIT", 5)
    analyst = client_for(world.analyst)
    page = analyst.get(f"/layers/{layer_a.pk}/").content.decode()
    version_id = layer_a.current_version_id
    tiles = f"/tiles/layers/{layer_a.pk}/{{z}}/{{x}}/{{y}}.pbf?v={version_id}"
    assert f'data-tiles="{tiles}"' in page and "Leaflet.VectorGrid" in page
    assert analyst.get(f"/layers/{layer_a.pk}/geojson/").status_code == 413
    first = layer_a.current_version.features.order_by("fid").first().geom
    n = 2**14
    x = int((first.x + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(first.y))) / math.pi) / 2 * n)
    tile = analyst.get(f"/tiles/layers/{layer_a.pk}/14/{x}/{y}.pbf?v={version_id}")
    assert tile.status_code == 200 and len(tile.content) > 0


def test_an_upload_over_the_size_limit_is_refused_before_it_is_stored(
    world: Any, settings: Any, tmp_path: Path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from layers.models import ImportJob

    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_MAX_BYTES = 1000
    big = SimpleUploadedFile("big.geojson", b" " * (2 * 1024 * 1024))
    response = client_for(world.analyst).post(
        "/api/projects/zoning-a/layers/imports/", {"file": big}
    )
    assert response.status_code == 413 and "the limit is" in response.json()["error"]
    assert not ImportJob.objects.exists()


def test_the_api_queues_a_replacement_for_a_layer_of_the_same_project_only(
    world: Any, layer_a: Layer, settings: Any, tmp_path: Path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from layers.models import ImportJob

    settings.MEDIA_ROOT = tmp_path
    analyst = client_for(world.analyst)
    data = d.geojson_bytes([d.feature(d.point(), name="x")])
    ok = analyst.post(
        "/api/projects/zoning-a/layers/imports/",
        {"file": SimpleUploadedFile("v2.geojson", data), "layer": str(layer_a.pk)},
    )
    assert ok.status_code == 202
    assert ImportJob.objects.get(pk=ok.json()["id"]).layer_id == layer_a.pk
    wrong_project = analyst.post(
        "/api/projects/storm-b/layers/imports/",
        {"file": SimpleUploadedFile("v2.geojson", data), "layer": str(layer_a.pk)},
    )
    assert wrong_project.status_code == 404
    assert ImportJob.objects.count() == 1


def test_the_layer_table_shows_clients_the_published_version_never_a_newer_unpublished_one(
    world: Any,
) -> None:
    from layers.selectors import layers_of_project
    from tests.map_factories import add_parcels, make_layer_version, make_published_map

    _, map_version = make_published_map(project=world.project_a, by=world.analyst, n=5)
    layer = Layer.objects.get(project=world.project_a)
    published = layer.current_version
    replacement = make_layer_version(layer=layer, geometry_type="Point")
    add_parcels(replacement, n=7)
    (for_client,) = layers_of_project(world.manager_a, world.project_a)
    (for_staff,) = layers_of_project(world.analyst, world.project_a)
    assert for_client.shown_version == published
    assert for_staff.shown_version == replacement
    page = client_for(world.manager_a).get(f"/projects/{world.project_a.slug}/").content
    assert b"Point" not in page
