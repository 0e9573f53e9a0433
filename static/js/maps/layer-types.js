/* Layer types: how one kind of map layer is drawn and explained. The viewer and the composer ask
   this registry, never a renderer directly, so a new kind (rasters) is one module that registers.

   registerLayerType(kind, {
     create(map, layer, options) -> a Leaflet layer (options: {maxNativeZoom});
                                    fire map "sharedgis:tilesdrawn" {layer} once drawn,
     legendHtml(layer)           -> optional, <li> entries; default: the style's server legend,
     decorateListItem(li, layer, leafletLayer) -> optional, controls under the viewer's entry,
     composerFieldsHtml(l)       -> optional, style controls of a draft layer in the composer,
     styleFromForm(fs, old, l)   -> optional, the style those controls describe (default: old),
   })
   A config layer names its kind in `layer.kind` (missing means "vector"). */

import { legendHtml } from "./legend.js";

const types = new Map();

export function registerLayerType(kind, type) {
  if (typeof type.create !== "function") { throw new Error("A layer type needs create(map, layer, options)."); }
  types.set(kind, type);
}

export function layerType(layer) {
  const kind = layer.kind || "vector";
  const type = types.get(kind);
  if (!type) { throw new Error('No layer type "' + kind + '" is registered.'); }
  return type;
}

export function createLayer(map, layer, options) {
  return layerType(layer).create(map, layer, options);
}

export function layerLegendHtml(layer) {
  const type = layerType(layer);
  return type.legendHtml ? type.legendHtml(layer) : legendHtml(layer);
}
