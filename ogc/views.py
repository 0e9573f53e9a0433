"""/ogc/: OGC API – Features (Parts 1–3) and Tiles, JSON or HTML. Views resolve the reader,
find the collection through ogc.selectors (404 across agencies), then call one read."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from maps.models import ShareLink
from ogc import tiles
from ogc.auth import Principal, signed_in_user
from ogc.crs import CrsError, parse_crs, supported_uris
from ogc.features import MAX_LIMIT, BadRequest, items_page, parse_query
from ogc.features import item as read_item
from ogc.models import AccessToken
from ogc.openapi import CONFORMANCE, openapi_document
from ogc.selectors import Collection, collection_for, collections_for, older_versions
from ogc.services import token_create, token_revoke
from ogc.tiles import CRS84

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
REL = "http://www.opengis.net/def/rel/ogc/1.0/"
ITEMS_PARAMS = {
    "limit",
    "cursor",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
}


# --- plumbing


def share_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OGC API of one share link: its secret in the path is the credential."""

    @wraps(view)
    def wrapper(request: HttpRequest, share_token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        link = (
            ShareLink.objects.active()
            .select_related("version__map")
            .filter(token=share_token)
            .first()
        )
        if link is None:
            raise Http404("This link does not exist, has expired or was revoked.")
        return view(request, Principal(user=AnonymousUser(), share=link), *args, **kwargs)

    return wrapper


def base_url(request: HttpRequest, principal: Principal) -> str:
    if principal.share is not None:
        return request.build_absolute_uri(f"/ogc/share/{principal.share.token}")
    return request.build_absolute_uri("/ogc")


def wants_html(request: HttpRequest) -> bool:
    f = request.GET.get("f", "").lower()
    if f:
        return f == "html"
    accept = request.headers.get("Accept", "")
    return HTML in accept and "json" not in accept.split(HTML)[0]


def bad_request(message: str) -> JsonResponse:
    return JsonResponse({"code": "InvalidParameterValue", "description": message}, status=400)


def check_params(request: HttpRequest, allowed: set[str]) -> None:
    unknown = sorted(set(request.GET) - allowed - {"f"})
    if unknown:
        raise BadRequest(
            f"Unknown query parameter(s): {', '.join(unknown)}. "
            f"This path takes: {', '.join(sorted(allowed | {'f'}))}."
        )
    f = request.GET.get("f")
    if f is not None and f.lower() not in ("json", "html", "mvt", *tiles.MAP_FORMATS):
        raise BadRequest(f"f must be json or html, not {f!r}.")


def ogc_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Bad parameters answer 400 with the reason; everything is GET."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return JsonResponse(
                {"code": "MethodNotAllowed", "description": "Read-only API."}, status=405
            )
        try:
            response = view(request, *args, **kwargs)
        except BadRequest as exc:
            return bad_request(str(exc))
        except DataError:
            return bad_request(
                "A value of this layer cannot be compared that way (e.g. text in a number "
                "attribute): simplify the filter."
            )
        except Http404 as exc:
            return JsonResponse(
                {"code": "NotFound", "description": str(exc) or "Not found."}, status=404
            )
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


def link(href: str, rel: str, type_: str, title: str = "", **extra: Any) -> dict[str, Any]:
    out = {"href": href, "rel": rel, "type": type_, **extra}
    if title:
        out["title"] = title
    return out


def self_links(url: str, title: str, json_type: str = JSON) -> list[dict[str, Any]]:
    """self + alternate (JSON and HTML) of a resource at `url` (without query)."""
    wants = "?f="
    return [
        link(url + wants + "json", "self", json_type, f"{title} (JSON)"),
        link(url + wants + "html", "alternate", HTML, f"{title} (HTML)"),
    ]


def respond(request: HttpRequest, body: dict[str, Any], *, title: str, content_type: str = JSON,
            template: str = "ogc/page.html", context: dict[str, Any] | None = None) -> HttpResponse:  # fmt: skip
    if wants_html(request):
        return render(
            request,
            template,
            {"title": title, "body": body, "pretty": json.dumps(body, indent=2, default=str)[:200_000],
             "links": body.get("links", []), **(context or {})},
        )  # fmt: skip
    return HttpResponse(json.dumps(body, default=str), content_type=content_type)


# --- landing, conformance, API


@ogc_view
def landing(request: HttpRequest, principal: Principal) -> HttpResponse:
    check_params(request, set())
    base = base_url(request, principal)
    title = (
        f"SharedGIS: {principal.share.version.map.title}" if principal.share is not None
        else "SharedGIS OGC API"
    )  # fmt: skip
    body = {
        "title": title,
        "description": "Layers published to your agency, as OGC API – Features and Tiles.",
        "links": [
            *self_links(base + "/", "This document"),
            link(base + "/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(base + "/api?f=html", "service-doc", HTML, "The API documentation"),
            link(base + "/conformance", "conformance", JSON, "Conformance classes"),
            link(base + "/conformance", REL + "conformance", JSON, "Conformance classes"),
            link(base + "/collections", "data", JSON, "Collections"),
            link(base + "/collections", REL + "data", JSON, "Collections"),
            link(base + "/tileMatrixSets", REL + "tiling-schemes", JSON, "Tile matrix sets"),
        ],
    }
    connect = request.build_absolute_uri(reverse("ogc:tokens")) if principal.share is None else ""
    return respond(request, body, title=title, context={"connect_url": connect})


@ogc_view
def conformance(request: HttpRequest, principal: Principal) -> HttpResponse:
    check_params(request, set())
    return respond(request, {"conformsTo": CONFORMANCE}, title="Conformance")


@ogc_view
def api(request: HttpRequest, principal: Principal) -> HttpResponse:
    check_params(request, set())
    document = openapi_document(base_url(request, principal), collections_for(principal))
    if wants_html(request):
        return respond(request, document, title="API definition (OpenAPI 3.0)")
    return HttpResponse(json.dumps(document), content_type=OPENAPI)


# --- collections


def collection_body(request: HttpRequest, principal: Principal, c: Collection) -> dict[str, Any]:
    base = base_url(request, principal)
    url = f"{base}/collections/{c.id}"
    version = c.version
    source = version.source_srid
    extent = c.extent
    if c.is_raster:
        # Like pygeoapi's and titiler's raster collections: map tiles, no items link.
        links = [
            *self_links(url, c.title),
            link(url + "/map/tiles", REL + "tilesets-map", JSON, "Map tiles (PNG, WebP)"),
        ]
    else:
        links = [
            *self_links(url, c.title),
            link(url + "/items?f=json", "items", GEOJSON, "Features (GeoJSON)"),
            link(url + "/items?f=html", "items", HTML, "Features (HTML)"),
            link(url + "/queryables", REL + "queryables", SCHEMA_JSON, "Queryable properties"),
            link(url + "/queryables", "queryables", JSON, "Queryable properties"),
            link(url + "/schema", REL + "schema", SCHEMA_JSON, "Schema of the features"),
            link(url + "/tiles", REL + "tilesets-vector", JSON, "Vector tiles"),
        ]
    if principal.share is None:
        links.append(link(request.build_absolute_uri(reverse("layers:layer", args=[c.layer.pk])),
                          "describedby", HTML, "The layer in the portal"))  # fmt: skip
        for entry in c.published_in:
            links.append(link(request.build_absolute_uri(reverse("maps:version", args=[entry["map_version_id"]])),
                              "related", HTML, f"Map “{entry['map_title']}” v{entry['map_version']}"))  # fmt: skip
        for older in older_versions(principal, c):
            older_id = f"layer-{c.layer.pk}-v{older.number}"
            links.append(
                link(
                    f"{base}/collections/{older_id}",
                    "version-history",
                    JSON,
                    f"Version {older.number}",
                )
            )
    body: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "description": c.layer.description
        or f"{version.geometry_type or 'Vector'} layer, version {version.number}.",
        "itemType": "feature",
        "links": links,
        "crs": supported_uris(source),
        "storageCrs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "layerVersion": version.number,
        "featureCount": version.feature_count,
        "geometryType": version.geometry_type,
        "publishedIn": c.published_in,
        "attribution": c.layer.project.agreement.provider.name
        if hasattr(c.layer, "project")
        else "",
        "license": "Provided under the service agreement; not for redistribution.",
    }
    if c.raster is not None:
        _describe_raster(body, c)
    if source:
        body["sourceCrs"] = f"http://www.opengis.net/def/crs/EPSG/0/{source}"
    if extent is not None:
        body["extent"] = {
            "spatial": {"bbox": [extent], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
        }
    return body


def _describe_raster(body: dict[str, Any], c: Collection) -> None:
    """A raster collection: no items; its pixels described as pygeoapi and titiler do."""
    raster = c.raster
    assert raster is not None
    source = c.version.source_srid
    for key in ("itemType", "featureCount", "geometryType"):
        body.pop(key)
    body["description"] = c.layer.description or (
        f"Raster layer ({raster.get_content_display().lower()}), version {c.version.number}: "
        "read it as map tiles."
    )
    body["dataType"] = "map"
    # Tiles are cut from the raster's own CRS: that is the only CRS it is offered in.
    body["crs"] = [f"http://www.opengis.net/def/crs/EPSG/0/{source}"] if source else [CRS84]
    body["storageCrs"] = body["crs"][0]
    body["raster"] = {
        "content": raster.content,
        "width": raster.width,
        "height": raster.height,
        "resolution": raster.resolution,
        "units": raster.crs_units,
        "dtype": raster.dtype,
        "nodata": raster.nodata,
        "bands": [
            {"band": i + 1, "name": (raster.band_stats[i] if i < len(raster.band_stats) else {})
             .get("description") or f"Band {i + 1}", "dtype": raster.dtype, "nodata": raster.nodata,
             **{k: (raster.band_stats[i] if i < len(raster.band_stats) else {}).get(k)
                for k in ("min", "max", "mean")}}
            for i in range(raster.bands)
        ],
    }  # fmt: skip
    # How its map tiles are drawn: the style of the map version named here, or the layer's default.
    body["raster"]["style"] = (
        {"source": "map", "type": c.style.get("type"), **(c.style_from or {})}
        if c.style is not None
        else {"source": "layer default"}
    )


def vector_only(c: Collection) -> None:
    """Features, schemas and vector tiles exist for vector collections only."""
    if c.is_raster:
        raise Http404(
            f"{c.id} is a raster collection: it has no features (items), queryables or "
            f"vector tiles. Read it as map tiles: /collections/{c.id}/map/tiles."
        )


@ogc_view
def collection_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    check_params(request, set())
    base = base_url(request, principal)
    found = collections_for(principal)
    body = {
        "links": self_links(base + "/collections", "Collections"),
        "collections": [collection_body(request, principal, c) for c in found],
        "numberMatched": len(found),
        "numberReturned": len(found),
    }
    return respond(request, body, title="Collections", template="ogc/collections.html")


@ogc_view
def collection_detail(request: HttpRequest, principal: Principal, cid: str) -> HttpResponse:
    check_params(request, set())
    c = collection_for(principal, cid)
    return respond(request, collection_body(request, principal, c), title=c.title)


JSON_SCHEMA_TYPES = {"integer": "integer", "real": "number", "boolean": "boolean"}


def _property_schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": JSON_SCHEMA_TYPES.get(kind, "string")}
    if kind in ("date", "datetime"):
        schema["format"] = "date" if kind == "date" else "date-time"
    return schema


@ogc_view
def queryables(request: HttpRequest, principal: Principal, cid: str) -> HttpResponse:
    check_params(request, set())
    c = collection_for(principal, cid)
    vector_only(c)
    url = f"{base_url(request, principal)}/collections/{c.id}/queryables"
    props: dict[str, Any] = {"geometry": {"format": "geometry-any", "title": "Geometry"}}
    props.update({n: {"title": n, **_property_schema(k)} for n, k in c.fields.items()})
    body = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": url,
        "type": "object",
        "title": c.title,
        "properties": props,
        "additionalProperties": False,
        "links": self_links(url, "Queryables", SCHEMA_JSON),
    }
    return respond(request, body, title=f"Queryables of {c.title}", content_type=SCHEMA_JSON)


@ogc_view
def schema(request: HttpRequest, principal: Principal, cid: str) -> HttpResponse:
    check_params(request, set())
    c = collection_for(principal, cid)
    vector_only(c)
    url = f"{base_url(request, principal)}/collections/{c.id}/schema"
    props: dict[str, Any] = {
        "geometry": {"format": "geometry-any", "x-ogc-role": "primary-geometry"}
    }
    props.update({n: {"title": n, **_property_schema(k)} for n, k in c.fields.items()})
    body = {"$schema": "https://json-schema.org/draft/2019-09/schema", "$id": url, "type": "object",
            "title": c.title, "properties": props}  # fmt: skip
    return respond(request, body, title=f"Schema of {c.title}", content_type=SCHEMA_JSON)


# --- features


def _page_url(url: str, params: dict[str, str], cursor: str | None, f: str) -> str:
    query = {k: v for k, v in params.items() if k not in ("cursor", "f")}
    if cursor:
        query["cursor"] = cursor
    query["f"] = f
    return url + "?" + urlencode(query)


@ogc_view
def items(request: HttpRequest, principal: Principal, cid: str) -> HttpResponse:
    c = collection_for(principal, cid)
    vector_only(c)
    check_params(request, ITEMS_PARAMS | set(c.fields))
    params = {k: request.GET[k] for k in request.GET}
    query = parse_query(params, c)
    page = items_page(c, query)
    url = f"{base_url(request, principal)}/collections/{c.id}/items"
    html = wants_html(request)
    links = [
        link(_page_url(url, params, request.GET.get("cursor"), "json"), "self" if not html else "alternate", GEOJSON, "This page (GeoJSON)"),
        link(_page_url(url, params, request.GET.get("cursor"), "html"), "alternate" if not html else "self", HTML, "This page (HTML)"),
        link(f"{base_url(request, principal)}/collections/{c.id}", "collection", JSON, c.title),
    ]  # fmt: skip
    f = "html" if html else "json"
    if page.next_after is not None:
        links.append(
            link(
                _page_url(url, params, f"n{page.next_after}", f),
                "next",
                HTML if html else GEOJSON,
                "Next page",
            )
        )
    if page.prev_before is not None:
        links.append(
            link(
                _page_url(url, params, f"p{page.prev_before}", f),
                "prev",
                HTML if html else GEOJSON,
                "Previous page",
            )
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if html:
        features = [json.loads(x) for x in page.features]
        body = {"links": links, "numberReturned": len(features)}
        if page.number_matched is not None:
            body["numberMatched"] = page.number_matched
        return respond(request, body, title=f"{c.title}: features", template="ogc/items.html",
                       context={"columns": list(c.fields), "features": features})  # fmt: skip
    head: dict[str, Any] = {"type": "FeatureCollection", "timeStamp": stamp}
    if page.number_matched is not None:
        head["numberMatched"] = page.number_matched
    head["numberReturned"] = len(page.features)
    head["links"] = links
    text = json.dumps(head)[:-1] + ',"features":[' + ",".join(page.features) + "]}"
    response = HttpResponse(text, content_type=GEOJSON)
    response["Content-Crs"] = f"<{query.crs.uri}>"
    return response


@ogc_view
def item(request: HttpRequest, principal: Principal, cid: str, fid: str) -> HttpResponse:
    c = collection_for(principal, cid)
    vector_only(c)
    check_params(request, {"crs"})
    if not fid.lstrip("-").isdigit() or abs(int(fid)) > 2**62:
        raise Http404("No such feature.")
    try:
        crs = parse_crs(request.GET.get("crs"), c.version.source_srid)
    except CrsError as exc:
        raise BadRequest(str(exc)) from exc
    feature = read_item(c, int(fid), crs)
    if feature is None:
        raise Http404("No such feature.")
    url = f"{base_url(request, principal)}/collections/{c.id}/items/{fid}"
    links = [
        *self_links(url, "This feature", GEOJSON),
        link(f"{base_url(request, principal)}/collections/{c.id}", "collection", JSON, c.title),
    ]
    data = json.loads(feature)
    data["links"] = links
    if wants_html(request):
        return respond(request, data, title=f"{c.title}: feature {fid}", template="ogc/items.html",
                       context={"columns": list(c.fields), "features": [data]})  # fmt: skip
    response = HttpResponse(json.dumps(data), content_type=GEOJSON)
    response["Content-Crs"] = f"<{crs.uri}>"
    return response


# --- tiles


TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"


def _matrix_set(tms: str, offered: tuple[str, ...] = tuple(tiles.MATRIX_SETS)) -> Any:
    found = tiles.matrix_set(tms) if tms in offered else None
    if found is None:
        raise Http404(f"No tile matrix set {tms}; this path offers {', '.join(offered)}.")
    return found


def _tileset(
    request: HttpRequest, principal: Principal, c: Collection, tms: Any, *, kind: str
) -> dict[str, Any]:
    """A tileset (OGC API – Tiles): vector (MVT) or map (PNG/WebP) tiles of one matrix set."""
    base = base_url(request, principal)
    prefix = "/map/tiles" if kind == "map" else "/tiles"
    url = f"{base}/collections/{c.id}{prefix}/{tms.id}"
    template = url + "/{tileMatrix}/{tileRow}/{tileCol}"
    min_zoom = 0
    if kind == "map":
        min_zoom, max_zoom = tiles.map_min_zoom(c, tms), tiles.map_max_zoom(c, tms)
        items = [link(template + f"?f={f}", "item", media, f"{f.upper()} map tiles", templated=True)
                 for f, media in tiles.MAP_FORMATS.items()]  # fmt: skip
    else:
        max_zoom = tiles.vector_max_zoom(tms)
        items = [link(template + "?f=mvt", "item", tiles.MVT_TYPE, "Mapbox vector tiles",
                      templated=True)]  # fmt: skip
    body: dict[str, Any] = {
        "title": f"{c.title} ({'map' if kind == 'map' else 'vector'} tiles, {tms.id})",
        "dataType": kind,
        "crs": tms.crs,
        "tileMatrixSetURI": tms.uri,
        "links": [
            *self_links(url, "This tileset"),
            link(f"{base}/tileMatrixSets/{tms.id}", TILING_SCHEME, JSON, tms.id),
            *items,
        ],
        # Map tilesets list whole matrices at each zoom served: GDAL 3.6's OGCAPI driver (Debian
        # 12) sizes each zoom as the full matrix height but places it at the limits' rows and
        # drops their first column, so narrower limits made it compute a negative -srcwin.
        # The collection's extent (below, and in the collection) is where the pixels are.
        "tileMatrixSetLimits": tms.limits(None if kind == "map" else c.extent, max_zoom, min_zoom),
    }
    if kind == "map" and c.extent is not None:
        body["boundingBox"] = {
            "lowerLeft": c.extent[:2], "upperRight": c.extent[2:], "crs": CRS84
        }  # fmt: skip
    if kind == "vector":
        body["layers"] = [
            {
                "id": tiles.vector_layer_id(c),
                "dataType": "vector",
                "geometryDimension": None,
                "propertiesSchema": {
                    "type": "object",
                    "properties": {n: _property_schema(k) for n, k in c.fields.items()},
                },
            }
        ]
    return body


def _tileset_list(
    request: HttpRequest, principal: Principal, c: Collection, *, kind: str
) -> HttpResponse:
    check_params(request, set())
    offered = tiles.MAP_MATRIX_SETS if kind == "map" else tuple(tiles.MATRIX_SETS)
    prefix = "/map/tiles" if kind == "map" else "/tiles"
    url = f"{base_url(request, principal)}/collections/{c.id}{prefix}"
    summaries = []
    for tms_id in offered:
        full = _tileset(request, principal, c, tiles.MATRIX_SETS[tms_id], kind=kind)
        summaries.append(
            {k: full[k] for k in ("title", "dataType", "crs", "tileMatrixSetURI", "links")}
        )
    body = {"links": self_links(url, "Tilesets"), "tilesets": summaries}
    return respond(request, body, title=f"{c.title}: {kind} tilesets")


def _tile_address(
    c: Collection, tms: Any, z: str, y: str, x: str, max_zoom: int
) -> tuple[int, int, int]:
    if not all(v.isdigit() and len(v) < 9 for v in (z, y, x)):
        raise Http404("No such tile.")
    zoom, row, col = int(z), int(y), int(x)
    if zoom > max_zoom or not tms.valid(zoom, col, row):
        raise Http404(
            f"No such tile: {c.id} has tiles of {tms.id} at zooms 0 to {max_zoom}, "
            "within each zoom's matrix width and height."
        )
    return zoom, row, col


@ogc_view
def tilesets(request: HttpRequest, principal: Principal, cid: str) -> HttpResponse:
    c = collection_for(principal, cid)
    vector_only(c)
    return _tileset_list(request, principal, c, kind="vector")


@ogc_view
def tileset(request: HttpRequest, principal: Principal, cid: str, tms: str) -> HttpResponse:
    check_params(request, set())
    c = collection_for(principal, cid)
    vector_only(c)
    matrices = _matrix_set(tms)
    body = _tileset(request, principal, c, matrices, kind="vector")
    return respond(request, body, title=f"{c.title}: {tms}")


@ogc_view
def tile(
    request: HttpRequest, principal: Principal, cid: str, tms: str, z: str, y: str, x: str
) -> HttpResponse:
    check_params(request, set())
    c = collection_for(principal, cid)
    vector_only(c)
    matrices = _matrix_set(tms)
    zoom, row, col = _tile_address(c, matrices, z, y, x, tiles.vector_max_zoom(matrices))
    data, etag = tiles.collection_tile(c, matrices, zoom, col, row)
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = (
            HttpResponse(data, content_type=tiles.MVT_TYPE) if data else HttpResponse(status=204)
        )
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=3600"
    return response


def raster_only(c: Collection) -> None:
    if not c.is_raster:
        raise Http404(
            f"{c.id} is a vector collection: it has no map tiles. Read its features at "
            f"/collections/{c.id}/items or its vector tiles at /collections/{c.id}/tiles."
        )


@ogc_view
def map_tilesets(request: HttpRequest, principal: Principal, cid: str) -> HttpResponse:
    c = collection_for(principal, cid)
    raster_only(c)
    return _tileset_list(request, principal, c, kind="map")


@ogc_view
def map_tileset(request: HttpRequest, principal: Principal, cid: str, tms: str) -> HttpResponse:
    check_params(request, set())
    c = collection_for(principal, cid)
    raster_only(c)
    body = _tileset(request, principal, c, _matrix_set(tms, tiles.MAP_MATRIX_SETS), kind="map")
    return respond(request, body, title=f"{c.title}: map tiles, {tms}")


def _map_format(request: HttpRequest) -> str:
    """png (default) or webp, by ?f= or by an Accept header that asks for WebP only."""
    f = request.GET.get("f", "").lower()
    if f:
        if f not in tiles.MAP_FORMATS:
            raise BadRequest(f"Map tiles are png or webp (f=png, f=webp), not {f!r}.")
        return f
    accept = request.headers.get("Accept", "")
    return "webp" if "image/webp" in accept and "image/png" not in accept else "png"


@ogc_view
def map_tile(
    request: HttpRequest, principal: Principal, cid: str, tms: str, z: str, y: str, x: str
) -> HttpResponse:
    check_params(request, set())
    c = collection_for(principal, cid)
    raster_only(c)
    matrices = _matrix_set(tms, tiles.MAP_MATRIX_SETS)
    fmt = _map_format(request)
    zoom, row, col = _tile_address(c, matrices, z, y, x, matrices.max_zoom)
    return tiles.map_tile(request, c, matrices, zoom, col, row, fmt)


@ogc_view
def tile_matrix_sets(request: HttpRequest, principal: Principal) -> HttpResponse:
    check_params(request, set())
    base = base_url(request, principal)
    body = {
        "links": self_links(base + "/tileMatrixSets", "Tile matrix sets"),
        "tileMatrixSets": [
            {"id": t.id, "title": t.title, "uri": t.uri, "crs": t.crs,
             "links": [link(f"{base}/tileMatrixSets/{t.id}", "self", JSON, t.id)]}
            for t in tiles.MATRIX_SETS.values()
        ],
    }  # fmt: skip
    return respond(request, body, title="Tile matrix sets")


@ogc_view
def tile_matrix_set(request: HttpRequest, principal: Principal, tms: str) -> HttpResponse:
    check_params(request, set())
    return respond(request, _matrix_set(tms).definition(), title=tms)


# --- "Connect from QGIS / ArcGIS": personal access tokens


@login_required
def token_page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    created = None
    if request.method == "POST":
        try:
            days = int(request.POST.get("days") or settings.OGC_TOKEN_DEFAULT_DAYS)
            _, created = token_create(
                user=user, name=request.POST.get("name", ""), days=days, by=user
            )
        except ValueError:
            messages.error(request, "The expiry must be a number of days.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(
        request,
        "ogc/tokens.html",
        {
            "tokens": AccessToken.objects.filter(user=user),
            "created": created,
            "ogc_url": request.build_absolute_uri("/ogc/"),
            "username": user.username,
            "default_days": settings.OGC_TOKEN_DEFAULT_DAYS,
            "max_days": settings.OGC_TOKEN_MAX_DAYS,
            "max_limit": MAX_LIMIT,
        },
        status=201 if created else 200,
    )


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    token = AccessToken.objects.filter(user=user, pk=pk).first()
    if token is None:
        raise Http404("Not found.")
    token_revoke(token=token, by=user)
    messages.success(
        request, f"Token “{token.name}” revoked: clients using it are refused from now on."
    )
    return redirect("ogc:tokens")


VIEWS: dict[str, Callable[..., HttpResponse]] = {
    "landing": landing,
    "conformance": conformance,
    "api": api,
    "collections": collection_list,
    "collection": collection_detail,
    "queryables": queryables,
    "schema": schema,
    "items": items,
    "item": item,
    "tilesets": tilesets,
    "tileset": tileset,
    "tile": tile,
    "map-tilesets": map_tilesets,
    "map-tileset": map_tileset,
    "map-tile": map_tile,
    "tile-matrix-sets": tile_matrix_sets,
    "tile-matrix-set": tile_matrix_set,
}
