"""Every URL of the portal: another agency gets 404, anonymous visitors are refused.

The table (tests/isolation_table.py) must list every route the resolver knows, so a new route
fails `test_every_route_is_in_the_isolation_table` until its isolation is specified there.
"""

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver
from django.utils import timezone

from projects.models import Agency
from tests.conftest import SecondProvider, World, client_for
from tests.factories import make_agency, make_agreement, make_project, make_user
from tests.isolation_table import (
    CITY_GIS_TOWN_A_MARKERS,
    OBJECT_ROUTES,
    OWN_ROUTES,
    PUBLIC_ROUTES,
    TOWN_A_MARKERS,
    TownA,
    _names,
    body_of,
    call,
    counts,
    make_town_a,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_a(world: World, settings: Any, tmp_path: Path) -> TownA:
    return make_town_a(world, settings, tmp_path)


def test_every_route_is_in_the_isolation_table() -> None:
    names = set(_names(get_resolver().url_patterns))
    table = set(OBJECT_ROUTES) | set(OWN_ROUTES) | PUBLIC_ROUTES
    assert names - table == set(), "routes without an isolation spec"
    assert table - names == set(), "spec of routes that no longer exist"


def assert_every_object_route_is_404(
    client: Client, town_a: TownA, markers: tuple[bytes, ...] = TOWN_A_MARKERS
) -> None:
    before = counts()
    for name, route in OBJECT_ROUTES.items():
        response = call(client, route, town_a)
        assert response.status_code == 404, name
        assert not any(m in body_of(response) for m in markers), name
    assert counts() == before


def test_town_b_gets_404_for_every_route_of_a_town_a_object(town_a: TownA, as_town_b) -> None:
    assert_every_object_route_is_404(as_town_b, town_a)


@pytest.fixture
def other_provider_admin(world: World) -> Client:
    """The admin of a second provider, which serves only town C."""
    other = make_agency(kind=Agency.Kind.PROVIDER, name="County GIS", slug="county-gis")
    town_c = make_agency(name="Town C", slug="town-c")
    make_project(agreement=make_agreement(provider=other, client=town_c), slug="roads-c")
    return client_for(make_user(username="county_admin", agency=other, role="admin"))


def test_staff_of_another_provider_get_404_for_every_route_of_a_town_a_object(
    town_a: TownA, other_provider_admin: Client
) -> None:
    assert_every_object_route_is_404(other_provider_admin, town_a)


def test_the_other_provider_of_town_a_gets_404_for_every_route_of_city_gis_work_there(
    town_a: TownA, second_provider: SecondProvider
) -> None:
    for user in (second_provider.admin, second_provider.analyst):
        assert_every_object_route_is_404(client_for(user), town_a, CITY_GIS_TOWN_A_MARKERS)


def test_the_other_provider_of_town_a_viewing_as_town_a_gets_404_for_every_route(
    town_a: TownA, second_provider: SecondProvider
) -> None:
    client = client_for(second_provider.analyst)
    assert client.post("/maps/view-as/", {"agency": town_a.world.town_a.pk}).status_code == 302
    before = counts()
    for name, route in OBJECT_ROUTES.items():
        response = call(client, route, town_a)
        # Reads: 404 like a missing object; writes: refused first, viewing as is read-only.
        assert response.status_code == (404 if route.method == "get" else 403), name
        assert not any(m in body_of(response) for m in CITY_GIS_TOWN_A_MARKERS), name
    assert counts() == before


def test_lists_and_own_pages_of_the_other_provider_of_town_a_show_nothing_of_city_gis_work(
    town_a: TownA, second_provider: SecondProvider
) -> None:
    from hours.services import month_close

    month_close(
        agreement=town_a.world.agreement_a, month=timezone.localdate(), by=town_a.world.lead
    )
    own_page = client_for(second_provider.admin).get("/").content
    assert b"Roads for A" in own_page  # its own work for the same town is there
    viewing_as = client_for(second_provider.analyst)
    viewing_as.post("/maps/view-as/", {"agency": town_a.world.town_a.pk})
    for client in (client_for(second_provider.admin), viewing_as):
        for name, route in OWN_ROUTES.items():
            if route.method != "get":
                continue
            response = call(client, route, town_a)
            # Staff pages (timesheet) are 404 while viewing as a client.
            assert response.status_code in (200, 404), name
            assert not any(m in body_of(response) for m in CITY_GIS_TOWN_A_MARKERS), name


def test_lists_and_own_pages_show_other_agencies_nothing_of_town_a(
    town_a: TownA, as_town_b, other_provider_admin: Client
) -> None:
    from hours.services import month_close

    month_close(
        agreement=town_a.world.agreement_a, month=timezone.localdate(), by=town_a.world.lead
    )
    for client in (as_town_b, other_provider_admin):
        for name, route in OWN_ROUTES.items():
            response = call(client, route, town_a)
            assert response.status_code < 500, name
            assert not any(m in body_of(response) for m in TOWN_A_MARKERS), name


def test_anonymous_visitors_are_sent_to_login_or_refused_on_every_route(
    town_a: TownA, client: Client
) -> None:
    before = counts()
    for name, route in {**OBJECT_ROUTES, **OWN_ROUTES}.items():
        response = call(client, route, town_a)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), name
        else:
            assert response.status_code in (401, 403), name
        assert not any(m in body_of(response) for m in TOWN_A_MARKERS), name
    assert counts() == before


def test_town_a_reaches_the_read_routes_of_its_own_published_objects(
    town_a: TownA, as_town_a
) -> None:
    reads = {n: r for n, r in OBJECT_ROUTES.items() if r.method == "get"}
    provider_tools = {"layers:upload", "layers:replace", "layers:api-job", "maps:edit"}
    for name, route in reads.items():
        status = call(as_town_a, route, town_a).status_code
        assert status in ((403, 404) if name in provider_tools else (200, 302)), name


def test_a_client_viewer_sees_no_money_on_any_page(town_a: TownA) -> None:
    from decimal import Decimal

    agreement = town_a.world.agreement_a
    agreement.hourly_rate = Decimal("123.45")
    agreement.save()
    viewer = client_for(town_a.world.viewer_a)
    reads = {**OBJECT_ROUTES, **OWN_ROUTES}
    for name, route in reads.items():
        if route.method != "get":
            continue
        body = body_of(call(viewer, route, town_a))
        assert b"123.45" not in body and b"Budget" not in body and b"per hour" not in body, name
