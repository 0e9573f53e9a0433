"""The lead dashboard: columns by status, moves through the workflow, filters, highlights, notices."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from tests.conftest import World, client_for
from tests.factories import make_deliverable
from tests.hours_helpers import log

pytestmark = pytest.mark.django_db


def test_a_json_move_follows_the_workflow_and_refuses_illegal_moves(world: World) -> None:
    lead = client_for(world.lead)
    url = f"/board/deliverables/{world.deliverable_a.pk}/move/"
    ok = lead.post(url, {"to_status": "in_progress"}, HTTP_ACCEPT="application/json")
    assert ok.json() == {"ok": True, "status": "in_progress", "label": "In progress"}
    bad = lead.post(url, {"to_status": "accepted"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and "cannot move" in bad.json()["error"]


def test_the_no_js_form_moves_a_card_and_returns_to_the_board(world: World) -> None:
    response = client_for(world.analyst).post(
        f"/board/deliverables/{world.deliverable_a.pk}/move/",
        {"to_status": "in_progress", "next": "/board/?client=1"},
    )
    assert response.status_code == 302 and response["Location"] == "/board/?client=1"
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == "in_progress"


def test_delivered_notifies_client_managers_and_accepted_notifies_leads_and_assignee(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    d = world.deliverable_a
    d.assignee = world.analyst
    d.save()
    analyst = client_for(world.analyst)
    with django_capture_on_commit_callbacks(execute=True):
        for status in ("in_progress", "in_review", "delivered"):
            analyst.post(f"/board/deliverables/{d.pk}/move/", {"to_status": status})
    assert Notification.objects.get(kind="deliverable_delivered").user == world.manager_a
    manager = client_for(world.manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(
            f"/board/deliverables/{d.pk}/move/",
            {"to_status": "changes_requested", "comment": "APNs"},
        )
    notified = set(
        Notification.objects.filter(kind="changes_requested").values_list(
            "user__username", flat=True
        )
    )
    assert notified == {"lead", "analyst"}
    assert "APNs" in Notification.objects.filter(kind="changes_requested").first().body


def test_filters_and_highlights(world: World) -> None:
    today = timezone.localdate()
    make_deliverable(project=world.project_a, title="Late one", due_date=today - timedelta(days=3))
    make_deliverable(project=world.project_a, title="Far one", due_date=today + timedelta(days=60))
    lead = client_for(world.lead)
    overdue = lead.get("/board/?due=overdue").content.decode()
    assert "Late one" in overdue and "Far one" not in overdue and "is-overdue" in overdue
    by_client = lead.get(f"/board/?client={world.town_b.pk}").content.decode()
    assert "Storm map B" in by_client and "Zoning map A" not in by_client
    by_project = lead.get("/board/?project=zoning-a&assignee=").content.decode()
    assert "Zoning map A" in by_project and "Storm map B" not in by_project


def test_per_client_summary_counts_hours_this_month_and_open_work(world: World) -> None:
    log(world.analyst, world.project_a, timezone.localdate().replace(day=1), "2.5")
    page = client_for(world.lead).get("/board/").content.decode()
    assert "Hours this month" in page and "2.50" in page
    assert "Hours this month" not in client_for(world.manager_a).get("/board/").content.decode()
