"""In real Chromium: a lead logs a week of time and closes the month; the client manager downloads
the PDF statement and it says what was logged."""

from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from hours.models import TimeEntry
from hours.selectors import week_bounds
from tests.browser import browser_page
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
GRIP = {"x": 3, "y": 3}  # the card's own padding, not its link or form


def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")


def test_lead_logs_a_week_and_client_manager_downloads_the_pdf_statement(
    live_server, world: World
) -> None:  # type: ignore[no-untyped-def]
    first_of_month = timezone.localdate().replace(day=1)
    monday, _ = week_bounds(first_of_month - timedelta(days=20))  # a full week last month
    ym = f"{monday:%Y-%m}"
    base = live_server.url
    with browser_page() as page:
        _login(page, base, "lead")
        page.click("nav >> text=Timesheet")
        page.goto(f"{base}/hours/timesheet/?week={monday.isoformat()}")
        page.select_option("select[name=r0-project]", "zoning-a")
        page.select_option("select[name=r0-deliverable]", str(world.deliverable_a.pk))
        page.fill("input[name=r0-note]", "Zoning edits")
        for day, hours in enumerate(["2", "1.5", "3", "0.25", "1"]):
            page.fill(f"input[name=r0-d{day}]", hours)
        page.click("text=Save week")
        assert "saved: 7.75 hours" in page.inner_text(".messages")
        page.goto(f"{base}/agreements/{world.agreement_a.pk}/statements/{ym}/")
        assert page.inner_text("[data-testid=total-hours]") == "7.75"
        page.click(f"text=Close {monday:%B %Y}")
        assert "closed; statement" in page.inner_text(".messages")

    with browser_page() as page:
        _login(page, base, "manager_a")
        page.goto(f"{base}/agreements/{world.agreement_a.pk}/")
        assert "Timesheet" not in page.inner_text("nav")
        assert page.inner_text("[data-testid=used-hours]") == "7.75"
        with page.expect_download() as info:
            page.click(f"a[href$='/statements/{ym}/statement.pdf']")
        pdf = Path(info.value.path()).read_bytes()
    # ORM calls stay outside the Playwright blocks: inside them they would open stray connections.
    assert TimeEntry.objects.filter(user=world.lead).count() == 5
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
    assert "City GIS" in text and "Town A" in text
    assert f"TOWN-A-{world.agreement_a.pk:04d}-{monday:%Y%m}" in text
    assert "7.75" in text and "775.00" in text and "Zoning map A" in text


def test_lead_drags_a_card_to_an_allowed_column_on_the_board(live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    card = f".cardlet[data-id='{world.deliverable_a.pk}']"
    with browser_page() as page:
        _login(page, live_server.url, "lead")
        page.goto(f"{live_server.url}/board/")
        # Accepted is not a legal move from Planned: dropping there does nothing.
        board_url = page.url
        page.drag_and_drop(card, ".column[data-status=accepted]", source_position=GRIP)
        # The drop handler runs within the drag's events: nothing moved, nothing was posted.
        assert page.locator(f".column[data-status=planned] {card}").count() == 1
        assert page.url == board_url
        with page.expect_navigation():
            page.drag_and_drop(card, ".column[data-status=in_progress]", source_position=GRIP)
        page.wait_for_selector(f".column[data-status=in_progress] {card}")
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == "in_progress"
