"""Tiles derived from layer versions: vector tiles (MVT) and their low-zoom overviews.

The public names below are what maps, exports and the OGC API call; everything else in the
package is private. Raster tiles join here as a sibling module of `mvt`.
"""

from layers.tiles.mvt import (
    BUFFER,
    CELL_PX,
    EXTENT,
    MAX_ZOOM,
    MVT_TYPE,
    OVERVIEW_MAX_ZOOM,
    OVERVIEW_MIN_FEATURES,
    VIEWER_MAX_ZOOM,
    WEB_MERCATOR_QUAD,
    WORLD,
    WORLD_CRS84_QUAD,
    TileSpec,
    cached_tile,
    generalise_params,
    generalised_rows_sql,
    layer_name,
    overviews_prepare,
    pixel_size,
    render_tile,
    tile_source,
    tile_sql,
    valid_tile,
)
from layers.tiles.selectors import VersionRow, tile_version_for, version_bounds

__all__ = [
    "BUFFER",
    "CELL_PX",
    "EXTENT",
    "MAX_ZOOM",
    "MVT_TYPE",
    "OVERVIEW_MAX_ZOOM",
    "OVERVIEW_MIN_FEATURES",
    "VIEWER_MAX_ZOOM",
    "WEB_MERCATOR_QUAD",
    "WORLD",
    "WORLD_CRS84_QUAD",
    "TileSpec",
    "VersionRow",
    "cached_tile",
    "generalise_params",
    "generalised_rows_sql",
    "layer_name",
    "overviews_prepare",
    "pixel_size",
    "render_tile",
    "tile_source",
    "tile_sql",
    "tile_version_for",
    "valid_tile",
    "version_bounds",
]
