"""Band statistics and histograms for styling, read from an overview: bounded memory at any size.

The finest overview of at most STATS_MAX_PIXELS pixels (or the full raster when it is that small)
stands for the raster; figures from an overview are marked approximate.
"""

from typing import Any

import numpy as np

STATS_MAX_PIXELS = 4_000_000
HISTOGRAM_BINS = 64
MAX_CATEGORIES = 256


def stats_level(dataset: Any) -> int | None:
    """The overview index to read (None = full resolution)."""
    if dataset.width * dataset.height <= STATS_MAX_PIXELS:
        return None
    factors = dataset.overviews(1)
    for i, f in enumerate(factors):
        if (dataset.width // f) * (dataset.height // f) <= STATS_MAX_PIXELS:
            return i
    return len(factors) - 1 if factors else None


def band_statistics(path: str, *, env: dict[str, Any], categorical: bool) -> dict[str, Any]:
    """{"bands": [...], "categories": [...]} of the COG at `path`."""
    import rasterio

    with rasterio.Env(**env), rasterio.open(path) as probe:
        level = stats_level(probe)
    kwargs = {} if level is None else {"overview_level": level}
    with rasterio.Env(**env), rasterio.open(path, **kwargs) as ds:
        out_shape = None
        if level is None and ds.width * ds.height > STATS_MAX_PIXELS:
            # No overviews on a large raster: decimated read (GDAL nearest), still bounded.
            k = int(np.ceil(np.sqrt(ds.width * ds.height / STATS_MAX_PIXELS)))
            out_shape = (ds.count, max(1, ds.height // k), max(1, ds.width // k))
        data = ds.read(masked=True, out_shape=out_shape)
        descriptions = ds.descriptions
        approximate = level is not None or out_shape is not None
    bands = []
    for i in range(data.shape[0]):
        values = data[i].compressed()
        values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        entry: dict[str, Any] = {
            "band": i + 1,
            "name": f"Band {i + 1}",
            "description": descriptions[i] or "",
            "approximate": approximate,
            "valid_fraction": float(values.size / max(data[i].size, 1)),
        }
        if values.size:
            lo, hi = float(values.min()), float(values.max())
            p2, p98 = (float(v) for v in np.percentile(values, [2, 98]))
            counts, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(lo, hi or lo + 1))
            entry.update(
                min=lo,
                max=hi,
                mean=float(values.mean()),
                std=float(values.std()),
                p2=p2,
                p98=p98,
                histogram={"counts": counts.tolist(), "edges": [float(e) for e in edges]},
            )
        bands.append(entry)
    categories: list[int] = []
    if categorical and data.shape[0]:
        found = np.unique(data[0].compressed())
        categories = [int(v) for v in found[:MAX_CATEGORIES]]
    return {"bands": bands, "categories": categories}
