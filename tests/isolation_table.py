"""The isolation table: every route of the portal with a request that reaches one of town A's objects.

tests/test_isolation_routes.py checks it against the URL resolver and plays it as each persona.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from collaboration.models import (
    Comment,
    CommentThread,
    DeliverablePackage,
    MapRequest,
    RequestAttachment,
    RequestEvent,
)
from hours.models import MonthClose, TimeEntry
from layers.models import ExportJob, ImportJob, Layer, LayerVersion
from maps.models import Map, MapLayer, MapVersion, ShareLink
from maps.services import map_layer_add, map_publish, share_link_create
from ogc.models import AccessToken
from ogc.services import token_create
from projects.models import Deliverable, ServiceAgreement
from tests import raster_data
from tests.conftest import World
from tests.hours_helpers import log
from tests.map_factories import make_published_map, tile_of
from tests.raster_helpers import import_raster

# Words that only town A's objects carry: none may reach another agency's response body.
TOWN_A_MARKERS = (b"Zoning A", b"Town A", b"A services", b"Zoning map A", b"Parcel 1")
# City GIS's work for town A: what County GIS, which also serves town A, must never see.
CITY_GIS_TOWN_A_MARKERS = tuple(m for m in TOWN_A_MARKERS if m != b"Town A")


def a_vector_version_id(version: MapVersion) -> int:
    """The version id of the map's (first) vector layer; the map also holds a raster."""
    return next(
        int(entry["version_id"])
        for entry in version.definition["layers"]
        if not entry["style"]["type"].startswith("raster_")
    )


@dataclass
class TownA:
    """One of each object of town A that a route can take."""

    world: World
    version: MapVersion
    map_layer: MapLayer
    link: ShareLink
    entry: TimeEntry
    job: ImportJob
    month: str
    ogc_token: AccessToken
    request: MapRequest
    attachment: RequestAttachment
    thread: CommentThread
    export: ExportJob

    def _entry(self, raster: bool) -> dict[str, Any]:
        return next(
            entry
            for entry in self.version.definition["layers"]
            if entry["style"]["type"].startswith("raster_") == raster
        )

    @property
    def layer_id(self) -> int:
        return int(self._entry(raster=False)["layer_id"])

    @property
    def layer_version_id(self) -> int:
        return int(self._entry(raster=False)["version_id"])

    @property
    def raster_layer_id(self) -> int:
        return int(self._entry(raster=True)["layer_id"])

    @property
    def raster_version_id(self) -> int:
        return int(self._entry(raster=True)["version_id"])


def make_town_a(world: World, settings: Any, tmp_path: Path) -> TownA:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from collaboration.services import comment_thread_create, map_request_file

    settings.MEDIA_ROOT = tmp_path
    map_, _ = make_published_map(project=world.project_a, by=world.analyst, n=5)
    # A published raster (an elevation model) beside the parcels: every raster route is covered.
    dem = import_raster(
        raster_data.dem(tmp_path / "dem.tif", size=64),
        project=world.project_a,
        by=world.analyst,
        name="Elevation A",
    )
    map_layer_add(map=map_, layer=dem.layer, by=world.analyst)
    version = map_publish(map=map_, by=world.analyst, notes="with elevation")
    request = map_request_file(
        agreement=world.agreement_a,
        title="Zoning A notice map",
        need="500-foot notice area for Parcel 1",
        needed_by=None,
        priority="normal",
        area_source="boundary",
        attachments=[SimpleUploadedFile("screenshot.png", b"png")],
        by=world.manager_a,
    )
    thread = comment_thread_create(
        version=version,
        geometry={"type": "Point", "coordinates": [-122.3595, 38.4001]},
        text="Zoning A: this parcel is wrong",
        by=world.manager_a,
    )
    return TownA(
        world=world,
        version=version,
        map_layer=MapLayer.objects.get(map=version.map, layer__kind="vector"),
        link=share_link_create(
            version=version, by=world.analyst, expires_at=timezone.now() + timedelta(days=7)
        ),
        entry=log(world.analyst, world.project_a, timezone.localdate(), "1"),
        job=ImportJob.objects.create(
            project=world.project_a,
            upload=SimpleUploadedFile("a.geojson", b"{}"),
            original_filename="a.geojson",
        ),
        month=f"{timezone.localdate():%Y-%m}",
        ogc_token=token_create(user=world.analyst, name="Analyst QGIS", by=world.analyst)[0],
        request=request,
        attachment=request.attachments.get(),
        thread=thread,
        # A prepared download asked for by town A's manager, of the published layer version.
        export=ExportJob.objects.create(
            version=LayerVersion.objects.get(pk=a_vector_version_id(version)),
            fmt="gpkg",
            srid=4326,
            created_by=world.manager_a,
        ),
    )


@dataclass(frozen=True)
class Route:
    method: str
    url: Callable[[TownA], str]
    body: Callable[[TownA], dict[str, Any]] = lambda a: {}
    json: bool = False


def _tile(a: TownA) -> str:
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    return reverse("layers:tile", args=[a.layer_id, z, x, y]) + f"?v={a.layer_version_id}"


def _raster_tile(a: TownA) -> str:
    z, x, y = tile_of(-122.3595, 38.4025, 16)
    return f"/tiles/layers/{a.raster_layer_id}/{z}/{x}/{y}.png?v={a.raster_version_id}"


def _ogc(a: TownA, path: str = "") -> str:
    return f"/ogc/collections/layer-{a.layer_id}{path}"


def _ogc_tile(a: TownA) -> str:
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    return _ogc(a, f"/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt")


def _ogc_raster(a: TownA, path: str = "") -> str:
    return f"/ogc/collections/layer-{a.raster_layer_id}{path}"


def _ogc_map_tile(a: TownA) -> str:
    z, x, y = tile_of(-122.3595, 38.4025, 16)
    return _ogc_raster(a, f"/map/tiles/WebMercatorQuad/{z}/{y}/{x}?f=png")


# Routes that take an object of an agency (in the path): 404 to every other agency.
OBJECT_ROUTES: dict[str, Route] = {
    "projects:project": Route("get", lambda a: f"/projects/{a.world.project_a.slug}/"),
    "projects:deliverable": Route("get", lambda a: f"/deliverables/{a.world.deliverable_a.pk}/"),
    "projects:deliverable-move": Route(
        "post",
        lambda a: f"/deliverables/{a.world.deliverable_a.pk}/move/",
        lambda a: {"to_status": "in_progress"},
    ),
    "projects:api-project": Route("get", lambda a: f"/api/projects/{a.world.project_a.slug}/"),
    "projects:api-deliverable": Route(
        "get", lambda a: f"/api/deliverables/{a.world.deliverable_a.pk}/"
    ),
    "layers:upload": Route("get", lambda a: f"/projects/{a.world.project_a.slug}/layers/upload/"),
    "layers:layer": Route("get", lambda a: f"/layers/{a.layer_id}/"),
    "layers:replace": Route("get", lambda a: f"/layers/{a.layer_id}/replace/"),
    "layers:delete": Route("post", lambda a: f"/layers/{a.layer_id}/delete/"),
    "layers:features": Route("get", lambda a: f"/layers/{a.layer_id}/features/"),
    "layers:geojson": Route("get", lambda a: f"/layers/{a.layer_id}/geojson/"),
    "layers:download": Route("get", lambda a: f"/layers/{a.layer_id}/download/geojson/"),
    "layers:api-import": Route(
        "post", lambda a: f"/api/projects/{a.world.project_a.slug}/layers/imports/"
    ),
    "layers:api-job": Route("get", lambda a: f"/api/imports/{a.job.pk}/"),
    "layers:export-create": Route(
        "post", lambda a: f"/layers/{a.layer_id}/exports/", lambda a: {"format": "gpkg"}
    ),
    "layers:export": Route("get", lambda a: f"/exports/{a.export.pk}/"),
    "layers:export-status": Route("get", lambda a: f"/exports/{a.export.pk}/status.json"),
    "layers:export-file": Route("get", lambda a: f"/exports/{a.export.pk}/file/"),
    "maps:create": Route(
        "post", lambda a: f"/maps/new/{a.world.project_a.slug}/", lambda a: {"title": "New"}
    ),
    "maps:map": Route("get", lambda a: f"/maps/{a.version.map_id}/"),
    "maps:edit": Route("get", lambda a: f"/maps/{a.version.map_id}/edit/"),
    "maps:publish": Route("post", lambda a: f"/maps/{a.version.map_id}/publish/"),
    "maps:version": Route("get", lambda a: f"/maps/versions/{a.version.pk}/"),
    "maps:thumbnail": Route("get", lambda a: f"/maps/versions/{a.version.pk}/thumbnail.png"),
    "maps:export": Route(
        "get", lambda a: f"/maps/versions/{a.version.pk}/export.png?width=200&height=150"
    ),
    "maps:search": Route("get", lambda a: f"/maps/versions/{a.version.pk}/search/?q=Parcel"),
    "maps:labels": Route(
        "get", lambda a: f"/maps/versions/{a.version.pk}/labels/?layer=1&bbox=-123,38,-122,39"
    ),
    "maps:attach": Route(
        "post",
        lambda a: f"/maps/versions/{a.version.pk}/attach/",
        lambda a: {"deliverable": a.world.deliverable_a.pk},
    ),
    "maps:share-create": Route("post", lambda a: f"/maps/versions/{a.version.pk}/share/"),
    "maps:share-revoke": Route("post", lambda a: f"/maps/share-links/{a.link.pk}/revoke/"),
    "layers:tilejson": Route("get", lambda a: f"/tiles/layers/{a.layer_id}/tilejson.json"),
    "layers:tile": Route("get", _tile),
    "layers:raster-tile": Route("get", _raster_tile),
    "layers:raster-identify": Route(
        "get",
        lambda a: (
            f"/tiles/layers/{a.raster_layer_id}/identify.json?v={a.raster_version_id}"
            "&lon=-122.3595&lat=38.4025"
        ),
    ),
    "maps:api-map": Route("patch", lambda a: f"/api/maps/{a.version.map_id}/", json=True),
    "maps:api-map-layers": Route(
        "post",
        lambda a: f"/api/maps/{a.version.map_id}/layers/",
        lambda a: {"layer_id": a.layer_id},
        json=True,
    ),
    "maps:api-map-order": Route(
        "post",
        lambda a: f"/api/maps/{a.version.map_id}/order/",
        lambda a: {"order": [a.map_layer.pk]},
        json=True,
    ),
    "maps:api-map-layer": Route(
        "delete", lambda a: f"/api/map-layers/{a.map_layer.pk}/", json=True
    ),
    "ogc:collection": Route("get", lambda a: _ogc(a)),
    "ogc:queryables": Route("get", lambda a: _ogc(a, "/queryables")),
    "ogc:schema": Route("get", lambda a: _ogc(a, "/schema")),
    "ogc:items": Route("get", lambda a: _ogc(a, "/items?limit=10")),
    "ogc:item": Route("get", lambda a: _ogc(a, "/items/1")),
    "ogc:tilesets": Route("get", lambda a: _ogc(a, "/tiles")),
    "ogc:tileset": Route("get", lambda a: _ogc(a, "/tiles/WebMercatorQuad")),
    "ogc:tile": Route("get", _ogc_tile),
    "ogc:map-tilesets": Route("get", lambda a: _ogc_raster(a, "/map/tiles")),
    "ogc:map-tileset": Route("get", lambda a: _ogc_raster(a, "/map/tiles/WebMercatorQuad")),
    "ogc:map-tile": Route("get", _ogc_map_tile),
    "ogc:token-revoke": Route("post", lambda a: f"/ogc/connect/tokens/{a.ogc_token.pk}/revoke/"),
    "hours:agreement": Route("get", lambda a: f"/agreements/{a.world.agreement_a.pk}/"),
    "hours:burndown-data": Route(
        "get", lambda a: f"/agreements/{a.world.agreement_a.pk}/burndown.json"
    ),
    "hours:statement": Route(
        "get", lambda a: f"/agreements/{a.world.agreement_a.pk}/statements/{a.month}/"
    ),
    "hours:statement-csv": Route(
        "get",
        lambda a: f"/agreements/{a.world.agreement_a.pk}/statements/{a.month}/statement.csv",
    ),
    "hours:statement-pdf": Route(
        "get",
        lambda a: f"/agreements/{a.world.agreement_a.pk}/statements/{a.month}/statement.pdf",
    ),
    "hours:month-close": Route(
        "post", lambda a: f"/agreements/{a.world.agreement_a.pk}/months/{a.month}/close/"
    ),
    "hours:month-reopen": Route(
        "post",
        lambda a: f"/agreements/{a.world.agreement_a.pk}/months/{a.month}/reopen/",
        lambda a: {"reason": "typo"},
    ),
    "hours:entry": Route(
        "post", lambda a: f"/hours/entries/{a.entry.pk}/", lambda a: {"delete": "1"}
    ),
    "hours:board-move": Route(
        "post",
        lambda a: f"/board/deliverables/{a.world.deliverable_a.pk}/move/",
        lambda a: {"to_status": "in_progress"},
    ),
    "collaboration:request": Route("get", lambda a: f"/requests/{a.request.pk}/"),
    "collaboration:request-action": Route(
        "post", lambda a: f"/requests/{a.request.pk}/ask/", lambda a: {"text": "Which parcel?"}
    ),
    "collaboration:request-attachment": Route(
        "get", lambda a: f"/requests/{a.request.pk}/attachments/{a.attachment.pk}/"
    ),
    "collaboration:api-version-comments": Route(
        "get", lambda a: f"/api/maps/versions/{a.version.pk}/comments/"
    ),
    # An empty reply: town A's own users may reply (a write clients are allowed), so the body is
    # refused after the lookup; another agency still gets the lookup's 404.
    "collaboration:api-thread-replies": Route(
        "post",
        lambda a: f"/api/comments/{a.thread.pk}/replies/",
        lambda a: {"text": ""},
        json=True,
    ),
    "collaboration:api-thread-resolve": Route(
        "post", lambda a: f"/api/comments/{a.thread.pk}/resolve/", json=True
    ),
    "collaboration:api-thread-reopen": Route(
        "post", lambda a: f"/api/comments/{a.thread.pk}/reopen/", json=True
    ),
    "collaboration:deliverable-request-changes": Route(
        "post",
        lambda a: f"/deliverables/{a.world.deliverable_a.pk}/request-changes/",
        lambda a: {"comment": "x", "threads": [a.thread.pk]},
    ),
    "collaboration:value": Route("get", lambda a: f"/agreements/{a.world.agreement_a.pk}/value/"),
    "collaboration:value-pdf": Route(
        "get", lambda a: f"/agreements/{a.world.agreement_a.pk}/value.pdf"
    ),
    "collaboration:value-csv": Route(
        "get", lambda a: f"/agreements/{a.world.agreement_a.pk}/value.csv"
    ),
    "collaboration:value-terms": Route(
        "post",
        lambda a: f"/agreements/{a.world.agreement_a.pk}/value/terms/",
        lambda a: {"alternative_hourly_rate": "150", "alternative_rate_source": "quote"},
    ),
    "collaboration:package": Route(
        "get", lambda a: f"/deliverables/{a.world.deliverable_a.pk}/package/"
    ),
    "collaboration:package-build": Route(
        "post", lambda a: f"/deliverables/{a.world.deliverable_a.pk}/package/build/"
    ),
    "collaboration:package-zip": Route(
        "get", lambda a: f"/deliverables/{a.world.deliverable_a.pk}/package.zip"
    ),
}

# Object routes that write and that a client user may use on its own published objects (asking
# for a prepared download); tests/test_isolation_leaks.py keeps clients out of all the others.
CLIENT_WRITES = frozenset({"layers:export-create"})

# Routes without an agency's object in the path: lists and the user's own things, each scoped.
OWN_ROUTES: dict[str, Route] = {
    "home": Route("get", lambda a: "/"),
    "projects:api-projects": Route("get", lambda a: "/api/projects/"),
    "projects:api-deliverables": Route("get", lambda a: "/api/deliverables/"),
    "maps:list": Route("get", lambda a: "/maps/"),
    "projects:view-as": Route(
        "post", lambda a: "/maps/view-as/", lambda a: {"agency": a.world.town_a.pk}
    ),
    "projects:view-as-stop": Route("post", lambda a: "/maps/view-as/stop/"),
    "hours:timesheet": Route("get", lambda a: "/hours/timesheet/"),
    "hours:entries": Route("get", lambda a: "/hours/entries/?who=all"),
    "hours:entries-import": Route("post", lambda a: "/hours/entries/import/"),
    "hours:board": Route("get", lambda a: "/board/"),
    "hours:calendar": Route("get", lambda a: "/calendar/"),
    "notifications:list": Route("get", lambda a: "/notifications/"),
    "notifications:mark-read": Route("post", lambda a: "/notifications/read/"),
    "notifications:preferences": Route("post", lambda a: "/notifications/preferences/"),
    "audit:log": Route("get", lambda a: "/audit/"),
    "ogc:landing": Route("get", lambda a: "/ogc/"),
    "ogc:conformance": Route("get", lambda a: "/ogc/conformance"),
    "ogc:api": Route("get", lambda a: "/ogc/api"),
    "ogc:collections": Route("get", lambda a: "/ogc/collections"),
    "ogc:tile-matrix-sets": Route("get", lambda a: "/ogc/tileMatrixSets"),
    "ogc:tile-matrix-set": Route("get", lambda a: "/ogc/tileMatrixSets/WebMercatorQuad"),
    "ogc:tokens": Route("get", lambda a: "/ogc/connect/"),
    "collaboration:requests": Route("get", lambda a: "/requests/?status=all"),
    "collaboration:request-new": Route("get", lambda a: "/requests/new/"),
}

# The OGC API of a share link: the link's secret is the credential (tests/test_ogc_share.py).
OGC_SHARE_ROUTES = {
    f"ogc:share-{name}"
    for name in (
        "landing", "conformance", "api", "collections", "collection", "queryables", "schema",
        "items", "item", "tilesets", "tileset", "tile", "tile-matrix-sets", "tile-matrix-set",
        "map-tilesets", "map-tileset", "map-tile",
    )
}  # fmt: skip

# Reached without an account: the secret in the URL is the credential (tests/test_maps_share.py,
# tests/test_hours_isolation.py), or the login machinery itself.
PUBLIC_ROUTES = {
    "maps:share",
    "maps:share-search",
    "maps:share-labels",
    "maps:share-export",
    "maps:share-tile",
    "maps:share-raster-tile",
    "maps:share-identify",
    "hours:ical",
    "collaboration:share-comments",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "readyz",
    *OGC_SHARE_ROUTES,
}


def _names(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin":
                continue  # Django admin: superusers only (is_staff), not a tenant route
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}"


def call(client: Client, route: Route, a: TownA) -> Any:
    body = route.body(a)
    if route.json:
        return getattr(client, route.method)(
            route.url(a), json.dumps(body), content_type="application/json"
        )
    return getattr(client, route.method)(route.url(a), body)


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def counts() -> tuple[int, ...]:
    return (
        Map.objects.count(),
        MapVersion.objects.count(),
        MapLayer.objects.count(),
        ShareLink.objects.filter(revoked_at=None).count(),
        Layer.objects.count(),
        TimeEntry.objects.count(),
        MonthClose.objects.count(),
        Deliverable.objects.filter(status="planned").count(),
        MapRequest.objects.filter(status="submitted").count(),
        RequestEvent.objects.count(),
        CommentThread.objects.filter(status="open").count(),
        Comment.objects.count(),
        DeliverablePackage.objects.count(),
        ServiceAgreement.objects.filter(alternative_hourly_rate__isnull=False).count(),
        ExportJob.objects.count(),
        # Last: tests/test_ogc_isolation.py makes its own tokens and compares all but this one.
        AccessToken.objects.filter(revoked_at=None).count(),
    )
