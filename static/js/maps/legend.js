/* Legend entries: the server writes them (maps/styles.py::legend_for); this draws the swatches. */

import { escapeHtml } from "./html.js";

export function swatchHtml(color) {
  return '<span class="swatch" style="background:' + escapeHtml(color) + '"></span>';
}

export function legendHtml(layer) {
  return (layer.style.legend || []).map((e) =>
    "<li>" + swatchHtml(e.color) + escapeHtml(e.label || layer.title) + "</li>").join("");
}
