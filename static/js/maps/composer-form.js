/* The composer's fieldset of one draft layer: visibility, opacity, order and removal, plus the
   style controls its layer type provides (composerFieldsHtml / styleFromForm, layer-types.js). */

import { escapeHtml } from "./html.js";
import { layerLegendHtml, layerType } from "./layer-types.js";

/* One fieldset per draft layer; `drawn` is the layer's preview entry (with its resolved legend). */
export function layerFieldsetHtml(l, drawn) {
  const type = layerType(l);
  return '<fieldset class="card composer-layer" data-id="' + l.id + '" data-type="' + escapeHtml(l.style.type) + '"><legend>' + escapeHtml(l.title) + "</legend>" +
    '<label><input type="checkbox" name="visible"' + (l.visible ? " checked" : "") + "> Visible</label>" +
    '<label>Opacity <input type="range" name="opacity" min="0" max="1" step="0.05" value="' + l.opacity + '"></label>' +
    (type.composerFieldsHtml ? type.composerFieldsHtml(l) : "") +
    '<ul class="legend">' + (drawn ? layerLegendHtml(drawn) : "") + "</ul>" +
    '<div class="buttons"><button type="button" class="secondary" data-act="up">Move up</button><button type="button" class="secondary" data-act="down">Move down</button><button type="button" class="danger" data-act="remove">Remove from map</button></div></fieldset>';
}

/* The style a changed fieldset describes, for PATCHing the draft layer `l`. */
export function styleFromForm(fs, l) {
  const type = layerType(l);
  return type.styleFromForm ? type.styleFromForm(fs, l.style, l) : l.style;
}
