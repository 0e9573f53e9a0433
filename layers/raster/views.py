"""Raster routes: tiles and pixel identify (signed-in users, by tenancy), and the response helpers
that share links (maps) reuse after their own access check."""

import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from layers.models import RasterVersion
from layers.raster import styles, tiles
from layers.tiles import selectors
from layers.tiles.mvt import WEB_MERCATOR_QUAD
from projects.access import view_as_agency_id

TILE_CACHE_CONTROL = "private, max-age=3600"


def _unauthorised() -> JsonResponse:
    return JsonResponse({"detail": "Authentication required."}, status=401)


def tile_response(
    request: HttpRequest,
    raster: RasterVersion,
    *,
    z: int,
    x: int,
    y: int,
    fmt: str,
    style: dict[str, Any] | None = None,
    tms: str = WEB_MERCATOR_QUAD,
) -> HttpResponse:
    """A styled tile, ETagged and cached: in `style` (a map layer's stored style), else in
    ?style=, else the default one; cut in the tile matrix set `tms`.

    A given style goes through the same token as the portal viewer's ?style= (validated again,
    same canonical form), so both answer the same cache entry and ETag.
    """
    if fmt not in tiles.FORMATS or not tiles.valid_tile(z, x, y, tms):
        raise Http404("No such tile.")
    token = tiles.style_token(style) if style is not None else request.GET.get("style")
    try:
        spec, style = tiles.tile_spec(raster, z=z, x=x, y=y, fmt=fmt, token=token, tms=tms)
    except ValidationError as exc:
        return JsonResponse({"detail": exc.messages[0]}, status=400)
    if request.headers.get("If-None-Match") == spec.etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(
            tiles.cached_tile(raster, spec, style), content_type=tiles.FORMATS[fmt][1]
        )
    response["ETag"] = spec.etag
    response["Cache-Control"] = TILE_CACHE_CONTROL
    return response


def identify_response(request: HttpRequest, raster: RasterVersion) -> HttpResponse:
    try:
        lon = float(request.GET.get("lon", ""))
        lat = float(request.GET.get("lat", ""))
    except ValueError:
        return JsonResponse({"detail": "Give the point as lon and lat in degrees."}, status=400)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return JsonResponse({"detail": "lon must be within ±180 and lat within ±90."}, status=400)
    body = tiles.identify(raster, lon, lat)
    body["units"] = raster.crs_units
    if raster.content == RasterVersion.Content.CATEGORICAL:
        info = {"band_stats": raster.band_stats}
        for entry in body["bands"]:
            if isinstance(entry["value"], int):
                names = styles.category_names(info, entry["band"])
                entry["label"] = styles.category_label(entry["value"], names)
    response = JsonResponse(body)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# Per process: (session key, layer, v) -> (expiry, raster row) of an allowed tile request, so a
# viewer's burst of tiles pays the session, user and tenancy queries once per AUTH_MEMO_SECONDS
# (as vector tiles do). Raster versions are immutable; only explicit versions are memoised.
AUTH_MEMO_SECONDS = 30
MemoKey = tuple[str, int | None, int, str]
_auth_memo: dict[MemoKey, tuple[float, RasterVersion]] = {}


def _memo_key(request: HttpRequest, layer_id: int) -> MemoKey:
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    # "View as" changes what the same session may see: it is part of the key.
    return (session_key, view_as_agency_id(request), layer_id, request.GET.get("v") or "")


def _allowed_raster(request: HttpRequest, layer_id: int) -> RasterVersion | None:
    key = _memo_key(request, layer_id)
    session_key, version = key[0], request.GET.get("v")
    hit = _auth_memo.get(key) if session_key and version else None
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    raster = selectors.raster_for(request.user, layer_id, version)
    if raster is not None and session_key and version:
        if len(_auth_memo) > 10_000:
            _auth_memo.clear()
        _auth_memo[key] = (time.monotonic() + AUTH_MEMO_SECONDS, raster)
    return raster


def forget_session_rasters(request: HttpRequest | None, **_: object) -> None:
    """On logout (user_logged_out): this session's cookie no longer opens raster tiles."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "") if request is not None else ""
    for memo_key in [k for k in list(_auth_memo) if k[0] == key]:
        _auth_memo.pop(memo_key, None)


def _signed_in_raster(request: HttpRequest, layer_id: int) -> RasterVersion | HttpResponse:
    """The raster a signed-in caller may read here, else a 401 answer; a memo hit skips the user
    and tenancy queries (the session still decides: its key and "View as" are the memo key)."""
    memo = _auth_memo.get(_memo_key(request, layer_id))
    if not (memo and memo[0] > time.monotonic()) and not request.user.is_authenticated:
        return _unauthorised()
    raster = _allowed_raster(request, layer_id)
    if raster is None:
        raise Http404("Not found.")
    return raster


@require_GET
def raster_tile(
    request: HttpRequest, layer_id: int, z: int, x: int, y: int, fmt: str
) -> HttpResponse:
    raster = _signed_in_raster(request, layer_id)
    if isinstance(raster, HttpResponse):
        return raster
    return tile_response(request, raster, z=z, x=x, y=y, fmt=fmt)


@require_GET
def raster_identify(request: HttpRequest, layer_id: int) -> HttpResponse:
    # A click after panning: the tiles' memo already holds this layer version for the session.
    raster = _signed_in_raster(request, layer_id)
    if isinstance(raster, HttpResponse):
        return raster
    return identify_response(request, raster)


def raster_tilejson(request: HttpRequest, raster: RasterVersion, template: str) -> JsonResponse:
    """TileJSON for a raster version; `template` is the absolute tile URL with {z}/{x}/{y}."""
    fmt = request.GET.get("format", "png")
    if fmt not in tiles.FORMATS:
        return JsonResponse({"detail": "format must be png or webp."}, status=400)
    query = f"?v={raster.pk}"
    if request.GET.get("style"):
        query += f"&style={request.GET['style']}"
    body = tiles.tilejson(
        version=raster.version,
        name=raster.version.layer.name,
        template=template.replace("{fmt}", fmt) + query,
        fmt=fmt,
    )
    response = JsonResponse(body)
    response["Cache-Control"] = "private, max-age=60"
    return response
