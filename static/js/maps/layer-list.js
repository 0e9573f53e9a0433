/* The viewer panel's layer list: a checkbox and a legend per layer, top layer first. */

import { escapeHtml } from "./html.js";
import { layerLegendHtml } from "./layer-types.js";

export function renderLayerList(list, layers, hidden, onToggle) {
  list.innerHTML = layers.slice().reverse().map((l) =>
    '<li class="layer-item"><label><input type="checkbox" data-key="' + l.key + '"' +
    (hidden.indexOf(l.key) < 0 ? " checked" : "") + "> " + escapeHtml(l.title) + '</label><ul class="legend">' +
    layerLegendHtml(l) + "</ul></li>").join("");
  list.addEventListener("change", (e) => onToggle(+e.target.dataset.key, e.target.checked));
}
