"""Tile routes: TileJSON and MVT of a layer version, plus `tile_response` for other routes.

Access is decided before a tile is cut: `tile_version_for` (the tenancy vocabulary, including
"View as"), memoised per session for a burst of tiles; share links (maps) decide their own
access and then call `tile_response`.
"""

import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from layers.models import Layer
from layers.tiles import mvt
from layers.tiles.selectors import VersionRow, tile_version_for, version_bounds
from projects.access import api_login_required, view_as_agency_id
from projects.errors import validation_message

TILE_CACHE_CONTROL = "private, max-age=3600"

# Per process: (session key, view-as agency, layer, v) -> (expiry, version row) of an allowed
# tile request, so a viewer's burst of tiles pays the tenancy queries once per AUTH_MEMO_SECONDS.
AUTH_MEMO_SECONDS = 30
MemoKey = tuple[str, int | None, int, str | None]
_auth_memo: dict[MemoKey, tuple[float, VersionRow]] = {}


def _memo_get(key: MemoKey) -> VersionRow | None:
    hit = _auth_memo.get(key)
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def _memo_put(key: MemoKey, row: VersionRow) -> None:
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
    memo_key = (session_key, view_as_agency_id(request), layer_id, version)
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
    return tile_response(request, layer_id=layer_id, z=z, x=x, y=y, row=row)


def requested_fields(
    request: HttpRequest, schema: list[dict[str, Any]], param: str = "fields"
) -> list[str]:
    """The attribute names asked for in `?fields=` (or `param`), each checked against the schema."""
    raw = request.GET.get(param, "")
    wanted = [f for f in raw.split(",") if f] if raw else []
    known = {str(f.get("name")) for f in schema}
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise ValidationError(f"Unknown attribute(s): {', '.join(unknown)}.")
    return sorted(set(wanted))


def tile_response(
    request: HttpRequest, *, layer_id: int, z: int, x: int, y: int, row: VersionRow
) -> HttpResponse:
    """The MVT answer (200, 204 empty, 304, 400 bad fields) for a version the caller may draw."""
    version_id, schema, feature_count = row
    if not mvt.valid_tile(z, x, y):
        raise Http404("No such tile.")
    try:
        fields = requested_fields(request, schema)
        # `coarse`: the attributes generalised low-zoom tiles keep (default: all of `fields`).
        coarse = requested_fields(request, schema, "coarse") if "coarse" in request.GET else fields
    except ValidationError as exc:
        return JsonResponse({"detail": validation_message(exc)}, status=400)
    spec = mvt.TileSpec(
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
        data = mvt.cached_tile(spec)
        response = (
            HttpResponse(data, content_type=mvt.MVT_TYPE) if data else HttpResponse(status=204)
        )
    response["ETag"] = spec.etag
    response["Cache-Control"] = TILE_CACHE_CONTROL
    return response


def tile_url_template(layer_id: int) -> str:
    """The site-relative `/tiles/layers/<id>/{z}/{x}/{y}.pbf` template of a layer's tiles."""
    return reverse("layers:tile", args=[layer_id, 0, 0, 0]).replace(
        "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
    )


@api_login_required
@require_GET
def layer_tilejson(request: HttpRequest, layer_id: int) -> HttpResponse:
    row = tile_version_for(request.user, layer_id, request.GET.get("v"))
    if row is None:
        raise Http404("Not found.")
    version_id, schema, _count = row
    try:
        fields = requested_fields(request, schema)
    except ValidationError as exc:
        return JsonResponse({"detail": validation_message(exc)}, status=400)
    layer = Layer.objects.get(pk=layer_id)
    # build_absolute_uri would percent-encode the braces of the template.
    template = request.build_absolute_uri("/")[:-1] + tile_url_template(layer_id)
    template += f"?v={version_id}" + ("&fields=" + ",".join(fields) if fields else "")
    types = {str(f.get("name")): str(f.get("type", "")) for f in schema}
    body = {
        "tilejson": "3.0.0",
        "name": layer.name,
        "version": f"{version_id}",
        "scheme": "xyz",
        "tiles": [template],
        "minzoom": 0,
        "maxzoom": mvt.MAX_ZOOM,
        "bounds": version_bounds(version_id),
        "vector_layers": [
            {
                "id": mvt.layer_name(layer_id),
                "fields": {name: types[name] for name in (fields or types)},
                "minzoom": 0,
                "maxzoom": mvt.MAX_ZOOM,
            }
        ],
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "private, max-age=60"
    return response
