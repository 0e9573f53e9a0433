"""Tenancy on every hours route: another town gets 404, viewers see no money, anonymous → login."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hours.models import CalendarToken
from tests.conftest import World, client_for
from tests.factories import make_deliverable
from tests.hours_helpers import log

pytestmark = pytest.mark.django_db


def _money_urls(world: World) -> list[str]:
    pk = world.agreement_a.pk
    month = f"{timezone.localdate():%Y-%m}"
    return [
        f"/agreements/{pk}/burndown.json",
        f"/agreements/{pk}/statements/{month}/",
        f"/agreements/{pk}/statements/{month}/statement.csv",
        f"/agreements/{pk}/statements/{month}/statement.pdf",
    ]


def test_town_b_gets_404_for_every_town_a_agreement_route(world: World) -> None:
    entry = log(world.analyst, world.project_a, timezone.localdate(), "1")
    client = client_for(world.manager_b)
    pk = world.agreement_a.pk
    month = f"{timezone.localdate():%Y-%m}"
    for url in [f"/agreements/{pk}/", *_money_urls(world), f"/hours/entries/{entry.pk}/"]:
        assert client.get(url).status_code == 404, url
    for url in (
        f"/agreements/{pk}/months/{month}/close/",
        f"/agreements/{pk}/months/{month}/reopen/",
        f"/board/deliverables/{world.deliverable_a.pk}/move/",
    ):
        assert client.post(url, {"to_status": "accepted", "reason": "x"}).status_code == 404, url


def test_town_a_manager_sees_money_of_its_own_agreement(world: World) -> None:
    client = client_for(world.manager_a)
    for url in _money_urls(world):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/agreements/{world.agreement_a.pk}/")
    assert b"Burn-down" in page.content and b"Zoning map A" in page.content
    assert b"$10,000.00" in page.content  # the budget, as the town's manager reads it
    assert b"Storm map B" not in page.content


def test_a_client_viewer_sees_deliverables_but_no_money(world: World) -> None:
    client = client_for(world.viewer_a)
    page = client.get(f"/agreements/{world.agreement_a.pk}/")
    assert page.status_code == 200 and b"Zoning map A" in page.content
    assert b"Budget" not in page.content and b"10,000.00" not in page.content
    for url in _money_urls(world):
        assert client.get(url).status_code == 403, url


def test_anonymous_users_are_sent_to_login_from_every_page(world: World, client) -> None:  # type: ignore[no-untyped-def]
    pk = world.agreement_a.pk
    for url in [
        f"/agreements/{pk}/",
        *_money_urls(world),
        "/hours/timesheet/",
        "/hours/entries/",
        "/board/",
        "/calendar/",
        "/audit/",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_clients_have_no_timesheet_or_time_entries(world: World) -> None:
    client = client_for(world.manager_a)
    assert client.get("/hours/timesheet/").status_code == 404
    assert client.post("/hours/entries/import/").status_code == 404


def test_the_board_shows_only_the_users_own_agency(world: World) -> None:
    make_deliverable(project=world.project_b, title="Culverts B", due_date=timezone.localdate())
    page = client_for(world.manager_a).get("/board/").content
    assert b"Zoning map A" in page and b"Storm map B" not in page and b"Culverts B" not in page
    assert b"Town B" not in page
    lead_page = client_for(world.lead).get("/board/").content
    assert b"Zoning map A" in lead_page and b"Storm map B" in lead_page


def test_the_ical_feed_answers_only_to_its_token_and_shows_that_users_deliverables(
    world: World, client
) -> None:  # type: ignore[no-untyped-def]
    token_b = CalendarToken.objects.create(user=world.manager_b).token
    token_a = CalendarToken.objects.create(user=world.manager_a).token
    feed_b = client.get(f"/calendar/{token_b}.ics")
    assert feed_b.status_code == 200 and feed_b["Content-Type"].startswith("text/calendar")
    assert b"Storm map B" in feed_b.content and b"Zoning map A" not in feed_b.content
    assert b"Zoning map A" in client.get(f"/calendar/{token_a}.ics").content
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404
    # Rotating the link kills the old one.
    client_for(world.manager_b).post("/calendar/")
    assert client.get(f"/calendar/{token_b}.ics").status_code == 404


def test_calendar_page_shows_the_users_own_feed_link(world: World) -> None:
    page = client_for(world.manager_a).get("/calendar/").content.decode()
    token = CalendarToken.objects.get(user=world.manager_a).token
    assert f"/calendar/{token}.ics" in page


def test_agreement_page_highlights_nothing_of_other_towns_after_due_dates(world: World) -> None:
    world.deliverable_b.due_date = timezone.localdate() - timedelta(days=2)
    world.deliverable_b.save()
    page = client_for(world.manager_a).get("/board/?due=overdue").content
    assert b"Storm map B" not in page


def test_agreement_page_lists_published_maps_but_not_drafts_or_other_towns(world: World) -> None:
    from tests.map_factories import make_map, make_published_map

    make_published_map(project=world.project_a, by=world.analyst, title="Zoning published", n=3)
    make_map(project=world.project_a, by=world.analyst, title="Draft only", n=3)
    make_published_map(project=world.project_b, by=world.analyst, title="Storm published", n=3)
    page = client_for(world.viewer_a).get(f"/agreements/{world.agreement_a.pk}/").content
    assert b"Zoning published" in page
    assert b"Draft only" not in page and b"Storm published" not in page
