"""Raster map tiles as published: a client's (and a share link's) collection is drawn in the style
of the map version it comes from, the very tile the portal viewer shows; provider staff keep the
layer's default style. And raster map tiles in WorldCRS84Quad, cut by rio-tiler in degrees."""

import io
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from maps.selectors import raster_urls
from tests.conftest import World
from tests.map_factories import tile_of
from tests.ogc_helpers import Published, get_json, publish_raster

pytestmark = pytest.mark.django_db
HILLSHADE = {"type": "raster_hillshade", "relief": "terrain"}
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.fixture
def hillshade(world: World, settings: Any, tmp_path: Path) -> tuple[Published, str]:
    settings.MEDIA_ROOT = tmp_path
    return publish_raster(world, tmp_path, style=HILLSHADE)


@pytest.fixture
def plain(world: World, settings: Any, tmp_path: Path) -> tuple[Published, str]:
    settings.MEDIA_ROOT = tmp_path
    return publish_raster(world, tmp_path)


def centre(client: Client, rid: str) -> tuple[float, float]:
    w, s, e, n = get_json(client, f"/ogc/collections/{rid}")["extent"]["spatial"]["bbox"][0]
    return (w + e) / 2, (s + n) / 2


def portal_tile_url(published: Published, rid: str, z: int, x: int, y: int) -> str:
    """The tile URL the portal viewer draws this map version's raster layer with."""
    layer_id = int(rid.split("-")[1])
    entry = next(e for e in published.version.definition["layers"] if e["layer_id"] == layer_id)
    template = raster_urls(entry)["tiles"]
    return template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def rgba(response: Any) -> np.ndarray:
    assert response.status_code == 200, response.content[:300]
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))


def test_a_clients_map_tile_is_the_portal_viewers_tile_of_the_published_hillshade(
    hillshade: tuple[Published, str], as_town_a: Client, as_town_b: Client
) -> None:
    parcels, rid = hillshade
    described = get_json(as_town_a, f"/ogc/collections/{rid}")["raster"]["style"]
    assert described == {
        "source": "map",
        "type": "raster_hillshade",
        "map_id": parcels.version.map_id,
        "map_version": parcels.version.number,
    }
    z, x, y = tile_of(*centre(as_town_a, rid), 18)
    ogc = as_town_a.get(f"/ogc/collections/{rid}/map/tiles/WebMercatorQuad/{z}/{y}/{x}")
    portal = as_town_a.get(portal_tile_url(parcels, rid, z, x, y))
    assert ogc.status_code == 200 and portal.status_code == 200
    assert ogc.content == portal.content and ogc["ETag"] == portal["ETag"]
    # Not the layer's default style (a pseudocolour ramp): the published hillshade.
    default = as_town_a.get(f"/tiles/layers/{rid.split('-')[1]}/{z}/{x}/{y}.png")
    assert default.status_code == 200 and default.content != ogc.content
    assert default["ETag"] != ogc["ETag"]

    for path in ("", f"/map/tiles/WebMercatorQuad/{z}/{y}/{x}", "/map/tiles/WorldCRS84Quad/0/0/0"):
        other = as_town_b.get(f"/ogc/collections/{rid}{path}")
        missing = as_town_b.get(f"/ogc/collections/layer-999999{path}")
        assert other.status_code == 404 and other.content == missing.content, path


def test_staff_see_the_default_style_and_a_share_link_its_maps_style(
    world: World, hillshade: tuple[Published, str], as_analyst: Client, as_town_a: Client
) -> None:
    from maps.services import share_link_create

    parcels, rid = hillshade
    layer_id = rid.split("-")[1]
    staff = get_json(as_analyst, f"/ogc/collections/{rid}")["raster"]["style"]
    assert staff == {"source": "layer default"}
    z, x, y = tile_of(*centre(as_analyst, rid), 18)
    path = f"/ogc/collections/{rid}/map/tiles/WebMercatorQuad/{z}/{y}/{x}"
    working = as_analyst.get(path)
    default = as_analyst.get(f"/tiles/layers/{layer_id}/{z}/{x}/{y}.png")
    assert working.status_code == 200 and working.content == default.content

    link = share_link_create(
        version=parcels.version, by=world.analyst, expires_at=timezone.now() + timedelta(days=1)
    )
    shared = Client().get(f"/ogc/share/{link.token}{path.removeprefix('/ogc')}")
    client = as_town_a.get(path)
    assert shared.status_code == 200 and shared.content == client.content
    assert shared.content != working.content


def crs84_pixel(lon: float, lat: float, z: int) -> tuple[int, int, int, int]:
    """(col, row, px, py) of a point in WorldCRS84Quad zoom z (tiles of 180° / 2^z)."""
    size = 180 / 2**z
    fx, fy = (lon + 180) / size, (90 - lat) / size
    return int(fx), int(fy), int((fx % 1) * 256), int((fy % 1) * 256)


def mercator_pixel(lon: float, lat: float, z: int) -> tuple[int, int, int, int]:
    n = 2**z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int(fx), int(fy), int((fx % 1) * 256), int((fy % 1) * 256)


def test_crs84_map_tiles_put_each_pixel_at_its_longitude_and_latitude(
    plain: tuple[Published, str], as_town_a: Client
) -> None:
    _, rid = plain
    base = f"/ogc/collections/{rid}/map/tiles/WorldCRS84Quad"
    tileset = get_json(as_town_a, base)
    assert tileset["crs"] == CRS84 and tileset["dataType"] == "map"
    limits = {int(m["tileMatrix"]): m for m in tileset["tileMatrixSetLimits"]}
    assert max(limits) == 15  # as detailed as Web Mercator's native zoom 16 (2 m pixels)

    # Zoom 0 is two tiles side by side: the raster (122° W) is in the western one.
    west, east = rgba(as_town_a.get(f"{base}/0/0/0")), rgba(as_town_a.get(f"{base}/0/0/1"))
    assert west.shape == east.shape == (256, 256, 4)
    assert as_town_a.get(f"{base}/0/1/0").status_code == 404

    lon, lat = centre(as_town_a, rid)
    col, row, px, py = crs84_pixel(lon, lat, 15)
    assert limits[15]["minTileCol"] <= col <= limits[15]["maxTileCol"]
    assert limits[15]["minTileRow"] <= row <= limits[15]["maxTileRow"]
    response = as_town_a.get(f"{base}/15/{row}/{col}")
    crs84 = rgba(response)
    assert crs84[py, px, 3] == 255  # the raster's centre is drawn where its degrees say
    # The same point in the Web Mercator tile of the same detail has the same colour.
    x, y, mx, my = mercator_pixel(lon, lat, 16)
    mercator = rgba(
        as_town_a.get(f"{base.replace('WorldCRS84Quad', 'WebMercatorQuad')}/16/{y}/{x}")
    )
    assert np.abs(crs84[py, px, :3].astype(int) - mercator[my, mx, :3].astype(int)).max() <= 16

    # The raster's west edge: transparent a few pixels west of it, drawn a few pixels east.
    w = get_json(as_town_a, f"/ogc/collections/{rid}")["extent"]["spatial"]["bbox"][0][0]
    edge_col, edge_row, ex, ey = crs84_pixel(w, lat, 15)
    edge = (
        crs84
        if (edge_col, edge_row) == (col, row)
        else rgba(as_town_a.get(f"{base}/15/{edge_row}/{edge_col}"))
    )
    if ex >= 4:
        assert edge[ey, ex - 4, 3] == 0
    if ex <= 251:
        assert edge[ey, ex + 4, 3] == 255

    # Cached per matrix set: the Web Mercator tile of the same numbers is another tile.
    same_numbers = as_town_a.get(
        f"{base.replace('WorldCRS84Quad', 'WebMercatorQuad')}/15/{row}/{col}"
    )
    assert same_numbers.status_code == 200 and same_numbers["ETag"] != response["ETag"]
    again = as_town_a.get(f"{base}/15/{row}/{col}", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_published_hillshade_draws_in_crs84_with_the_relief_of_web_mercator(
    hillshade: tuple[Published, str], as_town_a: Client
) -> None:
    _, rid = hillshade
    w, s, e, n = get_json(as_town_a, f"/ogc/collections/{rid}")["extent"]["spatial"]["bbox"][0]
    base = f"/ogc/collections/{rid}/map/tiles"
    differences = []
    for fx in (0.25, 0.4, 0.5, 0.6, 0.75):
        for fy in (0.25, 0.4, 0.5, 0.6, 0.75):
            lon, lat = w + (e - w) * fx, s + (n - s) * fy
            col, row, px, py = crs84_pixel(lon, lat, 15)
            crs84 = rgba(as_town_a.get(f"{base}/WorldCRS84Quad/15/{row}/{col}"))[py, px]
            x, y, mx, my = mercator_pixel(lon, lat, 16)
            mercator = rgba(as_town_a.get(f"{base}/WebMercatorQuad/16/{y}/{x}"))[my, mx]
            assert crs84[3] == 255
            differences.append(np.abs(crs84[:3].astype(int) - mercator[:3].astype(int)).mean())
    # Shading depends on the metres per pixel: a degree pixel is narrower east-west than it is
    # tall. Measured: 1.5 levels of 255 on average; 2.7 when the pixel is taken as square.
    assert np.mean(differences) <= 2.0
