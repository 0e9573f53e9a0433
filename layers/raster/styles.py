"""Raster styles: one JSON definition, validated here, drives tiles, the legend and map exports.

Types (the "type" key of the map layer's style, beside the vector types):
- raster_rgb: three bands (e.g. false colour [4, 3, 2]), each stretched between its own min/max,
  from the import statistics ("minmax", "percentile" = 2–98 %) or given ("custom").
- raster_pseudocolor: one band through a colour ramp, continuous or in classes.
- raster_paletted: one band's colour table (and category names) from the file.
- raster_hillshade: shaded relief of an elevation band (azimuth, altitude, z-factor), optionally
  blended with a colour relief ramp.
Every type also takes min_zoom/max_zoom; opacity is the map layer's, as for vectors.
"""

import re
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError

RASTER_STYLE_TYPES = ("raster_rgb", "raster_pseudocolor", "raster_paletted", "raster_hillshade")
STRETCHES = ("minmax", "percentile", "custom")
MODES = ("continuous", "classes")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CLASSES, MAX_CLASSES = 2, 12
# Ramps for rasters, low → high.
RAMPS: dict[str, list[str]] = {
    "terrain": ["#00a884", "#96d35f", "#f6e8a1", "#c59b6d", "#8c6a4f", "#ffffff"],
    "viridis": ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"],
    "blues": ["#eff3ff", "#08519c"],
    "depth": ["#c6dbef", "#6baed6", "#2171b5", "#08306b"],
    "greys": ["#000000", "#ffffff"],
    "spectral": ["#d7191c", "#fdae61", "#ffffbf", "#abdda4", "#2b83ba"],
}


RASTER_STYLE_LABELS = {
    "raster_rgb": "RGB composite",
    "raster_pseudocolor": "Pseudo-colour",
    "raster_paletted": "Paletted (colour table)",
    "raster_hillshade": "Hillshade",
}


def raster_style_types(info: dict[str, Any]) -> list[str]:
    """The style types worth offering for this raster (the composer's choice list).

    RGB needs three bands and paletted a colour table (validation refuses it otherwise); the
    others read one band of any raster.
    """
    return [
        t
        for t in RASTER_STYLE_TYPES
        if (t != "raster_rgb" or info["bands"] >= 3)
        and (t != "raster_paletted" or info["colormap"])
    ]


def is_raster_style(style: Any) -> bool:
    return isinstance(style, dict) and str(style.get("type", "")).startswith("raster_")


def _num(value: Any, name: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ValidationError(f"{name} must be a number between {lo:g} and {hi:g}.")
    if not lo <= value <= hi:
        raise ValidationError(f"{name} must be between {lo:g} and {hi:g}, not {value:g}.")
    return float(value)


def _band(value: Any, name: str, bands: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= bands:
        raise ValidationError(f"{name} must be a band number from 1 to {bands}, not {value!r}.")
    return value


def _stat(info: dict[str, Any], band: int, key: str, default: float) -> float:
    stats = info["band_stats"]
    entry = stats[band - 1] if band - 1 < len(stats) else {}
    value = entry.get(key)
    return float(value) if isinstance(value, int | float) else default


def _range(info: dict[str, Any], band: int, stretch: str, given: Any) -> list[float]:
    if stretch == "custom":
        if not (isinstance(given, list) and len(given) == 2):
            raise ValidationError("A custom stretch needs [min, max] for each band.")
        lo = _num(given[0], "The stretch minimum", -1e12, 1e12)
        hi = _num(given[1], "The stretch maximum", -1e12, 1e12)
    elif stretch == "percentile":
        lo, hi = _stat(info, band, "p2", 0), _stat(info, band, "p98", 255)
    else:
        lo, hi = _stat(info, band, "min", 0), _stat(info, band, "max", 255)
    if hi <= lo:
        hi = lo + 1
    return [lo, hi]


def default_raster_style(info: dict[str, Any]) -> dict[str, Any]:
    """What a raster looks like when added to a map, from what its pixels are."""
    if info["content"] == "categorical":
        return {"type": "raster_paletted", "band": 1}
    if info["content"] == "imagery":
        return {"type": "raster_rgb", "bands": [1, 2, 3], "stretch": "minmax"}
    if info["bands"] >= 3 and info["dtype"] in ("uint8", "uint16"):
        return {"type": "raster_rgb", "bands": [1, 2, 3], "stretch": "percentile"}
    return {"type": "raster_pseudocolor", "band": 1, "ramp": "terrain", "stretch": "minmax"}


def raster_style_validate(style: Any, info: dict[str, Any]) -> dict[str, Any]:
    """A clean, renderable copy of `style` for a raster described by `info` (RasterVersion fields).

    `info`: {"content", "bands", "dtype", "band_stats", "colormap", "categories"}.
    """
    if not isinstance(style, dict):
        raise ValidationError("A style must be a JSON object.")
    kind = style.get("type")
    if kind not in RASTER_STYLE_TYPES:
        raise ValidationError(
            f"Style type must be one of {', '.join(RASTER_STYLE_TYPES)} for a raster, not {kind!r}."
        )
    bands = info["bands"]
    clean: dict[str, Any] = {"type": kind}
    if kind == "raster_rgb":
        chosen = style.get("bands", [1, 2, 3] if bands >= 3 else [1, 1, 1])
        if not isinstance(chosen, list) or len(chosen) != 3:
            raise ValidationError("An RGB style takes three bands, e.g. [4, 3, 2].")
        clean["bands"] = [_band(b, "Each RGB band", bands) for b in chosen]
        clean["stretch"] = _choice(style.get("stretch", "minmax"), "Stretch", STRETCHES)
        given = style.get("ranges") or [None, None, None]
        if not isinstance(given, list) or len(given) != 3:
            given = [None, None, None]
        clean["ranges"] = [
            _range(info, b, clean["stretch"], g) for b, g in zip(clean["bands"], given, strict=True)
        ]
    elif kind in ("raster_pseudocolor", "raster_hillshade"):
        clean["band"] = _band(style.get("band", 1), "The band", bands)
        ramp = style.get("ramp", "terrain")
        if kind == "raster_hillshade":
            clean["azimuth"] = _num(style.get("azimuth", 315), "Azimuth", 0, 360)
            clean["altitude"] = _num(style.get("altitude", 45), "Altitude", 0, 90)
            clean["z_factor"] = _num(style.get("z_factor", 1), "Z-factor", 0.0001, 10000)
            ramp = style.get("relief") if style.get("relief") else None
            clean["relief"] = _choice(ramp, "Colour relief ramp", tuple(RAMPS)) if ramp else None
        else:
            clean["ramp"] = _choice(ramp, "Colour ramp", tuple(RAMPS))
        if kind == "raster_pseudocolor" or clean.get("relief"):
            clean["stretch"] = _choice(style.get("stretch", "minmax"), "Stretch", STRETCHES)
            clean["range"] = _range(info, clean["band"], clean["stretch"], style.get("range"))
        if kind == "raster_pseudocolor":
            clean["mode"] = _choice(style.get("mode", "continuous"), "Mode", MODES)
            if clean["mode"] == "classes":
                classes = style.get("classes", 5)
                if isinstance(classes, bool) or not isinstance(classes, int):
                    raise ValidationError("The number of classes must be a whole number.")
                if not MIN_CLASSES <= classes <= MAX_CLASSES:
                    raise ValidationError(
                        f"The number of classes must be from {MIN_CLASSES} to {MAX_CLASSES}."
                    )
                lo, hi = clean["range"]
                clean["classes"] = classes
                clean["breaks"] = [lo + (hi - lo) * (i + 1) / classes for i in range(classes)]
                clean["colors"] = ramp_colors(clean["ramp"], classes)
    else:  # raster_paletted
        clean["band"] = _band(style.get("band", 1), "The band", bands)
        colormap = style.get("colormap") or info.get("colormap") or {}
        if not isinstance(colormap, dict) or not colormap:
            raise ValidationError("This raster has no colour table: use a pseudo-colour style.")
        clean["colormap"] = {
            str(int(k)): _color(v, "A category colour") for k, v in list(colormap.items())[:256]
        }
        labels = style.get("labels") or {}
        labels = labels if isinstance(labels, dict) else {}
        named = category_names(info, clean["band"])
        clean["labels"] = {
            str(k): str(labels.get(k) or labels.get(str(k)) or named.get(k) or f"Class {k}")[:100]
            for k in clean["colormap"]
            if not info.get("categories") or int(k) in info["categories"]
        }
    clean["min_zoom"] = int(_num(style.get("min_zoom", 0), "Minimum zoom", 0, 22))
    clean["max_zoom"] = int(_num(style.get("max_zoom", 22), "Maximum zoom", 0, 22))
    if clean["min_zoom"] > clean["max_zoom"]:
        raise ValidationError("The minimum zoom must not be above the maximum zoom.")
    clean["legend"] = raster_legend(clean)
    return clean


def category_names(info: dict[str, Any], band: int) -> dict[str, str]:
    """{pixel value: class name} of a band, read from the file at import ({} when it had none)."""
    stats = info.get("band_stats") or []
    names = stats[band - 1].get("category_names") if 0 < band <= len(stats) else None
    return names if isinstance(names, dict) else {}


def category_label(value: int, names: dict[str, str]) -> str | None:
    """What identify says of a class: "3 — Deciduous forest" (None when the file named none)."""
    name = names.get(str(value))
    return f"{value} — {name}" if name else None


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return str(value)


def _color(value: Any, name: str) -> str:
    if not isinstance(value, str) or not HEX.match(value):
        raise ValidationError(f"{name} must be a colour like #1a2b3c, not {value!r}.")
    return value.lower()


def _hex_to_rgb(colors: list[str]) -> np.ndarray:
    return np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colors], dtype="float64")


def ramp_lut(ramp: str, n: int = 256) -> np.ndarray:
    """n×3 uint8 colours evenly along `ramp`."""
    stops = _hex_to_rgb(RAMPS[ramp])
    pos = np.linspace(0, len(stops) - 1, n)
    j = np.minimum(pos.astype(int), len(stops) - 2)
    f = (pos - j)[:, None]
    return np.round(stops[j] + (stops[j + 1] - stops[j]) * f).astype("uint8")


def ramp_colors(ramp: str, n: int) -> list[str]:
    return ["#" + "".join(f"{c:02x}" for c in rgb) for rgb in ramp_lut(ramp, n)]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


def raster_legend(style: dict[str, Any]) -> list[dict[str, str]]:
    """Legend entries [{"label", "color"}], as for vector styles."""
    kind = style["type"]
    if kind == "raster_rgb":
        names = ("Red", "Green", "Blue")
        colors = ("#e41a1c", "#4daf4a", "#377eb8")
        return [
            {"label": f"{n}: band {b}", "color": c}
            for n, b, c in zip(names, style["bands"], colors, strict=True)
        ]
    if kind == "raster_paletted":
        return [
            {"label": style["labels"].get(k, f"Class {k}"), "color": c}
            for k, c in style["colormap"].items()
            if k in style["labels"]
        ]
    if kind == "raster_pseudocolor" and style["mode"] == "classes":
        entries, lower = [], style["range"][0]
        for upper, color in zip(style["breaks"], style["colors"], strict=True):
            entries.append({"label": f"{_fmt(lower)} – {_fmt(upper)}", "color": color})
            lower = upper
        return entries
    ramp = style.get("ramp") or style.get("relief")
    if ramp:
        lo, hi = style["range"]
        stops = ramp_colors(ramp, 5)
        return [{"label": _fmt(lo + (hi - lo) * i / 4), "color": c} for i, c in enumerate(stops)]
    return [{"label": "Shaded relief", "color": "#9e9e9e"}]


# --- rendering: the same function draws tiles and exports


def _stretch(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    scaled = (values.astype("float64") - lo) / (hi - lo)
    return np.clip(np.nan_to_num(scaled, nan=0.0), 0, 1)


def hillshade(
    elevation: np.ndarray, *, dx: float, dy: float, azimuth: float, altitude: float, z: float
) -> np.ndarray:
    """0–1 illumination (Horn's method) of a 2-D elevation array with pixel sizes in metres."""
    gy, gx = np.gradient(elevation.astype("float64") * z, dy, dx)
    slope = np.pi / 2 - np.arctan(np.hypot(gx, gy))
    aspect = np.arctan2(-gx, gy)
    az = np.radians(360 - azimuth + 90)
    alt = np.radians(altitude)
    shaded = np.sin(alt) * np.sin(slope) + np.cos(alt) * np.cos(slope) * np.cos(az - aspect)
    return np.clip(np.nan_to_num(shaded, nan=1.0), 0, 1)


def render_rgba(
    data: np.ndarray,
    mask: np.ndarray,
    style: dict[str, Any],
    *,
    pixel_m: tuple[float, float] = (1.0, 1.0),
    buffer: int = 0,
) -> np.ndarray:
    """(4, h, w) uint8 RGBA of `data` (bands, h+2b, w+2b) read with the style's bands.

    `mask` is 255 where the pixel is valid. `buffer` pixels around the tile feed the hillshade
    gradient (no seams at tile edges) and are cropped here.
    """
    kind = style["type"]
    crop = (slice(buffer, data.shape[-2] - buffer), slice(buffer, data.shape[-1] - buffer))
    alpha = mask[crop].astype("uint8")
    if kind == "raster_rgb":
        if data.dtype == np.uint8:
            # 8-bit imagery: the same stretch as a 256-entry table per band (a tenth of the time).
            every = np.arange(256)
            rgb = np.stack(
                [
                    (_stretch(every, lo, hi) * 255).astype("uint8")[data[i][crop]]
                    for i, (lo, hi) in enumerate(style["ranges"])
                ]
            )
        else:
            rgb = np.stack(
                [
                    _stretch(data[i][crop], lo, hi) * 255
                    for i, (lo, hi) in enumerate(style["ranges"])
                ]
            ).astype("uint8")
    elif kind == "raster_paletted":
        band = data[0][crop].astype("int64")
        lut = np.zeros((256, 4), dtype="uint8")
        for key, color in style["colormap"].items():
            value = int(key)
            if 0 <= value < 256:
                lut[value, :3] = _hex_to_rgb([color])[0]
                lut[value, 3] = 255
        inside = (band >= 0) & (band < 256)
        colored = lut[np.where(inside, band, 0)]
        colored[~inside] = 0
        rgb = np.moveaxis(colored[..., :3], -1, 0)
        alpha = np.minimum(alpha, colored[..., 3])
    elif kind == "raster_pseudocolor":
        band = data[0][crop]
        lo, hi = style["range"]
        if style["mode"] == "classes":
            index = np.clip(
                np.searchsorted(style["breaks"], band, side="left"), 0, len(style["breaks"]) - 1
            )
            rgb = np.moveaxis(_hex_to_rgb(style["colors"]).astype("uint8")[index], -1, 0)
        else:
            lut = ramp_lut(style["ramp"])
            rgb = np.moveaxis(lut[(_stretch(band, lo, hi) * 255).astype("int64")], -1, 0)
    else:  # raster_hillshade
        elevation = np.where(mask > 0, data[0], np.nan).astype("float64")
        # Invalid neighbours borrow the valid mean so edges shade flat instead of vanishing.
        fill = np.nanmean(elevation) if np.isfinite(elevation).any() else 0.0
        shade = hillshade(
            np.where(np.isfinite(elevation), elevation, fill),
            dx=pixel_m[0],
            dy=pixel_m[1],
            azimuth=style["azimuth"],
            altitude=style["altitude"],
            z=style["z_factor"],
        )[crop]
        if style.get("relief"):
            lo, hi = style["range"]
            lut = ramp_lut(style["relief"])
            relief = lut[(_stretch(data[0][crop], lo, hi) * 255).astype("int64")].astype("float64")
            # Multiply blend, lifted so shadows keep their colour.
            rgb = np.moveaxis(relief * (0.35 + 0.65 * shade[..., None]), -1, 0).astype("uint8")
        else:
            grey = (shade * 255).astype("uint8")
            rgb = np.stack([grey, grey, grey])
    return np.concatenate([rgb.astype("uint8"), alpha[None]], axis=0)


def style_bands(style: dict[str, Any]) -> list[int]:
    """The band indexes a renderer reads for this style."""
    return list(style["bands"]) if style["type"] == "raster_rgb" else [style["band"]]


def style_buffer(style: dict[str, Any]) -> int:
    return 1 if style["type"] == "raster_hillshade" else 0
