"""The OpenAPI 3.0 document of /ogc/: every path and parameter this app serves, generated from
the same constants the views use, with one items path per visible collection (its attributes
as equality parameters: how GDAL learns which filters it may send to the server)."""

from typing import Any

from ogc.cql import FILTER_LANGS, LEGACY_TEXT_LANG
from ogc.features import DEFAULT_LIMIT, MAX_LIMIT
from ogc.selectors import Collection

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OBJECT: dict[str, Any] = {"type": "object"}
HTML_BODY: dict[str, Any] = {"schema": {"type": "string"}}


def _param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _ok(
    description: str, media: str = JSON, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "description": description,
        "content": {media: {"schema": schema or OBJECT}, HTML: HTML_BODY},
    }


ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "404": {"$ref": "#/components/responses/NotFound"},
}


def _get(
    summary: str, op_id: str, params: list[Any], responses: dict[str, Any], tags: list[str]
) -> dict[str, Any]:
    return {"get": {"summary": summary, "operationId": op_id, "tags": tags,
                    "parameters": [_param("f"), *params], "responses": {**responses, **ERRORS}}}  # fmt: skip


ITEMS_PARAMS = [
    "limit",
    "cursor",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
]

FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "timeStamp": {"type": "string"},
    },
}


def _property_param(name: str, kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"integer": {"type": "number"}, "real": {"type": "number"}}.get(
        kind, {"type": "string"}
    )
    if kind == "boolean":
        schema = {"type": "string", "enum": ["true", "false"]}
    return {"name": name, "in": "query", "required": False, "style": "form", "explode": False,
            "description": f"Features whose “{name}” equals this value.", "schema": schema}  # fmt: skip


def openapi_document(base: str, collections: list[Collection]) -> dict[str, Any]:
    cid = _param("collectionId")
    items_params = [_param(p) for p in ITEMS_PARAMS]
    tags = ["Capabilities"]
    paths: dict[str, Any] = {
        "/": _get("Landing page", "getLandingPage", [], {"200": _ok("Links to the API")}, tags),
        "/conformance": _get("Conformance classes", "getConformance", [], {"200": _ok("The classes")}, tags),
        "/api": {"get": {"summary": "This API definition", "operationId": "getApi", "tags": tags,
                         "parameters": [_param("f")],
                         "responses": {"200": {"description": "OpenAPI 3.0", "content": {
                             "application/vnd.oai.openapi+json;version=3.0": {"schema": OBJECT}, HTML: HTML_BODY}},
                             **ERRORS}}},  # fmt: skip
        "/collections": _get("The collections", "getCollections", [], {"200": _ok("Collections")}, ["Data"]),
        "/collections/{collectionId}": _get("A collection", "describeCollection", [cid], {"200": _ok("The collection")}, ["Data"]),
        "/collections/{collectionId}/queryables": _get(
            "Queryable properties", "getQueryables", [cid],
            {"200": _ok("JSON Schema of the queryables", "application/schema+json")}, ["Data"]),
        "/collections/{collectionId}/schema": _get(
            "Schema of the features", "getSchema", [cid],
            {"200": _ok("JSON Schema of the features", "application/schema+json")}, ["Data"]),
        "/collections/{collectionId}/items": _get(
            "Features of a collection", "getFeatures", [cid, *items_params],
            {"200": _ok("A page of features", GEOJSON, FEATURE_COLLECTION)}, ["Data"]),
        "/collections/{collectionId}/items/{featureId}": _get(
            "One feature", "getFeature", [cid, _param("featureId"), _param("crs")],
            {"200": _ok("The feature", GEOJSON, {"$ref": "#/components/schemas/Feature"})}, ["Data"]),
        "/collections/{collectionId}/tiles": _get("Vector tilesets", "getTilesets", [cid], {"200": _ok("Tilesets")}, ["Tiles"]),
        "/collections/{collectionId}/tiles/{tileMatrixSetId}": _get(
            "A vector tileset", "getTileset", [cid, _param("tileMatrixSetId")], {"200": _ok("The tileset")}, ["Tiles"]),
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": {"get": {
            "summary": "A Mapbox vector tile", "operationId": "getTile", "tags": ["Tiles"],
            "parameters": [_param("fTile"), cid, _param("tileMatrixSetId"), _param("tileMatrix"),
                           _param("tileRow"), _param("tileCol")],
            "responses": {
                "200": {"description": "The tile", "content": {"application/vnd.mapbox-vector-tile": {
                    "schema": {"type": "string", "format": "binary"}}}},
                "204": {"description": "An empty tile"},
                "304": {"description": "Not modified (ETag)"},
                **ERRORS}}},
        "/collections/{collectionId}/map/tiles": _get(
            "Map tilesets of a raster collection", "getMapTilesets", [cid], {"200": _ok("Tilesets")}, ["Tiles"]),
        "/collections/{collectionId}/map/tiles/{tileMatrixSetId}": _get(
            "A map tileset", "getMapTileset", [cid, _param("mapTileMatrixSetId")], {"200": _ok("The tileset")}, ["Tiles"]),
        "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": {"get": {
            "summary": "A map tile (PNG or WebP) of a raster collection", "operationId": "getMapTile",
            "tags": ["Tiles"],
            "parameters": [_param("fMap"), cid, _param("mapTileMatrixSetId"), _param("tileMatrix"),
                           _param("tileRow"), _param("tileCol")],
            "responses": {
                "200": {"description": "The tile", "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in ("image/png", "image/webp")}},
                "304": {"description": "Not modified (ETag)"},
                **ERRORS}}},
        "/tileMatrixSets": _get("Tile matrix sets", "getTileMatrixSets", [], {"200": _ok("The sets")}, ["Tiles"]),
        "/tileMatrixSets/{tileMatrixSetId}": _get(
            "A tile matrix set", "getTileMatrixSet", [_param("tileMatrixSetId")], {"200": _ok("The set")}, ["Tiles"]),
    }  # fmt: skip
    for c in collections:
        if c.is_raster:
            continue
        props = [
            _property_param(n, k) for n, k in c.fields.items() if n not in ITEMS_PARAMS and n != "f"
        ]
        paths[f"/collections/{c.id}/items"] = _get(
            f"Features of “{c.title}”",
            f"getFeatures-{c.id}",
            [*items_params, *props],
            {"200": _ok("A page of features", GEOJSON, FEATURE_COLLECTION)},
            ["Data"],
        )
    parameters = PARAMETERS
    if collections:  # a real id, so generated requests reach data and not only 404s
        example = next((c for c in collections if not c.is_raster), collections[0])
        parameters = {
            **PARAMETERS,
            "collectionId": {**PARAMETERS["collectionId"], "example": example.id},
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "SharedGIS OGC API",
            "version": "1.0.0",
            "description": "OGC API – Features (Parts 1, 2, 3) and Tiles over the layers "
            "an agency may see. Authenticate with a personal access token as the password of "
            "HTTP Basic, or as a Bearer token.",
        },  # fmt: skip
        "servers": [{"url": base}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },  # fmt: skip
            "parameters": parameters,
            "responses": {
                "BadRequest": _error("A parameter is wrong; the description says which and why."),
                "Unauthorized": _error("No valid credentials (a revoked or expired token too)."),
                "NotFound": _error("No such resource, or not one you may see."),
            },
            "schemas": {
                "Exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
                },
                "Link": {
                    "type": "object",
                    "required": ["href"],
                    "properties": {
                        "href": {"type": "string"},
                        "rel": {"type": "string"},
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                    },
                },
                "Feature": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "integer"},
                        "geometry": {"nullable": True, "type": "object"},
                        "properties": {"nullable": True, "type": "object"},
                    },
                },
            },  # fmt: skip
        },
    }


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Exception"}}},
    }


def _query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **extra,
    }


def _path(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


CRS_URI = {"type": "string", "format": "uri"}
PARAMETERS: dict[str, Any] = {
    "f": _query("f", "Response format (otherwise by the Accept header).", {"type": "string", "enum": ["json", "html"]}),
    "fTile": _query("f", "Tile format.", {"type": "string", "enum": ["mvt"]}),
    "collectionId": _path("collectionId", "layer-<id> (latest version) or layer-<id>-v<number>.", {"type": "string"}),
    "featureId": {**_path("featureId", "The feature's id (its position in the source).", {"type": "string"}), "example": "1"},
    "fMap": _query("f", "Tile format (otherwise PNG, or WebP by the Accept header).", {"type": "string", "enum": ["png", "webp"]}),
    "tileMatrixSetId": _path("tileMatrixSetId", "Tile matrix set.", {"type": "string", "enum": ["WebMercatorQuad", "WorldCRS84Quad"]}),
    "mapTileMatrixSetId": _path("tileMatrixSetId", "Tile matrix set.", {"type": "string", "enum": ["WebMercatorQuad", "WorldCRS84Quad"]}),
    "tileMatrix": _path("tileMatrix", "Zoom level (vector tiles to 16, map tiles to 22).", {"type": "integer", "minimum": 0, "maximum": 22}),
    "tileRow": _path("tileRow", "Row (y).", {"type": "integer", "minimum": 0}),
    "tileCol": _path("tileCol", "Column (x).", {"type": "integer", "minimum": 0}),
    "limit": _query("limit", f"Features per page (default {DEFAULT_LIMIT}; larger values give {MAX_LIMIT}).",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}, style="form", explode=False),
    "cursor": _query("cursor", "Opaque keyset cursor from a next/prev link.", {"type": "string", "pattern": "^[np]-?[0-9]+$"}),
    "bbox": _query("bbox", "minx,miny,maxx,maxy in bbox-crs (EPSG:4326: lat,lon order).",
                   {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}, style="form", explode=False),
    "bbox-crs": _query("bbox-crs", "CRS of bbox (default CRS84).", CRS_URI),
    "crs": _query("crs", "CRS of the response geometries (default CRS84).", CRS_URI),
    "datetime": _query("datetime", "Instant or interval (a/b, ../b, a/..) on the collection's date attribute.", {"type": "string"}),
    "filter": _query("filter", "A CQL2 filter (text or JSON, see filter-lang).", {"type": "string"}),
    "filter-lang": _query("filter-lang", "Language of filter.",
                          {"type": "string", "enum": [*FILTER_LANGS, LEGACY_TEXT_LANG], "default": "cql2-text"}),
    "filter-crs": _query("filter-crs", "CRS of the filter's geometries (default CRS84).", CRS_URI),
}  # fmt: skip
