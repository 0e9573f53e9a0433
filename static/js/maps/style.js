/* A feature's look from its layer's resolved style. The server resolves classes (breaks, colours,
   categories) in maps/styles.py; this only looks a feature up in them, exactly as
   maps/styles.py::color_for does (tests/test_maps_browser_styles.py compares the two). */

import { dashArray, schema } from "./schema.js";

/* maps/styles.py::category_key: String() of a tile value (true -> "true", 1.0 -> "1"); none is null. */
export function categoryKey(value) {
  if (value === undefined || value === null) { return null; }
  if (typeof value === "object") { return JSON.stringify(value); }
  return String(value);
}

export function colorFor(style, props) {
  if (style.type === "categorized") {
    const key = categoryKey(props[style.attribute]);
    const hit = style.categories.find((c) => c.value === key);
    return hit ? hit.color : style.other.color;
  }
  if (style.type === "graduated") {
    const n = props[style.attribute];
    if (typeof n !== "number") { return schema().other_color; }
    const i = style.breaks.findIndex((upper) => n <= upper);
    return style.colors[i < 0 ? style.colors.length - 1 : i];
  }
  return style.symbol.fill;
}

// Marker shapes other than the circle (which Leaflet draws itself) as SVG bodies of an s×s icon.
const MARKER_SHAPES = {
  square: (s) => '<rect x="1" y="1" width="' + (s - 2) + '" height="' + (s - 2) + '"/>',
  triangle: (s) => '<polygon points="' + s / 2 + ",1 " + (s - 1) + "," + (s - 1) + " 1," + (s - 1) + '"/>',
};

function markerIcon(shape, size, fill, stroke) {
  const body = (MARKER_SHAPES[shape] || MARKER_SHAPES.square)(size);
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + size + '" height="' + size + '"><g fill="' + fill +
    '" stroke="' + stroke + '" stroke-width="1">' + body + "</g></svg>";
  return L.icon({ iconUrl: "data:image/svg+xml;base64," + btoa(svg), iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
}

/* (properties, zoom) -> Leaflet path options of one map layer; [] hides the feature. */
export function pathStyle(layer) {
  const style = layer.style, sym = style.symbol, icons = {};
  const gt = layer.geometry_type || "";
  const isLine = /Line/i.test(gt), isPoint = /Point/i.test(gt);
  return function (props, zoom) {
    if (zoom < style.min_zoom || zoom > style.max_zoom) { return []; }
    const color = colorFor(style, props);
    const o = {
      fill: !isLine, fillColor: color, fillOpacity: sym.fill_opacity * layer.opacity,
      color: isLine && style.type !== "single" ? color : sym.stroke,
      weight: sym.stroke_width, opacity: layer.opacity, dashArray: dashArray(sym.dash),
      radius: sym.size / 2,
    };
    if (isPoint && sym.marker !== "circle") {
      icons[color] = icons[color] || markerIcon(sym.marker, sym.size, color, sym.stroke);
      o.icon = icons[color];
    }
    return o;
  };
}
