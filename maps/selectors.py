"""Reads for map pages: always narrowed by the user's scope (projects/access.py)."""

from typing import Any

from django.conf import settings
from django.db.models import Max, QuerySet
from django.urls import reverse

from layers.tiles import VIEWER_MAX_ZOOM, layer_name
from layers.tiles.views import tile_url_template
from maps.models import Map, MapVersion
from projects.access import UserLike, is_provider_staff
from projects.models import Project, ServiceAgreement


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
    return is_provider_staff(user, project)


def published_versions_of_agreement(user: UserLike, agreement: ServiceAgreement) -> list[Any]:
    """The agreement's published map versions the user may see, newest first (one per map)."""
    latest: dict[int, Any] = {}
    for version in (
        MapVersion.objects.visible_to(user)
        .filter(map__project__agreement=agreement)
        .select_related("map__project")
        .order_by("map_id", "-number")
    ):
        latest.setdefault(version.map_id, version)
    return sorted(latest.values(), key=lambda v: v.published_at, reverse=True)


def basemap_config(key: str) -> dict[str, Any]:
    basemap = settings.BASEMAPS.get(key) or settings.BASEMAPS["none"]
    return {"key": key, **basemap}


def tile_template(layer: dict[str, Any], *, token: str | None = None) -> str:
    base = (
        reverse("maps:share-tile", args=[token, layer["layer_id"], 0, 0, 0]).replace(
            "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
        )
        if token
        else tile_url_template(layer["layer_id"])
    )
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
            }
            for layer in definition["layers"]
        ],
        "urls": urls or {},
    }
