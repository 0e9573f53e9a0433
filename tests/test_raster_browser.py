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
from tests.raster_helpers import import_raster
from tests.test_maps_browser import log_in

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
