"""Read a prepared source with pyogrio in Arrow batches and COPY it into its own feature partition.

Per batch: reproject to EPSG:4326 (pyproj, vectorised), repair invalid geometries, drop empty
ones, then stream binary COPY rows into a standalone table that is indexed, analysed and attached to
`layers_feature` as the version's partition (layers/partitions.py), inside the caller's transaction.
"""

import csv
import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyogrio import raw
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from layers import partitions
from layers.ingest import encode, safety
from layers.ingest.encode import Field, copy_payload, field_type, properties_json
from layers.ingest.errors import ImportFailed
from projects.srid import STORAGE_SRID

# Rows per Arrow batch: small enough that peak memory stays flat whatever the file size
# (16,384 points peaked at 320 MB RSS, 8,192 at 267 MB, at the same speed).
BATCH_SIZE = 8192
CSV_OPEN_OPTIONS = {
    "X_POSSIBLE_NAMES": "lon,long,lng,longitude,x,easting,point_x,xcoord,x_coord",
    "Y_POSSIBLE_NAMES": "lat,latitude,y,northing,point_y,ycoord,y_coord",
    "GEOM_POSSIBLE_NAMES": "wkt,geometry,geom,the_geom,wkt_geom,shape",
    "KEEP_GEOM_COLUMNS": "NO",
    "AUTODETECT_TYPE": "YES",
}
# shapely type ids: 0 Point, 1 LineString, 2 LinearRing, 3 Polygon, 4 MultiPoint,
# 5 MultiLineString, 6 MultiPolygon, 7 GeometryCollection.
TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
FAMILY = {0: "point", 4: "point", 1: "line", 2: "line", 5: "line", 3: "polygon", 6: "polygon"}
MULTI_OF = {0: "MultiPoint", 1: "MultiLineString", 2: "MultiLineString", 3: "MultiPolygon"}

ProgressFn = Callable[[int, int], None]


@dataclass
class SourceLayer:
    name: str
    feature_count: int
    fields: list[str]


@dataclass
class LoadResult:
    source_layer: str
    feature_count: int = 0
    geometry_type: str = ""
    has_z: bool = False
    source_srid: int | None = None
    source_crs_wkt: str = ""
    extent: tuple[float, float, float, float] | None = None
    schema: list[dict[str, str]] = field(default_factory=list)
    repaired_count: int = 0
    warnings: list[str] = field(default_factory=list)


def open_options(driver: str) -> dict[str, str]:
    return dict(CSV_OPEN_OPTIONS) if driver == safety.CSV else {}


def list_source_layers(detected: safety.Detected) -> list[SourceLayer]:
    safety.configure_gdal()
    try:
        layers = pyogrio.list_layers(str(detected.path))
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types for damaged files
        raise ImportFailed(_unreadable(detected, exc)) from exc
    result = []
    for name, _geom_type in layers:
        info = _read_info(detected, str(name))
        result.append(
            SourceLayer(name=str(name), feature_count=info["features"], fields=list(info["fields"]))
        )
    return result


def _unreadable(detected: safety.Detected, exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.replace(str(detected.path.parent), "").replace(str(detected.path), "")
    if detected.driver == safety.SHAPEFILE:
        return f"This Shapefile could not be read; it may be truncated or damaged ({text})."
    return f"This {detected.label} file could not be read; it may be truncated or damaged ({text})."


def _read_info(detected: safety.Detected, layer: str) -> dict[str, Any]:
    try:
        info = pyogrio.read_info(
            str(detected.path),
            layer=layer,
            force_feature_count=True,
            **open_options(detected.driver),
        )
    except Exception as exc:  # noqa: BLE001
        raise ImportFailed(_unreadable(detected, exc)) from exc
    if info.get("driver") not in safety.ALLOWED_DRIVERS or (
        info.get("driver") != detected.driver
        and {info.get("driver"), detected.driver} != {safety.KML, safety.LIBKML}
    ):
        raise ImportFailed(
            f"This file was detected as {detected.label} but GDAL read it as "
            f"{info.get('driver')}. It was refused."
        )
    return info


def resolve_crs(
    detected: safety.Detected, info: dict[str, Any], srid: int | None
) -> tuple[CRS, int | None]:
    """The source CRS and its EPSG code (None for a custom CRS known only by its WKT)."""
    if srid is not None:
        try:
            crs = CRS.from_epsg(srid)
        except CRSError as exc:
            raise ImportFailed(
                f"EPSG:{srid} is not a coordinate system we know. Check the code at epsg.io."
            ) from exc
        return crs, srid
    declared = info.get("crs")
    if not declared:
        prj = detected.path.with_suffix(".prj")
        if detected.driver == safety.SHAPEFILE and not any(
            p.stem == detected.path.stem and p.suffix.lower() == ".prj"
            for p in detected.path.parent.iterdir()
        ):
            raise ImportFailed(
                "This Shapefile has no .prj file, so its coordinate system is unknown. Choose the "
                "EPSG code of its coordinate system (for example 2226 for California State Plane "
                "zone 2 in US feet, or 4326 for longitude/latitude) and upload it again."
            )
        if detected.driver == safety.SHAPEFILE or prj.exists():
            raise ImportFailed(
                "The .prj file of this Shapefile describes a coordinate system we cannot "
                "recognise. Choose the EPSG code of its coordinate system and upload it again."
            )
        if detected.driver == safety.CSV:
            # A CSV has no CRS: longitude/latitude is assumed and checked batch by batch.
            return CRS.from_epsg(4326), 4326
        raise ImportFailed(
            f"This {detected.label} file does not say which coordinate system it uses. Choose the "
            "EPSG code of its coordinate system and upload it again."
        )
    try:
        crs = CRS.from_user_input(declared)
    except CRSError as exc:
        raise ImportFailed(
            "The coordinate system of this file could not be recognised. Choose its EPSG code "
            "and upload it again."
        ) from exc
    return crs, crs.to_epsg(min_confidence=70)


def _csv_has_coordinates(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        header = next(csv.reader(fh), [])
    names = {h.strip().strip('"').lower() for h in header}
    xs = set(CSV_OPEN_OPTIONS["X_POSSIBLE_NAMES"].split(","))
    ys = set(CSV_OPEN_OPTIONS["Y_POSSIBLE_NAMES"].split(","))
    geoms = set(CSV_OPEN_OPTIONS["GEOM_POSSIBLE_NAMES"].split(","))
    return bool(names & geoms) or bool(names & xs and names & ys)


# World datasets touch the edges of EPSG:4326, often with rounding (180.00000000000006, or the
# 20037508.342789248 of web mercator projected back): within this much of an edge is on it.
LONLAT_TOLERANCE = 1e-7  # degrees, about a centimetre
LON_MAX = 180.0 + LONLAT_TOLERANCE
LAT_MAX = 90.0 + LONLAT_TOLERANCE


def _in_lonlat_range(b: Any) -> bool:
    return bool(
        -LON_MAX <= b[0] <= LON_MAX
        and -LON_MAX <= b[2] <= LON_MAX
        and -LAT_MAX <= b[1] <= LAT_MAX
        and -LAT_MAX <= b[3] <= LAT_MAX
    )


def lonlat_extent(b: Any) -> tuple[float, float, float, float]:
    """Bounds clamped to the EPSG:4326 range (what TileJSON and maps expect)."""
    return (
        max(float(b[0]), -180.0),
        max(float(b[1]), -90.0),
        min(float(b[2]), 180.0),
        min(float(b[3]), 90.0),
    )


def _transformer(crs: CRS) -> Transformer | None:
    target = CRS.from_epsg(STORAGE_SRID)
    if crs.equals(target, ignore_axis_order=True):
        return None
    return Transformer.from_crs(crs, target, always_xy=True)


class _Stats:
    # Where the data may lie (EPSG:4326): the source CRS's area of use widened by 10 degrees.
    area: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0)

    def __init__(self) -> None:
        self.count = 0
        self.types: set[int] = set()
        self.has_z = False
        self.bounds = [math.inf, math.inf, -math.inf, -math.inf]
        self.repaired = 0
        self.dropped_empty = 0

    def merge(self, other: "_Stats") -> None:
        self.count += other.count
        self.types |= other.types
        self.has_z = self.has_z or other.has_z
        _update_bounds(self, np.array(other.bounds))
        self.repaired += other.repaired
        self.dropped_empty += other.dropped_empty


def _update_bounds(stats: _Stats, b: np.ndarray) -> None:
    stats.bounds = [
        min(stats.bounds[0], b[0]),
        min(stats.bounds[1], b[1]),
        max(stats.bounds[2], b[2]),
        max(stats.bounds[3], b[3]),
    ]


def _transform_xy(transformer: Transformer, xy: np.ndarray) -> np.ndarray:
    return np.column_stack(transformer.transform(*xy.T))


def _out_of_area(raw_bounds: np.ndarray, crs_label: str) -> ImportFailed:
    return ImportFailed(
        f"Coordinates in this file (for example x={raw_bounds[0]:.6g}, y={raw_bounds[1]:.6g}) "
        f"are outside the area {crs_label} covers, so they cannot be placed on the map. The "
        "file's coordinate system is probably not the one it states: choose the right EPSG "
        "code and upload it again."
    )


def _within(b: Any, area: tuple[float, float, float, float]) -> bool:
    t = LONLAT_TOLERANCE
    return bool(
        b[0] >= area[0] - t and b[1] >= area[1] - t and b[2] <= area[2] + t and b[3] <= area[3] + t
    )


def _fast_points(
    wkb: pa.Array, transformer: Transformer | None, crs_label: str, stats: _Stats
) -> tuple[pa.Array, np.ndarray] | None:
    """2D points straight from their WKB bytes: no geometry objects at all (the common big case)."""
    xy = encode.point_coordinates(wkb)
    if xy is None:
        return None
    keep = ~np.isnan(xy).any(axis=1)  # POINT EMPTY is NaN in WKB
    if not keep.all():
        stats.dropped_empty += int((~keep).sum())
        xy = xy[keep]
    if len(xy) == 0:
        return encode.point_ewkb(xy), keep
    raw_bounds = np.array([*xy.min(axis=0), *xy.max(axis=0)])
    if transformer is None:
        _check_lonlat(raw_bounds, crs_label)
    else:
        xy = _transform_xy(transformer, xy)
        if not np.all(np.isfinite(xy)):
            raise _out_of_area(raw_bounds, crs_label)
    bounds = np.array([*xy.min(axis=0), *xy.max(axis=0)])
    if not _in_lonlat_range(bounds) or not _within(bounds, stats.area):
        raise _out_of_area(raw_bounds, crs_label)
    stats.types.add(0)
    _update_bounds(stats, bounds)
    return encode.point_ewkb(xy), keep


def _prepare_geometries(
    wkb: pa.Array,
    transformer: Transformer | None,
    crs_label: str,
    drop_z: bool,
    stats: _Stats,
) -> tuple[pa.Array, np.ndarray]:
    """EWKB (SRID 4326) of one batch ready for COPY, and the mask of the rows kept."""
    fast = _fast_points(wkb, transformer, crs_label, stats)
    if fast is not None:
        return fast
    geoms = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="warn")
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    changed = False
    if not keep.all():
        stats.dropped_empty += int((~keep).sum())
        geoms = geoms[keep]
    if len(geoms) == 0:
        return pa.array([], type=pa.binary()), keep
    if drop_z:
        geoms = shapely.force_2d(geoms)
        changed = True
    has_z = shapely.has_z(geoms)
    stats.has_z = stats.has_z or bool(has_z.any())
    raw_bounds = shapely.total_bounds(geoms)
    if transformer is None:
        _check_lonlat(raw_bounds, crs_label)
    else:
        geoms = shapely.transform(
            geoms, lambda xy: _transform_xy(transformer, xy), include_z=bool(has_z.any())
        )
        changed = True
        bounds = shapely.total_bounds(geoms)
        if (
            not np.all(np.isfinite(bounds))
            or not _in_lonlat_range(bounds)
            or not _within(bounds, stats.area)
        ):
            raise _out_of_area(raw_bounds, crs_label)
    type_ids = shapely.get_type_id(geoms)
    present = set(np.unique(type_ids).tolist())
    if present - {0, 4}:
        valid = shapely.is_valid(geoms)
        if not valid.all():
            bad = ~valid
            stats.repaired += int(bad.sum())
            geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
            changed = True
            present = set(np.unique(shapely.get_type_id(geoms)).tolist())
            still_empty = shapely.is_empty(geoms)
            if still_empty.any():
                stats.dropped_empty += int(still_empty.sum())
                idx = np.flatnonzero(keep)
                keep[idx[still_empty]] = False
                geoms = geoms[~still_empty]
    stats.types |= present
    _update_bounds(stats, shapely.total_bounds(geoms))
    if not changed and encode.is_little_endian_wkb(wkb):
        # Unchanged geometries keep their source bytes: no re-encoding.
        source = wkb if keep.all() else wkb.filter(pa.array(keep))
        return encode.ewkb(source), keep
    out = pa.array(shapely.to_wkb(geoms, flavor="iso", output_dimension=4), type=pa.binary())
    return encode.ewkb(out), keep


def _check_lonlat(bounds: np.ndarray, crs_label: str) -> None:
    if np.all(np.isfinite(bounds)) and not _in_lonlat_range(bounds):
        # The corner that is out of range, with the digits that show why.
        x = bounds[0] if bounds[0] < -LON_MAX else bounds[2]
        y = bounds[1] if bounds[1] < -LAT_MAX else bounds[3]
        raise ImportFailed(
            f"Coordinates in this file (for example x={x:.12g}, y={y:.12g}) are "
            f"outside the range of {crs_label} (longitude −180 to 180, latitude −90 to 90). The "
            "file's coordinate system is probably not the one it states: choose the right EPSG "
            "code and upload it again."
        )


def _geometry_type(stats: _Stats, result: LoadResult) -> tuple[str, bool]:
    """The layer's geometry type and whether single parts must be promoted to multi."""
    families = {FAMILY.get(t, "collection") for t in stats.types}
    if len(families) > 1:
        result.warnings.append(
            "This layer mixes kinds of geometry ("
            + ", ".join(sorted(families))
            + "); it was imported with the generic type Geometry. Styling works best with one kind "
            "per layer: split it if you can."
        )
        return "Geometry", False
    singles = {t for t in stats.types if t in MULTI_OF}
    multis = stats.types - singles
    if singles and multis:
        name = MULTI_OF[min(singles)]
        result.warnings.append(f"Single and multi-part geometries were mixed; all are {name} now.")
        return name, True
    return TYPE_NAMES[min(stats.types)], False


class _Sender:
    """Sends COPY data from a thread while the next batch is encoded; at most one batch waits."""

    def __init__(self, copy: Any) -> None:
        self._copy = copy
        self._queue: queue.Queue[memoryview | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="copy-sender", daemon=True)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._copy.write(item)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    self._error = exc

    def __call__(self, payload: memoryview) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(payload)

    def __enter__(self) -> "_Sender":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error


def _encode_batch(
    batch: pa.RecordBatch,
    first: int,
    geom_col: str,
    fields: list[Field],
    transformer: Transformer | None,
    crs_label: str,
    drop_z: bool,
    area: tuple[float, float, float, float],
) -> tuple[memoryview | None, _Stats]:
    """One Arrow batch as binary COPY rows, with its own statistics (merged by the caller)."""
    local = _Stats()
    local.area = area
    geoms, keep = _prepare_geometries(batch.column(geom_col), transformer, crs_label, drop_z, local)
    if len(geoms) == 0:
        return None, local
    fids = np.arange(first, first + batch.num_rows, dtype=np.int64)
    if not keep.all():
        batch = batch.filter(pa.array(keep))
        fids = fids[keep]
    local.count = len(geoms)
    return copy_payload(fids, geoms, properties_json(batch, fields)), local


def load_layer(
    cursor: Any,
    *,
    version_id: int,
    detected: safety.Detected,
    layer: str,
    srid: int | None,
    drop_z: bool,
    max_fields: int,
    progress: ProgressFn | None = None,
) -> LoadResult:
    """Stream one source layer into the partition of `version_id`; the caller owns the transaction."""
    safety.configure_gdal()
    info = _read_info(detected, layer)
    result = LoadResult(source_layer=layer)
    result.warnings += detected.warnings
    if len(info["fields"]) > max_fields:
        raise ImportFailed(
            f"Layer “{layer}” has {len(info['fields']):,} attributes; the limit is {max_fields:,}. "
            "Remove the columns you do not need and upload it again."
        )
    total = int(info["features"])
    if total == 0:
        raise ImportFailed(f"Layer “{layer}” has no features: there is nothing to import.")
    if detected.driver == safety.CSV and not _csv_has_coordinates(detected.path):
        raise ImportFailed(
            "This CSV has no coordinate columns we recognise. Name them lon and lat (or longitude "
            "and latitude, x and y), or put the geometry as WKT in a column named wkt, and upload "
            "it again."
        )
    if info.get("geometry_type") is None:
        raise ImportFailed(f"Layer “{layer}” has no geometry column: it is a plain table.")
    crs, epsg = resolve_crs(detected, info, srid)
    result.source_srid = epsg
    result.source_crs_wkt = crs.to_wkt()
    crs_label = f"EPSG:{epsg}" if epsg else crs.name
    if detected.driver == safety.CSV and srid is None:
        crs_label = "EPSG:4326, assumed because a CSV does not say its coordinate system"
    transformer = _transformer(crs)
    stats = _Stats()
    if transformer is not None and crs.area_of_use is not None:
        a = crs.area_of_use
        stats.area = (a.west - 10, max(a.south - 10, -90), a.east + 10, min(a.north + 10, 90))
    table = partitions.create(cursor, version_id)
    fields: list[Field] = []
    try:
        with raw.open_arrow(
            str(detected.path),
            layer=layer,
            encoding=detected.encoding,
            use_pyarrow=True,
            batch_size=BATCH_SIZE,
            **open_options(detected.driver),
        ) as (meta, reader):
            geom_col = meta.get("geometry_name") or "wkb_geometry"
            fields = [
                Field(name=f.name, type=field_type(f.type))
                for f in reader.schema
                if f.name != geom_col
            ]
            raw_cursor = cursor.cursor if hasattr(cursor, "cursor") else cursor
            with (
                raw_cursor.copy(
                    f"COPY {table} (fid, geom, properties) FROM STDIN (FORMAT BINARY)"
                ) as copy,
                _Sender(copy) as send,
            ):
                send(memoryview(encode.COPY_SIGNATURE))
                fid = 0
                for batch in reader:
                    payload, local = _encode_batch(
                        batch, fid, geom_col, fields, transformer, crs_label, drop_z, stats.area
                    )
                    fid += batch.num_rows
                    stats.merge(local)
                    if payload is not None:
                        send(payload)
                    if progress:
                        progress(fid, total)
    except ImportFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL and PostGIS errors become one clear line
        if "psycopg" in type(exc).__module__:
            raise
        raise ImportFailed(_unreadable(detected, exc)) from exc
    if stats.count == 0:
        raise ImportFailed(
            f"Layer “{layer}” has no features with a geometry: there is nothing to import."
        )
    if stats.dropped_empty:
        result.warnings.append(
            f"{stats.dropped_empty:,} feature(s) had an empty or missing geometry and were skipped."
        )
    if stats.repaired:
        result.warnings.append(f"{stats.repaired:,} invalid geometries were repaired.")
    geometry_type, promote = _geometry_type(stats, result)
    if promote:
        cursor.execute(f"UPDATE {table} SET geom = ST_Multi(geom) WHERE NOT ST_IsCollection(geom)")
    partitions.index(cursor, version_id)
    result.feature_count = stats.count
    result.geometry_type = geometry_type
    result.has_z = stats.has_z
    result.extent = lonlat_extent(stats.bounds)
    result.repaired_count = stats.repaired
    result.schema = [{"name": f.name, "type": f.type} for f in fields]
    return result
