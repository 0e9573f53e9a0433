"""In headless Chromium: the client opens a published map with an elevation raster under the
parcels, sees it drawn with its legend, changes its opacity and clicks a pixel to read its value."""

from pathlib import Path
from typing import Any

import pytest

from maps.models import MapLayer
from maps.services import map_create, map_layer_add, map_layer_update, map_publish
from tests import raster_data as rd
from tests.browser import browser_page
from tests.map_factories import make_parcel_layer
from tests.raster_helpers import import_raster, make_dem_layer
from tests.test_maps_browser import log_in, wait_until_saved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_client_sees_the_hillshade_under_the_parcels_and_identifies_a_pixel(
    world: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    dem = import_raster(
        rd.dem(tmp_path / "dem.tif"), project=world.project_a, by=world.analyst, name="Terrain"
    ).layer
    parcels = make_parcel_layer(project=world.project_a, n=10, lon=-122.3600, lat=38.4000)
    new = map_create(project=world.project_a, title="Drainage", by=world.analyst, basemap="none")
    map_layer_add(map=new, layer=parcels, by=world.analyst)
    added = map_layer_add(map=new, layer=dem, by=world.analyst)
    map_layer_update(
        map_layer=MapLayer.objects.get(pk=added.pk),
        by=world.analyst,
        style={"type": "raster_hillshade", "relief": "terrain"},
    )
    version = map_publish(map=new, by=world.analyst, notes="with terrain")
    with browser_page() as page:
        log_in(page, live_server.url, world.manager_a.username)
        page.goto(f"{live_server.url}/maps/versions/{version.pk}/")
        page.wait_for_function(
            "() => document.querySelectorAll('.raster-layer img.leaflet-tile-loaded').length > 0"
        )
        # Rasters draw in their own pane, under the vector overlay.
        z_raster = page.evaluate("() => +window.sharedgisMap.getPane('rasterPane').style.zIndex")
        assert z_raster < 400
        assert page.locator("#layer-list li", has_text="Terrain").locator(".legend li").count() == 5
        slider = page.locator("input[data-raster-opacity]")
        slider.fill("0.4")
        opacity = page.evaluate(
            "() => getComputedStyle(document.querySelector('.raster-layer')).opacity"
        )
        assert float(opacity) == pytest.approx(0.4)
        # The map's own click event at that point (a synthetic mouse click there lands on the
        # vector canvas of the parcels layer in headless Chromium).
        page.evaluate(
            "() => window.sharedgisMap.fire('click', {latlng: L.latLng(38.4030, -122.3585)})"
        )
        popup = page.locator(".leaflet-popup-content", has_text="Terrain")
        popup.wait_for()
        value = popup.locator("table.identify td").first.inner_text()
        assert 50 < float(value) < 250


def test_the_analyst_restyles_a_dem_as_a_hillshade_with_the_composer_controls(
    world: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    dem = make_dem_layer(tmp_path, project=world.project_a, by=world.analyst, name="Terrain")
    new = map_create(project=world.project_a, title="Relief", by=world.analyst, basemap="none")
    added = map_layer_add(map=new, layer=dem, by=world.analyst)
    with browser_page() as page:
        log_in(page, live_server.url, world.analyst.username)
        page.goto(f"{live_server.url}/maps/{new.pk}/edit/")
        box = page.locator(f"fieldset.composer-layer[data-id='{added.pk}']")
        # The fieldsets are drawn once the composer's first GET returns.
        box.locator("select[name=raster_type]").wait_for()
        # A single-band DEM is offered neither RGB nor a colour table it does not have.
        offered = box.locator("select[name=raster_type] option").evaluate_all(
            "os => os.map(o => o.value)"
        )
        assert offered == ["raster_pseudocolor", "raster_hillshade"]
        box.locator("select[name=raster_type]").select_option("raster_hillshade")
        # The fieldset is redrawn with the hillshade's own controls once the change is saved.
        azimuth = box.locator("input[name=azimuth]")
        azimuth.wait_for()
        wait_until_saved(page)
        azimuth.fill("315")
        azimuth.press("Tab")
        wait_until_saved(page)
        altitude = box.locator("input[name=altitude]")
        altitude.fill("30")
        altitude.press("Tab")
        page.wait_for_function(
            "() => document.querySelector('input[name=altitude]').value === '30'"
            " && document.getElementById('composer-status').dataset.pending === '0'"
        )
        # Out of range: the server's refusal is shown in its words, the stored style unchanged.
        altitude = box.locator("input[name=altitude]")
        altitude.fill("120")
        altitude.press("Tab")
        page.wait_for_function("() => document.getElementById('composer-error').textContent")
        assert "Altitude" in page.inner_text("#composer-error")
    style = MapLayer.objects.get(pk=added.pk).style
    assert style["type"] == "raster_hillshade"
    assert style["azimuth"] == 315
    assert style["altitude"] == 30
