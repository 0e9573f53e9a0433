/* The "vector" layer type: PostGIS vector tiles (maps/tiles.py) drawn by Leaflet.VectorGrid. */

import { popupHtml } from "./identify.js";
import { registerLayerType } from "./layer-types.js";
import { pathStyle } from "./style.js";
import { vectorFieldsHtml, vectorStyleFrom } from "./vector-form.js";

// VectorGrid 1.3 calls L.DomEvent.fakeStop, removed in Leaflet 1.8: interactive canvas tiles need it.
if (!L.DomEvent.fakeStop) { L.DomEvent.fakeStop = () => true; }

function vectorLayer(map, layer, { maxNativeZoom }) {
  const grid = L.vectorGrid.protobuf(layer.tiles, {
    vectorTileLayerStyles: { [layer.name]: pathStyle(layer) },
    interactive: true,
    maxNativeZoom: maxNativeZoom,
    maxZoom: maxNativeZoom,
    rendererFactory: L.canvas.tile,
    getFeatureId: (f) => f.properties.fid,
    fetchOptions: { credentials: "same-origin" },
  });
  grid.on("click", (e) => {
    L.popup({ maxWidth: 320 }).setLatLng(e.latlng).setContent(popupHtml(layer, e.layer.properties || {})).openOn(map);
    map.fire("sharedgis:identify", { layer: layer, properties: e.layer.properties });
  });
  grid.on("load", () => map.fire("sharedgis:tilesdrawn", { layer: layer }));
  return grid;
}

registerLayerType("vector", {
  create: vectorLayer,
  composerFieldsHtml: vectorFieldsHtml,
  styleFromForm: (fs, old, l) => vectorStyleFrom(fs, old, l.fields),
});
