"""A share link's read-only OGC API: its map version's layers only, the fields the map shows."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from maps.services import share_link_create, share_link_revoke
from tests.conftest import World
from tests.map_factories import make_published_map, tile_of
from tests.ogc_helpers import get_json

pytestmark = pytest.mark.django_db


def test_a_share_link_serves_its_layers_with_only_the_fields_the_map_shows(world: World) -> None:
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=30)
    make_published_map(project=world.project_a, by=world.analyst, n=3, title="Other map")
    link = share_link_create(
        version=version, by=world.analyst, expires_at=timezone.now() + timedelta(days=1)
    )
    base = f"/ogc/share/{link.token}"
    client = Client()
    (collection,) = get_json(client, f"{base}/collections")["collections"]
    layer_id = version.definition["layers"][0]["layer_id"]
    assert collection["id"] == f"layer-{layer_id}"
    page = get_json(client, f"{base}/collections/layer-{layer_id}/items?limit=100")
    assert page["numberMatched"] == 30
    # The map's popup shows zone and name; "value" stays private.
    assert set(page["features"][0]["properties"]) == {"zone", "name"}
    queryables = get_json(client, f"{base}/collections/layer-{layer_id}/queryables")["properties"]
    assert set(queryables) == {"geometry", "zone", "name"}
    assert (
        client.get(f"{base}/collections/layer-{layer_id}/items?filter=value>1").status_code == 400
    )
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    tile = client.get(f"{base}/collections/layer-{layer_id}/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert tile.status_code == 200 and tile["Content-Type"] == "application/vnd.mapbox-vector-tile"
    share_link_revoke(link=link, by=world.analyst)
    assert client.get(f"{base}/collections").status_code == 404


def test_a_share_link_does_not_open_other_layers_of_the_project(world: World) -> None:
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=3)
    _, other = make_published_map(project=world.project_a, by=world.analyst, n=3, title="Other")
    link = share_link_create(
        version=version, by=world.analyst, expires_at=timezone.now() + timedelta(days=1)
    )
    other_layer = other.definition["layers"][0]["layer_id"]
    response = Client().get(f"/ogc/share/{link.token}/collections/layer-{other_layer}/items")
    assert response.status_code == 404
    assert Client().get("/ogc/share/not-a-token/collections").status_code == 404
