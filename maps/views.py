"""Map pages, vector tiles, TileJSON, search and share links. Thin: access, then a service or selector."""

import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_POST

from layers.models import Layer, LayerVersion
from maps import tiles
from maps.models import Map, MapVersion, ShareLink
from maps.render import as_dict
from maps.selectors import (
    basemap_config,
    is_provider_of,
    latest_version,
    maps_visible_to,
    tile_version_for,
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
from projects.access import get_object_for, signed_in
from projects.models import Deliverable, Project

TILE_CACHE_CONTROL = "private, max-age=3600"
SEARCH_LIMIT = 20


def api_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Machine routes (tiles, JSON) answer 401 instead of redirecting to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"detail": "Authentication required."}, status=401)
        return view(request, *args, **kwargs)

    return wrapper


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
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
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
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
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
        "versions": version.map.versions.all(),
        "is_provider": provider,
        "config": viewer_config(version.definition, urls=_version_urls(version)),
        "downloads": version_downloads(version),
    }
    if provider:
        context["deliverables"] = Deliverable.objects.filter(project=project)
        context["share_links"] = version.share_links.all()
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
            request.user, Deliverable, pk=request.POST.get("deliverable") or 0
        )
        map_version_attach(version=version, deliverable=deliverable, by=signed_in(request))
    except Http404:
        messages.error(request, "Choose a deliverable of this project.")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
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
    days = request.POST.get("days", "30")
    try:
        expires = timezone.now() + timedelta(days=int(days)) if days else None
        share_link_create(
            version=version,
            by=signed_in(request),
            expires_at=expires,
            allow_comments=request.POST.get("allow_comments") == "on",
        )
    except ValueError:
        messages.error(request, "The expiry must be a number of days.")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
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


def active_link(token: str) -> ShareLink:
    link = ShareLink.objects.active().select_related("version__map").filter(token=token).first()
    if link is None:
        raise Http404("This link does not exist, has expired or was revoked.")
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
    link = active_link(token)
    version_id = request.GET.get("v", "")
    row = (
        link.version.layer_versions.filter(layer_id=layer_id, pk=int(version_id))
        .values_list("pk", "schema", "feature_count")
        .first()
        if version_id.isdigit()
        else None
    )
    if row is None:
        raise Http404("Not found.")
    return _tile_response(request, layer_id=layer_id, z=z, x=x, y=y, row=row)


def share_search(request: HttpRequest, token: str) -> HttpResponse:
    return JsonResponse(search_version(active_link(token).version, request.GET.get("q", "")))


# --- tiles


# Per process: (session key, layer, v) -> (expiry, version row) of an allowed tile request, so a
# viewer's burst of tiles pays the tenancy queries once per AUTH_MEMO_SECONDS, not per tile.
AUTH_MEMO_SECONDS = 30
_auth_memo: dict[tuple[str, int, str | None], tuple[float, tuple]] = {}


def _memo_get(key: tuple[str, int, str | None]) -> tuple | None:
    hit = _auth_memo.get(key)
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def _memo_put(key: tuple[str, int, str | None], row: tuple) -> None:
    if len(_auth_memo) > 10_000:
        _auth_memo.clear()
    _auth_memo[key] = (time.monotonic() + AUTH_MEMO_SECONDS, row)


def forget_session_tiles(request: HttpRequest | None, **_: Any) -> None:
    """On logout (user_logged_out): this session's cookie no longer opens tiles from the memo."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "") if request is not None else ""
    # list() copies the keys in one step: tile threads may add entries meanwhile.
    for memo_key in [k for k in list(_auth_memo) if k[0] == key]:
        _auth_memo.pop(memo_key, None)


@require_GET
def layer_tile(request: HttpRequest, layer_id: int, z: int, x: int, y: int) -> HttpResponse:
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    version = request.GET.get("v")
    memo_key = (session_key, layer_id, version)
    # Only explicit versions are memoised: "the current version" may change at any moment.
    row = _memo_get(memo_key) if session_key and version else None
    if row is None:
        if not request.user.is_authenticated:
            return JsonResponse({"detail": "Authentication required."}, status=401)
        row = tile_version_for(request.user, layer_id, version)
        if row is None:
            raise Http404("Not found.")
        if session_key and version:
            _memo_put(memo_key, row)
    return _tile_response(request, layer_id=layer_id, z=z, x=x, y=y, row=row)


def _fields(request: HttpRequest, schema: list[dict[str, Any]], param: str = "fields") -> list[str]:
    raw = request.GET.get(param, "")
    wanted = [f for f in raw.split(",") if f] if raw else []
    known = {str(f.get("name")) for f in schema}
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise ValidationError(f"Unknown attribute(s): {', '.join(unknown)}.")
    return sorted(set(wanted))


def _tile_response(
    request: HttpRequest, *, layer_id: int, z: int, x: int, y: int, row: tuple
) -> HttpResponse:
    version_id, schema, feature_count = row
    if not tiles.valid_tile(z, x, y):
        raise Http404("No such tile.")
    try:
        fields = _fields(request, schema)
        # `coarse`: the attributes generalised low-zoom tiles keep (default: all of `fields`).
        coarse = _fields(request, schema, "coarse") if "coarse" in request.GET else fields
    except ValidationError as exc:
        return JsonResponse({"detail": exc.messages[0]}, status=400)
    spec = tiles.TileSpec(
        version_id=version_id,
        layer_id=layer_id,
        z=z,
        x=x,
        y=y,
        fields=tuple(fields),
        coarse_fields=tuple(coarse),
        feature_count=feature_count,
    )
    if request.headers.get("If-None-Match") == spec.etag:
        response = HttpResponse(status=304)
    else:
        data = tiles.cached_tile(spec)
        response = (
            HttpResponse(data, content_type=tiles.MVT_TYPE) if data else HttpResponse(status=204)
        )
    response["ETag"] = spec.etag
    response["Cache-Control"] = TILE_CACHE_CONTROL
    return response


def _version_bounds(version_id: int) -> list[float]:
    """The extent recorded at import (no scan of the features); the world when there is none."""
    extent = LayerVersion.objects.filter(pk=version_id).values_list("extent", flat=True).first()
    if extent is None:
        with connection.cursor() as cur:
            # Versions made without the import service (fixtures) have no recorded extent.
            cur.execute(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) AS e FROM layers_feature WHERE version_id = %s) s",
                [version_id],
            )
            row = cur.fetchone()
        return [float(b) for b in row] if row and row[0] is not None else [-180, -85, 180, 85]
    return [float(b) for b in extent.extent]


@api_login_required
@require_GET
def layer_tilejson(request: HttpRequest, layer_id: int) -> HttpResponse:
    row = tile_version_for(request.user, layer_id, request.GET.get("v"))
    if row is None:
        raise Http404("Not found.")
    version_id, schema, _count = row
    try:
        fields = _fields(request, schema)
    except ValidationError as exc:
        return JsonResponse({"detail": exc.messages[0]}, status=400)
    layer = Layer.objects.get(pk=layer_id)
    bounds = _version_bounds(version_id)
    # build_absolute_uri would percent-encode the braces of the template.
    template = request.build_absolute_uri(reverse("maps:tile", args=[layer_id, 0, 0, 0]))
    template = template.replace("/0/0/0.pbf", "/{z}/{x}/{y}.pbf")
    template += f"?v={version_id}" + ("&fields=" + ",".join(fields) if fields else "")
    types = {str(f.get("name")): str(f.get("type", "")) for f in schema}
    body = {
        "tilejson": "3.0.0",
        "name": layer.name,
        "version": f"{version_id}",
        "scheme": "xyz",
        "tiles": [template],
        "minzoom": 0,
        "maxzoom": tiles.MAX_ZOOM,
        "bounds": bounds,
        "vector_layers": [
            {
                "id": tiles.layer_name(layer_id),
                "fields": {name: types[name] for name in (fields or types)},
                "minzoom": 0,
                "maxzoom": tiles.MAX_ZOOM,
            }
        ],
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "private, max-age=60"
    return response


# --- search


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
        with connection.cursor() as cur:
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


def labels_for(version: MapVersion, request: HttpRequest) -> dict[str, Any]:
    """Label points of one layer in a bounding box, larger features first."""
    key = request.GET.get("layer", "")
    layer = next((x for x in version.definition["layers"] if str(x["key"]) == key), None)
    label = (layer or {}).get("style", {}).get("label")
    bbox = _bbox(request)
    if layer is None or not label or bbox is None:
        return {"labels": []}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_X(p), ST_Y(p), t FROM (SELECT ST_PointOnSurface(ST_Force2D(geom)) AS p, "
            "properties ->> %(a)s AS t, ST_Area(geom) AS area FROM layers_feature "
            "WHERE version_id = %(v)s::bigint AND properties ? %(a)s "
            "AND geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)) q "
            "WHERE t <> '' ORDER BY area DESC LIMIT %(limit)s",
            {"a": label["attribute"], "v": layer["version_id"], "w": bbox[0], "s": bbox[1],
             "e": bbox[2], "n": bbox[3], "limit": LABEL_LIMIT},
        )  # fmt: skip
        rows = cur.fetchall()
    return {"labels": [[round(x, 6), round(y, 6), text] for x, y, text in rows]}


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


def _int(request: HttpRequest, name: str, default: int) -> int:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else default


def export_response(request: HttpRequest, version: MapVersion, fmt: str) -> HttpResponse:
    from maps.render import png_bytes, render_export, render_pdf

    if fmt not in ("png", "pdf"):
        raise Http404("Exports are PNG or PDF.")
    keys = request.GET.get("layers")
    visible = {int(k) for k in keys.split(",") if k.isdigit()} if keys is not None else None
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
            width=_int(request, "width", 1200),
            height=_int(request, "height", 800),
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
    data = version.thumbnail
    if data is None:
        data = render_thumbnail(version.definition)
        MapVersion.objects.filter(pk=version.pk).update(thumbnail=data)
    response = HttpResponse(bytes(data), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response
