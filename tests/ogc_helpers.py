"""Shared set-up of the OGC API tests: a published parcel layer of town A and a token."""

import base64
from dataclasses import dataclass
from typing import Any

from django.test import Client

from layers.models import Layer
from ogc.services import token_create
from tests.conftest import World
from tests.map_factories import make_published_map


@dataclass
class Published:
    layer: Layer
    version: Any  # MapVersion
    cid: str


def publish_parcels(world: World, n: int = 250) -> Published:
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=n)
    layer_id = int(version.definition["layers"][0]["layer_id"])
    return Published(layer=Layer.objects.get(pk=layer_id), version=version, cid=f"layer-{layer_id}")


def token_for(user: Any, **kw: Any) -> str:
    return token_create(user=user, name=kw.pop("name", "tests"), by=user, **kw)[1]


def basic(username: str, token: str) -> dict[str, str]:
    value = base64.b64encode(f"{username}:{token}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {value}"}


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def get_json(client: Client, url: str, **headers: str) -> Any:
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code, response.content[:500])
    return response.json()


def publish_raster(
    world: World, tmp_path: Any, n: int = 5, style: dict[str, Any] | None = None
) -> tuple[Published, str]:
    """Town A's published map with parcels and an elevation model: (parcels, raster collection id).

    The elevation model is drawn in `style` (the map layer's raster style), else the default one.
    The caller points MEDIA_ROOT at tmp_path (the COG is written there).
    """
    from maps.services import map_layer_add, map_layer_update, map_publish
    from tests import raster_data
    from tests.raster_helpers import import_raster

    map_, version = make_published_map(project=world.project_a, by=world.analyst, n=n)
    layer_id = int(version.definition["layers"][0]["layer_id"])
    dem = import_raster(
        raster_data.dem(tmp_path / "dem.tif", size=64),
        project=world.project_a,
        by=world.analyst,
        name="Elevation A",
    )
    added = map_layer_add(map=map_, layer=dem.layer, by=world.analyst)
    if style is not None:
        map_layer_update(map_layer=added, by=world.analyst, style=style)
    version = map_publish(map=map_, by=world.analyst, notes="with elevation")
    parcels = Published(
        layer=Layer.objects.get(pk=layer_id), version=version, cid=f"layer-{layer_id}"
    )
    return parcels, f"layer-{dem.layer_id}"
