"""Reads for map pages: always narrowed by the user's scope (projects/access.py)."""

from typing import Any

from django.conf import settings
from django.db.models import Max, QuerySet
from django.urls import reverse

from layers.selectors import drawable_versions
from maps.models import Map, MapVersion
from maps.tiles import VIEWER_MAX_ZOOM, layer_name
from projects.access import UserLike, scope_for
from projects.models import Project


def maps_visible_to(user: UserLike) -> QuerySet[Map]:
    return (
        Map.objects.visible_to(user)
        .select_related("project__agreement__client")
        .annotate(latest_number=Max("versions__number"))
        .order_by("project__name", "title")
    )


def maps_of_project(user: UserLike, project: Project) -> QuerySet[Map]:
    return maps_visible_to(user).filter(project=project)


def latest_version(map: Map) -> MapVersion | None:
    return map.versions.order_by("-number").first()


def is_provider_of(user: UserLike, project: Project) -> bool:
    return project.agreement.provider_id in scope_for(user).provider_ids


def tile_version_for(user: UserLike, layer_id: int, version_id: str | None) -> tuple | None:
    """(version id, schema, feature count) of a layer version the user may draw, else None.

    Without an explicit version: the current one for provider staff, the latest published one
    for clients (whose queryset only holds published versions).
    """
    qs = drawable_versions(user, layer_id, version_id)
    return None if qs is None else qs.values_list("pk", "schema", "feature_count").first()


def basemap_config(key: str) -> dict[str, Any]:
    basemap = settings.BASEMAPS.get(key) or settings.BASEMAPS["none"]
    return {"key": key, **basemap}


def raster_urls(layer: dict[str, Any], *, token: str | None = None) -> dict[str, str]:
    """Tile template (styled PNG) and identify URL of a raster layer of a map definition."""
    from layers.raster.tiles import style_token

    lid, vid = layer["layer_id"], layer["version_id"]
    if token:
        tile = reverse("maps:share-raster-tile", args=[token, lid, 0, 0, 0, "png"])
        point = reverse("maps:share-identify", args=[token, lid])
    else:
        tile = reverse("layers:raster-tile", args=[lid, 0, 0, 0, "png"])
        point = reverse("layers:raster-identify", args=[lid])
    query = f"?v={vid}&style={style_token(layer['style'])}"
    return {
        "tiles": tile.replace("/0/0/0.png", "/{z}/{x}/{y}.png") + query,
        "identify": point + f"?v={vid}",
    }


def is_raster_layer(layer: dict[str, Any]) -> bool:
    return str(layer.get("style", {}).get("type", "")).startswith("raster_")


def tile_template(layer: dict[str, Any], *, token: str | None = None) -> str:
    if is_raster_layer(layer):
        return raster_urls(layer, token=token)["tiles"]
    base = (
        reverse("maps:share-tile", args=[token, layer["layer_id"], 0, 0, 0])
        if token
        else reverse("maps:tile", args=[layer["layer_id"], 0, 0, 0])
    )
    base = base.replace("/0/0/0.pbf", "/{z}/{x}/{y}.pbf")
    query = f"?v={layer['version_id']}"
    if layer["fields"]:
        query += "&fields=" + ",".join(layer["fields"])
        # Generalised low-zoom tiles only need what colours a feature.
        query += "&coarse=" + (layer["style"].get("attribute") or "")
    return base + query


def viewer_config(
    definition: dict[str, Any], *, token: str | None = None, urls: dict[str, str] | None = None
) -> dict[str, Any]:
    """What static/js/maps.js needs to draw a map definition (a version's or the draft's)."""
    return {
        "title": definition["title"],
        "basemap": basemap_config(definition["basemap"]),
        "extent": definition["extent"],
        "max_native_zoom": VIEWER_MAX_ZOOM,
        "layers": [
            {
                **{k: layer[k] for k in ("key", "title", "visible", "opacity", "geometry_type")},
                "style": layer["style"],
                "name": layer_name(layer["layer_id"]),
                "tiles": tile_template(layer, token=token),
                **(
                    {"kind": "raster", "identify": raster_urls(layer, token=token)["identify"]}
                    if is_raster_layer(layer)
                    else {}
                ),
            }
            for layer in definition["layers"]
        ],
        "urls": urls or {},
    }
