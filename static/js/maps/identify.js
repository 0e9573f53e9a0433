/* The identify popup: a feature's popup attributes under their aliases. */

import { escapeHtml } from "./html.js";

export function popupHtml(layer, props) {
  const popup = layer.style.popup || [];
  if (popup.length && !popup.some((p) => p.attribute in props)) {
    // Low zooms draw merged cells, not features.
    return '<div class="identify"><strong>' + escapeHtml(layer.title) + "</strong><p>Zoom in to identify features.</p></div>";
  }
  const rows = popup.map((p) => {
    const v = props[p.attribute];
    return "<tr><th>" + escapeHtml(p.alias) + "</th><td>" + escapeHtml(v === undefined || v === null ? "—" : v) + "</td></tr>";
  }).join("");
  return '<div class="identify"><strong>' + escapeHtml(layer.title) + "</strong>" +
    (rows ? "<table>" + rows + "</table>" : "") + "</div>";
}
