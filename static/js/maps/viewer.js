/* The map viewer of a published version (and of a share link): layers, legend and toggles,
   permalink, labels, coordinates, measure, search and export links.

   Hook for new layer kinds (rasters): this module draws every config layer through
   layer-types.js, never a renderer directly. A kind is one module next to vector.js, imported by
   main.js, that calls
     registerLayerType("raster", {
       create(map, layer, {maxNativeZoom}) -> Leaflet layer,   // also used by the composer
       legendHtml(layer),                                      // optional, <li> entries
       decorateListItem(li, layer, leafletLayer),              // optional, e.g. an opacity slider
       composerFieldsHtml(l), styleFromForm(fs, old, l),       // optional composer controls
     });
   and the layer's config entry says `kind: "raster"`. Nothing in this file changes for it.
   Events on the Leaflet map: "sharedgis:tilesdrawn" {layer}, "sharedgis:identify" {layer, properties}. */

import { createMap, fitExtent } from "./base-map.js";
import { updateExportLinks } from "./exports.js";
import { labelLayers } from "./labels.js";
import { renderLayerList } from "./layer-list.js";
import { createLayer } from "./layer-types.js";
import { wireMeasure } from "./measure.js";
import { readHash, writeHash } from "./permalink.js";
import { wireSearch } from "./search.js";

const PANEL_SLIDE_MS = 200;

export function viewer(el, config) {
  const map = createMap(el, config, { zoomControl: true, preferCanvas: true, maxZoom: config.max_native_zoom });
  map.attributionControl.addAttribution("SharedGIS");
  const state = readHash();
  const layers = {};
  const hidden = state ? state.hidden : config.layers.filter((l) => !l.visible).map((l) => l.key);
  config.layers.forEach((layer) => {
    layers[layer.key] = createLayer(map, layer, { maxNativeZoom: config.max_native_zoom });
    if (hidden.indexOf(layer.key) < 0) { layers[layer.key].addTo(map); }
  });
  if (state) { map.setView([state.lat, state.lon], state.zoom); } else { fitExtent(map, config.extent); }

  const isShown = (key) => map.hasLayer(layers[key]);
  const keys = (shown) => config.layers.filter((l) => isShown(l.key) === shown).map((l) => l.key);
  const labels = labelLayers(map, config, isShown);
  function viewChanged() {
    writeHash(map, keys(false));
    updateExportLinks(map, keys(true));
  }
  map.on("moveend", viewChanged);
  map.on("moveend", labels.refresh);

  const list = document.getElementById("layer-list");
  if (list) {
    renderLayerList(list, config.layers, layers, hidden, (key, checked) => {
      if (checked) { layers[key].addTo(map); } else { map.removeLayer(layers[key]); }
      viewChanged();
      labels.refresh();
    });
  }

  const coords = document.getElementById("coords");
  if (coords) {
    map.on("mousemove", (e) => { coords.textContent = e.latlng.lat.toFixed(5) + ", " + e.latlng.lng.toFixed(5); });
  }
  wireMeasure(map);
  wireSearch(map, config);

  const toggle = document.getElementById("panel-toggle");
  if (toggle) {
    toggle.addEventListener("click", () => {
      document.body.classList.toggle("panel-open");
      setTimeout(() => map.invalidateSize(), PANEL_SLIDE_MS);
    });
  }
  viewChanged();
  labels.refresh();
  return { map, layers };
}
