"""Map pages, vector tiles, TileJSON, search and share links. Thin: access, then a service or selector."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_POST

from layers.models import Layer, RasterVersion
from layers.raster import views as raster_views
from layers.tiles.views import tile_response
from maps.models import Map, MapVersion, ShareLink
from maps.selectors import (
    basemap_config,
    is_provider_of,
    labels_in,
    latest_version,
    maps_visible_to,
    search_version,
    share_link_tiles,
    viewer_config,
)
from maps.services import (
    map_create,
    map_definition,
    map_publish,
    map_version_attach,
    share_link_create,
    share_link_revoke,
)
from maps.signals import map_version_used
from projects.access import api_login_required, get_object_for, signed_in
from projects.errors import validation_message
from projects.models import Deliverable, Project
from projects.params import BadParameter, id_param, int_list_param, int_param, parse_int


def staff_only(request: HttpRequest, project: Project) -> None:
    """Provider tools on objects a client may read answer 404 to the client, like the draft."""
    if not is_provider_of(request.user, project):
        raise Http404("Not found.")


# --- pages


@login_required
def map_list(request: HttpRequest) -> HttpResponse:
    return render(request, "maps/map_list.html", {"maps": maps_visible_to(request.user)})


@login_required
@require_POST
def map_new(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_object_for(request.user, Project.objects.select_related("agreement"), slug=slug)
    try:
        new = map_create(
            project=project, title=request.POST.get("title", ""), by=signed_in(request)
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
        return redirect("projects:project", slug=slug)
    return redirect("maps:edit", pk=new.pk)


@login_required
def map_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Clients land on the latest published version; provider staff on the composer."""
    map_ = get_object_for(request.user, Map.objects.select_related("project__agreement"), pk=pk)
    if is_provider_of(request.user, map_.project):
        return redirect("maps:edit", pk=map_.pk)
    version = latest_version(map_)
    if version is None:
        raise Http404("Not found.")
    return redirect("maps:version", pk=version.pk)


@login_required
def map_edit(request: HttpRequest, pk: int) -> HttpResponse:
    map_ = get_object_for(
        request.user, Map.objects.select_related("project__agreement__client"), pk=pk
    )
    staff_only(request, map_.project)
    layers = Layer.objects.filter(project=map_.project, current_version__isnull=False).order_by(
        "name"
    )
    return render(
        request,
        "maps/map_edit.html",
        {
            "map": map_,
            "project_layers": layers,
            "versions": map_.versions.all(),
            "basemaps": {k: v["name"] for k, v in basemap_choices().items()},
            "config": {
                "basemap": basemap_config(map_.basemap),
                "urls": {
                    "api": reverse("maps:api-map", args=[map_.pk]),
                    "layers": reverse("maps:api-map-layers", args=[map_.pk]),
                    "order": reverse("maps:api-map-order", args=[map_.pk]),
                    "layer": reverse("maps:api-map-layer", args=[0]),
                },
            },
        },
    )


def basemap_choices() -> dict[str, dict[str, Any]]:
    return settings.BASEMAPS


@login_required
@require_POST
def map_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    map_ = get_object_for(request.user, Map.objects.select_related("project__agreement"), pk=pk)
    staff_only(request, map_.project)
    try:
        version = map_publish(map=map_, by=signed_in(request), notes=request.POST.get("notes", ""))
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
        return redirect("maps:edit", pk=pk)
    messages.success(request, f"Published “{map_.title}” v{version.number} to the client.")
    return redirect("maps:version", pk=version.pk)


def _version_urls(version: MapVersion) -> dict[str, str]:
    return {
        "search": reverse("maps:search", args=[version.pk]),
        "labels": reverse("maps:labels", args=[version.pk]),
        "export_png": reverse("maps:export", args=[version.pk, "png"]),
        "export_pdf": reverse("maps:export", args=[version.pk, "pdf"]),
    }


@login_required
def version_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_for(
        request.user, MapVersion.objects.select_related("map__project__agreement__client"), pk=pk
    )
    project = version.map.project
    provider = is_provider_of(request.user, project)
    context: dict[str, Any] = {
        "version": version,
        "map": version.map,
        # The version list shows numbers, dates and notes: not each definition and thumbnail.
        "versions": version.map.versions.defer("definition", "thumbnail"),
        "is_provider": provider,
        "config": viewer_config(version.definition, urls=_version_urls(version)),
        "downloads": version_downloads(version),
    }
    if provider:
        context["deliverables"] = Deliverable.objects.filter(project=project)
        context["share_links"] = version.share_links.all()
        context["share_days"] = (settings.SHARE_LINK_DEFAULT_DAYS, settings.SHARE_LINK_MAX_DAYS)
    map_version_used.send(
        sender=MapVersion, version=version, user=request.user, kind="view", share_link=None
    )
    return render(request, "maps/viewer.html", context)


def version_downloads(version: MapVersion) -> list[tuple[str, list[tuple[str, str]]]]:
    """(layer title, [(format label, URL)]) of each pinned layer version, served by layers/."""
    from layers.exports import FORMATS

    numbers = dict(version.layer_versions.values_list("pk", "number"))
    return [
        (
            layer["title"],
            [
                (
                    label,
                    reverse("layers:download", args=[layer["layer_id"], fmt])
                    + f"?version={numbers[layer['version_id']]}",
                )
                for fmt, (_driver, _ext, _media, label) in FORMATS.items()
            ],
        )
        for layer in version.definition["layers"]
        if layer["version_id"] in numbers
    ]


@login_required
@require_POST
def version_attach(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_for(
        request.user, MapVersion.objects.select_related("map__project__agreement"), pk=pk
    )
    staff_only(request, version.map.project)
    try:
        deliverable = get_object_for(
            request.user, Deliverable, pk=id_param(request.POST, "deliverable") or 0
        )
        map_version_attach(version=version, deliverable=deliverable, by=signed_in(request))
    except Http404:
        messages.error(request, "Choose a deliverable of this project.")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
    else:
        messages.success(request, f"v{version.number} attached to “{deliverable.title}”.")
    return redirect("maps:version", pk=pk)


@login_required
@require_POST
def share_create(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_for(
        request.user, MapVersion.objects.select_related("map__project__agreement"), pk=pk
    )
    staff_only(request, version.map.project)
    try:
        days = int_param(request.POST, "days", settings.SHARE_LINK_DEFAULT_DAYS, minimum=1)
        expires = timezone.now() + timedelta(days=min(days or 1, settings.SHARE_LINK_MAX_DAYS + 1))
        share_link_create(
            version=version,
            by=signed_in(request),
            expires_at=expires,
            allow_comments=request.POST.get("allow_comments") == "on",
        )
    except BadParameter as exc:
        messages.error(request, exc.message)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
    return redirect("maps:version", pk=pk)


@login_required
@require_POST
def share_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_for(
        request.user, ShareLink.objects.select_related("version__map__project__agreement"), pk=pk
    )
    try:
        share_link_revoke(link=link, by=signed_in(request))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("maps:version", pk=link.version_id)


# --- share links (no account): read-only, that version only


GONE = "This link does not exist, has expired or was revoked."


def active_link(token: str) -> ShareLink:
    link = (
        ShareLink.objects.active()
        # The usage counter (collaboration) reads the agreement: no query of its own per view.
        .select_related("version__map__project__agreement")
        .filter(token=token)
        .first()
    )
    if link is None:
        raise Http404(GONE)
    return link


@xframe_options_exempt
def share_view(request: HttpRequest, token: str) -> HttpResponse:
    link = active_link(token)
    version = link.version
    urls = {
        "search": reverse("maps:share-search", args=[token]),
        "labels": reverse("maps:share-labels", args=[token]),
    }
    response = render(
        request,
        "maps/share.html",
        {
            "version": version,
            "token": token,
            "share_link": link,  # comments_config reads it instead of the link again
            "config": viewer_config(version.definition, token=token, urls=urls),
        },
    )
    map_version_used.send(
        sender=MapVersion, version=version, user=request.user, kind="share_view", share_link=link
    )
    # This route alone may be framed (the embed snippet); every other page stays DENY.
    response["Content-Security-Policy"] = "frame-ancestors *"
    response["Referrer-Policy"] = "no-referrer"
    return response


def share_tile(
    request: HttpRequest, token: str, layer_id: int, z: int, x: int, y: int
) -> HttpResponse:
    rows = share_link_tiles(token)  # memoised for a few seconds: see maps/selectors.py
    if rows is None:
        raise Http404(GONE)
    row = rows.get((layer_id, parse_int(request.GET.get("v", ""), name="v", minimum=1) or 0))
    if row is None:
        raise Http404("Not found.")
    return tile_response(request, layer_id=layer_id, z=z, x=x, y=y, row=row)


def _shared_raster(token: str, layer_id: int, request: HttpRequest) -> RasterVersion:
    """A raster pinned by the link's map version: the link is the credential, like its tiles."""
    link = active_link(token)
    version_id = request.GET.get("v", "")
    raster = (
        RasterVersion.objects.filter(
            version__in=link.version.layer_versions.filter(layer_id=layer_id, pk=int(version_id))
        )
        .select_related("version")
        .first()
        if version_id.isdigit()
        else None
    )
    if raster is None:
        raise Http404("Not found.")
    return raster


@require_GET
def share_raster_tile(
    request: HttpRequest, token: str, layer_id: int, z: int, x: int, y: int, fmt: str
) -> HttpResponse:
    raster = _shared_raster(token, layer_id, request)
    return raster_views.tile_response(request, raster, z=z, x=x, y=y, fmt=fmt)


@require_GET
def share_identify(request: HttpRequest, token: str, layer_id: int) -> HttpResponse:
    return raster_views.identify_response(request, _shared_raster(token, layer_id, request))


def share_search(request: HttpRequest, token: str) -> HttpResponse:
    return JsonResponse(search_version(active_link(token).version, request.GET.get("q", "")))


# --- search


def labels_for(version: MapVersion, request: HttpRequest) -> dict[str, Any]:
    return labels_in(version, layer_key=request.GET.get("layer", ""), bbox=_bbox(request))


@api_login_required
@require_GET
def version_labels(request: HttpRequest, pk: int) -> HttpResponse:
    return JsonResponse(labels_for(get_object_for(request.user, MapVersion, pk=pk), request))


def share_labels(request: HttpRequest, token: str) -> HttpResponse:
    return JsonResponse(labels_for(active_link(token).version, request))


@api_login_required
@require_GET
def version_search(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_for(request.user, MapVersion, pk=pk)
    return JsonResponse(search_version(version, request.GET.get("q", "")))


def draft_preview(map_: Map) -> dict[str, Any]:
    definition, _ = map_definition(map_)
    return viewer_config(definition) if definition["layers"] else {"layers": []}


# --- exports, thumbnails and downloads of a published version


def _bbox(request: HttpRequest) -> list[float] | None:
    raw = request.GET.get("bbox", "")
    try:
        values = [float(v) for v in raw.split(",")] if raw else []
    except ValueError:
        return None
    if len(values) != 4 or not (values[0] < values[2] and values[1] < values[3]):
        return None
    w, s, e, n = values
    return [max(w, -180), max(s, -85), min(e, 180), min(n, 85)]


def export_response(request: HttpRequest, version: MapVersion, fmt: str) -> HttpResponse:
    from maps.render import png_bytes, render_export, render_pdf

    if fmt not in ("png", "pdf"):
        raise Http404("Exports are PNG or PDF.")
    keys = int_list_param(request.GET, "layers")
    visible = set(keys) if keys is not None else None
    bbox = _bbox(request)
    name = f"{slugify(version.map.title) or 'map'}-v{version.number}"
    if fmt == "pdf":
        pdf = render_pdf(version.definition, bbox=bbox, visible=visible)
        response = HttpResponse(pdf, content_type="application/pdf")
    else:
        image = render_export(
            version.definition,
            bbox=bbox,
            visible=visible,
            width=int_param(request.GET, "width", 1200) or 0,
            height=int_param(request.GET, "height", 800) or 0,
        )
        response = HttpResponse(png_bytes(image), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
@require_GET
def version_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    version = get_object_for(request.user, MapVersion.objects.select_related("map"), pk=pk)
    response = export_response(request, version, fmt)
    map_version_used.send(
        sender=MapVersion, version=version, user=request.user, kind="export", share_link=None
    )
    return response


def share_export(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    link = active_link(token)
    response = export_response(request, link.version, fmt)
    map_version_used.send(
        sender=MapVersion, version=link.version, user=request.user, kind="export", share_link=link
    )
    return response


@login_required
@require_GET
def version_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    from maps.render import render_thumbnail

    version = get_object_for(request.user, MapVersion, pk=pk)
    # Stored by the worker after publishing; until then drawn for this answer (GET writes nothing).
    data = (
        version.thumbnail if version.thumbnail is not None else render_thumbnail(version.definition)
    )
    response = HttpResponse(bytes(data), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response
