/* The "raster" layer type: styled PNG/WebP tiles of a Cloud-Optimized GeoTIFF with pixel identify.
   The drawing itself lives in static/js/raster.js (a classic script, shared with the layer page,
   loaded before the modules run); this module registers it with the viewer and the composer. */

import { registerLayerType } from "./layer-types.js";
import { rasterFieldsHtml, rasterStyleFrom } from "./raster-form.js";

function raster() {
  if (!window.SharedGISRaster) { throw new Error("static/js/raster.js must load before the map modules."); }
  return window.SharedGISRaster;
}

registerLayerType("raster", {
  create: (map, layer) => raster().addLayer(map, layer),
  decorateListItem: (li, layer, leafletLayer) => { raster().opacitySlider(li, layer, leafletLayer); },
  composerFieldsHtml: rasterFieldsHtml,
  styleFromForm: (fs, old) => rasterStyleFrom(fs, old),
});
