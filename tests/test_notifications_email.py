"""Notifications: in-app rows for members, emails sent by the Celery worker, opt-outs respected."""

import time

import pytest
from django.core import mail
from django.db import transaction

from notifications.models import EmailOptOut, Notification
from notifications.services import notify_users
from projects.access import MANAGER, members
from tests.conftest import World, client_for


def _wait_for(predicate, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_emails_are_sent_by_the_worker_after_commit_and_opt_outs_skip_email(
    world: World, celery_worker: str, settings
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    world.manager_a.email = "manager@a.example"
    world.manager_a.save()
    world.viewer_a.email = "viewer@a.example"
    world.viewer_a.save()
    EmailOptOut.objects.create(user=world.viewer_a, kind="map_published")
    with transaction.atomic():
        notify_users(
            users=members(world.town_a.pk),
            kind="map_published",
            subject="Zoning map published",
            body="A new map is ready.",
            url="/maps/1/",
        )
        assert mail.outbox == []  # nothing is sent inside the request's transaction
    assert _wait_for(lambda: len(mail.outbox) >= 1)
    time.sleep(0.3)
    assert [m.to for m in mail.outbox] == [["manager@a.example"]]
    assert "Zoning map published" in mail.outbox[0].subject
    assert set(Notification.objects.values_list("user__username", flat=True)) == {
        "manager_a",
        "viewer_a",
    }
    assert Notification.objects.get(user=world.manager_a).emailed_at is not None


@pytest.mark.django_db
def test_notifying_the_members_with_a_role_reaches_only_those_roles(world: World) -> None:
    notify_users(
        users=members(world.town_a.pk, MANAGER),
        kind="deliverable_delivered",
        subject="Delivered",
        body="",
    )
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["manager_a"]


@pytest.mark.django_db
def test_a_user_sees_only_their_own_notifications_and_can_turn_email_off(world: World) -> None:
    notify_users(users=[world.manager_a], kind="month_closed", subject="A closed", body="")
    notify_users(users=[world.manager_b], kind="month_closed", subject="B closed", body="")
    page = client_for(world.manager_b).get("/notifications/")
    assert b"B closed" in page.content and b"A closed" not in page.content
    client = client_for(world.manager_b)
    client.post("/notifications/preferences/", {"email": ["map_published"]})
    assert "month_closed" in set(
        EmailOptOut.objects.filter(user=world.manager_b).values_list("kind", flat=True)
    )
    assert not EmailOptOut.objects.filter(user=world.manager_b, kind="map_published").exists()
    client.post("/notifications/read/")
    assert Notification.objects.get(user=world.manager_b).read_at is not None
    assert Notification.objects.get(user=world.manager_a).read_at is None


@pytest.mark.django_db  # every request checks its database connection first (portal.health)
def test_anonymous_users_are_sent_to_login_for_notifications(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/notifications/")


@pytest.mark.django_db
def test_the_navigation_shows_the_unread_count(world: World) -> None:
    notify_users(users=[world.manager_a], kind="month_closed", subject="A closed", body="")
    page = client_for(world.manager_a).get("/").content.decode()
    assert 'aria-label="1 unread"' in page
    assert 'aria-label="1 unread"' not in client_for(world.manager_b).get("/").content.decode()
