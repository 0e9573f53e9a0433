"""Pages read as the people using them expect: the client's home, overdue work, kept input, 404s."""

from datetime import date, timedelta
from typing import Any

from django.core import mail
from django.test import Client

from layers.models import ImportJob
from layers.selectors import recent_jobs
from notifications.services import notification_email_send, notify_users
from projects.models import Deliverable
from tests.conftest import client_for
from tests.factories import make_deliverable


def test_the_client_home_puts_what_awaits_the_managers_review_first(world: Any) -> None:
    Deliverable.objects.filter(pk=world.deliverable_a.pk).update(status="delivered")
    page = client_for(world.manager_a).get("/").content.decode()
    assert "Awaiting your review" in page and "Delivered, awaiting the client" not in page
    assert page.index("Awaiting your review") < page.index("Zoning map A") < page.index("Projects")
    viewer_page = client_for(world.viewer_a).get("/").content.decode()
    assert "Awaiting your agency's review" in viewer_page


def test_an_open_deliverable_past_its_due_date_is_marked_overdue_on_home(world: Any) -> None:
    make_deliverable(
        project=world.project_a, title="Late QA", due_date=date.today() - timedelta(days=3)
    )
    page = client_for(world.analyst).get("/").content.decode()
    assert 'class="is-overdue"' in page and "(overdue)</span>" in page
    row = page[page.index("Late QA") :]
    assert "(overdue)" in row[: row.index("</tr>")]


def test_a_failed_import_fixed_by_a_later_import_of_the_same_file_no_longer_needs_attention(
    world: Any,
) -> None:
    def job(name: str, status: str) -> ImportJob:
        return ImportJob.objects.create(
            project=world.project_a,
            upload=f"imports/{name}",
            original_filename=name,
            status=status,
            created_by=world.analyst,
        )

    fixed = job("parcels.zip", "failed")
    job("parcels.zip", "succeeded")
    still_broken = job("roads.zip", "failed")
    assert list(recent_jobs(world.analyst, world.project_a)) == [still_broken]
    assert fixed not in recent_jobs(world.analyst, world.project_a)


def test_a_wrong_password_keeps_the_username_typed(world: Any) -> None:
    page = Client().post("/accounts/login/", {"username": "analyst", "password": "wrong"})
    assert 'name="username" value="analyst"' in page.content.decode()


def test_an_unknown_page_answers_the_portal_404_page_with_a_way_home(world: Any) -> None:
    response = client_for(world.manager_a).get("/projects/no-such-project/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body and 'href="/"' in body


def test_a_notification_email_links_to_the_portal_by_its_full_address(
    world: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://gis.example.org"
    world.manager_a.email = "manager@a.example"
    world.manager_a.save()
    (note,) = notify_users(
        users=[world.manager_a], kind="map_published", subject="New map", body="v1", url="/maps/"
    )
    assert notification_email_send(notification_ids=[note.pk]) == 1
    assert "https://gis.example.org/maps/" in mail.outbox[0].body
