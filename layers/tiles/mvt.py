"""Mapbox Vector Tiles cut by PostGIS (ST_AsMVT in EPSG:3857), generalised on purpose at low zooms.

At zoom z a pixel of a 256-px tile is `pixel_size(z)` metres. Features smaller than a pixel are
merged into one pixel cell per occupied cell (polygons), thinned to one per cell (points and
lines), and larger ones are simplified to half a pixel — never cut by an arbitrary feature cap.
`overviews_prepare` stores that per zoom (TileOverview) once a layer version is imported; until
it has run, the same generalisation is computed for the requested tile on the fly.
Tiles of an immutable LayerVersion never change, so the cache and ETag key on the version id.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, router, transaction

from layers.models import Feature, LayerVersion, TileOverview, TileOverviewState
from projects.srid import STORAGE_SRID, TILE_SRID

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 16  # TileJSON maxzoom: generic clients over-zoom above it
# Our viewer asks for real tiles up to here: VectorGrid hit-testing breaks on over-zoomed tiles.
VIEWER_MAX_ZOOM = 20
OVERVIEW_MAX_ZOOM = 12
# Below this many features a raw tile stays small at every zoom: no overview is needed.
OVERVIEW_MIN_FEATURES = 10_000
# Sub-cell features merge into cells of this many pixels: at 3 the 200,000-parcel viewer draws its
# first tiles in about 1 s instead of 1.2–1.9 s at 2 (bench/viewer.py), and still reads as the data.
CELL_PX = 3
WORLD = 20037508.342789244
WORLD_BOX = f"ST_MakeEnvelope({-WORLD}, {-WORLD}, {WORLD}, {WORLD}, {TILE_SRID})"
CACHE_SECONDS = 7 * 24 * 3600
MVT_TYPE = "application/vnd.mapbox-vector-tile"
# Tile matrix sets (OGC 17-083r4): the portal's XYZ grid, and the EPSG:4326 quad whose zoom 0
# is two tiles (OGC API clients ask for it by name). A CRS84 tile of zoom z is as wide as a Web
# Mercator tile of zoom z + 1, so it is generalised (and reads overviews) like that zoom.
WEB_MERCATOR_QUAD = "WebMercatorQuad"
WORLD_CRS84_QUAD = "WorldCRS84Quad"
CRS84_BOX = f"ST_MakeEnvelope(-180, -85.0511287798, 180, 85.0511287798, {STORAGE_SRID})"


def pixel_size(z: int) -> float:
    return 2 * WORLD / (2**z * 256)


def layer_name(layer_id: int) -> str:
    return f"layer_{layer_id}"


# Generalised rows (fid, geom in 3857, props) of one zoom from `source` (fid, g in 3857, props).
# %(c)s is the cell (CELL_PX pixels), %(tol)s one pixel.
_GENERALISE = f"""
WITH src AS (
  SELECT fid, g, props, ST_Dimension(g) AS dim, ST_Area(g) AS area,
         greatest(ST_XMax(g) - ST_XMin(g), ST_YMax(g) - ST_YMin(g)) AS size,
         floor(ST_X(ST_Centroid(g)) / %(c)s) AS ix, floor(ST_Y(ST_Centroid(g)) / %(c)s) AS iy
  FROM ({{source}}) s
)
SELECT fid, ST_Simplify(g, %(tol)s, true) AS geom, props FROM src WHERE size >= %(c)s
UNION ALL
SELECT fid, geom, props FROM (
  SELECT DISTINCT ON (dim, ix, iy) fid, props,
         CASE WHEN dim = 2 THEN ST_MakeEnvelope(ix * %(c)s, iy * %(c)s,
                                                (ix + 1) * %(c)s, (iy + 1) * %(c)s, {TILE_SRID})
              ELSE g END AS geom
  FROM src WHERE size < %(c)s
  ORDER BY dim, ix, iy, area DESC, size DESC, fid
) cells
"""

_RAW_SOURCE = (
    f"SELECT fid, ST_Force2D(ST_Transform(geom, {TILE_SRID})) AS g, properties AS props "
    "FROM layers_feature WHERE version_id = %(v)s::bigint {where}"
)


def generalised_rows_sql(where: str = "") -> str:
    """SQL of (fid, geom in EPSG:3857, props) rows of version %(v)s generalised like the tiles.

    `where` narrows the raw features (e.g. "AND geom && <box in 4326>"); the caller supplies
    %(v)s, %(c)s (the merge cell) and %(tol)s (one pixel). Used by server-side map rendering.
    """
    return _GENERALISE.format(source=_RAW_SOURCE.format(where=where))


def generalise_params(z: int) -> dict[str, float]:
    return {"c": pixel_size(z) * CELL_PX, "tol": pixel_size(z)}


def overviews_prepare(version_id: int) -> None:
    """Precompute the low-zoom overviews of a layer version (idempotent; called after import)."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM layers_feature WHERE version_id = %s", [version_id])
        count = cur.fetchone()[0]
        TileOverview.objects.filter(version_id=version_id).delete()
        if count < OVERVIEW_MIN_FEATURES:
            TileOverviewState.objects.update_or_create(
                version_id=version_id, defaults={"max_zoom": -1}
            )
            return
        # Transform once; every zoom then reads the 3857 copy.
        cur.execute("DROP TABLE IF EXISTS maps_ov_src")
        cur.execute(
            "CREATE TEMP TABLE maps_ov_src ON COMMIT DROP AS " + _RAW_SOURCE.format(where=""),
            {"v": version_id},
        )
        for z in range(OVERVIEW_MAX_ZOOM + 1):
            cur.execute(
                "INSERT INTO maps_tileoverview (version_id, zoom, fid, geom, properties) "
                "SELECT %(v)s, %(z)s, fid, geom, props FROM ("
                + _GENERALISE.format(source="SELECT fid, g, props FROM maps_ov_src")
                + ") o WHERE NOT ST_IsEmpty(geom)",
                {"v": version_id, "z": z, **generalise_params(z)},
            )
        cur.execute("DROP TABLE maps_ov_src")
        TileOverviewState.objects.update_or_create(
            version_id=version_id, defaults={"max_zoom": OVERVIEW_MAX_ZOOM}
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE maps_tileoverview")


def _props_sql(fields: Sequence[str], column: str) -> tuple[str, dict[str, str]]:
    """Only the attributes the style and popups need, typed as in the JSON (numbers stay numbers)."""
    if not fields:
        return "", {}
    pairs = ", ".join(f"%(k{i})s::text, {column} -> %(k{i})s::text" for i in range(len(fields)))
    return f", jsonb_build_object({pairs}) AS props", {f"k{i}": n for i, n in enumerate(fields)}


def detail_zoom(z: int, tms: str = WEB_MERCATOR_QUAD) -> int:
    """The Web Mercator zoom whose pixel matches a tile of zoom z of `tms` (generalisation)."""
    return z + 1 if tms == WORLD_CRS84_QUAD else z


def crs84_tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of WorldCRS84Quad tile (z, col x, row y)."""
    size = 180.0 / 2**z
    west, north = -180.0 + x * size, 90.0 - y * size
    return west, north - size, west + size, north


def _crs84_tile_sql(
    *, params: dict[str, Any], fields: Sequence[str], source: str
) -> tuple[str, dict[str, Any]]:
    """Rows of a WorldCRS84Quad tile: ST_AsMVTGeom against an EPSG:4326 envelope."""
    w, s, e, n = crs84_tile_bounds(params["z"], params["x"], params["y"])
    params.update(w=w, s=s, e=e, n=n, m=2 * CELL_PX * (e - w) / 256)
    env = f"ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, {STORAGE_SRID})"
    margin = f"ST_Expand({env}, %(m)s)"
    if source == "overview":
        props, names = _props_sql(fields, "o.properties")
        rows = (
            f"SELECT o.fid, ST_AsMVTGeom(ST_Transform(o.geom, {STORAGE_SRID}), {env}, "
            f"%(extent)s, %(buffer)s, true) AS geom{props} FROM maps_tileoverview o "
            "WHERE o.version_id = %(v)s::bigint AND o.zoom = %(gz)s::smallint AND o.geom && "
            f"ST_Transform(ST_ClipByBox2D({margin}, {CRS84_BOX}), {TILE_SRID})"
        )
    elif source == "generalise":
        props, names = _props_sql(fields, "o.props")
        inner = generalised_rows_sql(f"AND geom && {margin}")
        rows = (
            f"SELECT o.fid, ST_AsMVTGeom(ST_Transform(o.geom, {STORAGE_SRID}), {env}, "
            f"%(extent)s, %(buffer)s, true) AS geom{props} FROM ({inner}) o"
        )
    else:
        props, names = _props_sql(fields, "f.properties")
        rows = (
            f"SELECT f.fid, ST_AsMVTGeom(ST_Force2D(f.geom), {env}, %(extent)s, %(buffer)s, true) "
            f"AS geom{props} FROM layers_feature f "
            f"WHERE f.version_id = %(v)s::bigint AND f.geom && {margin}"
        )
    sql = (
        "SELECT ST_AsMVT(t, %(name)s, %(extent)s, 'geom', 'fid') "
        f"FROM ({rows}) t WHERE t.geom IS NOT NULL"
    )
    return sql, {**params, **names}


def tile_sql(
    *,
    version_id: int,
    layer_id: int,
    z: int,
    x: int,
    y: int,
    fields: Sequence[str],
    source: str,
    tms: str = WEB_MERCATOR_QUAD,
) -> tuple[str, dict[str, Any]]:
    """The SQL of one tile; `source` is "raw", "overview" (prepared) or "generalise" (on the fly).

    `tms` is the tile matrix set of (z, x, y): WebMercatorQuad (the portal's) or WorldCRS84Quad.
    """
    gz = detail_zoom(z, tms)
    params: dict[str, Any] = {
        "v": version_id,
        "z": z,
        "gz": gz,
        "x": x,
        "y": y,
        "name": layer_name(layer_id),
        "extent": EXTENT,
        "buffer": BUFFER,
        **generalise_params(gz),
    }
    if tms == WORLD_CRS84_QUAD:
        return _crs84_tile_sql(params=params, fields=fields, source=source)
    env = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s)"
    margin = f"ST_Expand({env}, %(c)s * 2)"
    # The margin of an edge tile reaches past the antimeridian, where ST_Transform wraps it to the
    # other side of the world and the search box would miss the features at the edge: clip first.
    search = f"ST_Transform(ST_ClipByBox2D({margin}, {WORLD_BOX}), {STORAGE_SRID})"
    if source == "overview":
        props, names = _props_sql(fields, "o.properties")
        rows = (
            f"SELECT o.fid, ST_AsMVTGeom(o.geom, {env}, %(extent)s, %(buffer)s, true) AS geom"
            f"{props} FROM maps_tileoverview o "
            # Typed to the columns, or btree_gist cannot use them (psycopg sends small ints as int2).
            f"WHERE o.version_id = %(v)s::bigint AND o.zoom = %(z)s::smallint AND o.geom && {margin}"
        )
    elif source == "generalise":
        props, names = _props_sql(fields, "o.props")
        inner = generalised_rows_sql(f"AND geom && {search}")
        rows = (
            f"SELECT o.fid, ST_AsMVTGeom(o.geom, {env}, %(extent)s, %(buffer)s, true) AS geom"
            f"{props} FROM ({inner}) o"
        )
    else:
        props, names = _props_sql(fields, "f.properties")
        rows = (
            f"SELECT f.fid, ST_AsMVTGeom(ST_Transform(ST_Force2D(f.geom), {TILE_SRID}), "
            f"{env}, %(extent)s, %(buffer)s, true) AS geom{props} FROM layers_feature f "
            f"WHERE f.version_id = %(v)s::bigint AND f.geom && {search}"
        )
    sql = (
        "SELECT ST_AsMVT(t, %(name)s, %(extent)s, 'geom', 'fid') "
        f"FROM ({rows}) t WHERE t.geom IS NOT NULL"
    )
    return sql, {**params, **names}


def tile_source(version: LayerVersion | int, z: int, feature_count: int | None = None) -> str:
    """Which rows feed a tile at zoom z: prepared overviews, on-the-fly generalisation, or raw."""
    if z > OVERVIEW_MAX_ZOOM:
        return "raw"
    version_id = version if isinstance(version, int) else version.pk
    state = TileOverviewState.objects.filter(version_id=version_id).values_list(
        "max_zoom", flat=True
    )
    max_zoom = next(iter(state), None)
    if max_zoom is not None:
        return "overview" if z <= max_zoom else "raw"
    if feature_count is None:
        feature_count = LayerVersion.objects.filter(pk=version_id).values_list(
            "feature_count", flat=True
        )[0]
    return "generalise" if feature_count >= OVERVIEW_MIN_FEATURES else "raw"


@dataclass(frozen=True)
class TileSpec:
    """One tile of one layer version, with the attributes it carries."""

    version_id: int
    layer_id: int
    z: int
    x: int
    y: int
    fields: tuple[str, ...]
    # Attributes kept where the tile is generalised (a merged cell has no meaningful popup).
    coarse_fields: tuple[str, ...]
    feature_count: int | None = None
    tms: str = WEB_MERCATOR_QUAD

    @property
    def key(self) -> str:
        # Versions are immutable: a new import is a new version id, hence a new key (invalidation).
        names = ",".join(self.fields) + "|" + ",".join(self.coarse_fields)
        digest = hashlib.sha1(names.encode(), usedforsecurity=False).hexdigest()[:10]
        # The portal's grid keeps its historical keys; another matrix set has its own.
        grid = "" if self.tms == WEB_MERCATOR_QUAD else f"{self.tms}:"
        return f"mvt:{grid}{self.version_id}:{self.layer_id}:{self.z}:{self.x}:{self.y}:{digest}"

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.key.encode(), usedforsecurity=False).hexdigest()[:20] + '"'


def render_tile(spec: TileSpec) -> bytes:
    """The MVT bytes of one tile (b"" when it holds no feature), straight from PostGIS."""
    source = tile_source(spec.version_id, detail_zoom(spec.z, spec.tms), spec.feature_count)
    sql, params = tile_sql(
        version_id=spec.version_id,
        layer_id=spec.layer_id,
        z=spec.z,
        x=spec.x,
        y=spec.y,
        fields=spec.fields if source == "raw" else spec.coarse_fields,
        source=source,
        tms=spec.tms,
    )
    # A read replica answers tiles when one is configured (DATABASE_REPLICA_URL).
    alias = router.db_for_read(Feature)
    with transaction.atomic(using=alias), connections[alias].cursor() as cur:
        # Parallel workers cost 5–50 ms to start: far more than a tile query takes.
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cur.execute(sql, params)
        row = cur.fetchone()
    return bytes(row[0]) if row and row[0] else b""


class _TileMemory:
    """The hottest tiles' bytes in this process, least recently used out first, bounded in bytes.

    In front of the shared cache: a map view's tiles come back again and again (every visitor
    of a shared map asks for the same ones), and a Redis round trip costs more CPU than the rest
    of a cached tile's answer. Safe to keep without invalidation: a key names an immutable
    version, and access is decided before a tile is looked up.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._tiles: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._tiles.get(key)
            if data is not None:
                self._tiles.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes // 8:
            return  # a huge tile would push out dozens of small ones
        with self._lock:
            old = self._tiles.pop(key, None)
            self.size += len(data) - (len(old) if old is not None else 0)
            self._tiles[key] = data
            while self.size > self.max_bytes:
                _, dropped = self._tiles.popitem(last=False)
                self.size -= len(dropped)


_memory = _TileMemory(settings.TILE_MEMORY_CACHE_MB * 2**20)


def cached_tile(spec: TileSpec) -> bytes:
    """`render_tile` through this process's memory, then the shared cache (keyed on the
    immutable version)."""
    key = spec.key
    data = _memory.get(key)
    if data is None:
        data = cache.get(key)
        if data is None:
            data = render_tile(spec)
            cache.set(key, data, CACHE_SECONDS)
        _memory.put(key, data)
    return data


def valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= VIEWER_MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z
