/* Entry of the map pages: starts the viewer or the composer on #map with the #map-config JSON.
   Layer types register on import (raster.js and vector.js below).
   It starts on DOMContentLoaded, which fires after every module script of the page has run. */

import "./raster.js";
import "./vector.js";
import { composer } from "./composer.js";
import { viewer } from "./viewer.js";

document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("map");
  const cfg = document.getElementById("map-config");
  if (!el || !cfg) { return; }
  const handle = (el.dataset.mode === "composer" ? composer : viewer)(el, JSON.parse(cfg.textContent));
  // Tests and the benchmark read the Leaflet map (and the viewer's layers by key) from here.
  window.sharedgisMap = handle.map;
  window.sharedgisLayers = handle.layers || {};
  // Classic scripts beside the map (static/js/comments.js) start from this event.
  document.dispatchEvent(new CustomEvent("sharedgis:mapready", { detail: { map: handle.map } }));
});
