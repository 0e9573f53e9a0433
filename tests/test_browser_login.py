"""In a real headless Chromium, the Yountville manager logs in and sees only Yountville's work."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.browser import browser_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_yountville_logs_in_and_sees_only_its_own_projects(live_server) -> None:
    call_command("load_demo", stdout=StringIO())
    with browser_page() as page:
        page.goto(f"{live_server.url}/")
        page.fill("#id_username", "yountville")
        page.fill("#id_password", settings.DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("h1")
        body = page.inner_text("main")
        assert "Zoning map update" in body
        assert "Address points cleanup" in body
        assert "Stormwater" not in body and "Calistoga" not in body and "Evacuation" not in body
        page.click("#projects-h + .table-wrap >> text=Zoning map update")
        assert "Town of Yountville" in page.inner_text("main")


def test_yountville_reviews_the_delivered_map_from_home_and_accepts_it(live_server) -> None:
    call_command("load_demo", stdout=StringIO())
    with browser_page(viewport={"width": 390, "height": 844}) as page:
        page.goto(f"{live_server.url}/")
        page.fill("#id_username", "yountville")
        page.fill("#id_password", settings.DEMO_PASSWORD)
        page.click("button[type=submit]")
        review = page.locator("section[aria-labelledby=awaiting-h]")
        assert review.locator("h2").inner_text() == "Awaiting your review"
        review.locator("a[href^='/deliverables/']", has_text="Zoning map update").click()
        page.click("text=Yountville zoning 2026 v1")
        page.wait_for_selector("#layer-list input[type=checkbox]", state="attached")
        # On a phone the map takes the width: the panel is off-screen until asked for.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.click("#panel-toggle")
        page.click("#map-panel a[href^='/deliverables/']")
        page.click("button:has-text('Accept')")
        assert page.inner_text("[data-testid=status]") == "Accepted"
        page.click("header >> text=Home")
        assert "Nothing is waiting for your review." in review.inner_text()
