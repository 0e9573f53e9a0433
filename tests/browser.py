"""Headless Debian Chromium through Playwright (its own browser download is not available here)."""

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def browser_page(viewport: dict[str, int] | None = None) -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport=viewport or {"width": 1280, "height": 900}, accept_downloads=True
            )
            # The OpenStreetMap basemap is on the internet, which a test machine may not reach (or
            # reach only after a DNS timeout): its tiles fail at once, as offline, so no wait for
            # "tiles drawn" depends on the network.
            context.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
            page = context.new_page()
            page.set_default_timeout(15000)
            # What the browser saw, printed only when the test fails (pytest shows captured
            # output of failed tests): a timeout alone does not say which request or script broke.
            seen: list[str] = []
            page.on("console", lambda m: seen.append(f"console {m.type}: {m.text}"))
            page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
            page.on(
                "requestfailed", lambda r: seen.append(f"failed: {r.method} {r.url} {r.failure}")
            )
            page.on(
                "response",
                lambda r: (
                    seen.append(f"HTTP {r.status}: {r.request.method} {r.url}")
                    if r.status >= 400
                    else None
                ),
            )
            try:
                yield page
            except BaseException:
                print(f"browser at {page.url}:", *seen[-60:], sep="\n  ")
                raise
        finally:
            browser.close()


def log_in(page: Page, base: str, username: str) -> None:
    """Sign a persona in through the login form (every persona has the same test password)."""
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")
