"""Server-rendered exports (PNG, PDF), thumbnails, search and downloads of a published version."""

import io
import json

import pytest
from django.urls import reverse
from PIL import Image

from maps.models import MapVersion
from tests.map_factories import make_published_map

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(world) -> MapVersion:
    return make_published_map(project=world.project_a, by=world.analyst, n=40)[1]


def category_color(version: MapVersion, zone: str) -> tuple[int, int, int]:
    style = version.definition["layers"][0]["style"]
    hex_color = next(c["color"] for c in style["categories"] if c["value"] == zone)
    return tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))


def test_the_png_export_draws_the_styled_features_legend_and_frame(version, as_town_a) -> None:
    url = reverse("maps:export", args=[version.pk, "png"])
    response = as_town_a.get(url + "?bbox=-122.3605,38.3995,-122.3395,38.4035&width=900&height=600")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "attachment" in response["Content-Disposition"]
    image = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert image.size == (900, 600)
    colors = {c for _n, c in image.getcolors(maxcolors=100_000)}
    # Each zone's fill is blended at 60% opacity over the background; its hue is in the image.
    for zone in ("R1", "C"):
        r, g, b = category_color(version, zone)
        blended = tuple(
            round(0.6 * c + 0.4 * bg) for c, bg in zip((r, g, b), (242, 239, 233), strict=True)
        )
        assert any(all(abs(x - y) <= 3 for x, y in zip(c, blended, strict=True)) for c in colors), (
            zone
        )


def test_hidden_layers_are_left_out_of_the_export(version, as_town_a) -> None:
    url = reverse("maps:export", args=[version.pk, "png"])
    shown = as_town_a.get(url + "?layers=" + str(version.definition["layers"][0]["key"]))
    hidden = as_town_a.get(url + "?layers=")
    n_shown = len(Image.open(io.BytesIO(shown.content)).getcolors(100_000))
    n_hidden = len(Image.open(io.BytesIO(hidden.content)).getcolors(100_000))
    assert n_shown > n_hidden


def test_the_pdf_export_is_a_one_page_pdf(version, as_town_a) -> None:
    from pypdf import PdfReader

    response = as_town_a.get(reverse("maps:export", args=[version.pk, "pdf"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1


def test_an_unknown_export_format_is_a_404(version, as_town_a) -> None:
    assert as_town_a.get(reverse("maps:export", args=[version.pk, "tiff"])).status_code == 404


def test_a_thumbnail_is_drawn_on_the_fly_until_the_worker_has_stored_it(version, as_town_a) -> None:
    from maps.services import map_version_thumbnail_store

    url = reverse("maps:thumbnail", args=[version.pk])
    first = as_town_a.get(url)
    assert first.status_code == 200 and Image.open(io.BytesIO(first.content)).size == (320, 200)
    version.refresh_from_db()
    assert version.thumbnail is None  # reading never writes
    stored = map_version_thumbnail_store(version_id=version.pk)
    assert stored == first.content
    # Served as stored: a changed row is what the page gets.
    MapVersion.objects.filter(pk=version.pk).update(thumbnail=b"stored")
    assert as_town_a.get(url).content == b"stored"


def test_the_worker_stores_the_thumbnail_once_the_version_is_published(
    world, celery_worker: str
) -> None:
    import time

    _, published = make_published_map(project=world.project_b, by=world.analyst, n=3)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        published.refresh_from_db()
        if published.thumbnail is not None:
            break
        time.sleep(0.2)
    assert published.thumbnail is not None
    assert Image.open(io.BytesIO(bytes(published.thumbnail))).size == (320, 200)


def test_the_map_list_shows_thumbnails_of_published_maps(version, as_town_a) -> None:
    body = as_town_a.get(reverse("maps:list")).content.decode()
    assert reverse("maps:thumbnail", args=[version.pk]) in body


def test_search_finds_features_by_attribute_value(version, as_town_a) -> None:
    response = as_town_a.get(reverse("maps:search", args=[version.pk]) + "?q=parcel 3")
    results = response.json()["results"]
    assert [r["label"] for r in results] == ["Parcel 3", "Parcel 30", "Parcel 31", "Parcel 32",
                                             "Parcel 33", "Parcel 34", "Parcel 35", "Parcel 36",
                                             "Parcel 37", "Parcel 38", "Parcel 39"]  # fmt: skip
    first = results[0]
    assert first["properties"] == {"name": "Parcel 3", "zone": "I"}
    w, s, e, n = first["bbox"]
    assert w < e and s < n and w > -122.36


def test_search_patterns_are_literal(version, as_town_a) -> None:
    url = reverse("maps:search", args=[version.pk])
    assert as_town_a.get(url + "?q=%25").json()["results"] == []
    assert as_town_a.get(url + "?q=_").json()["results"] == []


def test_the_viewer_offers_downloads_of_the_pinned_layer_version(world, version) -> None:
    from tests.conftest import client_for
    from tests.map_factories import add_parcels, make_layer_version

    layer = version.layer_versions.get().layer
    newer = make_layer_version(layer=layer)  # a later import must not change the download
    add_parcels(newer, n=2)
    page = client_for(world.manager_a).get(reverse("maps:version", args=[version.pk]))
    links = [u for u in page.context["downloads"][0][1]]
    geojson = next(url for label, url in links if label == "GeoJSON")
    assert geojson.endswith("?version=1")
    response = client_for(world.manager_a).get(geojson)
    assert response.status_code == 200
    data = json.loads(b"".join(response.streaming_content))
    assert len(data["features"]) == 40
    assert client_for(world.manager_b).get(geojson).status_code == 404


def test_labels_come_from_the_label_attribute_within_the_view(world, as_town_a, as_town_b) -> None:
    from maps.models import MapLayer
    from maps.services import map_layer_update, map_publish
    from tests.map_factories import make_map

    new = make_map(project=world.project_a, by=world.analyst, n=20)
    map_layer_update(
        map_layer=MapLayer.objects.get(map=new),
        by=world.analyst,
        style={"type": "single", "label": {"attribute": "name", "min_zoom": 15}},
    )
    version = map_publish(map=new, by=world.analyst, notes="")
    key = version.definition["layers"][0]["key"]
    url = reverse("maps:labels", args=[version.pk]) + f"?layer={key}"
    # Parcels 0 and 1 only (the first two of the first row).
    labels = as_town_a.get(url + "&bbox=-122.3601,38.3999,-122.3594,38.4004").json()["labels"]
    assert sorted(text for _x, _y, text in labels) == ["Parcel 0", "Parcel 1"]
    assert all(-122.3601 < x < -122.3594 and 38.3999 < y < 38.4004 for x, y, _t in labels)
    assert as_town_b.get(url + "&bbox=-123,38,-122,39").status_code == 404
    assert as_town_a.get(url + "&bbox=nonsense").json() == {"labels": []}
