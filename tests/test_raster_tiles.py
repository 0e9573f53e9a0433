"""Raster tiles, TileJSON, pixel identify, styles and maps: styled PNG/WebP tiles read from the COG,
versioned and ETagged, drawn under vectors in the viewer and in exports, reachable via share links."""

import base64
import json
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from PIL import Image

from layers.models import Layer, RasterVersion
from layers.raster.styles import raster_style_types, raster_style_validate
from layers.raster.tiles import raster_info, style_token
from maps.models import MapLayer
from maps.selectors import viewer_config
from maps.services import map_create, map_layer_add, map_layer_update, map_publish
from tests import raster_data as rd
from tests.conftest import client_for
from tests.map_factories import make_parcel_layer, tile_of
from tests.raster_helpers import import_raster

pytestmark = pytest.mark.django_db

# A point inside the generated rasters (their top-left corner is at about -122.3605, 38.4035).
LON, LAT = -122.3595, 38.4025
TILE = tile_of(LON, LAT, 16)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def dem(world: Any, tmp_path: Path) -> Layer:
    return import_raster(
        rd.dem(tmp_path / "dem.tif"), project=world.project_a, by=world.analyst, name="DEM"
    ).layer


@pytest.fixture
def ortho(world: Any, tmp_path: Path) -> Layer:
    return import_raster(
        rd.rgb(tmp_path / "ortho.tif", nodata=0), project=world.project_a, by=world.analyst
    ).layer


def _url(layer: Layer, z: int, x: int, y: int, fmt: str = "png", style: str = "") -> str:
    query = f"?v={layer.current_version_id}" + (f"&style={style}" if style else "")
    return f"/tiles/layers/{layer.pk}/{z}/{x}/{y}.{fmt}{query}"


def _image(response: Any) -> np.ndarray:
    return np.asarray(Image.open(BytesIO(response.content)).convert("RGBA"))


def test_a_raster_tile_is_a_styled_png_with_an_etag_and_a_304(
    as_analyst: Client, dem: Layer
) -> None:
    response = as_analyst.get(_url(dem, *TILE))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    pixels = _image(response)
    assert pixels.shape == (256, 256, 4) and pixels[..., 3].max() == 255
    again = as_analyst.get(_url(dem, *TILE), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again["ETag"] == response["ETag"]


def test_webp_tiles_are_served_too(as_analyst: Client, ortho: Layer) -> None:
    response = as_analyst.get(_url(ortho, *TILE, fmt="webp"))
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert Image.open(BytesIO(response.content)).format == "WEBP"


def test_a_tile_outside_the_raster_is_transparent(as_analyst: Client, dem: Layer) -> None:
    z, x, y = tile_of(10.0, 50.0, 12)
    pixels = _image(as_analyst.get(_url(dem, z, x, y)))
    assert pixels[..., 3].max() == 0


def test_nodata_edges_are_transparent_not_black(as_analyst: Client, ortho: Layer) -> None:
    z, x, y = tile_of(-122.3604, 38.4034, 18)
    pixels = _image(as_analyst.get(_url(ortho, z, x, y)))
    assert (pixels[..., 3] == 0).any() and (pixels[..., 3] == 255).any()


def test_a_different_style_is_a_different_tile_and_etag(as_analyst: Client, dem: Layer) -> None:
    raster = RasterVersion.objects.get(version=dem.current_version)
    shade = raster_style_validate({"type": "raster_hillshade", "band": 1}, raster_info(raster))
    plain = as_analyst.get(_url(dem, *TILE))
    shaded = as_analyst.get(_url(dem, *TILE, style=style_token(shade)))
    assert shaded.status_code == 200 and shaded["ETag"] != plain["ETag"]
    grey = _image(shaded)[..., :3]
    assert (grey[..., 0] == grey[..., 1]).all()  # a plain hillshade is grey


def test_an_invalid_style_parameter_is_a_400_with_a_message(as_analyst: Client, dem: Layer) -> None:
    token = base64.urlsafe_b64encode(
        json.dumps({"type": "raster_rgb", "bands": [1, 2, 3]}).encode()
    ).decode()
    response = as_analyst.get(_url(dem, *TILE, style=token))
    assert response.status_code == 400 and "band number from 1 to 1" in response.json()["detail"]
    not_json = base64.urlsafe_b64encode(b"not json").decode()
    assert as_analyst.get(_url(dem, *TILE, style=not_json)).status_code == 400


def test_hillshade_tiles_have_no_seam_at_their_edges(as_analyst: Client, dem: Layer) -> None:
    raster = RasterVersion.objects.get(version=dem.current_version)
    token = style_token(
        raster_style_validate({"type": "raster_hillshade", "band": 1}, raster_info(raster))
    )
    z, x, y = tile_of(-122.3585, 38.4015, 17)
    left = _image(as_analyst.get(_url(dem, z, x, y, style=token))).astype(int)[..., 0]
    right = _image(as_analyst.get(_url(dem, z, x + 1, y, style=token))).astype(int)[..., 0]
    rows = slice(20, 120)
    seam = np.abs(left[rows, -1] - right[rows, 0]).mean()
    inside = np.abs(left[rows, -2] - left[rows, -1]).mean()
    assert seam <= inside * 2 + 3


def test_identify_returns_every_bands_value_in_real_units(
    as_analyst: Client, dem: Layer, tmp_path: Path
) -> None:
    response = as_analyst.get(
        f"/tiles/layers/{dem.pk}/identify.json?v={dem.current_version_id}&lon={LON}&lat={LAT}"
    )
    assert response.status_code == 200
    body = response.json()
    (band,) = body["bands"]
    with rasterio.open(tmp_path / "dem.tif") as src:
        from pyproj import Transformer

        x, y = Transformer.from_crs(4326, rd.UTM, always_xy=True).transform(LON, LAT)
        expected = float(next(src.sample([(x, y)]))[0])
    assert band["value"] == pytest.approx(expected, abs=1e-3) and body["units"] == "metre"


def test_identify_outside_and_bad_points(as_analyst: Client, dem: Layer) -> None:
    base = f"/tiles/layers/{dem.pk}/identify.json?v={dem.current_version_id}"
    assert as_analyst.get(base + "&lon=10&lat=50").json()["inside"] is False
    assert as_analyst.get(base + "&lon=abc&lat=1").status_code == 400
    assert as_analyst.get(base + "&lon=500&lat=1").status_code == 400


def test_tilejson_of_a_raster_gives_a_png_or_webp_template(as_analyst: Client, dem: Layer) -> None:
    body = as_analyst.get(f"/tiles/layers/{dem.pk}/tilejson.json").json()
    assert body["tilejson"] == "3.0.0" and body["format"] == "png"
    assert body["tiles"][0].endswith(
        f"/tiles/layers/{dem.pk}/{{z}}/{{x}}/{{y}}.png?v={dem.current_version_id}"
    )
    assert "vector_layers" not in body and -122.37 < body["bounds"][0] < -122.35
    webp = as_analyst.get(f"/tiles/layers/{dem.pk}/tilejson.json?format=webp").json()
    assert ".webp?v=" in webp["tiles"][0]


@pytest.mark.parametrize(
    "style,message",
    [
        ({"type": "raster_rgb", "bands": [4, 3, 2]}, "band number from 1 to 3"),
        ({"type": "raster_pseudocolor", "ramp": "rainbowz"}, "Colour ramp must be one of"),
        ({"type": "raster_hillshade", "altitude": 120}, "Altitude must be between 0 and 90"),
        ({"type": "raster_paletted"}, "no colour table"),
        ({"type": "raster_rgb", "stretch": "custom", "ranges": [[0], [0, 1], [0, 1]]}, "custom"),
    ],
)
def test_raster_styles_refuse_what_cannot_be_drawn(
    style: dict[str, Any], message: str, ortho: Layer
) -> None:
    raster = RasterVersion.objects.get(version=ortho.current_version)
    with pytest.raises(ValidationError, match=message):
        raster_style_validate(style, raster_info(raster))


def test_styles_take_their_stretch_from_the_import_statistics(dem: Layer) -> None:
    raster = RasterVersion.objects.get(version=dem.current_version)
    info = raster_info(raster)
    stats = raster.band_stats[0]
    clean = raster_style_validate({"type": "raster_pseudocolor", "stretch": "percentile"}, info)
    assert clean["range"] == [stats["p2"], stats["p98"]]
    classes = raster_style_validate(
        {"type": "raster_pseudocolor", "mode": "classes", "classes": 4, "ramp": "blues"}, info
    )
    assert len(classes["legend"]) == 4 and classes["breaks"][-1] == stats["max"]
    relief = raster_style_validate({"type": "raster_hillshade", "relief": "terrain"}, info)
    assert relief["legend"][0]["color"] == "#00a884"


def test_a_paletted_raster_draws_its_colour_table(
    as_analyst: Client, world: Any, tmp_path: Path
) -> None:
    layer = import_raster(
        rd.landcover(tmp_path / "lc.tif"), project=world.project_a, by=world.analyst
    ).layer
    raster = RasterVersion.objects.get(version=layer.current_version)
    style = raster_style_validate({"type": "raster_paletted"}, raster_info(raster))
    assert {e["color"] for e in style["legend"]} == {"#228b22", "#4169e1", "#d2b48c"}
    z, x, y = tile_of(-122.3603, 38.4033, 19)
    pixels = _image(as_analyst.get(_url(layer, z, x, y)))
    colours = {tuple(p) for p in pixels[pixels[..., 3] == 255][:, :3].tolist()}
    assert colours <= {(34, 139, 34), (65, 105, 225), (210, 180, 140)} and colours


def _raster_map(world: Any, dem: Layer) -> Any:
    parcels = make_parcel_layer(project=world.project_a, n=20, lon=-122.3600, lat=38.4000)
    new = map_create(project=world.project_a, title="Drainage", by=world.analyst, basemap="none")
    map_layer_add(map=new, layer=parcels, by=world.analyst)
    added = map_layer_add(map=new, layer=dem, by=world.analyst)
    map_layer_update(
        map_layer=MapLayer.objects.get(pk=added.pk),
        by=world.analyst,
        style={"type": "raster_hillshade", "relief": "terrain", "z_factor": 2},
        opacity=0.8,
    )
    return new


def test_the_composer_puts_a_raster_under_the_vectors_and_the_viewer_draws_it(
    world: Any, dem: Layer
) -> None:
    new = _raster_map(world, dem)
    positions = dict(new.map_layers.values_list("layer__kind", "position"))
    assert positions["raster"] < positions["vector"]
    version = map_publish(map=new, by=world.analyst, notes="with DEM")
    config = viewer_config(version.definition)
    raster_entry = next(entry for entry in config["layers"] if entry.get("kind") == "raster")
    assert "/tiles/layers/" in raster_entry["tiles"] and ".png?v=" in raster_entry["tiles"]
    assert raster_entry["identify"].startswith(f"/tiles/layers/{dem.pk}/identify.json")
    assert raster_entry["style"]["legend"] and raster_entry["opacity"] == 0.8
    west, south, east, north = version.definition["extent"]
    assert west < -122.359 and north > 38.403  # the raster's extent joins the map's


def test_a_published_raster_is_visible_to_the_client_through_tiles_and_identify(
    world: Any, dem: Layer
) -> None:
    new = _raster_map(world, dem)
    client = client_for(world.manager_a)
    assert client.get(_url(dem, *TILE)).status_code == 404  # not published yet
    version = map_publish(map=new, by=world.analyst, notes="with DEM")
    entry = next(e for e in viewer_config(version.definition)["layers"] if e.get("kind"))
    tile = entry["tiles"].replace("{z}/{x}/{y}", "/".join(map(str, TILE)))
    assert client.get(tile).status_code == 200
    point = client.get(entry["identify"] + f"&lon={LON}&lat={LAT}").json()
    assert point["bands"][0]["value"] is not None


def test_share_links_serve_raster_tiles_and_identify_until_revoked(world: Any, dem: Layer) -> None:
    from maps.services import share_link_create, share_link_revoke

    version = map_publish(map=_raster_map(world, dem), by=world.analyst, notes="v1")
    link = share_link_create(
        version=version, by=world.analyst, expires_at=timezone.now() + timedelta(days=7)
    )
    entry = next(
        e for e in viewer_config(version.definition, token=link.token)["layers"] if e.get("kind")
    )
    tile = entry["tiles"].replace("{z}/{x}/{y}", "/".join(map(str, TILE)))
    anonymous = Client()
    assert tile.startswith(f"/share/{link.token}/tiles/")
    assert anonymous.get(tile).status_code == 200
    assert anonymous.get(entry["identify"] + f"&lon={LON}&lat={LAT}").status_code == 200
    # Another layer id, or a version the link does not pin, is a 404.
    assert anonymous.get(tile.replace(f"/tiles/{dem.pk}/", "/tiles/999999/")).status_code == 404
    share_link_revoke(link=link, by=world.analyst)
    assert anonymous.get(tile).status_code == 404


def test_png_exports_and_thumbnails_include_the_raster(world: Any, dem: Layer) -> None:
    from maps.render import render_map, render_thumbnail

    version = map_publish(map=_raster_map(world, dem), by=world.analyst, notes="v1")
    bbox = [-122.3604, 38.4000, -122.3560, 38.4034]
    image = np.asarray(render_map(version.definition, bbox=bbox, width=300, height=240))
    background = np.array([242, 239, 233])
    coloured = np.abs(image[..., :3].astype(int) - background).sum(axis=-1) > 30
    assert coloured.mean() > 0.3
    thumb = Image.open(BytesIO(render_thumbnail(version.definition)))
    assert thumb.size == (320, 200)


def test_the_raster_layer_page_shows_metadata_preview_and_downloads(
    as_analyst: Client, dem: Layer
) -> None:
    page = as_analyst.get(f"/layers/{dem.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "240 × 240 pixels" in text and "float32" in text and "EPSG:32610" in text
    assert "DEFLATE" in text and "-9999" in text and "Band statistics" in text
    cog = as_analyst.get(f"/layers/{dem.pk}/download/cog/")
    assert cog.status_code == 200 and b"".join(cog.streaming_content)[:4] == b"II*\x00"
    original = as_analyst.get(f"/layers/{dem.pk}/download/original/")
    assert original.status_code == 200 and "original" in original["Content-Disposition"]
    assert as_analyst.get(f"/layers/{dem.pk}/download/geojson/").status_code == 404


def test_the_composer_offers_each_raster_the_style_types_it_can_take(
    dem: Layer, ortho: Layer
) -> None:
    """What maps/api.py hands the composer's raster controls: every offered type validates."""
    offered = {}
    for layer in (dem, ortho):
        info = raster_info(RasterVersion.objects.get(version=layer.current_version))
        offered[layer.pk] = raster_style_types(info)
        for kind in offered[layer.pk]:
            raster_style_validate({"type": kind}, info)
    assert offered[dem.pk] == ["raster_pseudocolor", "raster_hillshade"]
    assert "raster_rgb" in offered[ortho.pk]


def test_tile_threads_keep_their_own_open_readers_and_close_the_least_recently_used(
    ortho: Layer, dem: Layer, monkeypatch: Any
) -> None:
    import threading

    from layers.raster import tiles

    monkeypatch.setattr(tiles, "_OPEN_PER_THREAD", 1)
    ortho_cog = RasterVersion.objects.get(version__layer=ortho).cog
    dem_cog = RasterVersion.objects.get(version__layer=dem).cog
    seen: dict[str, Any] = {}

    def serve(name: str) -> None:
        with tiles._reader(ortho_cog) as first, tiles._reader(ortho_cog) as again:
            seen[name] = first
            seen[name + " reused"] = again is first  # no second open of the same file
        with tiles._reader(dem_cog) as other:
            seen[name + " other"] = other
        seen[name + " evicted"] = first.dataset.closed  # over the bound: the oldest is closed

    for name in ("a", "b"):
        thread = threading.Thread(target=serve, args=(name,))
        thread.start()
        thread.join()
    assert seen["a reused"] and seen["b reused"]
    assert seen["a evicted"] and seen["b evicted"]
    assert seen["a"] is not seen["b"]  # rasterio handles are never shared between threads
    assert not seen["a other"].dataset.closed
