"""In headless Chromium: an analyst composes and publishes a map; the client opens, toggles,
identifies and exports it; the other town gets a 404."""

import re

import pytest
from playwright.sync_api import APIResponse, Page, Route

from tests.browser import browser_page, log_in
from tests.map_factories import make_parcel_layer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for_tiles(page: Page) -> None:
    """Tiles are drawn and no tile layer is still loading (e.g. after a zoom)."""
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-tile-loaded canvas, canvas.leaflet-tile-loaded').length > 0"
        " && (() => { let busy = false; window.sharedgisMap.eachLayer(l => {"
        " if (l.isLoading && l.isLoading()) busy = true; }); return !busy; })()"
    )


def wait_until_saved(page: Page) -> None:
    page.wait_for_function(
        "() => document.getElementById('composer-status').dataset.pending === '0'"
    )


def click_lonlat(page: Page, lon: float, lat: float) -> None:
    point = page.evaluate(
        "([lat, lon]) => { const p = window.sharedgisMap.latLngToContainerPoint([lat, lon]);"
        " const r = window.sharedgisMap.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }",
        [lat, lon],
    )
    page.mouse.click(point[0], point[1])


def test_analyst_publishes_and_the_client_uses_the_map(world, live_server) -> None:
    make_parcel_layer(project=world.project_a, n=40, name="Parcels")
    base = live_server.url
    with browser_page() as page:
        log_in(page, base, "analyst")
        page.goto(f"{base}/projects/{world.project_a.slug}/")
        page.fill("#id_map_title", "Zoning 2026")
        page.click("text=Create map")
        page.wait_for_selector("#add-layer")
        page.click("#add-layer button[type=submit]")
        layer_box = page.locator("fieldset.composer-layer")
        layer_box.wait_for()
        wait_for_tiles(page)
        # Restyle by zone: the preview and legend update without a page reload.
        layer_box.locator("select[name=type]").select_option("categorized")
        page.wait_for_function("() => document.querySelectorAll('fieldset .legend li').length == 5")
        page.locator("fieldset.composer-layer select[name=popup]").select_option(["name", "zone"])
        alias = page.locator("fieldset.composer-layer input[data-attr=zone]")
        alias.fill("Zoning")
        alias.press("Tab")
        page.wait_for_function(
            "() => window.sharedgisMap && document.querySelector('input[data-attr=zone]')"
            " && document.querySelector('input[data-attr=zone]').value === 'Zoning'"
        )
        wait_until_saved(page)
        page.fill("#id_notes", "First release for the council")
        page.click("text=Publish to Town A")
        page.wait_for_selector(".map-title")
        assert "v1" in page.inner_text(".map-title")

    with browser_page() as page:
        log_in(page, base, "manager_a")
        page.goto(f"{base}/maps/")
        page.click("a:text('Zoning 2026') >> nth=0")
        page.wait_for_selector("#layer-list input[type=checkbox]")
        wait_for_tiles(page)
        legend = page.inner_text("#layer-list")
        assert "R1" in legend and "Other" in legend
        version_url = page.url.split("#")[0]
        # Toggle the layer off and on again.
        toggle = page.locator("#layer-list input[type=checkbox]")
        toggle.uncheck()
        page.wait_for_function(
            "() => document.querySelectorAll('.leaflet-tile-loaded canvas').length === 0"
        )
        assert "/" in page.url.split("#")[1]  # the permalink records the hidden layer
        toggle.check()
        wait_for_tiles(page)
        # Identify parcel 0 (its centre).
        page.evaluate("() => window.sharedgisMap.setView([38.40015, -122.35985], 17)")
        page.wait_for_function("() => window.sharedgisMap.getZoom() === 17")
        wait_for_tiles(page)
        click_lonlat(page, -122.35985, 38.40015)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert "Zoning" in popup.inner_text() and "R1" in popup.inner_text()
        assert "Parcel 0" in popup.inner_text()
        # Search by attribute value and zoom to the feature.
        page.fill("#search-q", "Parcel 7")
        page.click("#search-form button")
        page.locator("#search-results button").first.click()
        # Export the current view as a PNG, rendered by the server.
        with page.expect_download() as download_info:
            page.click("a[data-export=png]")
        path = download_info.value.path()
        with open(path, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"

    with browser_page() as page:
        log_in(page, base, "manager_b")
        response = page.goto(version_url)
        assert response is not None and response.status == 404
        assert "Zoning" not in page.content()


def test_the_composer_applies_edits_in_order_when_an_earlier_answer_is_slow(
    world, live_server
) -> None:
    """The page's first GET of the draft is answered late (a slow network, a busy server): an
    "Add layer" made meanwhile still shows in the preview and the layer list, not the stale draft."""
    from maps.services import map_create

    make_parcel_layer(project=world.project_a, n=10, name="Parcels")
    draft = map_create(project=world.project_a, title="Draft", by=world.analyst, basemap="none")
    held: list[tuple[Route, APIResponse]] = []

    def hold_first_get(route: Route) -> None:
        if route.request.method == "GET" and not held:
            held.append((route, route.fetch()))  # the server's answer, delivered below
        else:
            route.continue_()

    with browser_page() as page:
        log_in(page, live_server.url, "analyst")
        page.route(re.compile(rf"/api/maps/{draft.pk}/$"), hold_first_get)
        page.goto(f"{live_server.url}/maps/{draft.pk}/edit/")
        page.wait_for_function("() => window.sharedgisMap")
        page.click("#add-layer button[type=submit]")
        page.wait_for_timeout(500)  # time for a POST to overtake the held GET, were it sent
        assert len(held) == 1
        route, answer = held[0]
        route.fulfill(response=answer)
        layer_box = page.locator("fieldset.composer-layer")
        layer_box.wait_for()
        wait_until_saved(page)
        wait_for_tiles(page)
        assert layer_box.count() == 1 and "Parcels" in layer_box.inner_text()


def test_the_viewer_works_on_a_phone(world, live_server) -> None:
    from maps.services import map_publish
    from tests.map_factories import make_map

    new = make_map(project=world.project_a, by=world.analyst, n=10)
    version = map_publish(map=new, by=world.analyst, notes="")
    with browser_page(viewport={"width": 390, "height": 800}) as page:
        log_in(page, live_server.url, "viewer_a")
        page.goto(f"{live_server.url}/maps/versions/{version.pk}/")
        wait_for_tiles(page)
        # On a phone the panel starts off-screen and the toggle brings it in.
        assert page.evaluate(
            "() => document.getElementById('map-panel').getBoundingClientRect().left >= 389"
        )
        page.click("#panel-toggle")
        page.wait_for_function(
            "() => document.getElementById('map-panel').getBoundingClientRect().left < 390"
        )
        assert page.is_visible("#layer-list input[type=checkbox]")
