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
        page.click("text=Zoning map update >> nth=0")
        assert "Town of Yountville" in page.inner_text("main")
