"""The one collection abstraction behind every /ogc/ path: which layer versions a reader may see.

A user reads, per layer, the current version (provider staff of its project's agreement) or the
latest published one (client users); older versions stay addressable as `layer-<id>-v<number>`.
A share link reads the layer versions its map version pins, with only the attributes the map
shows. Anything else answers 404, exactly like a collection that does not exist.
Vector and raster layers are both collections, under the same visibility rules: a raster one
carries its RasterVersion (pixels, bands) and is served as map tiles instead of features, drawn
as published: a client's and a share link's in the raster style of the map version that names it
(its layer entry's), provider staff's in the layer's default style (their working copy).

Reads maps.models.MapVersion (the map and version a layer version was published in) and
ShareLink: the only things of maps this app touches.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F
from django.http import Http404

from layers.models import Feature, Layer, LayerVersion, RasterVersion
from layers.selectors import version_for
from maps.models import MapVersion, ShareLink
from ogc.auth import Principal
from projects.access import get_object_for, is_provider_staff, scope_for
from projects.db import read_cursor

COLLECTION_ID = re.compile(r"^layer-(\d+)(?:-v(\d+))?$")
DATE_TYPES = ("date", "datetime")


@dataclass
class Collection:
    id: str
    layer: Layer
    version: LayerVersion
    title: str
    # attribute name -> schema type, in source order (a share link: the map's fields only)
    fields: dict[str, str]
    restricted: bool = False  # True when `fields` is a subset of the schema (share links)
    published_in: list[dict[str, Any]] = field(default_factory=list)
    is_latest: bool = True
    raster: RasterVersion | None = None  # set for raster layers: map tiles, no items
    # A raster's style as a map version stores it (None: the layer's default style), and which
    # map version that is ({"map_id", "map_version"}).
    style: dict[str, Any] | None = None
    style_from: dict[str, Any] | None = None

    @property
    def is_raster(self) -> bool:
        return self.raster is not None

    @property
    def date_field(self) -> str | None:
        return next((n for n, t in self.fields.items() if t in DATE_TYPES), None)

    @property
    def extent(self) -> list[float] | None:
        if self.version.extent is not None:
            return [float(v) for v in self.version.extent.extent]
        return _scanned_extent(self.version.pk)


def collection_id(layer_id: int, number: int | None = None) -> str:
    return f"layer-{layer_id}" + (f"-v{number}" if number is not None else "")


def _scanned_extent(version_id: int) -> list[float] | None:
    """Versions made without the import service (fixtures) have no recorded extent."""
    with read_cursor(Feature) as cur:
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) AS e FROM layers_feature WHERE version_id = %s) s",
            [version_id],
        )
        row = cur.fetchone()
    return [float(v) for v in row] if row and row[0] is not None else None


def _schema_fields(version: LayerVersion) -> dict[str, str]:
    return {
        str(f["name"]): str(f.get("type", "string")) for f in version.schema or [] if f.get("name")
    }


def _published_in(version_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    through = MapVersion.layer_versions.through
    out: dict[int, list[dict[str, Any]]] = {v: [] for v in version_ids}
    rows = (
        through.objects.filter(layerversion_id__in=version_ids)
        .values_list("layerversion_id", "mapversion_id", "mapversion__number",
                     "mapversion__map_id", "mapversion__map__title", "mapversion__published_at")
        .order_by("mapversion__published_at")
    )  # fmt: skip
    for lv, mv, number, map_id, title, published in rows:
        out[lv].append(
            {"map_id": map_id, "map_title": title, "map_version_id": mv, "map_version": number,
             "published_at": published.isoformat() if published else None}
        )  # fmt: skip
    return out


def _raster_of(version: LayerVersion) -> RasterVersion | None:
    if version.layer.kind != Layer.Kind.RASTER:
        return None
    try:
        return version.raster
    except RasterVersion.DoesNotExist:
        return None


def _servable(version: LayerVersion) -> bool:
    """A raster version whose pixels are missing (a failed import) is no collection."""
    return version.layer.kind != Layer.Kind.RASTER or _raster_of(version) is not None


def _user_collection(version: LayerVersion, *, latest: bool) -> Collection:
    layer = version.layer
    raster = _raster_of(version)
    return Collection(
        id=collection_id(layer.pk, None if latest else version.number),
        layer=layer,
        version=version,
        title=layer.name if latest else f"{layer.name} (version {version.number})",
        fields={} if raster is not None else _schema_fields(version),
        is_latest=latest,
        raster=raster,
    )


def _share_collections(link: ShareLink) -> list[Collection]:
    pinned = {v.pk: v for v in link.version.layer_versions.select_related("layer", "raster")}
    out = []
    for entry in link.version.definition.get("layers", []):
        version = pinned.get(entry.get("version_id"))
        if version is None or not _servable(version):
            continue
        schema = {} if _raster_of(version) is not None else _schema_fields(version)
        fields = {n: schema[n] for n in entry.get("fields") or [] if n in schema}
        raster = _raster_of(version)
        out.append(
            Collection(
                id=collection_id(version.layer_id),
                layer=version.layer,
                version=version,
                title=str(entry.get("title") or version.layer.name),
                fields=fields,
                restricted=True,
                raster=raster,
                style=entry.get("style") if raster is not None else None,
                style_from={"map_id": link.version.map_id, "map_version": link.version.number}
                if raster is not None
                else None,
            )
        )
    return out


def _apply_map_styles(principal: Principal, found: list[Collection]) -> None:
    """A client's raster collection is drawn in the style of the newest map version it was
    published in (the last of `published_in`): the pixels the portal viewer shows for it.

    Provider staff keep the default style: their collections are the working layers, which no
    single map's styling speaks for. Share links already carry their map's style.
    """
    if principal.share is not None:
        return
    wanted = [
        c for c in found
        if c.is_raster and c.published_in and not is_provider_staff(principal.user, c.layer)
    ]  # fmt: skip
    definitions = dict(
        MapVersion.objects.filter(
            pk__in={c.published_in[-1]["map_version_id"] for c in wanted}
        ).values_list("pk", "definition")
    )
    for c in wanted:
        newest = c.published_in[-1]
        entries = definitions.get(newest["map_version_id"], {}).get("layers", [])
        entry = next((e for e in entries if e.get("version_id") == c.version.pk), None)
        if entry is not None and entry.get("style"):
            c.style = entry["style"]
            c.style_from = {"map_id": newest["map_id"], "map_version": newest["map_version"]}


def collections_for(principal: Principal) -> list[Collection]:
    if principal.share is not None:
        found = _share_collections(principal.share)
    else:
        user = principal.user
        scope = scope_for(user)
        visible = LayerVersion.objects.visible_to(user).select_related("layer", "raster")
        staff = list(
            visible.filter(
                layer__project__agreement__provider_id__in=scope.provider_ids,
                layer__current_version=F("pk"),
            )
        )
        seen = {v.layer_id for v in staff}
        published = (
            visible.filter(
                layer__project__agreement__client_id__in=scope.client_ids,
                published_at__isnull=False,
            )
            .order_by("layer_id", "-number")
            .distinct("layer_id")
        )
        found = [_user_collection(v, latest=True) for v in staff if _servable(v)] + [
            _user_collection(v, latest=True)
            for v in published
            if v.layer_id not in seen and _servable(v)
        ]
        found.sort(key=lambda c: (c.layer.name.lower(), c.layer.pk))
    maps = _published_in([c.version.pk for c in found])
    for c in found:
        c.published_in = maps.get(c.version.pk, [])
    _apply_map_styles(principal, found)
    return found


def collection_for(principal: Principal, cid: str) -> Collection:
    """The collection `cid` if the reader may see it, else 404 (missing or another agency's)."""
    match = COLLECTION_ID.match(cid)
    if match is None:
        raise Http404("No such collection.")
    layer_id, number = int(match[1]), int(match[2]) if match[2] else None
    if principal.share is not None:
        found = next(
            (c for c in _share_collections(principal.share) if c.layer.pk == layer_id), None
        )
        if found is None or (number is not None and number != found.version.number):
            raise Http404("No such collection.")
    else:
        layer = get_object_for(principal.user, Layer.objects.all(), pk=layer_id)
        version = version_for(principal.user, layer, number)
        version.layer = layer
        if not _servable(version):
            raise Http404("No such collection.")
        found = _user_collection(version, latest=number is None)
        if number is not None:
            found.id = cid
    found.published_in = _published_in([found.version.pk])[found.version.pk]
    _apply_map_styles(principal, [found])
    return found


def older_versions(principal: Principal, collection: Collection) -> list[LayerVersion]:
    """Other versions of the layer the reader may also address (never through a share link)."""
    if principal.share is not None:
        return []
    from layers.selectors import versions_for

    return [
        v for v in versions_for(principal.user, collection.layer) if v.pk != collection.version.pk
    ]
