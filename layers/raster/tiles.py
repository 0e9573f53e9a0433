"""Raster tiles of a layer version's COG with rio-tiler: styled PNG/WebP, versioned, cached, ETagged.

A tile reads only the COG blocks (or overview blocks) under it, never the whole raster. Versions are
immutable, so the cache key and the ETag are (version, z, x, y, format, style digest, tile matrix
set). Tiles are cut in WebMercatorQuad (the portal's grid) or WorldCRS84Quad (OGC API clients
asking for a degree grid): rio-tiler reads either from morecantile's definition of it.
Hillshade tiles are read with a one-pixel buffer so the gradient has neighbours: no seams.
"""

import base64
import hashlib
import io
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile

from layers.models import LayerVersion, RasterVersion
from layers.raster.storage import gdal_path, read_env
from layers.raster.styles import (
    default_raster_style,
    raster_style_validate,
    render_rgba,
    style_bands,
    style_buffer,
)
from layers.tiles.mvt import WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD
from projects.srid import TILE_SRID

TILE_SIZE = 256
MAX_ZOOM = 22
WORLD = 20037508.342789244
# Metres of one degree of latitude (mean) and of longitude at the equator (WGS84).
METRES_PER_DEGREE_LAT, METRES_PER_DEGREE_LON = 111_132.954, 111_319.491
TILE_MATRIX_SETS = (WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD)
CACHE_SECONDS = 7 * 24 * 3600
FORMATS = {"png": ("PNG", "image/png"), "webp": ("WEBP", "image/webp")}
# zlib level 2: about a third of level 6's time for tiles some 40 % larger (measured in
# docs/architecture.md, raster tiles); they are then cached in Redis and the browser.
PNG_LEVEL = 2
WEBP_QUALITY, WEBP_METHOD = 80, 1
# Part of every tile's cache key and ETag: bump it when the same style draws different pixels
# (r2: nearest sampling for imagery, new PNG encoder), so caches and browsers refetch.
RENDERER = "r2"
MAX_STYLE_TOKEN = 4096
_OPEN_PER_THREAD = 16
_local = threading.local()


def raster_info(raster: RasterVersion) -> dict[str, Any]:
    """What styles need to know of a raster (the band statistics of its import)."""
    return {
        "content": raster.content,
        "bands": raster.bands,
        "dtype": raster.dtype,
        "band_stats": raster.band_stats,
        "colormap": raster.colormap,
        "categories": raster.categories,
    }


def style_token(style: dict[str, Any]) -> str:
    """The style as a URL parameter (the tile server validates it again)."""
    compact = {k: v for k, v in style.items() if k != "legend"}
    raw = json.dumps(compact, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def style_from_token(token: str | None, raster: RasterVersion) -> dict[str, Any]:
    info = raster_info(raster)
    if not token:
        return raster_style_validate(default_raster_style(info), info)
    if len(token) > MAX_STYLE_TOKEN:
        raise ValidationError("The style parameter is too long.")
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError) as exc:
        raise ValidationError("The style parameter is not a valid style.") from exc
    return raster_style_validate(raw, info)


@dataclass(frozen=True)
class RasterTileSpec:
    version_id: int
    stamp: str
    z: int
    x: int
    y: int
    fmt: str
    style: str  # canonical JSON of the validated style
    tms: str = WEB_MERCATOR_QUAD

    @property
    def key(self) -> str:
        digest = hashlib.sha1(self.style.encode(), usedforsecurity=False).hexdigest()[:12]
        # The same z/x/y is another tile in another grid. Web Mercator keys carry no suffix so
        # the portal's cached tiles and browsers' ETags stay valid.
        grid = "" if self.tms == WEB_MERCATOR_QUAD else f":{self.tms}"
        return (
            f"rtile:{RENDERER}:{self.version_id}:{self.stamp}:{self.z}:{self.x}:{self.y}:"
            f"{self.fmt}:{digest}{grid}"
        )

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.key.encode(), usedforsecurity=False).hexdigest()[:20] + '"'


def valid_tile(z: int, x: int, y: int, tms: str = WEB_MERCATOR_QUAD) -> bool:
    """In the grid: WorldCRS84Quad has twice as many columns as rows (2 × 1 tiles at zoom 0)."""
    if tms not in TILE_MATRIX_SETS:
        return False
    cols = 2 ** (z + 1) if tms == WORLD_CRS84_QUAD else 2**z
    return 0 <= z <= MAX_ZOOM and 0 <= x < cols and 0 <= y < 2**z


def detail_zoom(z: int, tms: str) -> int:
    """The Web Mercator zoom as detailed as zoom z of `tms` (a style's zoom range is in those):
    a WorldCRS84Quad tile spans 180° / 2^z, as Web Mercator's z + 1 does."""
    return z + 1 if tms == WORLD_CRS84_QUAD else z


def _morecantile_tms(tms: str) -> Any:
    """morecantile's definition of the grid (rio-tiler's Reader cuts tiles in it)."""
    import morecantile

    return morecantile.tms.get(tms)


def _opened_reader(path: str, tms: str = WEB_MERCATOR_QUAD) -> Any:
    """This thread's rio-tiler Reader of `path` in the grid `tms`, opened once (rasterio handles are not shared
    between threads); the least recently used of more than _OPEN_PER_THREAD is closed.

    A Reader, not only its dataset: making one reads the CRS, bounds, colour map and overviews.
    Stored files are immutable (a new version is a new name), so a kept Reader never goes stale.
    """
    import rasterio
    from rio_tiler.io import Reader

    opened: OrderedDict[tuple[str, str], Any] = getattr(_local, "readers", None) or OrderedDict()
    _local.readers = opened
    key = (path, tms)
    reader = opened.get(key)
    if reader is None or reader.dataset.closed:
        # Its own dataset per grid: closing an evicted Reader never closes another's.
        options = {} if tms == WEB_MERCATOR_QUAD else {"tms": _morecantile_tms(tms)}
        reader = Reader(path, dataset=rasterio.open(path), **options)
    opened[key] = reader
    opened.move_to_end(key)
    while len(opened) > _OPEN_PER_THREAD:
        opened.popitem(last=False)[1].dataset.close()
    return reader


_import_lock = threading.Lock()


def _load_rio_tiler() -> None:
    """Import rio-tiler once, under a lock: tile threads importing it side by side on a fresh
    process see a partially initialised rio_tiler.io (its modules import each other)."""
    with _import_lock:
        import rio_tiler.errors
        import rio_tiler.io
        import rio_tiler.utils  # noqa: F401


@contextmanager
def _reader(field: FieldFile, tms: str = WEB_MERCATOR_QUAD) -> Iterator[Any]:
    """A rio-tiler Reader of a stored COG, under the GDAL options that read it (storage.read_env).

    The options hold for every use of the dataset, not only its open: /vsis3/ reads later
    blocks with them. Entering a rasterio.Env costs about 0.04 ms; it sets no GDAL_CACHEMAX, so
    the process's block cache is never resized.
    """
    _load_rio_tiler()
    with read_env(field):
        yield _opened_reader(gdal_path(field), tms)


def _ground_pixel(z: int, y: int) -> float:
    """Metres on the ground of one pixel of tile row y at zoom z (Web Mercator shrinks by cos φ)."""
    n = math.pi - 2 * math.pi * (y + 0.5) / 2**z
    lat = math.atan(math.sinh(n))
    return 2 * WORLD / (TILE_SIZE * 2**z) * math.cos(lat)


def _pixel_m(z: int, y: int, tms: str) -> tuple[float, float]:
    """(x, y) metres on the ground of one pixel of tile row y (a hillshade's gradient needs them).

    A WorldCRS84Quad pixel is square in degrees, not in metres: its width shrinks by cos φ.
    """
    if tms != WORLD_CRS84_QUAD:
        pixel = _ground_pixel(z, y)
        return pixel, pixel
    degrees = 180 / (TILE_SIZE * 2**z)
    lat = math.radians(90 - (y + 0.5) * 180 / 2**z)
    return degrees * METRES_PER_DEGREE_LON * math.cos(lat), degrees * METRES_PER_DEGREE_LAT


def _valid(image: Any) -> np.ndarray:
    """255 where every band of the read holds data (rio-tiler's masked array), else 0."""
    return np.where(np.ma.getmaskarray(image.array).any(axis=0), 0, 255).astype("uint8")


def _encode(rgba: np.ndarray, fmt: str) -> bytes:
    """PNG or WebP of a (4, h, w) uint8 RGBA array; an opaque tile is written as RGB (a quarter
    fewer bytes to compress). One copy: Pillow wants the bands interleaved."""
    from PIL import Image

    opaque = bool(rgba[3].min() == 255)
    pixels = np.ascontiguousarray(np.moveaxis(rgba[:3] if opaque else rgba, 0, -1))
    image = Image.fromarray(pixels)  # (h, w, 3) is RGB, (h, w, 4) RGBA
    out = io.BytesIO()
    if fmt == "png":
        image.save(out, "PNG", compress_level=PNG_LEVEL)
    else:
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return out.getvalue()


_EMPTY: dict[str, bytes] = {}


def empty_tile(fmt: str) -> bytes:
    if fmt not in _EMPTY:
        _EMPTY[fmt] = _encode(np.zeros((4, TILE_SIZE, TILE_SIZE), dtype="uint8"), fmt)
    return _EMPTY[fmt]


def _resampling(raster: RasterVersion) -> str:
    """How a tile samples the COG. Measurements are interpolated (smooth hillshade gradients, no
    stair steps in a colour ramp). Categories keep their values. Imagery takes the nearest pixel,
    as QGIS, rio-tiler and titiler do by default: its overviews were already averaged at import,
    and bilinear warping cost about 10 ms more per 256 px tile of the 0.5 m ortho (about 40 % of
    a tile; docs/architecture.md, raster tiles)."""
    return "bilinear" if raster.content == RasterVersion.Content.CONTINUOUS else "nearest"


def render_tile(raster: RasterVersion, spec: RasterTileSpec, style: dict[str, Any]) -> bytes:
    _load_rio_tiler()
    from rio_tiler.errors import TileOutsideBounds

    buffer = style_buffer(style)
    if not style["min_zoom"] <= detail_zoom(spec.z, spec.tms) <= style["max_zoom"]:
        return empty_tile(spec.fmt)
    method = _resampling(raster)
    try:
        with _reader(raster.cog, spec.tms) as reader:
            image = reader.tile(
                spec.x,
                spec.y,
                spec.z,
                tilesize=TILE_SIZE,
                indexes=style_bands(style),
                buffer=buffer,
                resampling_method=method,
                reproject_method=method,
            )
    except TileOutsideBounds:
        return empty_tile(spec.fmt)
    pixel_m = _pixel_m(spec.z, spec.y, spec.tms)
    rgba = render_rgba(image.data, _valid(image), style, pixel_m=pixel_m, buffer=buffer)
    return _encode(rgba, spec.fmt)


def cached_tile(raster: RasterVersion, spec: RasterTileSpec, style: dict[str, Any]) -> bytes:
    data = cache.get(spec.key)
    if data is None:
        data = render_tile(raster, spec, style)
        cache.set(spec.key, data, CACHE_SECONDS)
    return data


def tile_spec(
    raster: RasterVersion,
    *,
    z: int,
    x: int,
    y: int,
    fmt: str,
    token: str | None,
    tms: str = WEB_MERCATOR_QUAD,
) -> tuple[RasterTileSpec, dict[str, Any]]:
    style = style_from_token(token, raster)
    canonical = json.dumps(
        {k: v for k, v in style.items() if k != "legend"}, sort_keys=True, separators=(",", ":")
    )
    # The import time keeps keys apart if ids are ever reused (a restored or recreated database).
    stamp = f"{raster.version.created_at.timestamp():.6f}"
    return RasterTileSpec(raster.pk, stamp, z, x, y, fmt, canonical, tms), style


def identify(raster: RasterVersion, lon: float, lat: float) -> dict[str, Any]:
    """Every band's value at a point (EPSG:4326), in the raster's own units; null where no data."""
    _load_rio_tiler()
    from rio_tiler.errors import PointOutsideBounds

    try:
        with _reader(raster.cog) as reader:
            point = reader.point(lon, lat)
    except PointOutsideBounds:
        return {"inside": False, "bands": []}
    values = point.array
    bands = []
    for i, value in enumerate(values):
        stats = raster.band_stats[i] if i < len(raster.band_stats) else {}
        entry: dict[str, Any] = {
            "band": i + 1,
            "name": stats.get("description") or stats.get("name") or f"Band {i + 1}",
            "value": None if np.ma.is_masked(value) else _plain(value),
        }
        if raster.content == "categorical" and entry["value"] is not None:
            entry["color"] = raster.colormap.get(str(int(entry["value"])))
        bands.append(entry)
    return {"inside": True, "lon": lon, "lat": lat, "bands": bands}


def _plain(value: Any) -> float | int:
    number = value.item() if hasattr(value, "item") else value
    return int(number) if float(number).is_integer() else round(float(number), 6)


def tilejson(*, version: LayerVersion, name: str, template: str, fmt: str) -> dict[str, Any]:
    """TileJSON 3.0.0 of a raster layer version (the template comes from the route that serves it)."""
    bounds = list(version.extent.extent) if version.extent else [-180.0, -85.0, 180.0, 85.0]
    raster = version.raster
    return {
        "tilejson": "3.0.0",
        "name": name,
        "version": f"{version.pk}",
        "scheme": "xyz",
        "tiles": [template],
        "format": fmt,
        "tileSize": TILE_SIZE,
        "minzoom": 0,
        "maxzoom": native_zoom(raster, version),
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 12],
    }


def native_zoom(raster: RasterVersion, version: LayerVersion) -> int:
    """The zoom whose pixel matches the raster's resolution (more would only magnify)."""
    if not version.extent:
        return MAX_ZOOM
    minx, miny, maxx, maxy = version.extent.extent
    degrees_per_px = (maxx - minx) / max(raster.width, 1)
    if degrees_per_px <= 0:
        return MAX_ZOOM
    return max(0, min(MAX_ZOOM, math.ceil(math.log2(360 / (TILE_SIZE * degrees_per_px)))))


def render_frame(
    version_id: int,
    style: dict[str, Any],
    *,
    bounds_3857: tuple[float, float, float, float],
    width: int,
    height: int,
) -> np.ndarray | None:
    """(4, h, w) RGBA of a raster version over an EPSG:3857 frame (map exports, thumbnails).

    Reads through the COG's overviews at the frame's resolution, like a tile; None when the
    raster is gone or outside the frame.
    """
    from rasterio.crs import CRS

    _load_rio_tiler()
    from rio_tiler.errors import TileOutsideBounds

    raster = RasterVersion.objects.filter(version_id=version_id).first()
    if raster is None:
        return None
    buffer = style_buffer(style)
    mercator = CRS.from_epsg(TILE_SRID)
    try:
        with _reader(raster.cog) as reader:
            image = reader.part(
                bounds_3857,
                dst_crs=mercator,
                bounds_crs=mercator,
                width=width,
                height=height,
                indexes=style_bands(style),
                buffer=buffer or None,
                resampling_method=_resampling(raster),
                reproject_method=_resampling(raster),
            )
    except TileOutsideBounds:
        return None
    res = (bounds_3857[2] - bounds_3857[0]) / width
    lat = math.degrees(
        math.atan(math.sinh((bounds_3857[1] + bounds_3857[3]) / 2 / WORLD * math.pi))
    )
    ground = res * math.cos(math.radians(lat))
    return render_rgba(image.data, _valid(image), style, pixel_m=(ground, ground), buffer=buffer)
