"""Writes for maps: compose, style, publish, attach to a deliverable, share. One transaction each."""

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Polygon
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone

from layers.models import Layer, LayerVersion
from layers.selectors import features_extent
from maps.models import Map, MapLayer, MapVersion, ShareLink
from maps.selectors import forget_share_link
from maps.styles import default_style, style_fields, style_resolve
from projects.access import is_provider_staff, members
from projects.models import Deliverable, Project
from projects.services import audit_for, deliverable_transition
from projects.srid import STORAGE_SRID


def _require_provider(user: User, project: Project) -> None:
    if not is_provider_staff(user, project):
        raise PermissionDenied("Only the provider's staff can change maps.")


def _check_basemap(basemap: str) -> str:
    if basemap not in settings.BASEMAPS:
        raise ValidationError(
            f"Unknown basemap {basemap!r}; choose one of {', '.join(settings.BASEMAPS)}."
        )
    return basemap


def schema_fields(version: LayerVersion | None) -> dict[str, str]:
    """{attribute name: type} of a layer version's schema."""
    if version is None:
        return {}
    return {str(f.get("name")): str(f.get("type", "")) for f in version.schema if f.get("name")}


def map_create(
    *, project: Project, title: str, by: User, description: str = "", basemap: str = ""
) -> Map:
    _require_provider(by, project)
    title = title.strip()
    if not title:
        raise ValidationError("A map needs a title.")
    with transaction.atomic():
        new = Map.objects.create(
            project=project,
            title=title[:200],
            description=description,
            basemap=_check_basemap(basemap or settings.DEFAULT_BASEMAP),
            created_by=by,
        )
        audit_for(
            project.agreement,
            action="map.create",
            summary=f"Map “{new.title}” created in {project.name}",
            actor=by,
            client_visible=False,
            target=new,
        )
    return new


def map_update(
    *,
    map: Map,
    by: User,
    title: str | None = None,
    description: str | None = None,
    basemap: str | None = None,
    initial_extent: list[float] | None = None,
) -> Map:
    _require_provider(by, map.project)
    if title is not None:
        if not title.strip():
            raise ValidationError("A map needs a title.")
        map.title = title.strip()[:200]
    if description is not None:
        map.description = description
    if basemap is not None:
        map.basemap = _check_basemap(basemap)
    if initial_extent is not None:
        if len(initial_extent) != 4:
            raise ValidationError("The extent is [west, south, east, north] in degrees.")
        w, s, e, n = (float(v) for v in initial_extent)
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise ValidationError("The extent must be [west, south, east, north] in degrees.")
        map.initial_extent = Polygon.from_bbox((w, s, e, n))
        map.initial_extent.srid = STORAGE_SRID
    with transaction.atomic():
        map.save()
        audit_for(
            map.project.agreement,
            action="map.update",
            summary=f"Map “{map.title}” edited",
            actor=by,
            client_visible=False,
            target=map,
        )
    return map


def map_layer_add(*, map: Map, layer: Layer, by: User) -> MapLayer:
    _require_provider(by, map.project)
    if layer.project_id != map.project_id:
        raise ValidationError("A map can only use its own project's layers.")
    version = layer.current_version
    if version is None:
        raise ValidationError(f"“{layer.name}” has no imported data yet.")
    with transaction.atomic():
        position = (map.map_layers.aggregate(m=Max("position"))["m"] or 0) + 1
        if layer.kind == Layer.Kind.RASTER:
            # Rasters go under the vectors by default (orthophoto and hillshade as a base).
            map.map_layers.update(position=F("position") + 1)
            position = 1
        style = style_resolve(
            default_style(version.geometry_type),
            version_id=version.pk,
            fields=schema_fields(version),
        )
        added = MapLayer.objects.create(
            map=map, layer=layer, position=position, title=layer.name, style=style
        )
        audit_for(
            map.project.agreement,
            action="map.layer_add",
            summary=f"“{layer.name}” added to map “{map.title}”",
            actor=by,
            client_visible=False,
            target=map,
        )
    return added


def map_layer_update(
    *,
    map_layer: MapLayer,
    by: User,
    title: str | None = None,
    visible: bool | None = None,
    opacity: float | None = None,
    style: dict[str, Any] | None = None,
) -> MapLayer:
    """Change a layer's settings; a style is validated and classified over the current data."""
    _require_provider(by, map_layer.map.project)
    if title is not None:
        map_layer.title = title.strip()[:200] or map_layer.layer.name
    if visible is not None:
        map_layer.visible = bool(visible)
    if opacity is not None:
        if isinstance(opacity, bool) or not isinstance(opacity, int | float):
            raise ValidationError("Opacity must be a number from 0 to 1.")
        if not 0 <= opacity <= 1:
            raise ValidationError("Opacity must be from 0 to 1.")
        map_layer.opacity = float(opacity)
    if style is not None:
        version = map_layer.layer.current_version
        if version is None:
            raise ValidationError(f"“{map_layer.layer.name}” has no imported data yet.")
        map_layer.style = style_resolve(style, version_id=version.pk, fields=schema_fields(version))
    with transaction.atomic():
        map_layer.save()
        audit_for(
            map_layer.map.project.agreement,
            action="map.layer_update",
            summary=f"“{map_layer}” restyled on map “{map_layer.map.title}”",
            actor=by,
            client_visible=False,
            target=map_layer.map,
        )
    return map_layer


def map_layer_remove(*, map_layer: MapLayer, by: User) -> None:
    _require_provider(by, map_layer.map.project)
    with transaction.atomic():
        audit_for(
            map_layer.map.project.agreement,
            action="map.layer_remove",
            summary=f"“{map_layer}” removed from map “{map_layer.map.title}”",
            actor=by,
            client_visible=False,
            target=map_layer.map,
        )
        map_layer.delete()


def map_layers_reorder(*, map: Map, order: list[int], by: User) -> None:
    """`order` lists the map's MapLayer ids bottom to top."""
    _require_provider(by, map.project)
    ids = set(map.map_layers.values_list("pk", flat=True))
    if set(order) != ids or len(order) != len(ids):
        raise ValidationError("The order must list each of the map's layers exactly once.")
    with transaction.atomic():
        for position, pk in enumerate(order, start=1):
            MapLayer.objects.filter(pk=pk, map=map).update(position=position)


def _extent(map: Map, version_ids: list[int]) -> list[float]:
    if map.initial_extent is not None:
        return list(map.initial_extent.extent)
    extent = features_extent(version_ids)
    if extent is not None:
        return extent
    boundary = map.project.agreement.client.boundary
    return list(boundary.extent) if boundary is not None else [-180.0, -85.0, 180.0, 85.0]


def map_definition(map: Map) -> tuple[dict[str, Any], list[LayerVersion]]:
    """The draft map as a frozen definition, styles re-classified over each layer's current data."""
    entries, pinned = [], []
    for ml in map.map_layers.select_related("layer__current_version").order_by("position", "pk"):
        version = ml.layer.current_version
        if version is None:
            raise ValidationError(f"“{ml}” has no imported data yet.")
        style = style_resolve(ml.style, version_id=version.pk, fields=schema_fields(version))
        pinned.append(version)
        entries.append(
            {
                "key": ml.pk,
                "layer_id": ml.layer_id,
                "version_id": version.pk,
                "title": ml.title or ml.layer.name,
                "visible": ml.visible,
                "opacity": ml.opacity,
                "geometry_type": version.geometry_type,
                "fields": style_fields(style),
                "style": style,
            }
        )
    definition = {
        "title": map.title,
        "description": map.description,
        "basemap": map.basemap,
        "extent": _extent(map, [v.pk for v in pinned]) if pinned else None,
        "layers": entries,
    }
    return definition, pinned


def map_publish(*, map: Map, by: User, notes: str) -> MapVersion:
    """Freeze the map and its layers' current data as the next version, visible to the client."""
    with transaction.atomic():
        locked = Map.objects.select_for_update().select_related("project__agreement").get(pk=map.pk)
        _require_provider(by, locked.project)
        definition, pinned = map_definition(locked)
        if not pinned:
            raise ValidationError("Add at least one layer before publishing.")
        number = (locked.versions.aggregate(m=Max("number"))["m"] or 0) + 1
        now = timezone.now()
        version = MapVersion.objects.create(
            map=locked,
            number=number,
            notes=notes.strip(),
            definition=definition,
            published_by=by,
            published_at=now,
        )
        version.layer_versions.set(pinned)
        LayerVersion.objects.filter(
            pk__in=[v.pk for v in pinned], published_at__isnull=True
        ).update(published_at=now)
        client_id = locked.project.agreement.client_id
        audit_for(
            locked.project.agreement,
            action="map.publish",
            summary=f"Map “{locked.title}” v{number} published",
            actor=by,
            client_visible=True,
            target=version,
            data={"number": number, "layer_versions": [v.pk for v in pinned]},
        )
        subject = f"New map: {locked.title} v{number}"
        body = notes.strip() or f"Version {number} of “{locked.title}” is ready to view."
        url = reverse("maps:version", args=[version.pk])
        transaction.on_commit(lambda: _notify(client_id, subject, body, url))
        transaction.on_commit(partial(_thumbnail_queue, version.pk), robust=True)
    return version


def _thumbnail_queue(version_id: int) -> None:
    from maps.tasks import version_thumbnail_task

    version_thumbnail_task.delay(version_id)


def map_version_thumbnail_store(*, version_id: int) -> bytes | None:
    """Render and keep the list thumbnail of a published version (idempotent; a worker's job)."""
    from maps.render import render_thumbnail

    version = MapVersion.objects.filter(pk=version_id).first()
    if version is None:
        return None
    data = render_thumbnail(version.definition)
    MapVersion.objects.filter(pk=version_id).update(thumbnail=data)
    return data


def _notify(agency_id: int, subject: str, body: str, url: str) -> None:
    """Everyone of the client agency is told of a new published map."""
    from notifications.services import notify_users

    notify_users(
        users=members(agency_id), kind="map_published", subject=subject, body=body, url=url
    )


def map_version_attach(*, version: MapVersion, deliverable: Deliverable, by: User) -> MapVersion:
    """Attach a published version to a deliverable of the same project; it moves to delivered."""
    _require_provider(by, version.map.project)
    if deliverable.project_id != version.map.project_id:
        raise ValidationError(
            "A map version can only be attached to its own project's deliverables."
        )
    with transaction.atomic():
        version.deliverable = deliverable
        version.save(update_fields=["deliverable"])
        audit_for(
            version.map.project.agreement,
            action="map.attach",
            summary=f"{version} attached to “{deliverable.title}”",
            actor=by,
            client_visible=True,
            target=version,
            data={"deliverable": deliverable.pk},
        )
        # Attaching is the delivery: walk the workflow's own moves to delivered, each recorded
        # (e.g. after changes were requested: in progress, in review, delivered).
        for status in deliverable.provider_path_to(Deliverable.Status.DELIVERED):
            deliverable_transition(
                deliverable=deliverable,
                to_status=status,
                by=by,
                comment=f"Map “{version.map.title}” v{version.number} attached.",
            )
    return version


def share_link_create(
    *, version: MapVersion, by: User, expires_at: datetime | None, allow_comments: bool = False
) -> ShareLink:
    """A link that opens `version` without an account, until `expires_at` (SHARE_LINK_MAX_DAYS at most).

    With `allow_comments`, visitors also see and add comments pinned on the version.
    """
    _require_provider(by, version.map.project)
    now = timezone.now()
    longest = settings.SHARE_LINK_MAX_DAYS
    if expires_at is None:
        raise ValidationError(f"A share link must expire, at most {longest} days from today.")
    if expires_at <= now:
        raise ValidationError("The expiry must be in the future.")
    if expires_at > now + timedelta(days=longest):
        raise ValidationError(f"A share link lasts at most {longest} days.")
    with transaction.atomic():
        link = ShareLink.objects.create(
            version=version, expires_at=expires_at, created_by=by, allow_comments=allow_comments
        )
        audit_for(
            version.map.project.agreement,
            action="map.share",
            summary=f"Share link made for {version}",
            actor=by,
            client_visible=True,
            target=version,
            data={
                "link": link.pk,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "allow_comments": allow_comments,
            },
        )
    return link


def share_link_revoke(*, link: ShareLink, by: User) -> ShareLink:
    _require_provider(by, link.version.map.project)
    with transaction.atomic():
        link.revoked_at = link.revoked_at or timezone.now()
        link.save(update_fields=["revoked_at"])
        audit_for(
            link.version.map.project.agreement,
            action="map.share_revoke",
            summary=f"Share link revoked for {link.version}",
            actor=by,
            client_visible=True,
            target=link.version,
            data={"link": link.pk},
        )
        # Before and after the commit: a tile thread may memoise the link again meanwhile.
        forget_share_link(link.token)
        transaction.on_commit(lambda: forget_share_link(link.token))
    return link
