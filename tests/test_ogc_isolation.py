"""Every /ogc/ route of the isolation table, played with the credentials desktop clients send."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ogc.models import AccessToken
from projects.models import Agency
from tests.conftest import World
from tests.factories import make_agency, make_agreement, make_project, make_user
from tests.isolation_table import (
    OBJECT_ROUTES,
    OWN_ROUTES,
    TOWN_A_MARKERS,
    TownA,
    body_of,
    call,
    counts,
    make_town_a,
)
from tests.ogc_helpers import bearer, token_for

pytestmark = pytest.mark.django_db

# The machine routes: the tokens page and its revoke form are for the browser session only.
OGC_OBJECT = {n: r for n, r in OBJECT_ROUTES.items() if n.startswith("ogc:") and r.method == "get"}
OGC_OWN = {n: r for n, r in OWN_ROUTES.items() if n.startswith("ogc:") and n != "ogc:tokens"}


@pytest.fixture
def town_a(world: World, settings: Any, tmp_path: Path) -> TownA:
    return make_town_a(world, settings, tmp_path)


def token_client(user: Any) -> Client:
    return Client(**bearer(token_for(user)))


def test_the_table_has_every_ogc_path() -> None:
    assert {"ogc:items", "ogc:item", "ogc:tile", "ogc:queryables", "ogc:map-tile"} <= set(
        OGC_OBJECT
    )
    assert {"ogc:landing", "ogc:collections", "ogc:api"} <= set(OGC_OWN)


def test_town_a_reads_every_ogc_path_with_its_token(town_a: TownA) -> None:
    client = token_client(town_a.world.manager_a)
    for name, route in {**OGC_OBJECT, **OGC_OWN}.items():
        assert call(client, route, town_a).status_code == 200, name


def test_town_b_and_another_provider_get_404_with_their_tokens(town_a: TownA, world: World) -> None:
    other = make_agency(kind=Agency.Kind.PROVIDER, name="County GIS", slug="county-gis")
    town_c = make_agency(name="Town C", slug="town-c")
    make_project(agreement=make_agreement(provider=other, client=town_c), slug="roads-c")
    county = make_user(username="county_admin", agency=other, role="admin")
    before = counts()
    for user in (world.manager_b, county):
        client = token_client(user)
        for name, route in OGC_OBJECT.items():
            response = call(client, route, town_a)
            assert response.status_code == 404, (user, name)
            assert not any(m in body_of(response) for m in TOWN_A_MARKERS), name
        for name, route in OGC_OWN.items():
            response = call(client, route, town_a)
            assert response.status_code == 200, name
            assert not any(m in body_of(response) for m in TOWN_A_MARKERS), name
    assert counts()[:-1] == before[:-1]  # only the tokens made here were added


def test_anonymous_revoked_and_expired_tokens_get_401_on_every_ogc_path(town_a: TownA) -> None:
    revoked, expired = token_for(town_a.world.manager_a), token_for(town_a.world.manager_a)
    AccessToken.objects.filter(prefix=revoked[:9]).update(revoked_at=timezone.now())
    AccessToken.objects.filter(prefix=expired[:9]).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    for client in (Client(), Client(**bearer(revoked)), Client(**bearer(expired))):
        for name, route in {**OGC_OBJECT, **OGC_OWN}.items():
            response = call(client, route, town_a)
            assert response.status_code == 401, name
            assert response["WWW-Authenticate"].startswith("Basic"), name
            assert not any(m in body_of(response) for m in TOWN_A_MARKERS), name
