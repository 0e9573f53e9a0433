"""In headless Chromium: the viewer colours every feature, and its legend, exactly as the server does.

The browser's style modules (static/js/maps/style.js, schema.js) and the server's
(maps/styles.py, which the PNG/PDF exports draw with) read the same resolved style; these tests
put both side by side for a graduated (natural breaks, multi-stop ramp) and a categorized
(booleans) layer, on the function, on the legend and on the pixels the canvas drew.
"""

import json
from typing import Any

import pytest
from django.db import connection
from django.templatetags.static import static
from playwright.sync_api import Page

from layers.models import Layer
from maps.models import MapLayer
from maps.services import map_create, map_layer_add, map_layer_update, map_publish
from maps.styles import (
    MAX_CLASSES,
    MIN_CLASSES,
    RAMPS,
    color_for,
    legend_for,
    ramp_colors,
    style_resolve,
    style_schema,
)
from tests.browser import browser_page, log_in
from tests.map_factories import PARCEL_SCHEMA, add_parcels, make_layer_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARCEL_STEP = 0.0004  # grid step of generated parcels (tests/map_factories.add_parcels)
COLS = 8
VIEW_ZOOM = 17  # a parcel is about 28 px wide: its centre pixel is fill, far from any edge
# Canvas pixels are stored premultiplied: reading one back can be off by one per channel.
TOLERANCE = 2
FLAG_SCHEMA = [
    *PARCEL_SCHEMA,
    {"name": "flag", "type": "boolean"},
    {"name": "floors", "type": "real"},
]

# Values a tile can carry that the two sides could write differently.
EDGE_VALUES: list[Any] = [
    None, True, False, 0, -0.0, 1, 1.0, 2.5, 78, 78.0, 390, 391, -5, 1e-7, 1e21, 0.1 + 0.2,
    123456789.125, "R1", "1", "true", "", "n/a",
]  # fmt: skip


def parcel_layer(project: Any, name: str, lat: float) -> Layer:
    layer = Layer.objects.create(project=project, name=name)
    version = make_layer_version(layer=layer, schema=FLAG_SCHEMA)
    add_parcels(version, n=40, lat=lat, cols=COLS)
    with connection.cursor() as cur:
        # Booleans and whole numbers stored as 1.0 (numeric), a text and a null among the numbers.
        cur.execute(
            "UPDATE layers_feature SET properties = properties || jsonb_build_object("
            "'flag', CASE WHEN fid = 7 THEN NULL ELSE fid %% 3 = 0 END, "
            "'floors', (fid %% 4) / 2.0 + 1, "
            "'value', CASE fid WHEN 5 THEN to_jsonb('n/a'::text) WHEN 6 THEN 'null'::jsonb "
            "ELSE properties -> 'value' END) WHERE version_id = %s",
            [version.pk],
        )
        cur.execute(
            "UPDATE layers_feature SET properties = properties - 'flag' "
            "WHERE version_id = %s AND fid = 8",
            [version.pk],
        )
    return layer


def features(layer: Layer) -> list[tuple[float, float, dict[str, Any]]]:
    """(lon, lat, properties) of each feature's centre."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)), properties::text "
            "FROM layers_feature WHERE version_id = %s ORDER BY fid",
            [layer.current_version_id],
        )
        return [(x, y, json.loads(p)) for x, y, p in cur.fetchall()]


def published_map(world: Any) -> tuple[Any, dict[str, Layer]]:
    values = parcel_layer(world.project_a, "Values", lat=38.400)
    flags = parcel_layer(world.project_a, "Flags", lat=38.403)
    new = map_create(project=world.project_a, title="Parity", by=world.analyst, basemap="none")
    styles = {
        values: {"type": "graduated", "attribute": "value", "method": "jenks", "classes": 5,
                 "ramp": "viridis"},
        flags: {"type": "categorized", "attribute": "flag"},
    }  # fmt: skip
    for layer, style in styles.items():
        added = map_layer_add(map=new, layer=layer, by=world.analyst)
        map_layer_update(map_layer=MapLayer.objects.get(pk=added.pk), by=world.analyst, style=style)
    return map_publish(map=new, by=world.analyst, notes=""), {"Values": values, "Flags": flags}


def wait_until_drawn(page: Page) -> None:
    """Every layer of the viewer has tiles and none is still loading."""
    page.wait_for_function(
        "() => window.sharedgisLayers && Object.values(window.sharedgisLayers).every(l =>"
        " !l.isLoading() && l.getContainer() && l.getContainer().querySelector('canvas'))"
    )


# The RGBA of a layer's canvas at a lon/lat: the current zoom's tile holding the point
# (GridLayer._tiles/_tileZoom: Leaflet 1.9 keeps tiles of the zoom being left until pruned).
PIXEL_JS = """([key, points]) => {
  const map = window.sharedgisMap, grid = window.sharedgisLayers[key];
  return points.map(([lon, lat]) => {
    const p = map.latLngToContainerPoint([lat, lon]), box = map.getContainer().getBoundingClientRect();
    const x = p.x + box.left, y = p.y + box.top;
    for (const t of Object.values(grid._tiles)) {
      if (t.coords.z !== grid._tileZoom || !t.el.getContext) continue;
      const r = t.el.getBoundingClientRect();
      if (x < r.left || x >= r.right || y < r.top || y >= r.bottom) continue;
      const px = Math.floor((x - r.left) * t.el.width / r.width);
      const py = Math.floor((y - r.top) * t.el.height / r.height);
      return Array.from(t.el.getContext("2d").getImageData(px, py, 1, 1).data);
    }
    return null;
  });
}"""


def hex_rgb(color: str) -> list[int]:
    return [int(color[i : i + 2], 16) for i in (1, 3, 5)]


def open_viewer(page: Page, base: str, version: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "manager_a")
    page.goto(f"{base}/maps/versions/{version.pk}/")
    wait_until_drawn(page)
    return errors


def test_the_browser_colours_each_value_as_the_server_does(world, live_server) -> None:
    version, layers = published_map(world)
    by_title = {entry["title"]: entry for entry in version.definition["layers"]}
    graduated, categorized = by_title["Values"]["style"], by_title["Flags"]["style"]
    assert graduated["colors"] == ramp_colors("viridis", 5)
    assert [c["value"] for c in categorized["categories"]] == ["false", "true", None]
    floors = style_resolve(
        {"type": "categorized", "attribute": "floors"},
        version_id=layers["Flags"].current_version_id,
        fields={f["name"]: f["type"] for f in FLAG_SCHEMA},
    )
    assert sorted(c["value"] for c in floors["categories"]) == ["1", "1.5", "2", "2.5"]
    single = {**graduated, "type": "single"}
    cases = [props for _x, _y, props in features(layers["Values"])]
    cases += [{attr: value} for value in EDGE_VALUES for attr in ("value", "flag", "floors")]
    cases.append({})
    with browser_page() as page:
        errors = open_viewer(page, live_server.url, version)
        page_styles = page.evaluate(
            "() => Object.fromEntries(JSON.parse(document.getElementById('map-config')"
            ".textContent).layers.map(l => [l.title, l.style]))"
        )
        assert page_styles == {"Values": graduated, "Flags": categorized}
        for style in (graduated, categorized, floors, single):
            browser = page.evaluate(
                "async ([url, style, cases]) => { const m = await import(url);"
                " return cases.map(c => m.colorFor(style, c)); }",
                [static("js/maps/style.js"), style, cases],
            )
            assert browser == [color_for(style, c) for c in cases], style["type"]
        assert errors == []


def test_the_legend_shows_the_servers_classes_and_ramps(world, live_server) -> None:
    version, _layers = published_map(world)
    with browser_page() as page:
        errors = open_viewer(page, live_server.url, version)
        for entry in version.definition["layers"]:
            drawn = page.evaluate(
                "(key) => Array.from(document.querySelectorAll("
                " `#layer-list input[data-key='${key}']`)[0].closest('li').querySelectorAll('.legend li'))"
                ".map(li => [li.textContent, getComputedStyle(li.querySelector('.swatch'))"
                ".backgroundColor])",
                entry["key"],
            )
            expected = legend_for(entry["style"])
            assert [label for label, _ in drawn] == [e["label"] for e in expected]
            assert [color for _, color in drawn] == [
                "rgb({}, {}, {})".format(*hex_rgb(e["color"])) for e in expected
            ]
        # The vocabulary the composer offers is the server's, ramps colour for colour.
        embedded = page.evaluate(
            "() => JSON.parse(document.getElementById('style-schema').textContent)"
        )
        assert embedded == json.loads(json.dumps(style_schema()))
        ramps = page.evaluate(
            "async ([url, names, lo, hi]) => { const m = await import(url);"
            " return names.map(n => Array.from({length: hi - lo + 1}, (_, i) => m.rampColors(n, lo + i))); }",
            [static("js/maps/schema.js"), list(RAMPS), MIN_CLASSES, MAX_CLASSES],
        )
        assert ramps == [
            [ramp_colors(name, n) for n in range(MIN_CLASSES, MAX_CLASSES + 1)] for name in RAMPS
        ]
        assert errors == []


def test_the_canvas_draws_each_feature_in_the_servers_colour(world, live_server) -> None:
    version, layers = published_map(world)
    centre = (-122.36 + COLS * PARCEL_STEP / 2, 38.4025)  # between the two layers
    # Queries before the browser: inside Playwright's greenlet Django would open a second connection.
    feats_of = {title: features(layer) for title, layer in layers.items()}
    with browser_page() as page:
        errors = open_viewer(page, live_server.url, version)
        page.evaluate(
            "([lon, lat, z]) => window.sharedgisMap.setView([lat, lon], z, {animate: false})",
            [centre[0], centre[1], VIEW_ZOOM],
        )
        wait_until_drawn(page)
        for entry in version.definition["layers"]:
            style = entry["style"]
            feats = feats_of[entry["title"]]
            points = [[x, y] for x, y, _ in feats]
            # Painted once every feature's centre has some alpha; then compare colours.
            page.wait_for_function(
                f"(args) => ({PIXEL_JS})(args).every(px => px && px[3] > 0)",
                arg=[entry["key"], points],
            )
            pixels = page.evaluate(PIXEL_JS, [entry["key"], points])
            alpha = round(style["symbol"]["fill_opacity"] * entry["opacity"] * 255)
            for (_x, _y, props), pixel in zip(feats, pixels, strict=True):
                want = hex_rgb(color_for(style, props))
                assert all(abs(a - b) <= TOLERANCE for a, b in zip(pixel[:3], want, strict=True)), (
                    entry["title"],
                    props,
                    pixel,
                    want,
                )
                assert abs(pixel[3] - alpha) <= TOLERANCE
            # The test would pass on one colour everywhere: the layer must use several.
            assert len({tuple(p[:3]) for p in pixels}) >= (
                3 if style["type"] == "categorized" else 5
            )
        assert errors == []


def test_the_composer_previews_the_servers_ramp_and_redraws_its_classes(world, live_server) -> None:
    values = parcel_layer(world.project_a, "Values", lat=38.400)
    new = map_create(project=world.project_a, title="Draft", by=world.analyst, basemap="none")
    added = map_layer_add(map=new, layer=values, by=world.analyst)
    map_layer_update(
        map_layer=MapLayer.objects.get(pk=added.pk),
        by=world.analyst,
        style={"type": "graduated", "attribute": "value", "method": "quantile", "classes": 5},
    )
    fields = {f["name"]: f["type"] for f in FLAG_SCHEMA}

    def resolved(ramp: str, classes: int) -> dict[str, Any]:
        style = {"type": "graduated", "attribute": "value", "method": "quantile"}
        return style_resolve(
            {**style, "ramp": ramp, "classes": classes},
            version_id=values.current_version_id,
            fields=fields,
        )

    expected = {(r, n): legend_for(resolved(r, n)) for r, n in (("blues", 5), ("ylorrd", 7))}
    swatches = (
        "(sel) => Array.from(document.querySelectorAll(sel))"
        ".map(s => getComputedStyle(s).backgroundColor)"
    )

    def rgb(colors: list[str]) -> list[str]:
        return ["rgb({}, {}, {})".format(*hex_rgb(c)) for c in colors]

    with browser_page() as page:
        log_in(page, live_server.url, "analyst")
        page.goto(f"{live_server.url}/maps/{new.pk}/edit/")
        box = page.locator("fieldset.composer-layer")
        box.wait_for()
        assert box.locator("select[name=ramp]").input_value() == "blues"
        assert page.evaluate(swatches, ".ramp-preview .swatch") == rgb(ramp_colors("blues", 5))
        assert page.evaluate(swatches, "fieldset .legend .swatch") == rgb(
            [e["color"] for e in expected[("blues", 5)]]
        )
        box.locator("select[name=ramp]").select_option("ylorrd")
        page.wait_for_function(
            "() => document.querySelector('fieldset select[name=ramp]').value === 'ylorrd'"
            " && document.getElementById('composer-status').dataset.pending === '0'"
        )
        classes = page.locator("fieldset.composer-layer input[name=classes]")
        classes.fill("7")
        classes.press("Tab")
        page.wait_for_function(
            "() => document.querySelectorAll('.ramp-preview .swatch').length === 7"
            " && document.getElementById('composer-status').dataset.pending === '0'"
        )
        assert page.evaluate(swatches, ".ramp-preview .swatch") == rgb(ramp_colors("ylorrd", 7))
        legend = page.evaluate(
            "() => Array.from(document.querySelectorAll('fieldset .legend li'))"
            ".map(li => li.textContent)"
        )
        assert legend == [e["label"] for e in expected[("ylorrd", 7)]]
        assert page.evaluate(swatches, "fieldset .legend .swatch") == rgb(
            [e["color"] for e in expected[("ylorrd", 7)]]
        )
