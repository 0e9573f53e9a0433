"""Every raster route of town A's published elevation layer: town B and a second provider get 404
with nothing of town A in the body, anonymous visitors are refused, town A and the provider read it.

Routes shared with vectors (layer page, downloads, TileJSON, thumbnails) are played here with the
raster layer; tests/isolation_table.py holds the raster-only routes for the whole-portal check.
"""

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.conftest import client_for
from tests.factories import make_agency, make_agreement, make_project, make_user
from tests.isolation_table import TOWN_A_MARKERS, TownA, body_of, make_town_a
from tests.map_factories import tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_a(world: Any, settings: Any, tmp_path: Path) -> TownA:
    return make_town_a(world, settings, tmp_path)


def raster_urls(a: TownA) -> dict[str, str]:
    lid, vid = a.raster_layer_id, a.raster_version_id
    z, x, y = tile_of(-122.3595, 38.4025, 16)
    return {
        "layer page (preview, metadata)": f"/layers/{lid}/",
        "tile png": f"/tiles/layers/{lid}/{z}/{x}/{y}.png?v={vid}",
        "tile webp": f"/tiles/layers/{lid}/{z}/{x}/{y}.webp",
        "tilejson": f"/tiles/layers/{lid}/tilejson.json",
        "identify": f"/tiles/layers/{lid}/identify.json?v={vid}&lon=-122.3595&lat=38.4025",
        "download cog": f"/layers/{lid}/download/cog/",
        "download original": f"/layers/{lid}/download/original/",
        "map thumbnail": f"/maps/versions/{a.version.pk}/thumbnail.png",
        "map export png": f"/maps/versions/{a.version.pk}/export.png?width=400&height=300",
    }


@pytest.fixture
def other_provider(world: Any) -> Client:
    from projects.models import Agency

    other = make_agency(kind=Agency.Kind.PROVIDER, name="County GIS", slug="county-gis")
    town_c = make_agency(name="Town C", slug="town-c")
    make_project(agreement=make_agreement(provider=other, client=town_c), slug="roads-c")
    return client_for(make_user(username="county_admin", agency=other, role="admin"))


def test_town_b_and_another_provider_get_404_on_every_raster_route(
    town_a: TownA, as_town_b: Client, other_provider: Client
) -> None:
    for client in (as_town_b, other_provider):
        for name, url in raster_urls(town_a).items():
            response = client.get(url)
            assert response.status_code == 404, name
            assert not any(m in body_of(response) for m in TOWN_A_MARKERS + (b"Elevation A",))


def test_anonymous_visitors_are_refused_on_every_raster_route(
    town_a: TownA, client: Client
) -> None:
    for name, url in raster_urls(town_a).items():
        response = client.get(url)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), name
        else:
            assert response.status_code == 401, name


def test_town_a_and_the_analyst_read_every_raster_route(
    town_a: TownA, as_town_a: Client, as_analyst: Client
) -> None:
    for client in (as_town_a, as_analyst):
        for name, url in raster_urls(town_a).items():
            assert client.get(url).status_code == 200, name


def test_after_logout_the_old_session_cookie_opens_no_raster_tile_or_identify(
    town_a: TownA, world: Any
) -> None:
    # Tiles and identify remember an allowed (session, layer, version) for a few seconds;
    # signing out forgets it, so a copied cookie is refused at once.
    urls = raster_urls(town_a)
    town = client_for(world.manager_a)
    for name in ("tile png", "identify"):
        assert town.get(urls[name]).status_code == 200, name
    cookie = town.cookies["sessionid"].value
    town.post("/accounts/logout/")
    replay = Client()
    replay.cookies["sessionid"] = cookie
    for name in ("tile png", "identify"):
        assert replay.get(urls[name]).status_code == 401, name
