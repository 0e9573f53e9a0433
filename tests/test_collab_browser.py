"""In headless Chromium, the four collaboration journeys: a town files a map request and the lead
accepts it onto the board; a client pins a comment that the analyst answers and resolves; a client
manager downloads the value report PDF and it agrees with the statement; a deliverable package
downloads and its manifest verifies. Waits are for conditions, never fixed times."""

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page
from pypdf import PdfReader

from collaboration.models import CommentThread, MapRequest
from hours.services import month_close
from projects.services import deliverable_transition
from tests.browser import browser_page
from tests.collab_helpers import delivered_with_map, verify_manifest
from tests.conftest import World
from tests.hours_helpers import log

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")


def click_lonlat(page: Page, lon: float, lat: float) -> None:
    point = page.evaluate(
        "([lat, lon]) => { const p = window.sharedgisMap.latLngToContainerPoint([lat, lon]);"
        " const r = window.sharedgisMap.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }",
        [lat, lon],
    )
    page.mouse.click(point[0], point[1])


def pdf_text(path: str) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(path).read_bytes())).pages)


def test_a_town_files_a_request_the_lead_accepts_it_and_it_is_on_the_board(
    live_server, world: World
) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    with browser_page() as page:
        log_in(page, base, "manager_a")
        page.click("nav >> text=Requests")
        page.click("text=New map request")
        page.fill("#id_title", "Notice area for 12 Main St")
        page.fill("#id_need", "500-foot notice map for the council packet.")
        page.select_option("#id_priority", "high")
        page.locator("#area-map").scroll_into_view_if_needed()
        box = page.locator("#area-map").bounding_box()
        assert box is not None
        for dx, dy in ((0.3, 0.3), (0.7, 0.3), (0.5, 0.7)):
            page.mouse.click(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
        page.click("#area-finish")
        page.wait_for_function(
            "() => document.getElementById('id_area_geojson').value.includes('Polygon')"
        )
        assert page.is_checked("input[name=area_source][value=drawn]")
        page.set_input_files(
            "#id_attachments",
            files=[{"name": "wrong-zone.png", "mimeType": "image/png", "buffer": b"\x89PNG"}],
        )
        page.click("text=Send request")
        page.wait_for_selector("[data-testid=request-status]")
        assert page.inner_text("[data-testid=request-status]") == "Submitted"
        assert "wrong-zone.png" in page.inner_text("main")

    with browser_page() as page:
        log_in(page, base, "lead")
        page.goto(f"{base}/requests/")
        page.click("text=Notice area for 12 Main St")
        page.fill("#id_est_hours", "8")
        page.click("text=Save estimate")
        page.wait_for_selector("[data-testid=estimate]")
        page.select_option("#id_project", str(world.project_a.pk))
        page.click("text=Accept and create the deliverable")
        page.wait_for_selector("[data-testid=request-deliverable]")
        page.goto(f"{base}/board/")
        card = page.locator(
            ".column[data-status=planned] .cardlet", has_text="Notice area for 12 Main St"
        )
        card.wait_for()

    with browser_page() as page:
        log_in(page, base, "manager_a")
        page.goto(f"{base}/requests/?status=all")
        page.click("text=Notice area for 12 Main St")
        steps = page.inner_text("[data-testid=request-steps]")
        assert "Filed" in steps and "Estimate" in steps and "Accepted" in steps
        assert page.inner_text("[data-testid=request-status]") == "Accepted"
    request = MapRequest.objects.get()
    assert request.area is not None and request.area.num_coords == 4
    assert request.deliverable is not None and request.deliverable.project == world.project_a


def test_a_client_pins_a_comment_and_the_analyst_replies_and_resolves_it(
    live_server, world: World
) -> None:  # type: ignore[no-untyped-def]
    version = delivered_with_map(world)
    base = live_server.url
    with browser_page() as page:
        log_in(page, base, "manager_a")
        page.goto(f"{base}/maps/versions/{version.pk}/")
        page.wait_for_selector("#comments[data-ready='1']")
        page.click("#comment-pin")
        click_lonlat(page, -122.3585, 38.4006)
        page.fill("#comment-text", "Parcel 12 should be C, not R1")
        page.click("#comment-save")
        page.wait_for_selector("#comments-list li.comment[data-status=open]")
        assert "(1 open)" in page.inner_text("#comments-count")
        assert (
            page.evaluate(
                "() => { let n = 0; window.sharedgisMap.eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n; }"
            )
            == 1
        )

    with browser_page() as page:
        log_in(page, base, "analyst")
        page.goto(f"{base}/maps/versions/{version.pk}/")
        item = page.locator("#comments-list li.comment", has_text="Parcel 12 should be C")
        item.wait_for()
        item.locator("input[name=text]").fill("Good catch, fixing it.")
        item.locator("button:text('Reply')").click()
        page.locator("#comments-list .reply", has_text="Good catch").wait_for()
        item = page.locator("#comments-list li.comment", has_text="Parcel 12 should be C")
        item.locator("select[name=fixed_in]").select_option("1")
        item.locator("button:text('Resolve')").click()
        page.wait_for_selector("#comments-list li.empty")  # the open filter hides it now
        page.select_option("#comments-filter", "all")
        page.wait_for_selector("#comments-list li.comment[data-status=resolved]")
        assert "resolved in v1" in page.inner_text("#comments-list")
    thread = CommentThread.objects.get()
    assert thread.status == "resolved" and thread.resolved_in == version
    assert [c.text for c in thread.comments.all()] == [
        "Parcel 12 should be C, not R1",
        "Good catch, fixing it.",
    ]


def test_a_client_manager_downloads_the_value_report_pdf_and_it_matches_the_statement(
    live_server, world: World
) -> None:  # type: ignore[no-untyped-def]
    first = timezone.localdate().replace(day=1)
    prev = (first - timedelta(days=1)).replace(day=1)
    log(
        world.analyst,
        world.project_a,
        prev + timedelta(days=2),
        "3.5",
        deliverable=world.deliverable_a,
    )
    log(
        world.analyst,
        world.project_a,
        prev + timedelta(days=9),
        "4.25",
        deliverable=world.deliverable_a,
    )
    close = month_close(agreement=world.agreement_a, month=prev, by=world.lead)
    ym = f"{prev:%Y-%m}"
    base = live_server.url
    with browser_page() as page:
        log_in(page, base, "manager_a")
        page.goto(f"{base}/agreements/{world.agreement_a.pk}/")
        page.click("text=Value report")
        page.select_option("select[name=period]", "month")
        page.fill("input[name=month]", ym)
        page.click("text=Show")
        page.wait_for_selector("[data-testid=value-hours]")
        shown_hours = page.inner_text("[data-testid=value-hours]")
        shown_cost = page.inner_text("[data-testid=value-cost]")
        with page.expect_download() as value_pdf:
            page.click("a:text('PDF')")
        value_text = pdf_text(value_pdf.value.path())
        page.click(f"text={close.number}")
        page.wait_for_selector("[data-testid=total-hours]")
        statement_hours = page.inner_text("[data-testid=total-hours]")
        with page.expect_download() as statement_pdf:
            page.click(f"a[href$='/statements/{ym}/statement.pdf']")
        statement_text = pdf_text(statement_pdf.value.path())
    assert shown_hours == statement_hours == "7.75" and shown_cost == "$775.00"
    for text in (close.number, "7.75", "775.00"):
        assert text in value_text and text in statement_text


@pytest.mark.worker
def test_a_deliverable_package_downloads_and_its_manifest_verifies(
    live_server, world: World, celery_worker: str, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    delivered_with_map(world)
    deliverable_transition(
        deliverable=world.deliverable_a, to_status="accepted", by=world.manager_a
    )
    base = live_server.url
    with browser_page() as page:
        log_in(page, base, "manager_a")
        page.goto(f"{base}/deliverables/{world.deliverable_a.pk}/")
        page.click("text=Deliverable package")
        page.click("text=Build the package")
        page.wait_for_selector("#package-download", timeout=120_000)
        sha = page.inner_text("[data-testid=package-sha]")
        with page.expect_download() as download:
            page.click("#package-download")
        body = Path(download.value.path()).read_bytes()
    import hashlib

    assert hashlib.sha256(body).hexdigest() == sha
    names = verify_manifest(zipfile.ZipFile(io.BytesIO(body)))
    assert any(n.endswith(".gpkg") for n in names) and "acceptance.json" in names
