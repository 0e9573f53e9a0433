"""Raster layers: detect and refuse (safety), convert to a COG (convert), measure (stats), style and
serve tiles (styles, tiles). rasterio and rio-tiler are imported where they are used, not at start-up.
"""
