"""OGC API – Tiles over the portal's own vector tile code and cache (the one import of it)."""

import math
from typing import Any

from layers.tiles import MAX_ZOOM, MVT_TYPE, WORLD, TileSpec, cached_tile, layer_name
from ogc.selectors import Collection

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
# 0.28 mm pixels (OGC): the scale of a 256-pixel tile at zoom 0 over the whole world.
ZOOM0_SCALE = 559082264.0287178

__all__ = ["MVT_TYPE", "TMS_ID", "collection_tile", "tile_matrix_set", "tile_matrix_limits"]


def collection_tile(collection: Collection, z: int, x: int, y: int) -> tuple[bytes, str]:
    """(MVT bytes, ETag) of one tile of a collection, through the portal's tile cache."""
    fields = tuple(collection.fields)
    spec = TileSpec(
        version_id=collection.version.pk,
        layer_id=collection.layer.pk,
        z=z,
        x=x,
        y=y,
        fields=fields,
        coarse_fields=fields,
        feature_count=collection.version.feature_count,
    )
    return cached_tile(spec), spec.etag


def vector_layer_id(collection: Collection) -> str:
    return layer_name(collection.layer.pk)


def valid(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def tile_matrix_set() -> dict[str, Any]:
    """The WebMercatorQuad definition (OGC 17-083r4 annex), zooms 0 to MAX_ZOOM."""
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": [
            {
                "id": str(z),
                "scaleDenominator": ZOOM0_SCALE / 2**z,
                "cellSize": 2 * WORLD / 256 / 2**z,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-WORLD, WORLD],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
            for z in range(MAX_ZOOM + 1)
        ],
    }


def _col(lon: float, n: int) -> int:
    return min(n - 1, max(0, int((lon + 180) / 360 * n)))


def _row(lat: float, n: int) -> int:
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
    return min(n - 1, max(0, int(y * n)))


def tile_matrix_limits(extent: list[float] | None) -> list[dict[str, Any]]:
    """Rows and columns holding the collection at each zoom (the whole world without an extent)."""
    out = []
    for z in range(MAX_ZOOM + 1):
        n = 2**z
        if extent is None:
            cols, rows = (0, n - 1), (0, n - 1)
        else:
            w, s, e, north = extent
            s, north = max(s, -85.0511), min(north, 85.0511)
            cols, rows = (_col(w, n), _col(e, n)), (_row(north, n), _row(s, n))
        out.append(
            {"tileMatrix": str(z), "minTileRow": rows[0], "maxTileRow": rows[1],
             "minTileCol": cols[0], "maxTileCol": cols[1]}
        )  # fmt: skip
    return out
