"""Reads for map pages: always narrowed by the user's scope (projects/access.py)."""

import json
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone

from layers.models import Feature
from layers.tiles import VIEWER_MAX_ZOOM, layer_name
from layers.tiles.selectors import VersionRow
from layers.tiles.views import tile_url_template
from maps.models import Map, MapVersion, ShareLink
from projects.access import UserLike, is_provider_staff
from projects.db import read_cursor
from projects.models import Project, ServiceAgreement
from projects.srid import STORAGE_SRID


def as_dict(value: Any) -> dict[str, Any]:
    """JSONB from a raw cursor arrives as text (Django leaves parsing to JSONField)."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


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
    latest = (
        MapVersion.objects.visible_to(user)
        .filter(map__project__agreement=agreement)
        .select_related("map__project")
        # The list shows titles and dates: not each version's definition and thumbnail (PNG).
        .defer("definition", "thumbnail")
        .order_by("map_id", "-number")
        .distinct("map_id")  # PostgreSQL DISTINCT ON: the newest version of each map
    )
    return sorted(latest, key=lambda v: v.published_at, reverse=True)


def _tile_rows(version: MapVersion) -> dict[tuple[int, int], VersionRow]:
    """(layer id, layer version id) -> (version id, schema, feature count) of each layer drawn.

    The schema holds only the attributes the published map shows (its style, labels and popups):
    nothing else of the layer is reachable through a share link, whatever a request asks for.
    """
    shown = {
        (layer["layer_id"], layer["version_id"]): set(layer["fields"])
        for layer in version.definition["layers"]
    }
    rows: dict[tuple[int, int], VersionRow] = {}
    for pk, layer_id, schema, count in version.layer_versions.values_list(
        "pk", "layer_id", "schema", "feature_count"
    ):
        fields = shown.get((layer_id, pk))
        if fields is not None:
            rows[(layer_id, pk)] = (pk, [f for f in schema if str(f.get("name")) in fields], count)
    return rows


# Per process: token -> (monotonic deadline, the link's expiry, its tile rows). A visitor's burst
# of tiles used to pay two queries per tile (the link with its version's definition, then the
# layer version) and a pool checkout; the resolved set is reused for SHARE_TILE_MEMO_SECONDS.
# A revocation takes effect at once in the process that made it (share_link_revoke forgets the
# token) and within that bound in the other workers; an expiry at its exact time.
SHARE_TILE_MEMO_SECONDS = 5
ShareTiles = dict[tuple[int, int], VersionRow]
_share_tiles: dict[str, tuple[float, datetime | None, ShareTiles]] = {}


def share_link_tiles(token: str) -> ShareTiles | None:
    """The tile rows an active share link opens (see `share_tile_version`), None if it is not."""
    hit = _share_tiles.get(token)
    if (
        hit is not None
        and hit[0] > time.monotonic()
        and (hit[1] is None or hit[1] > timezone.now())
    ):
        return hit[2]
    link = ShareLink.objects.active().select_related("version").filter(token=token).first()
    if link is None:
        _share_tiles.pop(token, None)
        return None
    rows = _tile_rows(link.version)
    if len(_share_tiles) > 10_000:
        _share_tiles.clear()
    _share_tiles[token] = (time.monotonic() + SHARE_TILE_MEMO_SECONDS, link.expires_at, rows)
    return rows


def forget_share_link(token: str) -> None:
    _share_tiles.pop(token, None)


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
    """What the map modules (static/js/maps/) need to draw a definition (a version's or the draft's)."""
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


# --- search and labels of a published version (raw SQL on its pinned layer versions)

SEARCH_LIMIT = 20


def search_version(version: MapVersion, query: str) -> dict[str, Any]:
    """Features of the version's layers whose popup/label attributes contain `query` (SQL ILIKE)."""
    query = query.strip()
    results: list[dict[str, Any]] = []
    if len(query) < 1:
        return {"results": results}
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    for layer in version.definition["layers"]:
        fields = layer["fields"]
        if not fields or len(results) >= SEARCH_LIMIT:
            continue
        where = " OR ".join("properties ->> %s ILIKE %s" for _ in fields)
        params: list[Any] = [layer["version_id"]]
        for name in fields:
            params += [name, pattern]
        with read_cursor(Feature) as cur:
            cur.execute(
                "SELECT fid, properties, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
                f"FROM layers_feature WHERE version_id = %s AND ({where}) ORDER BY fid LIMIT %s",
                [*params, SEARCH_LIMIT - len(results)],
            )
            rows = cur.fetchall()
        for fid, props, *bbox in rows:
            props = as_dict(props)
            match = next(
                (n for n in fields if query.lower() in str(props.get(n, "")).lower()), fields[0]
            )
            results.append(
                {
                    "layer": layer["key"],
                    "layer_title": layer["title"],
                    "fid": fid,
                    "label": f"{props.get(match)}",
                    "attribute": match,
                    "properties": {n: props.get(n) for n in fields},
                    "bbox": bbox,
                }
            )
    return {"results": results}


LABEL_LIMIT = 300  # per request: more labels than this would not be legible in one view


def labels_in(version: MapVersion, *, layer_key: str, bbox: list[float] | None) -> dict[str, Any]:
    """Label points of one layer of the version in a bounding box (EPSG:4326), larger first."""
    layer = next((x for x in version.definition["layers"] if str(x["key"]) == layer_key), None)
    label = (layer or {}).get("style", {}).get("label")
    if layer is None or not label or bbox is None:
        return {"labels": []}
    with read_cursor(Feature) as cur:
        cur.execute(
            "SELECT ST_X(p), ST_Y(p), t FROM (SELECT ST_PointOnSurface(ST_Force2D(geom)) AS p, "
            "properties ->> %(a)s AS t, ST_Area(geom) AS area FROM layers_feature "
            "WHERE version_id = %(v)s::bigint AND properties ? %(a)s "
            f"AND geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, {STORAGE_SRID})) q "
            "WHERE t <> '' ORDER BY area DESC LIMIT %(limit)s",
            {"a": label["attribute"], "v": layer["version_id"], "w": bbox[0], "s": bbox[1],
             "e": bbox[2], "n": bbox[3], "limit": LABEL_LIMIT},
        )  # fmt: skip
        rows = cur.fetchall()
    return {"labels": [[round(x, 6), round(y, 6), text] for x, y, text in rows]}
