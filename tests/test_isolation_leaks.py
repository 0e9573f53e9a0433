"""Leaks beyond the status code: redirects, query-parameter ids, CSRF, session reuse, bounds, writes.

The route-by-route 404 table is tests/test_isolation_routes.py; these are the paths around it.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hours.models import MonthClose
from maps.models import MapLayer, MapVersion, ShareLink
from notifications.models import Notification
from projects.models import Agency
from tests.conftest import World, client_for
from tests.factories import make_agency, make_agreement
from tests.isolation_table import (
    CLIENT_WRITES,
    OBJECT_ROUTES,
    TownA,
    _tile,
    call,
    counts,
    make_town_a,
)
from tests.map_factories import add_parcels, make_layer_version, make_published_map, tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_a(world: World, settings: Any, tmp_path: Path) -> TownA:
    return make_town_a(world, settings, tmp_path)


WRITES = {n: r for n, r in OBJECT_ROUTES.items() if r.method != "get"}
PROVIDER_WRITES = {n: r for n, r in WRITES.items() if n not in CLIENT_WRITES}


@pytest.mark.parametrize("persona", ["viewer_a", "manager_a"])
def test_town_a_clients_change_nothing_through_any_provider_write_route(
    town_a: TownA, persona: str
) -> None:
    client = client_for(getattr(town_a.world, persona))
    before = counts()
    for name, route in PROVIDER_WRITES.items():
        assert call(client, route, town_a).status_code in (302, 400, 403, 404), name
    assert counts() == before


def test_a_client_viewer_cannot_accept_a_delivered_deliverable(world: World) -> None:
    world.deliverable_a.status = "delivered"
    world.deliverable_a.save()
    viewer = client_for(world.viewer_a)
    for url in (
        f"/deliverables/{world.deliverable_a.pk}/move/",
        f"/board/deliverables/{world.deliverable_a.pk}/move/",
    ):
        viewer.post(url, {"to_status": "accepted"})
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == "delivered"


def test_every_write_route_refuses_a_post_without_the_csrf_token(town_a: TownA) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(town_a.world.analyst)
    before = counts()
    for name, route in WRITES.items():
        assert call(strict, route, town_a).status_code == 403, name
    for url in ("/maps/view-as/", "/hours/entries/import/", "/notifications/read/", "/calendar/"):
        assert strict.post(url, {"agency": town_a.world.town_a.pk}).status_code == 403, url
    assert counts() == before


def test_board_moves_never_redirect_off_site(world: World, as_analyst) -> None:
    url = f"/board/deliverables/{world.deliverable_a.pk}/move/"
    for to_status in ("in_progress", "accepted"):  # a move that succeeds, then one refused
        response = as_analyst.post(url, {"to_status": to_status, "next": "https://evil.example/"})
        assert response.status_code == 302, to_status
        assert response["Location"].startswith("/"), to_status
        assert not response["Location"].startswith("//"), to_status


def test_login_never_redirects_off_site(world: World, client: Client) -> None:
    response = client.post(
        "/accounts/login/?next=https://evil.example/",
        {"username": "manager_a", "password": "pw-for-tests-1"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_tile_of_town_a_layer_with_another_layers_version_is_a_404(
    world: World, town_a: TownA, as_analyst
) -> None:
    _, other = make_published_map(project=world.project_b, by=world.analyst, n=3)
    foreign = other.definition["layers"][0]["version_id"]
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    url = reverse("layers:tile", args=[town_a.layer_id, z, x, y])
    assert as_analyst.get(url + f"?v={foreign}").status_code == 404
    tilejson = reverse("layers:tilejson", args=[town_a.layer_id]) + f"?v={foreign}"
    assert client_for(world.manager_a).get(tilejson).status_code == 404


def test_a_session_cookie_replayed_after_logout_gets_no_tile(town_a: TownA) -> None:
    browser = client_for(town_a.world.manager_a)
    assert browser.get(_tile(town_a)).status_code == 200  # now remembered for this session
    cookie = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    browser.post("/accounts/logout/")
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
    assert replay.get(_tile(town_a)).status_code == 401


def test_clients_tilejson_bounds_and_tiles_come_from_the_published_version_only(
    world: World, town_a: TownA
) -> None:
    layer_id = town_a.layer_id
    from layers.models import Layer

    unpublished = make_layer_version(layer=Layer.objects.get(pk=layer_id))
    add_parcels(unpublished, n=3, lon=-100.0, lat=45.0)  # far away: it would move the bounds
    town = client_for(world.manager_a)
    body = town.get(reverse("layers:tilejson", args=[layer_id])).json()
    assert body["version"] == str(town_a.layer_version_id)
    assert body["bounds"][0] > -123 and body["bounds"][2] < -122
    assert (
        town.get(reverse("layers:tilejson", args=[layer_id]) + f"?v={unpublished.pk}").status_code
        == 404
    )
    z, x, y = tile_of(-100.0001, 45.0001, 15)
    tile = reverse("layers:tile", args=[layer_id, z, x, y]) + f"?v={unpublished.pk}"
    assert town.get(tile).status_code == 404
    assert town.get(f"/layers/{layer_id}/features/?version={unpublished.number}").status_code == 404


def test_the_composer_refuses_a_layer_or_map_layer_of_another_project(
    world: World, town_a: TownA, as_analyst
) -> None:
    other_map, _ = make_published_map(project=world.project_b, by=world.analyst, n=3, title="Storm")
    other_ml = MapLayer.objects.get(map=other_map)
    api = f"/api/maps/{town_a.version.map_id}"
    added = as_analyst.post(
        f"{api}/layers/",
        json.dumps({"layer_id": other_ml.layer_id}),
        content_type="application/json",
    )
    assert added.status_code == 400 and b"Storm" not in added.content
    order = as_analyst.post(
        f"{api}/order/",
        json.dumps({"order": [town_a.map_layer.pk, other_ml.pk]}),
        content_type="application/json",
    )
    assert order.status_code == 400
    assert other_ml.pk not in MapLayer.objects.filter(map_id=town_a.version.map_id).values_list(
        "pk", flat=True
    )
    assert MapLayer.objects.filter(map_id=town_a.version.map_id).count() == 2  # parcels, DEM


def test_a_version_cannot_be_attached_to_another_projects_deliverable(
    world: World, town_a: TownA, as_analyst
) -> None:
    response = as_analyst.post(
        reverse("maps:attach", args=[town_a.version.pk]),
        {"deliverable": world.deliverable_b.pk},
        follow=True,
    )
    assert b"Storm map B" not in response.content
    world.deliverable_b.refresh_from_db()
    assert world.deliverable_b.status == "planned"
    assert not MapVersion.objects.filter(deliverable=world.deliverable_b).exists()


def test_town_a_filtering_the_board_by_town_b_sees_nothing_of_it(world: World) -> None:
    town = client_for(world.manager_a)
    page = town.get(f"/board/?client={world.town_b.pk}&project={world.project_b.slug}")
    assert b"Storm" not in page.content and b"Town B" not in page.content
    assert b"Town B" not in town.get("/board/").content


def test_staff_cannot_view_as_a_town_served_only_by_another_provider(world: World) -> None:
    county = make_agency(kind=Agency.Kind.PROVIDER, name="County GIS", slug="county-gis")
    town_c = make_agency(name="Town C", slug="town-c")
    make_agreement(provider=county, client=town_c)
    analyst = client_for(world.analyst)
    assert analyst.post("/maps/view-as/", {"agency": town_c.pk}).status_code == 404
    assert b"Town C" not in analyst.get("/maps/").content
    # Even a session that somehow holds it is dropped, not honoured.
    session = analyst.session
    session["view_as_agency"] = town_c.pk
    session.save()
    assert b"Viewing as" not in analyst.get("/maps/").content


def test_staff_who_also_belong_to_an_unserved_town_cannot_view_as_it(world: World) -> None:
    from audit.models import AuditEntry
    from projects.models import Membership

    town_c = make_agency(name="Town C", slug="town-c")
    Membership.objects.create(user=world.analyst, agency=town_c, role="viewer")
    analyst = client_for(world.analyst)
    assert analyst.post("/maps/view-as/", {"agency": town_c.pk}).status_code == 404
    assert not AuditEntry.objects.filter(action="maps.view_as").exists()


def test_a_view_as_session_does_not_outlive_the_staff_membership(world: World, as_analyst) -> None:
    as_analyst.post("/maps/view-as/", {"agency": world.town_a.pk})
    world.analyst.memberships.all().delete()
    page = as_analyst.get("/")
    assert b"Viewing as" not in page.content and b"Zoning A" not in page.content


def test_marking_notifications_read_touches_only_ones_own(world: World) -> None:
    theirs = Notification.objects.create(user=world.manager_b, kind="map_published", subject="B")
    client_for(world.manager_a).post("/notifications/read/", {"id": [str(theirs.pk)]})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_share_links_are_not_listed_or_revocable_by_the_client(town_a: TownA) -> None:
    manager = client_for(town_a.world.manager_a)
    assert (
        town_a.link.token.encode()
        not in manager.get(reverse("maps:version", args=[town_a.version.pk])).content
    )
    manager.post(reverse("maps:share-revoke", args=[town_a.link.pk]))
    assert ShareLink.objects.get(pk=town_a.link.pk).revoked_at is None


def test_a_client_manager_cannot_close_or_reopen_a_month(world: World) -> None:
    from hours.services import month_close

    month = f"{timezone.localdate():%Y-%m}"
    manager = client_for(world.manager_a)
    manager.post(f"/agreements/{world.agreement_a.pk}/months/{month}/close/")
    assert not MonthClose.objects.exists()
    month_close(agreement=world.agreement_a, month=timezone.localdate(), by=world.lead)
    manager.post(f"/agreements/{world.agreement_a.pk}/months/{month}/reopen/", {"reason": "x"})
    assert MonthClose.objects.active().count() == 1


def test_client_managers_never_see_staff_private_notes(world: World) -> None:
    from tests.hours_helpers import log

    log(world.analyst, world.project_a, timezone.localdate(), "2", private_note="Internal only")
    manager = client_for(world.manager_a)
    month = f"{timezone.localdate():%Y-%m}"
    base = f"/agreements/{world.agreement_a.pk}"
    for url in (
        f"{base}/",
        f"{base}/statements/{month}/",
        f"{base}/statements/{month}/statement.csv",
    ):
        response = manager.get(url)
        assert response.status_code == 200 and b"Internal only" not in response.content, url
