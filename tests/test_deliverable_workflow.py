"""Deliverables move only along the workflow, and only the right side of the agreement moves them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from projects.models import Deliverable
from projects.services import TransitionNotAllowed, deliverable_transition
from tests.conftest import World

pytestmark = pytest.mark.django_db
S = Deliverable.Status


def advance(world: World, *statuses: str) -> None:
    for status in statuses:
        deliverable_transition(deliverable=world.deliverable_a, to_status=status, by=world.analyst)


def test_the_happy_path_records_every_step_with_who_and_when(world: World) -> None:
    advance(world, S.IN_PROGRESS, S.IN_REVIEW, S.DELIVERED)
    deliverable_transition(
        deliverable=world.deliverable_a, to_status=S.ACCEPTED, by=world.manager_a, comment="Thanks"
    )
    assert world.deliverable_a.status == S.ACCEPTED
    steps = list(
        world.deliverable_a.transitions.values_list("from_status", "to_status", "by__username")
    )
    assert steps == [
        ("planned", "in_progress", "analyst"),
        ("in_progress", "in_review", "analyst"),
        ("in_review", "delivered", "analyst"),
        ("delivered", "accepted", "manager_a"),
    ]
    assert world.deliverable_a.transitions.last().comment == "Thanks"
    assert (
        AuditEntry.objects.filter(action="deliverable.transition", agency=world.town_a).count() == 4
    )


def test_changes_requested_loops_back_to_in_progress(world: World) -> None:
    advance(world, S.IN_PROGRESS, S.IN_REVIEW, S.DELIVERED)
    deliverable_transition(
        deliverable=world.deliverable_a,
        to_status=S.CHANGES_REQUESTED,
        by=world.manager_a,
        comment="Label the parcels",
    )
    advance(world, S.IN_PROGRESS)
    assert world.deliverable_a.status == S.IN_PROGRESS


@pytest.mark.parametrize(
    "illegal", [S.DELIVERED, S.ACCEPTED, S.IN_REVIEW, S.CHANGES_REQUESTED, "bogus"]
)
def test_illegal_moves_from_planned_are_refused(world: World, illegal: str) -> None:
    with pytest.raises(TransitionNotAllowed):
        deliverable_transition(deliverable=world.deliverable_a, to_status=illegal, by=world.analyst)
    assert world.deliverable_a.transitions.count() == 0


def test_an_accepted_deliverable_is_final(world: World) -> None:
    advance(world, S.IN_PROGRESS, S.IN_REVIEW, S.DELIVERED)
    deliverable_transition(
        deliverable=world.deliverable_a, to_status=S.ACCEPTED, by=world.manager_a
    )
    with pytest.raises(TransitionNotAllowed):
        advance(world, S.IN_PROGRESS)


def test_only_the_client_manager_accepts(world: World) -> None:
    advance(world, S.IN_PROGRESS, S.IN_REVIEW, S.DELIVERED)
    for wrong in (world.analyst, world.viewer_a, world.manager_b):
        with pytest.raises(PermissionDenied):
            deliverable_transition(deliverable=world.deliverable_a, to_status=S.ACCEPTED, by=wrong)
    assert Deliverable.objects.get(pk=world.deliverable_a.pk).status == S.DELIVERED


def test_clients_cannot_make_production_moves(world: World) -> None:
    with pytest.raises(PermissionDenied):
        deliverable_transition(
            deliverable=world.deliverable_a, to_status=S.IN_PROGRESS, by=world.manager_a
        )


def test_requesting_changes_needs_a_comment(world: World) -> None:
    advance(world, S.IN_PROGRESS, S.IN_REVIEW, S.DELIVERED)
    with pytest.raises(ValidationError):
        deliverable_transition(
            deliverable=world.deliverable_a, to_status=S.CHANGES_REQUESTED, by=world.manager_a
        )


def test_client_manager_accepts_through_the_page(world: World, as_town_a) -> None:
    advance(world, S.IN_PROGRESS, S.IN_REVIEW, S.DELIVERED)
    page = as_town_a.get(
        reverse("projects:deliverable", args=[world.deliverable_a.pk])
    ).content.decode()
    assert "Accept" in page and "Request changes" in page
    response = as_town_a.post(
        reverse("projects:deliverable-move", args=[world.deliverable_a.pk]),
        {"to_status": "accepted", "comment": "Looks good"},
        follow=True,
    )
    assert "is now accepted" in response.content.decode()
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == S.ACCEPTED


def test_a_viewer_sees_no_buttons_and_cannot_post(world: World) -> None:
    from tests.conftest import client_for

    advance(world, S.IN_PROGRESS, S.IN_REVIEW, S.DELIVERED)
    viewer = client_for(world.viewer_a)
    page = viewer.get(
        reverse("projects:deliverable", args=[world.deliverable_a.pk])
    ).content.decode()
    assert "Request changes" not in page
    response = viewer.post(
        reverse("projects:deliverable-move", args=[world.deliverable_a.pk]),
        {"to_status": "accepted"},
        follow=True,
    )
    assert "Only a manager" in response.content.decode()
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == S.DELIVERED


def test_posting_without_csrf_token_is_refused(world: World) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.manager_a)
    url = reverse("projects:deliverable-move", args=[world.deliverable_a.pk])
    assert strict.post(url, {"to_status": "in_progress"}).status_code == 403
