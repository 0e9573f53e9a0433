"""The coordinate systems of the house, named once.

Every geometry column stores EPSG:4326 (longitude/latitude, what GeoJSON and the API speak);
vector and raster tiles are cut in EPSG:3857 (web mercator, what slippy maps draw).
"""

STORAGE_SRID = 4326
TILE_SRID = 3857
