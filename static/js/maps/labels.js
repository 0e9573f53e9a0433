/* Labels: text at each feature's point on surface, fetched for the view at the label's zooms. */

import { bboxParam } from "./base-map.js";
import { escapeHtml } from "./html.js";

export function labelLayers(map, config, isShown) {
  const groups = {};
  function refresh() {
    if (!config.urls.labels) { return; }
    const z = map.getZoom();
    config.layers.forEach((l) => {
      const label = l.style.label;
      if (!label) { return; }
      if (groups[l.key]) { map.removeLayer(groups[l.key]); delete groups[l.key]; }
      if (z < label.min_zoom || z < l.style.min_zoom || z > l.style.max_zoom || !isShown(l.key)) { return; }
      fetch(config.urls.labels + "?layer=" + l.key + "&bbox=" + bboxParam(map), { credentials: "same-origin" })
        .then((r) => r.json())
        .then((data) => {
          if (groups[l.key]) { map.removeLayer(groups[l.key]); }
          groups[l.key] = L.layerGroup(data.labels.map((p) => L.marker([p[1], p[0]], {
            interactive: false, keyboard: false,
            icon: L.divIcon({ className: "map-label", html: "<span>" + escapeHtml(p[2]) + "</span>", iconSize: null }),
          }))).addTo(map);
        });
    });
  }
  return { refresh };
}
