/* Search by attribute value (the server's search route), zoom to a result and identify it. */

import { escapeHtml } from "./html.js";
import { popupHtml } from "./identify.js";

const HIGHLIGHT = { color: "#b3261e", weight: 3, fill: false };

export function wireSearch(map, config) {
  const form = document.getElementById("search-form");
  if (!form || !config.urls.search) { return; }
  const results = document.getElementById("search-results");
  let highlight = null;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = form.querySelector("input").value;
    fetch(config.urls.search + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => {
        results.innerHTML = data.results.length ? data.results.map((r, i) =>
          '<li><button type="button" class="link" data-i="' + i + '">' + escapeHtml(r.label) +
          ' <span class="muted">' + escapeHtml(r.layer_title) + "</span></button></li>").join("") : "<li>No match.</li>";
        results.onclick = (ev) => {
          const btn = ev.target.closest("button[data-i]");
          if (!btn) { return; }
          const r = data.results[+btn.dataset.i], b = r.bbox;
          const bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
          map.fitBounds(bounds, { maxZoom: 18, padding: [40, 40] });
          if (highlight) { map.removeLayer(highlight); }
          highlight = L.rectangle(bounds, HIGHLIGHT).addTo(map);
          const layer = config.layers.find((l) => l.key === r.layer);
          if (layer) { L.popup().setLatLng(bounds.getCenter()).setContent(popupHtml(layer, r.properties)).openOn(map); }
        };
      });
  });
}
