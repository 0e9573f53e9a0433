/* The viewer panel's layer list: a checkbox and a legend per layer, top layer first. A layer type
   may add controls under its entry (decorateListItem, e.g. a raster's opacity slider). */

import { escapeHtml } from "./html.js";
import { layerLegendHtml, layerType } from "./layer-types.js";

export function renderLayerList(list, layers, drawn, hidden, onToggle) {
  list.innerHTML = layers.slice().reverse().map((l) =>
    '<li class="layer-item"><label><input type="checkbox" data-key="' + l.key + '"' +
    (hidden.indexOf(l.key) < 0 ? " checked" : "") + "> " + escapeHtml(l.title) + '</label><ul class="legend">' +
    layerLegendHtml(l) + "</ul></li>").join("");
  layers.forEach((l) => {
    const type = layerType(l);
    const item = list.querySelector('input[data-key="' + l.key + '"]').closest("li");
    if (type.decorateListItem) { type.decorateListItem(item, l, drawn[l.key]); }
  });
  list.addEventListener("change", (e) => {
    if (!e.target.dataset.key) { return; } // a control a layer type added, not a toggle
    onToggle(+e.target.dataset.key, e.target.checked);
  });
}
