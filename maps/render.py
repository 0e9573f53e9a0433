"""Server-side rendering of a map definition: PNG (Pillow), PDF (WeasyPrint) and thumbnails.

Features are read with a server-side cursor, generalised to the output pixel exactly like the
tiles (layers.tiles), and drawn with the same style the browser uses (maps.styles.color_for).
"""

import base64
import math
from datetime import date
from io import BytesIO
from typing import Any

import shapely
from django.conf import settings
from django.db import connection
from PIL import Image, ImageDraw, ImageFont

from layers.tiles import WORLD, generalised_rows_sql
from maps.selectors import as_dict
from maps.styles import color_for
from projects.srid import STORAGE_SRID, TILE_SRID

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BATCH = 2000
MAX_SIDE = 3000


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(FONT_PATH, size)
    except OSError:
        return ImageFont.load_default(size=size)


def to_3857(lon: float, lat: float) -> tuple[float, float]:
    lat = max(min(lat, 85.05), -85.05)
    x = lon * WORLD / 180
    y = math.log(math.tan((90 + lat) * math.pi / 360)) * WORLD / math.pi
    return x, y


def _rgba(hex_color: str, alpha: float) -> tuple[int, int, int, int]:
    return (
        int(hex_color[1:3], 16),
        int(hex_color[3:5], 16),
        int(hex_color[5:7], 16),
        max(0, min(255, round(alpha * 255))),
    )


class Frame:
    """Maps EPSG:3857 coordinates to pixels of a w×h image covering `bounds` (aspect kept)."""

    def __init__(self, bbox4326: list[float], width: int, height: int) -> None:
        x0, y0 = to_3857(bbox4326[0], bbox4326[1])
        x1, y1 = to_3857(bbox4326[2], bbox4326[3])
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        res = max((x1 - x0) / width, (y1 - y0) / height, 0.01)
        self.res, self.width, self.height = res, width, height
        self.minx, self.maxy = cx - res * width / 2, cy + res * height / 2
        self.maxx, self.miny = cx + res * width / 2, cy - res * height / 2

    @property
    def zoom(self) -> float:
        return math.log2(2 * WORLD / (256 * self.res))

    def px(self, coords: Any) -> list[tuple[float, float]]:
        return [((x - self.minx) / self.res, (self.maxy - y) / self.res) for x, y in coords]


def _rows(layer: dict[str, Any], frame: Frame) -> Any:
    """(geometry in 3857, properties) of a layer in the frame, generalised to one pixel."""
    fields = layer["fields"]
    pairs = ", ".join(f"%(k{i})s::text, o.props -> %(k{i})s::text" for i in range(len(fields)))
    props = f"jsonb_build_object({pairs})" if fields else "'{}'::jsonb"
    envelope = f"ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, {TILE_SRID})"
    inner = generalised_rows_sql(f"AND geom && ST_Transform({envelope}, {STORAGE_SRID})")
    sql = f"SELECT ST_AsBinary(o.geom), {props} FROM ({inner}) o ORDER BY o.fid"
    params = {
        "v": layer["version_id"],
        "c": frame.res,
        "tol": frame.res / 2,
        "x0": frame.minx - frame.res * 8,
        "y0": frame.miny - frame.res * 8,
        "x1": frame.maxx + frame.res * 8,
        "y1": frame.maxy + frame.res * 8,
        **{f"k{i}": n for i, n in enumerate(fields)},
    }
    with connection.chunked_cursor() as cur:
        cur.execute(sql, params)
        while batch := cur.fetchmany(BATCH):
            geoms = shapely.from_wkb([bytes(r[0]) for r in batch])
            for geom, row in zip(geoms, batch, strict=True):
                yield geom, as_dict(row[1])


def _marker(draw: ImageDraw.ImageDraw, x: float, y: float, symbol: dict, fill: tuple) -> None:
    r = symbol["size"] / 2
    outline = _rgba(symbol["stroke"], 1)
    if symbol["marker"] == "square":
        draw.rectangle((x - r, y - r, x + r, y + r), fill=fill, outline=outline)
    elif symbol["marker"] == "triangle":
        draw.polygon([(x, y - r), (x + r, y + r), (x - r, y + r)], fill=fill, outline=outline)
    else:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill, outline=outline)


def _draw_geom(draw: ImageDraw.ImageDraw, geom: Any, frame: Frame, style: dict, color: str) -> None:
    symbol = style["symbol"]
    fill = _rgba(color, symbol["fill_opacity"])
    stroke = _rgba(symbol["stroke"], 1)
    width = max(0, round(symbol["stroke_width"]))
    for part in getattr(geom, "geoms", [geom]):
        kind = part.geom_type
        if kind == "Polygon":
            ring = frame.px(part.exterior.coords)
            draw.polygon(ring, fill=fill)
            for hole in part.interiors:
                draw.polygon(frame.px(hole.coords), fill=(0, 0, 0, 0))
            xs, ys = [p[0] for p in ring], [p[1] for p in ring]
            # Outlines of features a few pixels wide would hide their fill.
            if width and max(max(xs) - min(xs), max(ys) - min(ys)) > 6:
                draw.line(ring, fill=stroke, width=width)
        elif kind == "LineString":
            draw.line(frame.px(part.coords), fill=_rgba(color if style["type"] != "single" else symbol["stroke"], 1), width=max(1, width))  # fmt: skip
        elif kind == "Point":
            (x, y), = frame.px(part.coords)  # fmt: skip
            _marker(draw, x, y, symbol, _rgba(color, max(symbol["fill_opacity"], 0.8)))
        elif hasattr(part, "geoms"):
            _draw_geom(draw, part, frame, style, color)


def render_map(
    definition: dict[str, Any],
    *,
    bbox: list[float] | None,
    width: int,
    height: int,
    visible: set[int] | None = None,
) -> Image.Image:
    """The map area alone: background and styled layers, bottom to top."""
    frame = Frame(bbox or definition["extent"], width, height)
    image = Image.new("RGBA", (width, height), (242, 239, 233, 255))
    for layer in definition["layers"]:
        shown = layer["visible"] if visible is None else layer["key"] in visible
        style = layer["style"]
        if not shown or not style["min_zoom"] <= frame.zoom + 0.5 <= style["max_zoom"] + 1:
            continue
        canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(canvas)
        labels = []
        label = style.get("label")
        for geom, props in _rows(layer, frame):
            _draw_geom(draw, geom, frame, style, color_for(style, props))
            if label and frame.zoom >= label["min_zoom"] and props.get(label["attribute"]):
                point = geom.representative_point()
                labels.append((frame.px([(point.x, point.y)])[0], str(props[label["attribute"]])))
        font = _font(11)
        for (x, y), text in labels[:500]:
            draw.text((x, y), text, fill=(20, 20, 20, 255), font=font, anchor="mm",
                      stroke_width=2, stroke_fill=(255, 255, 255, 255))  # fmt: skip
        if layer["opacity"] < 1:
            alpha = canvas.getchannel("A").point(lambda a, o=layer["opacity"]: round(a * o))
            canvas.putalpha(alpha)
        image.alpha_composite(canvas)
    image.info["frame"] = frame
    return image


def _scale_bar(draw: ImageDraw.ImageDraw, frame: Frame, x: int, y: int, font: Any) -> None:
    lat = math.degrees(math.atan(math.sinh((frame.miny + frame.maxy) / 2 / WORLD * math.pi)))
    metres_per_px = frame.res * math.cos(math.radians(lat))
    target = metres_per_px * 150
    nice = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if nice * step <= target:
            nice *= step
            break
    length = nice / metres_per_px
    draw.rectangle((x, y, x + length, y + 6), fill=(29, 39, 51, 255))
    text = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    draw.text((x, y + 9), text, fill=(29, 39, 51, 255), font=font)


def _north_arrow(draw: ImageDraw.ImageDraw, x: int, y: int, font: Any) -> None:
    draw.polygon([(x, y), (x + 10, y + 28), (x, y + 22), (x - 10, y + 28)], fill=(29, 39, 51, 255))
    draw.text((x, y + 32), "N", fill=(29, 39, 51, 255), font=font, anchor="mt")


def render_export(
    definition: dict[str, Any],
    *,
    bbox: list[float] | None,
    width: int = 1200,
    height: int = 800,
    visible: set[int] | None = None,
    when: date | None = None,
) -> Image.Image:
    """The printable map: title, map, legend, scale bar, north arrow, attribution and date."""
    width, height = min(max(width, 400), MAX_SIDE), min(max(height, 300), MAX_SIDE)
    legend_w, title_h, foot_h = 240, 56, 28
    map_w, map_h = width - legend_w, height - title_h - foot_h
    area = render_map(definition, bbox=bbox, width=map_w, height=map_h, visible=visible)
    frame: Frame = area.info["frame"]
    page = Image.new("RGBA", (width, height), (255, 255, 255, 255))
    page.alpha_composite(area, (0, title_h))
    draw = ImageDraw.Draw(page)
    draw.text((16, 14), definition["title"], fill=(29, 39, 51, 255), font=_font(24))
    draw.rectangle((0, title_h, map_w - 1, title_h + map_h - 1), outline=(154, 165, 177, 255))
    small = _font(12)
    _scale_bar(draw, frame, 16, title_h + map_h - 34, small)
    _north_arrow(draw, map_w - 30, title_h + 14, small)
    y = title_h + 8
    draw.text((map_w + 12, y), "Legend", fill=(29, 39, 51, 255), font=_font(16))
    y += 26
    for layer in definition["layers"]:
        if (layer["visible"] if visible is None else layer["key"] in visible) is False:
            continue
        if y > height - foot_h - 30:
            break
        draw.text((map_w + 12, y), layer["title"], fill=(29, 39, 51, 255), font=_font(13))
        y += 20
        for entry in layer["style"].get("legend", [])[:12]:
            draw.rectangle(
                (map_w + 16, y + 2, map_w + 32, y + 14),
                fill=_rgba(entry["color"], 1),
                outline=_rgba(layer["style"]["symbol"]["stroke"], 1),
            )
            draw.text((map_w + 40, y), entry["label"] or layer["title"], fill=(29, 39, 51, 255), font=small)  # fmt: skip
            y += 18
        y += 6
    attribution = str(settings.BASEMAPS.get(definition["basemap"], {}).get("attribution", ""))
    credit = "SharedGIS" + (" · " + attribution.replace("&copy;", "©") if attribution else "")
    stamp = (when or date.today()).isoformat()
    draw.text((16, height - foot_h + 7), credit, fill=(91, 103, 118, 255), font=small)
    draw.text((width - 16, height - foot_h + 7), stamp, fill=(91, 103, 118, 255), font=small, anchor="ra")  # fmt: skip
    return page


def png_bytes(image: Image.Image) -> bytes:
    out = BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_pdf(
    definition: dict[str, Any], *, bbox: list[float] | None, visible: set[int] | None
) -> bytes:
    from weasyprint import HTML

    image = png_bytes(
        render_export(definition, bbox=bbox, visible=visible, width=1600, height=1060)
    )
    data = base64.b64encode(image).decode()
    html = (
        "<html><head><style>@page { size: A4 landscape; margin: 10mm } "
        "img { width: 100%; }</style></head><body>"
        f'<img src="data:image/png;base64,{data}" alt="map"></body></html>'
    )
    return HTML(string=html).write_pdf()


def render_thumbnail(definition: dict[str, Any]) -> bytes:
    return png_bytes(render_map(definition, bbox=None, width=320, height=200))
