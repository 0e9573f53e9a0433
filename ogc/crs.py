"""Coordinate reference systems by reference (OGC API – Features Part 2).

CRS84 (longitude, latitude) is the default. Every other CRS is an EPSG code, answered in the
axis order its authority defines: EPSG:4326 is latitude first, which QGIS sends in `bbox`.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from projects.srid import STORAGE_SRID, TILE_SRID

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
WEB_MERCATOR = TILE_SRID


class CrsError(ValueError):
    pass


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    # True when the CRS's first axis is northing/latitude (EPSG:4326 and a few projected CRSs).
    lat_first: bool

    @property
    def is_storage(self) -> bool:
        return self.srid == STORAGE_SRID and not self.lat_first


DEFAULT_CRS = Crs(uri=CRS84, srid=STORAGE_SRID, lat_first=False)


@lru_cache(maxsize=256)
def _lat_first(srid: int) -> bool:
    from pyproj import CRS

    try:
        axes = CRS.from_epsg(srid).axis_info
    except Exception as exc:  # pyproj raises its own CRSError for unknown codes
        raise CrsError(f"EPSG:{srid} is not a coordinate reference system PROJ knows.") from exc
    return bool(axes) and axes[0].direction.lower() in ("north", "south")


def crs_for_srid(srid: int) -> Crs:
    return Crs(uri=EPSG_URI.format(code=srid), srid=srid, lat_first=_lat_first(srid))


def supported_srids(source_srid: int | None) -> list[int]:
    """EPSG codes a collection can be read in: WGS 84, Web Mercator, its source, common local ones."""
    codes = [STORAGE_SRID, WEB_MERCATOR]
    if source_srid and source_srid not in codes:
        codes.append(source_srid)
    codes += [c for c in settings.OGC_EXTRA_SRIDS if c not in codes]
    return codes


def supported_uris(source_srid: int | None) -> list[str]:
    return [CRS84] + [EPSG_URI.format(code=c) for c in supported_srids(source_srid)]


def parse_crs(value: str | None, source_srid: int | None, *, param: str = "crs") -> Crs:
    """The Crs named by a `crs`/`bbox-crs`/`filter-crs` value, or CrsError naming the problem."""
    if not value:
        return DEFAULT_CRS
    raw = value.strip().strip("[]")
    if raw in (CRS84, CRS84H, "OGC:CRS84", "CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84"):
        return DEFAULT_CRS
    code: str | None = None
    for prefix in ("http://www.opengis.net/def/crs/EPSG/0/", "https://www.opengis.net/def/crs/EPSG/0/",
                   "urn:ogc:def:crs:EPSG::", "EPSG:"):  # fmt: skip
        if raw.startswith(prefix):
            code = raw[len(prefix) :]
            break
    if code is None or not code.isdigit():
        raise CrsError(
            f"{param}={value!r} is not a CRS URI; use e.g. {CRS84} or {EPSG_URI.format(code=4326)}."
        )
    srid = int(code)
    if srid not in supported_srids(source_srid):
        raise CrsError(
            f"{param}: EPSG:{srid} is not offered for this collection; "
            f"choose one of {', '.join(supported_uris(source_srid))}."
        )
    return crs_for_srid(srid)
