"""Layers with generated features, made straight in PostGIS (no import service needed)."""

import math
from itertools import count
from typing import Any

from django.db import connection

from layers import partitions
from layers.models import Layer, LayerVersion
from projects.models import Project

_seq = count(1)

PARCEL_SCHEMA = [
    {"name": "zone", "type": "string"},
    {"name": "value", "type": "real"},
    {"name": "name", "type": "string"},
]


def make_layer_version(
    *, layer: Layer, schema: list[dict[str, str]] | None = None, geometry_type: str = "Polygon"
) -> LayerVersion:
    number = (layer.versions.count() or 0) + 1
    version = LayerVersion.objects.create(
        layer=layer,
        number=number,
        source_filename=f"{layer.name}.gpkg",
        source_format="GPKG",
        geometry_type=geometry_type,
        schema=schema if schema is not None else PARCEL_SCHEMA,
    )
    layer.current_version = version
    layer.save(update_fields=["current_version"])
    return version


def add_parcels(
    version: LayerVersion,
    *,
    n: int,
    lon: float = -122.36,
    lat: float = 38.40,
    step: float = 0.0004,
    size: float = 0.0003,
    cols: int = 50,
    zones: tuple[str, ...] = ("R1", "R2", "C", "I"),
) -> None:
    """n square parcels on a grid starting at (lon, lat); zone cycles, value = 10 × index."""
    with connection.cursor() as cur:
        partitions.create_attached(cur, version.pk)
        cur.execute(
            "INSERT INTO layers_feature (version_id, fid, geom, properties) "
            "SELECT %(v)s, i, ST_MakeEnvelope(%(lon)s + (i %% %(cols)s) * %(step)s, "
            "  %(lat)s + (i / %(cols)s) * %(step)s, %(lon)s + (i %% %(cols)s) * %(step)s + %(size)s, "
            "  %(lat)s + (i / %(cols)s) * %(step)s + %(size)s, 4326), "
            "jsonb_build_object('zone', (%(zones)s::text[])[1 + i %% %(nz)s], 'value', i * 10, "
            "  'name', 'Parcel ' || i) "
            "FROM generate_series(0, %(n)s - 1) i",
            {
                "v": version.pk,
                "lon": lon,
                "lat": lat,
                "step": step,
                "size": size,
                "cols": cols,
                "n": n,
                "zones": list(zones),
                "nz": len(zones),
            },
        )
    version.feature_count = version.features.count()
    version.save(update_fields=["feature_count"])


def make_parcel_layer(*, project: Project, n: int = 40, **kw: Any) -> Layer:
    layer = Layer.objects.create(project=project, name=kw.pop("name", f"Parcels {next(_seq)}"))
    version = make_layer_version(layer=layer)
    add_parcels(version, n=n, **kw)
    return layer


def make_map(*, project: Project, by: Any, n: int = 40, title: str = "Zoning", **kw: Any) -> Any:
    """A draft map with one parcel layer styled by zone, popups on zone and name."""
    from maps.models import MapLayer
    from maps.services import map_create, map_layer_add, map_layer_update

    layer = make_parcel_layer(project=project, n=n, **kw)
    new = map_create(project=project, title=title, by=by, basemap="none")
    map_layer = map_layer_add(map=new, layer=layer, by=by)
    map_layer_update(
        map_layer=MapLayer.objects.get(pk=map_layer.pk),
        by=by,
        style={
            "type": "categorized",
            "attribute": "zone",
            "popup": [{"attribute": "zone", "alias": "Zoning"}, {"attribute": "name"}],
        },
    )
    return new


def make_published_map(*, project: Project, by: Any, **kw: Any) -> Any:
    """(map, version) with the map published once."""
    from maps.services import map_publish

    new = make_map(project=project, by=by, **kw)
    return new, map_publish(map=new, by=by, notes="First release")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """(z, x, y) of the XYZ tile holding a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y
