"""Layer styles: one JSON definition, validated here, drives the browser, the legend and exports.

A style is {"type": "single" | "categorized" | "graduated", "symbol": {...}, ...}. `style_resolve`
validates it and computes its classes from the data with SQL (categories by frequency, breaks by
equal interval, quantile or natural breaks), so the stored style carries everything a renderer needs.
"""

import json
import re
from decimal import Decimal
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError

from layers.models import Feature, RasterVersion
from layers.raster.styles import RAMPS as RASTER_RAMPS
from layers.raster.styles import (
    RASTER_STYLE_LABELS,
    STRETCHES,
    default_raster_style,
    is_raster_style,
    raster_style_validate,
)
from layers.raster.tiles import raster_info
from projects.db import read_cursor

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# Names with the words the composer shows for them (style_schema hands both to the browser).
STYLE_TYPES = ("single", "categorized", "graduated")
STYLE_TYPE_LABELS = {
    "single": "Single symbol",
    "categorized": "Categorized",
    "graduated": "Graduated",
}
METHODS = ("equal_interval", "quantile", "jenks")
METHOD_LABELS = {
    "equal_interval": "Equal interval",
    "quantile": "Quantile",
    "jenks": "Natural breaks (Jenks)",
}
MARKERS = ("circle", "square", "triangle")
DASHES = ("solid", "dashed", "dotted")
# Screen pixels on, off (SVG/canvas dash arrays); a solid line has none.
DASH_PATTERNS: dict[str, list[int] | None] = {"solid": None, "dashed": [8, 6], "dotted": [2, 5]}
MAX_CATEGORIES = 24
MIN_CLASSES, MAX_CLASSES = 3, 9
DEFAULT_CLASSES, DEFAULT_METHOD, DEFAULT_RAMP = 5, "quantile", "blues"
MIN_ZOOM, MAX_ZOOM = 0, 22
DEFAULT_LABEL_MIN_ZOOM = 14
# (min, max, step) of the numeric symbol settings, enforced here and offered by the composer.
SYMBOL_LIMITS: dict[str, tuple[float, float, float]] = {
    "fill_opacity": (0, 1, 0.05),
    "stroke_width": (0, 20, 0.5),
    "size": (2, 40, 1),
}
# Schema types vary by source driver (Integer64, Real, float64...): a type naming one is numeric.
NUMERIC_TYPE_MARKERS = ("int", "real", "float", "double", "number", "decimal")

# Sequential ramps (light → dark), interpolated to the number of classes.
RAMPS: dict[str, list[str]] = {
    "blues": ["#eff3ff", "#08519c"],
    "greens": ["#edf8e9", "#006d2c"],
    "reds": ["#fee5d9", "#a50f15"],
    "oranges": ["#feedde", "#a63603"],
    "purples": ["#f2f0f7", "#54278f"],
    "ylorrd": ["#ffffb2", "#fd8d3c", "#bd0026"],
    "viridis": ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"],
}
RAMP_LABELS = {
    "blues": "Blues",
    "greens": "Greens",
    "reds": "Reds",
    "oranges": "Oranges",
    "purples": "Purples",
    "ylorrd": "Yellow–orange–red",
    "viridis": "Viridis",
}
# A qualitative palette for categories (ColorBrewer Set2 + Dark2).
PALETTE = [
    "#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494",
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
]  # fmt: skip
OTHER_COLOR = "#bdbdbd"

DEFAULT_SYMBOL: dict[str, Any] = {
    "fill": "#3388ff",
    "fill_opacity": 0.6,
    "stroke": "#1d2733",
    "stroke_width": 1.0,
    "dash": "solid",
    "marker": "circle",
    "size": 8,
}


def default_style(geometry_type: str = "") -> dict[str, Any]:
    symbol = dict(DEFAULT_SYMBOL)
    if "Line" in geometry_type:
        symbol.update(stroke="#0b5cad", stroke_width=2.0)
    return {
        "type": "single",
        "symbol": symbol,
        "popup": [],
        "min_zoom": MIN_ZOOM,
        "max_zoom": MAX_ZOOM,
    }


def is_numeric_type(type_name: str) -> bool:
    """Schema types vary by source driver (Integer64, Real, float64...): match them loosely."""
    name = type_name.lower()
    return any(t in name for t in NUMERIC_TYPE_MARKERS)


def _num(value: Any, name: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{name} must be a number between {lo:g} and {hi:g}.")
    if not lo <= value <= hi:
        raise ValidationError(f"{name} must be between {lo:g} and {hi:g}, not {value:g}.")
    return float(value)


def _color(value: Any, name: str) -> str:
    if not isinstance(value, str) or not HEX.match(value):
        raise ValidationError(f"{name} must be a colour like #1a2b3c, not {value!r}.")
    return value.lower()


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return str(value)


def _field(value: Any, name: str, fields: dict[str, str]) -> str:
    if not isinstance(value, str) or value not in fields:
        known = ", ".join(sorted(fields)) or "none"
        raise ValidationError(f"{name} must be an attribute of the layer ({known}), not {value!r}.")
    return value


def _limited(merged: dict[str, Any], key: str, name: str) -> float:
    lo, hi, _step = SYMBOL_LIMITS[key]
    return _num(merged[key], name, lo, hi)


def _symbol(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    merged = {**DEFAULT_SYMBOL, **raw}
    return {
        "fill": _color(merged["fill"], "Fill colour"),
        "fill_opacity": _limited(merged, "fill_opacity", "Fill opacity"),
        "stroke": _color(merged["stroke"], "Stroke colour"),
        "stroke_width": _limited(merged, "stroke_width", "Line width"),
        "dash": _choice(merged["dash"], "Line dash", DASHES),
        "marker": _choice(merged["marker"], "Marker shape", MARKERS),
        "size": _limited(merged, "size", "Marker size"),
    }


def style_validate(style: Any, fields: dict[str, str]) -> dict[str, Any]:
    """A clean copy of `style`, or ValidationError naming the first problem.

    `fields` maps the layer's attribute names to their types ("string", "integer", "real"...).
    Classes already present (categories, breaks) are kept when well-formed; style_resolve
    recomputes them from the data.
    """
    if not isinstance(style, dict):
        raise ValidationError("A style must be a JSON object.")
    kind = _choice(style.get("type", "single"), "Style type", STYLE_TYPES)
    clean: dict[str, Any] = {"type": kind, "symbol": _symbol(style.get("symbol"))}
    if kind in ("categorized", "graduated"):
        clean["attribute"] = _field(style.get("attribute"), "The classification attribute", fields)
    if kind == "categorized":
        categories = style.get("categories") or []
        if not isinstance(categories, list) or len(categories) > MAX_CATEGORIES:
            raise ValidationError(f"At most {MAX_CATEGORIES} categories; the rest go to “other”.")
        clean["categories"] = [
            {
                "value": category_key(c.get("value")),
                "color": _color(c.get("color"), "Category colour"),
                "label": str(c.get("label") or category_key(c.get("value")) or "(empty)")[:100],
            }
            for c in categories
            if isinstance(c, dict)
        ]
        other = style.get("other")
        other = other if isinstance(other, dict) else {}
        clean["other"] = {
            "color": _color(other.get("color", OTHER_COLOR), "“Other” colour"),
            "label": str(other.get("label") or "Other")[:100],
        }
    if kind == "graduated":
        if not is_numeric_type(fields.get(clean["attribute"], "")):
            raise ValidationError(
                f"Graduated styles need a numeric attribute; “{clean['attribute']}” is not numeric."
            )
        clean["method"] = _choice(style.get("method", DEFAULT_METHOD), "Classification", METHODS)
        classes = style.get("classes", DEFAULT_CLASSES)
        span = f"from {MIN_CLASSES} to {MAX_CLASSES}"
        if isinstance(classes, bool) or not isinstance(classes, int):
            raise ValidationError(f"The number of classes must be a whole number {span}.")
        if not MIN_CLASSES <= classes <= MAX_CLASSES:
            raise ValidationError(f"The number of classes must be {span}, not {classes}.")
        clean["classes"] = classes
        clean["ramp"] = _choice(style.get("ramp", DEFAULT_RAMP), "Colour ramp", tuple(RAMPS))
        breaks = style.get("breaks")
        if isinstance(breaks, list) and all(
            isinstance(b, int | float) and not isinstance(b, bool) for b in breaks
        ):
            clean["breaks"] = [float(b) for b in breaks]
    label = style.get("label")
    if label:
        if not isinstance(label, dict):
            raise ValidationError("Labels must be an object with an attribute.")
        clean["label"] = {
            "attribute": _field(label.get("attribute"), "The label attribute", fields),
            "min_zoom": int(
                _num(
                    label.get("min_zoom", DEFAULT_LABEL_MIN_ZOOM),
                    "Label minimum zoom",
                    MIN_ZOOM,
                    MAX_ZOOM,
                )
            ),
        }
    popup = style.get("popup") or []
    if not isinstance(popup, list):
        raise ValidationError("Popups must be a list of attributes.")
    clean["popup"] = [
        {
            "attribute": _field(p.get("attribute"), "A popup attribute", fields),
            "alias": str(p.get("alias") or p.get("attribute"))[:100],
        }
        for p in popup
        if isinstance(p, dict)
    ]
    clean["min_zoom"] = int(
        _num(style.get("min_zoom", MIN_ZOOM), "Minimum zoom", MIN_ZOOM, MAX_ZOOM)
    )
    clean["max_zoom"] = int(
        _num(style.get("max_zoom", MAX_ZOOM), "Maximum zoom", MIN_ZOOM, MAX_ZOOM)
    )
    if clean["min_zoom"] > clean["max_zoom"]:
        raise ValidationError("The minimum zoom must not be above the maximum zoom.")
    return clean


def style_fields(style: dict[str, Any]) -> list[str]:
    """The attributes a renderer needs: classification, label and popups (tiles carry only these)."""
    names = [style.get("attribute"), (style.get("label") or {}).get("attribute")]
    names += [p["attribute"] for p in style.get("popup", [])]
    return sorted({n for n in names if n})


# --- classification, computed in the database


def _numeric_sql(attribute: str) -> str:
    # Only JSON numbers classify; strings and nulls are left out rather than failing the cast.
    return (
        "CASE WHEN jsonb_typeof(properties -> %s) = 'number' THEN (properties ->> %s)::float8 END"
    )


def categories_for(version_id: int, attribute: str, limit: int = 12) -> list[dict[str, Any]]:
    """The most frequent values of `attribute`, each with a palette colour.

    Values are grouped as JSON (so 1 and 1.0 are one value) and named by `category_key`, the text
    the browser matches tile attributes against.
    """
    with read_cursor(Feature) as cur:
        cur.execute(
            "SELECT v, n FROM (SELECT properties -> %s AS v, count(*) AS n FROM layers_feature "
            "WHERE version_id = %s GROUP BY 1) c ORDER BY n DESC, v #>> '{}' LIMIT %s",
            [attribute, version_id, limit + 1],  # + 1: a JSON null and a missing value merge
        )
        rows = cur.fetchall()
    keys: list[str | None] = []
    for raw, _count in rows:
        key = category_key(json.loads(raw) if isinstance(raw, str) else raw)
        if key not in keys:
            keys.append(key)
    return [
        {"value": key, "color": PALETTE[i % len(PALETTE)], "label": key or "(empty)"}
        for i, key in enumerate(keys[:limit])
    ]


def _number_text(x: float) -> str:
    """`x` as JavaScript's String(x) writes it (ECMA-262 Number::toString, shortest digits)."""
    if x == 0:
        return "0"
    _sign, digit_tuple, exponent = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), int(exponent) + len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return ("-" if x < 0 else "") + body


def category_key(value: Any) -> str | None:
    """The text a categorized style matches a value by, identical to the browser's (style.js).

    Tiles carry JSON types (numbers, booleans, strings), so both sides write a value the way
    JavaScript's String() does: true → "true", 1.0 → "1", 1e-7 → "1e-7"; a missing value is None.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) < 2**53:
        return str(value)
    if isinstance(value, int | float):
        return _number_text(float(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _stats(version_id: int, attribute: str) -> tuple[float | None, float | None, int]:
    with read_cursor(Feature) as cur:
        cur.execute(
            f"SELECT min(v), max(v), count(v) FROM (SELECT {_numeric_sql(attribute)} AS v "
            "FROM layers_feature WHERE version_id = %s) s",
            [attribute, attribute, version_id],
        )
        lo, hi, n = cur.fetchone()
    return lo, hi, n


def breaks_for(version_id: int, attribute: str, method: str, classes: int) -> list[float]:
    """Upper bounds of each class (the last is the maximum), computed over the whole layer."""
    lo, hi, n = _stats(version_id, attribute)
    if n == 0 or lo is None or hi is None:
        raise ValidationError(f"“{attribute}” has no numeric values to classify.")
    if method == "equal_interval":
        step = (hi - lo) / classes
        return [lo + step * (i + 1) for i in range(classes - 1)] + [hi]
    if method == "quantile":
        fractions = [(i + 1) / classes for i in range(classes - 1)]
        with read_cursor(Feature) as cur:
            cur.execute(
                f"SELECT percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY v) FROM "
                f"(SELECT {_numeric_sql(attribute)} AS v FROM layers_feature "
                "WHERE version_id = %s) s WHERE v IS NOT NULL",
                [fractions, attribute, attribute, version_id],
            )
            cuts = cur.fetchone()[0]
        return [float(c) for c in cuts] + [hi]
    values, weights = _histogram(version_id, attribute, lo, hi)
    return jenks_breaks(values, weights, classes)


def _histogram(
    version_id: int, attribute: str, lo: float, hi: float, bins: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values with counts, or the mean of fine bins when there are many: never the layer."""
    with read_cursor(Feature) as cur:
        cur.execute(
            f"SELECT avg(v), count(*) FROM (SELECT {_numeric_sql(attribute)} AS v "
            "FROM layers_feature WHERE version_id = %s) s WHERE v IS NOT NULL "
            "GROUP BY CASE WHEN %s = %s THEN 0 ELSE width_bucket(v, %s, %s, %s) END ORDER BY 1",
            [attribute, attribute, version_id, lo, hi, lo, hi + (hi - lo) * 1e-9, bins],
        )
        rows = cur.fetchall()
    return np.array([r[0] for r in rows], float), np.array([r[1] for r in rows], float)


def jenks_breaks(values: np.ndarray, weights: np.ndarray, classes: int) -> list[float]:
    """Fisher–Jenks natural breaks on weighted values (dynamic programming, vectorised per row)."""
    n = len(values)
    if n <= classes:
        return [float(v) for v in values] + [float(values[-1])] * (classes - n)
    cw = np.concatenate([[0.0], np.cumsum(weights)])
    cwx = np.concatenate([[0.0], np.cumsum(weights * values)])
    cwx2 = np.concatenate([[0.0], np.cumsum(weights * values * values)])

    def ssd(starts: np.ndarray, end: int) -> np.ndarray:
        # Weighted sum of squared deviations of values[starts:end+1].
        w = cw[end + 1] - cw[starts]
        s = cwx[end + 1] - cwx[starts]
        return (cwx2[end + 1] - cwx2[starts]) - s * s / w

    cost = np.full((classes, n), np.inf)
    back = np.zeros((classes, n), dtype=int)
    cost[0] = [ssd(np.array([0]), i)[0] for i in range(n)]
    for k in range(1, classes):
        for i in range(k, n):
            starts = np.arange(k, i + 1)
            total = cost[k - 1, starts - 1] + ssd(starts, i)
            best = int(np.argmin(total))
            cost[k, i] = total[best]
            back[k, i] = starts[best]
    uppers = []
    end = n - 1
    for k in range(classes - 1, 0, -1):
        start = back[k, end]
        uppers.append(float(values[start - 1]))
        end = start - 1
    return sorted(uppers) + [float(values[-1])]


def ramp_colors(ramp: str, n: int) -> list[str]:
    stops = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in RAMPS[ramp]]
    out = []
    for i in range(n):
        t = i / (n - 1) if n > 1 else 0
        pos = t * (len(stops) - 1)
        j = min(int(pos), len(stops) - 2)
        f = pos - j
        rgb = [round(a + (b - a) * f) for a, b in zip(stops[j], stops[j + 1], strict=True)]
        out.append("#" + "".join(f"{c:02x}" for c in rgb))
    return out


def style_resolve(style: Any, *, version_id: int, fields: dict[str, str]) -> dict[str, Any]:
    """Validate and compute the classes over the layer version's data; the result is renderable."""
    raster = RasterVersion.objects.filter(version_id=version_id).first()
    if raster is not None:
        # Raster styles (layers/raster/styles.py); a vector default becomes the raster default.
        info = raster_info(raster)
        return raster_style_validate(
            style if is_raster_style(style) else default_raster_style(info), info
        )
    clean = style_validate(style, fields)
    if clean["type"] == "categorized" and not clean["categories"]:
        clean["categories"] = categories_for(version_id, clean["attribute"])
    if clean["type"] == "graduated":
        breaks = breaks_for(version_id, clean["attribute"], clean["method"], clean["classes"])
        colors = ramp_colors(clean["ramp"], len(breaks))
        clean["breaks"] = breaks
        clean["colors"] = colors
    clean["legend"] = legend_for(clean)
    return clean


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


def legend_for(style: dict[str, Any]) -> list[dict[str, str]]:
    """Legend entries [{"label", "color"}] in the order a reader expects."""
    kind = style["type"]
    if kind == "categorized":
        entries = [{"label": c["label"], "color": c["color"]} for c in style["categories"]]
        return entries + [{"label": style["other"]["label"], "color": style["other"]["color"]}]
    if kind == "graduated" and style.get("breaks"):
        entries, lower = [], None
        for upper, color in zip(style["breaks"], style["colors"], strict=True):
            label = f"≤ {_fmt(upper)}" if lower is None else f"{_fmt(lower)} – {_fmt(upper)}"
            entries.append({"label": label, "color": color})
            lower = upper
        return entries
    return [{"label": "", "color": style["symbol"]["fill"]}]


def color_for(style: dict[str, Any], properties: dict[str, Any]) -> str:
    """The fill colour of one feature (exports use it; static/js/maps/style.js mirrors it)."""
    kind = style["type"]
    if kind == "categorized":
        value = category_key(properties.get(style["attribute"]))
        for c in style["categories"]:
            if c["value"] == value:
                return c["color"]
        return style["other"]["color"]
    if kind == "graduated":
        value = properties.get(style["attribute"])
        if isinstance(value, bool) or not isinstance(value, int | float):
            return OTHER_COLOR
        for upper, color in zip(style["breaks"], style["colors"], strict=True):
            if value <= upper:
                return color
        return style["colors"][-1]
    return style["symbol"]["fill"]


def style_schema() -> dict[str, Any]:
    """What the composer offers and the viewer draws with, as this module defines it.

    Pages embed it (json_script "style-schema", see maps_tags.style_schema) and
    static/js/maps/schema.js reads it, so the browser never writes a ramp, a classification
    method, a marker or a limit a second time. Ramps carry their stops and, per number of
    classes, the colours `ramp_colors` gives (what a graduated style will get).
    """
    return {
        "types": [{"name": t, "label": STYLE_TYPE_LABELS[t]} for t in STYLE_TYPES],
        "methods": [{"name": m, "label": METHOD_LABELS[m]} for m in METHODS],
        "classes": {"min": MIN_CLASSES, "max": MAX_CLASSES, "default": DEFAULT_CLASSES},
        "default_method": DEFAULT_METHOD,
        "ramps": [
            {
                "name": name,
                "label": RAMP_LABELS[name],
                "stops": stops,
                "colors": {
                    str(n): ramp_colors(name, n) for n in range(MIN_CLASSES, MAX_CLASSES + 1)
                },
            }
            for name, stops in RAMPS.items()
        ],
        "default_ramp": DEFAULT_RAMP,
        "markers": list(MARKERS),
        "dashes": [{"name": d, "pattern": DASH_PATTERNS[d]} for d in DASHES],
        "symbol_limits": {
            key: {"min": lo, "max": hi, "step": step}
            for key, (lo, hi, step) in SYMBOL_LIMITS.items()
        },
        "zoom": {"min": MIN_ZOOM, "max": MAX_ZOOM},
        "label_min_zoom": DEFAULT_LABEL_MIN_ZOOM,
        "other_color": OTHER_COLOR,
        "numeric_type_markers": list(NUMERIC_TYPE_MARKERS),
        # Raster styles have their own ramps (layers/raster/styles.py); which types suit one
        # raster comes with its composer layer (maps/api.py::map_state).
        "raster": {
            "types": [{"name": t, "label": label} for t, label in RASTER_STYLE_LABELS.items()],
            "ramps": [{"name": name, "stops": stops} for name, stops in RASTER_RAMPS.items()],
            "stretches": [s for s in STRETCHES if s != "custom"],
        },
    }
