"""Vector tiles: PostGIS MVT with only the styled attributes, 204 when empty, ETag, cache, TileJSON."""

import mapbox_vector_tile
import pytest
from django.core.cache import cache
from django.urls import reverse

from layers import tiles
from layers.models import LayerVersion, TileOverview, TileOverviewState
from tests.map_factories import add_parcels, make_layer_version, make_parcel_layer, tile_of

pytestmark = pytest.mark.django_db


def tile_url(layer_id: int, z: int, x: int, y: int, **query: str) -> str:
    url = reverse("layers:tile", args=[layer_id, z, x, y])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def decode(response, layer_id: int) -> list[dict]:
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)[f"layer_{layer_id}"]["features"]


def test_a_tile_holds_the_features_with_only_the_requested_attributes(world, as_analyst) -> None:
    layer = make_parcel_layer(project=world.project_a, n=20)
    z, x, y = tile_of(-122.357, 38.401, 14)
    response = as_analyst.get(tile_url(layer.pk, z, x, y, fields="zone"))
    assert response.status_code == 200
    features = decode(response, layer.pk)
    assert len(features) == 20
    assert {f["id"] for f in features} == set(range(20))
    assert all(set(f["properties"]) == {"zone"} for f in features)
    by_id = {f["id"]: f["properties"]["zone"] for f in features}
    assert by_id[0] == "R1" and by_id[5] == "R2"


def test_numbers_stay_numbers_in_the_tile(world, as_analyst) -> None:
    layer = make_parcel_layer(project=world.project_a, n=3)
    z, x, y = tile_of(-122.3595, 38.4001, 16)
    features = decode(as_analyst.get(tile_url(layer.pk, z, x, y, fields="value,zone")), layer.pk)
    assert sorted(f["properties"]["value"] for f in features) == [0, 10, 20]


def test_an_unknown_attribute_is_a_400_with_its_name(world, as_analyst) -> None:
    layer = make_parcel_layer(project=world.project_a, n=3)
    response = as_analyst.get(tile_url(layer.pk, 14, 2640, 6335, fields="zone,owner_ssn"))
    assert response.status_code == 400 and "owner_ssn" in response.json()["detail"]


def test_an_empty_tile_is_a_204_with_etag_and_cache_control(world, as_analyst) -> None:
    layer = make_parcel_layer(project=world.project_a, n=3)
    response = as_analyst.get(tile_url(layer.pk, 10, 0, 0))
    assert response.status_code == 204
    assert response["ETag"] and "max-age" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_a_repeated_tile_answers_304_to_its_etag(world, as_analyst) -> None:
    layer = make_parcel_layer(project=world.project_a, n=3)
    url = tile_url(layer.pk, *tile_of(-122.3595, 38.4001, 15))
    etag = as_analyst.get(url)["ETag"]
    response = as_analyst.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response["ETag"] == etag


def test_tiles_are_cached_server_side_and_a_new_version_changes_the_key(world, as_analyst) -> None:
    layer = make_parcel_layer(project=world.project_a, n=5)
    old = layer.current_version
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    key = tiles.TileSpec(
        version_id=old.pk, layer_id=layer.pk, z=z, x=x, y=y, fields=(), coarse_fields=()
    ).key
    cache.delete(key)
    first = as_analyst.get(tile_url(layer.pk, z, x, y))
    assert cache.get(key) == first.content
    # Replacing the data makes a new version: the layer's tile changes, the old key stays valid.
    new = make_layer_version(layer=layer)
    add_parcels(new, n=2)
    second = as_analyst.get(tile_url(layer.pk, z, x, y))
    assert len(decode(second, layer.pk)) == 2 and second["ETag"] != first["ETag"]
    assert len(decode(as_analyst.get(tile_url(layer.pk, z, x, y, v=str(old.pk))), layer.pk)) == 5


def test_low_zooms_are_generalised_not_capped(world, as_analyst, settings) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    layer = make_parcel_layer(project=world.project_a, n=12_000, cols=120, step=0.0003)
    version = layer.current_version
    z, x, y = tile_of(-122.35, 38.41, 10)
    assert tiles.tile_source(version.pk, z) == "generalise"
    lazy = decode(as_analyst.get(tile_url(layer.pk, z, x, y, fields="zone")), layer.pk)
    tiles.overviews_prepare(version.pk)
    assert tiles.tile_source(version.pk, z) == "overview"
    assert tiles.tile_source(version.pk, 13) == "raw"
    prepared = decode(as_analyst.get(tile_url(layer.pk, z, x, y, fields="zone")), layer.pk)
    # ~26 m parcels at z10 (153 m pixels): one square per occupied 3-pixel cell over the area.
    cell = tiles.CELL_PX * tiles.EXTENT // 256
    assert 30 < len(prepared) < 12_000 and len(prepared) == len(lazy)
    squares = [f["geometry"]["coordinates"][0] for f in prepared]
    widths = [max(x for x, _ in ring) - min(x for x, _ in ring) for ring in squares]
    assert max(widths) <= cell + 1 and widths.count(cell) > len(widths) / 2  # some clipped at edges
    assert {f["properties"]["zone"] for f in prepared} <= {"R1", "R2", "C", "I"}
    assert sorted(f["id"] for f in prepared) == sorted(f["id"] for f in lazy)
    assert TileOverview.objects.filter(version=version, zoom=12).exists()
    prepare_again = TileOverview.objects.filter(version=version).count()
    tiles.overviews_prepare(version.pk)
    assert TileOverview.objects.filter(version=version).count() == prepare_again


def test_small_layers_need_no_overview(world) -> None:
    layer = make_parcel_layer(project=world.project_a, n=10)
    tiles.overviews_prepare(layer.current_version.pk)
    assert TileOverviewState.objects.get(version=layer.current_version).max_zoom == -1
    assert tiles.tile_source(layer.current_version.pk, 3) == "raw"


def test_tilejson_describes_the_tiles(world, as_analyst) -> None:
    layer = make_parcel_layer(project=world.project_a, n=10)
    response = as_analyst.get(
        reverse("layers:tilejson", args=[layer.pk]) + "?fields=zone", HTTP_HOST="testserver"
    )
    body = response.json()
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"][0].startswith("http://testserver/tiles/layers/")
    assert "{z}/{x}/{y}.pbf" in body["tiles"][0] and "fields=zone" in body["tiles"][0]
    assert body["vector_layers"] == [
        {"id": f"layer_{layer.pk}", "fields": {"zone": "string"}, "minzoom": 0, "maxzoom": 16}
    ]
    w, s, e, n = body["bounds"]
    assert -122.361 < w < e < -122.35 and 38.39 < s < n < 38.41
    assert (body["minzoom"], body["maxzoom"]) == (0, 16)


def test_clients_only_get_tiles_of_published_versions(world, as_town_a) -> None:
    from maps.services import map_publish
    from tests.map_factories import make_map

    new = make_map(project=world.project_a, by=world.analyst, n=5)
    layer = new.map_layers.get().layer
    url = tile_url(layer.pk, *tile_of(-122.3595, 38.4001, 15))
    assert as_town_a.get(url).status_code == 404  # draft
    map_publish(map=new, by=world.analyst, notes="v1")
    assert as_town_a.get(url).status_code == 200
    # A newer, unpublished import stays invisible; the published one keeps being served.
    newer = make_layer_version(layer=layer)
    add_parcels(newer, n=1)
    assert LayerVersion.objects.get(pk=newer.pk).published_at is None
    assert as_town_a.get(url + f"?v={newer.pk}").status_code == 404
    assert len(decode(as_town_a.get(url), layer.pk)) == 5


def test_generalised_tiles_carry_only_the_coarse_attributes(world, as_analyst) -> None:
    layer = make_parcel_layer(project=world.project_a, n=12_000, cols=120, step=0.0003)
    tiles.overviews_prepare(layer.current_version.pk)
    low = tile_url(layer.pk, *tile_of(-122.35, 38.41, 10), fields="name,zone", coarse="zone")
    assert {tuple(f["properties"]) for f in decode(as_analyst.get(low), layer.pk)} == {("zone",)}
    high = tile_url(layer.pk, *tile_of(-122.3595, 38.4001, 15), fields="name,zone", coarse="zone")
    features = decode(as_analyst.get(high), layer.pk)
    assert {tuple(sorted(f["properties"])) for f in features} == {("name", "zone")}


def test_an_allowed_tile_is_not_shared_with_another_session(world, as_town_a, as_town_b) -> None:
    from maps.services import map_publish
    from tests.map_factories import make_map

    new = make_map(project=world.project_a, by=world.analyst, n=5)
    version = map_publish(map=new, by=world.analyst, notes="v1")
    layer = version.definition["layers"][0]
    url = tile_url(layer["layer_id"], *tile_of(-122.3595, 38.4001, 15), v=str(layer["version_id"]))
    assert as_town_a.get(url).status_code == 200
    assert as_town_b.get(url).status_code == 404
    as_town_a.logout()
    assert as_town_a.get(url).status_code == 401
