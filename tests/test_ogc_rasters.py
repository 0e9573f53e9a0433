"""Raster layers as OGC API collections: described, never items, served as PNG/WebP map tiles
by the portal's own raster tile code; WorldCRS84Quad vector tiles beside WebMercatorQuad."""

import io
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import pytest
from django.test import Client
from PIL import Image

from tests.conftest import World
from tests.map_factories import tile_of
from tests.ogc_helpers import Published, get_json, publish_parcels, publish_raster

pytestmark = pytest.mark.django_db
REL = "http://www.opengis.net/def/rel/ogc/1.0/"


@pytest.fixture
def rasters(world: World, settings: Any, tmp_path: Path) -> tuple[Published, str]:
    settings.MEDIA_ROOT = tmp_path
    return publish_raster(world, tmp_path)


def centre_tile(collection: dict[str, Any], z: int) -> tuple[int, int, int]:
    w, s, e, n = collection["extent"]["spatial"]["bbox"][0]
    return tile_of((w + e) / 2, (s + n) / 2, z)


def test_a_client_lists_its_published_raster_with_extent_crs_and_bands(
    rasters: tuple[Published, str], as_town_a: Client
) -> None:
    _, rid = rasters
    found = {c["id"]: c for c in get_json(as_town_a, "/ogc/collections")["collections"]}
    raster = found[rid]
    assert raster["title"] == "Elevation A" and raster["dataType"] == "map"
    assert raster["crs"] == ["http://www.opengis.net/def/crs/EPSG/0/32610"]
    w, s, e, n = raster["extent"]["spatial"]["bbox"][0]
    assert -122.37 < w < e < -122.35 and 38.39 < s < n < 38.41
    assert raster["raster"]["dtype"] == "float32" and raster["raster"]["nodata"] == -9999.0
    assert [b["band"] for b in raster["raster"]["bands"]] == [1]
    assert (raster["raster"]["width"], raster["raster"]["height"]) == (64, 64)
    rels = {link["rel"] for link in raster["links"]}
    assert REL + "tilesets-map" in rels
    assert "items" not in rels and REL + "queryables" not in rels and "itemType" not in raster
    assert get_json(as_town_a, f"/ogc/collections/{rid}")["raster"]["bands"][0]["max"] > 100
    page = as_town_a.get("/ogc/collections?f=html")
    assert page.status_code == 200 and b"raster: map tiles" in page.content
    assert as_town_a.get(f"/ogc/collections/{rid}?f=html").status_code == 200


def test_items_queryables_and_vector_tiles_of_a_raster_are_404s_that_say_why(
    rasters: tuple[Published, str], as_town_a: Client
) -> None:
    parcels, rid = rasters
    for path in ("/items", "/items/1", "/queryables", "/schema", "/tiles"):
        response = as_town_a.get(f"/ogc/collections/{rid}{path}")
        assert response.status_code == 404, path
        assert "raster collection" in response.json()["description"]
        assert f"/collections/{rid}/map/tiles" in response.json()["description"]
    vector = as_town_a.get(f"/ogc/collections/{parcels.cid}/map/tiles")
    assert vector.status_code == 404 and "vector collection" in vector.json()["description"]
    api = get_json(as_town_a, "/ogc/api")
    assert f"/collections/{rid}/items" not in api["paths"]
    assert f"/collections/{parcels.cid}/items" in api["paths"]


def test_map_tiles_are_the_portals_raster_tiles_in_png_and_webp(
    rasters: tuple[Published, str], as_town_a: Client
) -> None:
    _, rid = rasters
    collection = get_json(as_town_a, f"/ogc/collections/{rid}")
    tilesets = get_json(as_town_a, f"/ogc/collections/{rid}/map/tiles")["tilesets"]
    assert [t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in tilesets] == [
        "WebMercatorQuad", "WorldCRS84Quad"
    ]  # fmt: skip
    tileset = get_json(as_town_a, f"/ogc/collections/{rid}/map/tiles/WebMercatorQuad")
    assert tileset["dataType"] == "map"
    templates = {x["type"]: x["href"] for x in tileset["links"] if x["rel"] == "item"}
    assert set(templates) == {"image/png", "image/webp"}
    z, x, y = centre_tile(collection, 16)
    limits = {m["tileMatrix"]: m for m in tileset["tileMatrixSetLimits"]}
    assert limits["16"]["minTileCol"] <= x <= limits["16"]["maxTileCol"]
    assert limits["16"]["minTileRow"] <= y <= limits["16"]["maxTileRow"]
    assert max(int(m) for m in limits) == 16  # the raster's native zoom (2 m pixels)

    z, x, y = centre_tile(collection, 18)  # a tile of about 100 m inside the 128 m raster
    png = as_town_a.get(f"/ogc/collections/{rid}/map/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    pixels = np.asarray(Image.open(io.BytesIO(png.content)).convert("RGBA"))
    assert (pixels[..., 3] > 0).mean() > 0.2  # the elevation model covers part of the tile
    assert len({tuple(p) for p in pixels.reshape(-1, 4)[::97]}) > 3  # shaded, not one colour
    # The same renderer and cache as the portal's route: the same bytes and ETag.
    layer_id = int(rid.split("-")[1])
    portal = as_town_a.get(f"/tiles/layers/{layer_id}/{z}/{x}/{y}.png")
    assert portal.status_code == 200 and portal.content == png.content
    assert portal["ETag"] == png["ETag"]
    again = as_town_a.get(
        f"/ogc/collections/{rid}/map/tiles/WebMercatorQuad/{z}/{y}/{x}",
        HTTP_IF_NONE_MATCH=png["ETag"],
    )
    assert again.status_code == 304

    webp = as_town_a.get(f"/ogc/collections/{rid}/map/tiles/WebMercatorQuad/{z}/{y}/{x}?f=webp")
    assert webp["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(webp.content)).format == "WEBP"
    by_accept = as_town_a.get(
        f"/ogc/collections/{rid}/map/tiles/WebMercatorQuad/{z}/{y}/{x}", HTTP_ACCEPT="image/webp"
    )
    assert by_accept["Content-Type"] == "image/webp"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/map/tiles/WorldCRS1984", 404, "this path offers WebMercatorQuad, WorldCRS84Quad"),
        ("/map/tiles/WorldCRS84Quad/0/1/0", 404, "No such tile"),  # 2×1 tiles at zoom 0
        ("/map/tiles/WebMercatorQuad/23/0/0", 404, "zooms 0 to 22"),
        ("/map/tiles/WebMercatorQuad/1/2/0", 404, "No such tile"),
        ("/map/tiles/WebMercatorQuad/1/0/0?f=gif", 400, "f must be json or html"),
        ("/map/tiles/WebMercatorQuad/1/0/0?style=x", 400, "Unknown query parameter"),
    ],
)
def test_a_bad_map_tile_request_is_a_clear_json_error(
    rasters: tuple[Published, str], as_town_a: Client, path: str, status: int, message: str
) -> None:
    _, rid = rasters
    response = as_town_a.get(f"/ogc/collections/{rid}{path}")
    assert response.status_code == status, response.content
    assert message in response.json()["description"]


def test_another_town_and_another_provider_get_404s_like_missing_ones(
    rasters: tuple[Published, str], as_town_b: Client, second_provider: Any
) -> None:
    from tests.conftest import client_for

    _, rid = rasters
    county = client_for(second_provider.analyst)
    for client in (as_town_b, county):
        assert rid not in {c["id"] for c in get_json(client, "/ogc/collections")["collections"]}
        for path in ("", "/map/tiles", "/map/tiles/WebMercatorQuad",
                     "/map/tiles/WebMercatorQuad/16/25000/10000", "/items"):  # fmt: skip
            response = client.get(f"/ogc/collections/{rid}{path}")
            missing = client.get(f"/ogc/collections/layer-999999{path}")
            assert response.status_code == 404, path
            assert missing.status_code == 404 and missing.content == response.content


def test_the_analyst_sees_the_raster_of_an_unpublished_map_and_a_client_does_not(
    world: World, settings: Any, tmp_path: Path, as_analyst: Client, as_town_a: Client
) -> None:
    from tests.raster_helpers import make_dem_layer

    settings.MEDIA_ROOT = tmp_path
    layer = make_dem_layer(tmp_path, project=world.project_a, by=world.analyst, name="Draft DEM")
    assert f"layer-{layer.pk}" in {
        c["id"] for c in get_json(as_analyst, "/ogc/collections")["collections"]
    }
    assert as_town_a.get(f"/ogc/collections/layer-{layer.pk}").status_code == 404


def test_conformance_lists_png_map_tiles(as_town_a: Client) -> None:
    conformance = get_json(as_town_a, "/ogc/conformance")["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png" in conformance


# --- WorldCRS84Quad


def test_world_crs84_quad_has_two_tiles_at_zoom_0_and_degree_cells(as_town_a: Client) -> None:
    listed = get_json(as_town_a, "/ogc/tileMatrixSets")["tileMatrixSets"]
    assert {t["id"] for t in listed} == {"WebMercatorQuad", "WorldCRS84Quad"}
    tms = get_json(as_town_a, "/ogc/tileMatrixSets/WorldCRS84Quad")
    assert tms["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    z0, z3 = tms["tileMatrices"][0], tms["tileMatrices"][3]
    assert (z0["matrixWidth"], z0["matrixHeight"]) == (2, 1)
    assert (z3["matrixWidth"], z3["matrixHeight"]) == (16, 8)
    assert z0["pointOfOrigin"] == [-180.0, 90.0] and z0["cellSize"] == pytest.approx(180 / 256)
    assert z0["scaleDenominator"] == pytest.approx(279541132.0143589)


def crs84_tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    size = 180 / 2**z
    return z, int((lon + 180) // size), int((90 - lat) // size)


def test_crs84_vector_tiles_hold_the_features_of_their_degree_box(
    world: World, as_town_a: Client
) -> None:
    p = publish_parcels(world, n=250)
    base = f"/ogc/collections/{p.cid}/tiles"
    tilesets = get_json(as_town_a, base)["tilesets"]
    assert {t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in tilesets} == {
        "WebMercatorQuad", "WorldCRS84Quad"
    }  # fmt: skip
    tileset = get_json(as_town_a, f"{base}/WorldCRS84Quad")
    assert tileset["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    # Parcel 0's corner is (-122.36, 38.40): a z14 tile of 0.011° holds a few dozen parcels.
    z, col, row = crs84_tile_of(-122.3598, 38.4002, 14)
    limits = {m["tileMatrix"]: m for m in tileset["tileMatrixSetLimits"]}["14"]
    assert limits["minTileCol"] <= col <= limits["maxTileCol"]
    assert limits["minTileRow"] <= row <= limits["maxTileRow"]
    response = as_town_a.get(f"{base}/WorldCRS84Quad/{z}/{row}/{col}?f=mvt")
    assert response.status_code == 200
    layer = mapbox_vector_tile.decode(response.content)[f"layer_{p.layer.pk}"]
    ids = {f["id"] for f in layer["features"]}
    assert 0 in ids and len(ids) < 250
    # In this grid the parcel sits where its degrees say: x grows with longitude inside the box.
    size = 180 / 2**z
    west = -180 + col * size
    feature = next(f for f in layer["features"] if f["id"] == 0)
    xs = [pt[0] for ring in feature["geometry"]["coordinates"] for pt in ring]
    expected = (-122.36 - west) / size * 4096
    assert min(xs) == pytest.approx(expected, abs=2)
    # Keyed by the matrix set: the Web Mercator tile of the same numbers is another tile.
    other = as_town_a.get(f"{base}/WebMercatorQuad/{z}/{row}/{col}?f=mvt")
    assert other.get("ETag") != response["ETag"]
    assert as_town_a.get(f"{base}/WorldCRS84Quad/0/1/0?f=mvt").status_code == 404  # 2×1 at z0
    assert as_town_a.get(f"{base}/WorldCRS84Quad/0/0/1?f=mvt").status_code in (200, 204)


def test_a_share_link_serves_the_raster_of_its_map_version_as_map_tiles(
    world: World, rasters: tuple[Published, str]
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from maps.services import share_link_create

    parcels, rid = rasters
    link = share_link_create(
        version=parcels.version, by=world.analyst, expires_at=timezone.now() + timedelta(days=1)
    )
    base = f"/ogc/share/{link.token}"
    found = {c["id"] for c in get_json(Client(), f"{base}/collections")["collections"]}
    assert {rid, parcels.cid} <= found
    collection = get_json(Client(), f"{base}/collections/{rid}")
    z, x, y = centre_tile(collection, 18)
    tile = Client().get(f"{base}/collections/{rid}/map/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert tile.status_code == 200 and tile["Content-Type"] == "image/png"


def test_crs84_tiles_of_a_large_layer_read_its_prepared_overviews(
    world: World, as_town_a: Client
) -> None:
    from layers.tiles import OVERVIEW_MIN_FEATURES, overviews_prepare, tile_source

    p = publish_parcels(world, n=OVERVIEW_MIN_FEATURES)
    overviews_prepare(p.layer.current_version.pk)
    assert tile_source(p.layer.current_version.pk, 9) == "overview"
    # z8 of WorldCRS84Quad is as detailed as Web Mercator z9: the overview of zoom 9 is read.
    z, col, row = crs84_tile_of(-122.3598, 38.4002, 8)
    response = as_town_a.get(f"/ogc/collections/{p.cid}/tiles/WorldCRS84Quad/{z}/{row}/{col}")
    assert response.status_code == 200
    features = mapbox_vector_tile.decode(response.content)[f"layer_{p.layer.pk}"]["features"]
    assert 0 < len(features) < OVERVIEW_MIN_FEATURES  # sub-pixel parcels merged into cells
