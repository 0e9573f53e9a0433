"""OGC API – Tiles over the portal's own tile code and caches (the one import of them).

Vector tiles (MVT) come from layers.tiles in either tile matrix set; map tiles (PNG/WebP) of
raster collections come from layers.raster (its tile response: same renderer, cache and ETags
as the portal's /tiles/layers/<id>/… routes, in the collection's published style), in either
matrix set: rio-tiler cuts WorldCRS84Quad tiles from morecantile's definition of it.
"""

import math
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from layers.raster import tiles as raster_tiles
from layers.raster.views import tile_response as raster_tile_response
from layers.tiles import (
    MAX_ZOOM,
    MVT_TYPE,
    WEB_MERCATOR_QUAD,
    WORLD,
    WORLD_CRS84_QUAD,
    TileSpec,
    cached_tile,
    layer_name,
)
from ogc.selectors import Collection

TMS_ID = WEB_MERCATOR_QUAD
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# 0.28 mm pixels (OGC): the scale of a 256-pixel tile at zoom 0 over the whole world.
ZOOM0_SCALE = 559082264.0287178
# WorldCRS84Quad zoom 0: two 256-pixel tiles of 180° (OGC 17-083r4, annex D.2).
CRS84_ZOOM0_SCALE = 279541132.0143589
MAP_FORMATS = {"png": "image/png", "webp": "image/webp"}

__all__ = ["MAP_FORMATS", "MVT_TYPE", "TMS_ID", "TileMatrixSet", "collection_tile", "matrix_set"]


@dataclass(frozen=True)
class TileMatrixSet:
    id: str
    title: str
    uri: str
    crs: str
    max_zoom: int

    def size(self, z: int) -> tuple[int, int]:
        """(columns, rows) of zoom z."""
        return (2 ** (z + 1), 2**z) if self.id == WORLD_CRS84_QUAD else (2**z, 2**z)

    def valid(self, z: int, x: int, y: int) -> bool:
        if not 0 <= z <= self.max_zoom:
            return False
        cols, rows = self.size(z)
        return 0 <= x < cols and 0 <= y < rows

    def definition(self) -> dict[str, Any]:
        """The TileMatrixSet document (OGC 17-083r4 JSON encoding).

        It also carries the 1.0 encoding's keys (type, identifier, supportedCRS, boundingBox,
        topLeftCorner): GDAL 3.6 (Debian 12) reads only those, and 2.0 readers ignore them.
        """
        crs84 = self.id == WORLD_CRS84_QUAD
        corner = [-180.0, 90.0] if crs84 else [-WORLD, WORLD]
        return {
            "type": "TileMatrixSetType",
            "identifier": self.id,
            "supportedCRS": self.crs,
            "boundingBox": {
                "type": "BoundingBoxType",
                "crs": self.crs,
                "lowerCorner": [corner[0], -corner[1]],
                "upperCorner": [-corner[0], corner[1]],
            },
            "id": self.id,
            "title": self.title,
            "uri": self.uri,
            "crs": self.crs,
            "orderedAxes": ["Lon", "Lat"] if crs84 else ["E", "N"],
            "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/"
            + ("GoogleCRS84Quad" if crs84 else "GoogleMapsCompatible"),
            "tileMatrices": [
                {
                    "id": str(z),
                    "identifier": str(z),
                    "topLeftCorner": corner,
                    "scaleDenominator": (CRS84_ZOOM0_SCALE if crs84 else ZOOM0_SCALE) / 2**z,
                    "cellSize": (180 if crs84 else 2 * WORLD) / 256 / 2**z,
                    "cornerOfOrigin": "topLeft",
                    "pointOfOrigin": corner,
                    "tileWidth": 256,
                    "tileHeight": 256,
                    "matrixWidth": self.size(z)[0],
                    "matrixHeight": self.size(z)[1],
                }
                for z in range(self.max_zoom + 1)
            ],
        }

    def limits(
        self, extent: list[float] | None, max_zoom: int, min_zoom: int = 0
    ) -> list[dict[str, Any]]:
        """Rows and columns holding the collection at each zoom (the whole world without one)."""
        out = []
        for z in range(min_zoom, max_zoom + 1):
            cols, rows = self.size(z)
            if extent is None:
                c, r = (0, cols - 1), (0, rows - 1)
            elif self.id == WORLD_CRS84_QUAD:
                w, s, e, n = extent
                c = (_clamp((w + 180) / 360 * cols, cols), _clamp((e + 180) / 360 * cols, cols))
                r = (_clamp((90 - n) / 180 * rows, rows), _clamp((90 - s) / 180 * rows, rows))
            else:
                w, s, e, n = extent
                s, n = max(s, -85.0511), min(n, 85.0511)
                c = (_clamp((w + 180) / 360 * cols, cols), _clamp((e + 180) / 360 * cols, cols))
                r = (_clamp(_mercator_y(n) * rows, rows), _clamp(_mercator_y(s) * rows, rows))
            out.append(
                {"tileMatrix": str(z), "minTileRow": r[0], "maxTileRow": r[1],
                 "minTileCol": c[0], "maxTileCol": c[1]}
            )  # fmt: skip
        return out


def _clamp(value: float, n: int) -> int:
    return min(n - 1, max(0, int(value)))


def _mercator_y(lat: float) -> float:
    return (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2


MATRIX_SETS = {
    WEB_MERCATOR_QUAD: TileMatrixSet(
        id=WEB_MERCATOR_QUAD,
        title="Google Maps Compatible for the World",
        uri=TMS_URI,
        crs="http://www.opengis.net/def/crs/EPSG/0/3857",
        max_zoom=raster_tiles.MAX_ZOOM,  # map tiles go deeper than vector tiles (MAX_ZOOM)
    ),
    WORLD_CRS84_QUAD: TileMatrixSet(
        id=WORLD_CRS84_QUAD,
        title="CRS84 for the World",
        uri="http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad",
        crs=CRS84,
        # Its zoom z is as detailed as Web Mercator's z + 1: as deep as map tiles go there.
        max_zoom=raster_tiles.MAX_ZOOM - 1,
    ),
}
MAP_MATRIX_SETS = (WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD)


def _coarser(tms: TileMatrixSet) -> int:
    """Zooms to subtract from a Web Mercator zoom for the as-detailed zoom of `tms`."""
    return 1 if tms.id == WORLD_CRS84_QUAD else 0


def matrix_set(tms: str) -> TileMatrixSet | None:
    return MATRIX_SETS.get(tms)


def vector_max_zoom(tms: TileMatrixSet) -> int:
    return min(tms.max_zoom, MAX_ZOOM - _coarser(tms))


def map_max_zoom(collection: Collection, tms: TileMatrixSet) -> int:
    """The zoom whose pixel matches the raster's resolution in `tms` (more would only magnify)."""
    assert collection.raster is not None
    native = raster_tiles.native_zoom(collection.raster, collection.version)
    return max(0, native - _coarser(tms))


def map_min_zoom(collection: Collection, tms: TileMatrixSet) -> int:
    """The zoom at which the whole raster fits in one tile, as rio-tiler's Reader.minzoom: below
    it a raster is less than a tile's pixels (GDAL's OGC API driver then cannot size a level)."""
    raster = collection.raster
    assert raster is not None
    side = max(raster.width, raster.height, 1)
    return max(0, map_max_zoom(collection, tms) - max(0, math.ceil(math.log2(side / 256))))


def collection_tile(
    collection: Collection, tms: TileMatrixSet, z: int, x: int, y: int
) -> tuple[bytes, str]:
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
        tms=tms.id,
    )
    return cached_tile(spec), spec.etag


def map_tile(
    request: HttpRequest,
    collection: Collection,
    tms: TileMatrixSet,
    z: int,
    x: int,
    y: int,
    fmt: str,
) -> HttpResponse:
    """A PNG/WebP map tile as the portal's raster route serves it: in the style of the map
    version the collection comes from (the layer's default style without one)."""
    assert collection.raster is not None
    return raster_tile_response(
        request, collection.raster, z=z, x=x, y=y, fmt=fmt, style=collection.style, tms=tms.id
    )


def vector_layer_id(collection: Collection) -> str:
    return layer_name(collection.layer.pk)
