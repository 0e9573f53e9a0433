"""Every maps route answers 404 to another town (never 403) and sends anonymous visitors away."""

import pytest
from django.urls import reverse

from maps.models import MapLayer, MapVersion, ShareLink
from tests.conftest import World, client_for
from tests.map_factories import make_published_map, tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(world: World) -> MapVersion:
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=5)
    return version


def read_routes(version: MapVersion) -> list[str]:
    layer = version.definition["layers"][0]
    return [
        reverse("maps:map", args=[version.map_id]),
        reverse("maps:version", args=[version.pk]),
        reverse("maps:thumbnail", args=[version.pk]),
        reverse("maps:export", args=[version.pk, "png"]) + "?width=400&height=300",
        reverse("maps:search", args=[version.pk]) + "?q=Parcel",
        reverse("maps:labels", args=[version.pk]) + "?layer=1&bbox=-123,38,-122,39",
        reverse("layers:tilejson", args=[layer["layer_id"]]),
        reverse("layers:tile", args=[layer["layer_id"], *tile_of(-122.3595, 38.4001, 15)])
        + f"?v={layer['version_id']}",
    ]


def staff_routes(version: MapVersion) -> list[tuple[str, str]]:
    ml = MapLayer.objects.get(map=version.map)
    link = ShareLink.objects.create(version=version)
    return [
        ("get", reverse("maps:edit", args=[version.map_id])),
        ("get", reverse("maps:api-map", args=[version.map_id])),
        ("patch", reverse("maps:api-map", args=[version.map_id])),
        ("post", reverse("maps:api-map-layers", args=[version.map_id])),
        ("post", reverse("maps:api-map-order", args=[version.map_id])),
        ("patch", reverse("maps:api-map-layer", args=[ml.pk])),
        ("delete", reverse("maps:api-map-layer", args=[ml.pk])),
        ("post", reverse("maps:publish", args=[version.map_id])),
        ("post", reverse("maps:attach", args=[version.pk])),
        ("post", reverse("maps:share-create", args=[version.pk])),
        ("post", reverse("maps:share-revoke", args=[link.pk])),
        ("post", reverse("maps:create", args=["zoning-a"])),
    ]


def test_town_a_opens_every_read_route_of_its_map(world: World, published, as_town_a) -> None:
    opened = as_town_a.get(reverse("maps:map", args=[published.map_id]))
    assert opened.status_code == 302
    assert opened["Location"] == reverse("maps:version", args=[published.pk])
    for url in read_routes(published)[1:]:
        assert as_town_a.get(url).status_code == 200, url


def test_provider_staff_open_every_route(world: World, published, as_analyst) -> None:
    opened = as_analyst.get(reverse("maps:map", args=[published.map_id]))
    assert opened.status_code == 302
    assert opened["Location"] == reverse("maps:edit", args=[published.map_id])
    for url in read_routes(published)[1:]:
        assert as_analyst.get(url).status_code == 200, url
    assert as_analyst.get(reverse("maps:edit", args=[published.map_id])).status_code == 200


def test_town_b_gets_404_for_every_town_a_route(world: World, published, as_town_b) -> None:
    for url in read_routes(published):
        response = as_town_b.get(url)
        assert response.status_code == 404, url
        assert b"Zoning" not in response.content and b"Town A" not in response.content, url
    for method, url in staff_routes(published):
        response = getattr(as_town_b, method)(url, content_type="application/json")
        assert response.status_code == 404, (method, url)
    assert MapVersion.objects.count() == 1 and MapLayer.objects.count() == 1


def test_town_a_clients_cannot_reach_the_draft_or_staff_tools(
    world: World, published, as_town_a
) -> None:
    for method, url in staff_routes(published):
        if "maps/new" in url:
            continue  # creating in its own project is refused with a message instead
        response = getattr(as_town_a, method)(url, content_type="application/json")
        assert response.status_code in (403, 404), (method, url)
    assert (
        MapVersion.objects.count() == 1 and ShareLink.objects.filter(revoked_at=None).count() == 1
    )


def test_town_b_lists_no_town_a_maps(world: World, published, as_town_b) -> None:
    body = as_town_b.get(reverse("maps:list")).content.decode()
    assert "Zoning" not in body


def test_town_b_searching_town_a_gets_nothing(world: World, published) -> None:
    viewer_b = client_for(world.manager_b)
    response = viewer_b.get(reverse("maps:search", args=[published.pk]) + "?q=Parcel")
    assert response.status_code == 404 and b"Parcel" not in response.content


def test_anonymous_visitors_are_sent_to_login_or_refused(world: World, published, client) -> None:
    pages = read_routes(published)[:6]
    for url in pages:
        if "search" in url or "labels" in url:
            assert client.get(url).status_code == 401, url
            continue
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for url in read_routes(published)[6:]:
        assert client.get(url).status_code == 401, url
    assert client.get(reverse("maps:api-map", args=[published.map_id])).status_code == 401
