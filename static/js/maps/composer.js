/* The composer: edits the draft through the JSON API and redraws the preview without a reload.
   Layers are drawn and their controls rendered through layer-types.js (see viewer.js). */

import { createMap, fitExtent } from "./base-map.js";
import { composerApi } from "./composer-api.js";
import { layerFieldsetHtml, styleFromForm } from "./composer-form.js";
import { createLayer } from "./layer-types.js";

export function composer(el, config) {
  const map = createMap(el, config, { preferCanvas: true });
  const api = composerApi(document.getElementById("composer-status"), document.getElementById("composer-error"));
  const layersBox = document.getElementById("composer-layers");
  const urls = config.urls;
  const layerUrl = (id) => urls.layer.replace("/0/", "/" + id + "/");
  let drawn = [], fitted = false, current = null;

  function draw(state) {
    current = state;
    drawn.forEach((g) => map.removeLayer(g));
    drawn = [];
    const preview = state.preview;
    (preview.layers || []).forEach((layer) => {
      if (!layer.visible) { return; }
      drawn.push(createLayer(map, layer, { maxNativeZoom: preview.max_native_zoom }).addTo(map));
    });
    if (!fitted) { fitExtent(map, preview.extent); fitted = true; }
    const byKey = {};
    (preview.layers || []).forEach((l) => { byKey[l.key] = l; });
    layersBox.innerHTML = state.layers.slice().reverse().map((l) => layerFieldsetHtml(l, byKey[l.id])).join("") ||
      "<p>No layers yet: add one above.</p>";
  }
  const send = (url, method, body) => api(url, method, body).then(draw).catch(() => {});

  layersBox.addEventListener("change", (e) => {
    const fs = e.target.closest("fieldset[data-id]");
    const id = +fs.dataset.id;
    const layer = current.layers.find((l) => l.id === id);
    const body = {};
    if (e.target.name === "visible") { body.visible = e.target.checked; }
    else if (e.target.name === "opacity") { body.opacity = +e.target.value; }
    else { body.style = styleFromForm(fs, layer); }
    send(layerUrl(id), "PATCH", body);
  });
  layersBox.addEventListener("click", (e) => {
    const act = e.target.dataset && e.target.dataset.act;
    if (!act) { return; }
    const id = +e.target.closest("fieldset[data-id]").dataset.id;
    if (act === "remove") { send(layerUrl(id), "DELETE"); return; }
    const order = current.layers.map((l) => l.id);
    const i = order.indexOf(id), j = act === "up" ? i + 1 : i - 1;
    if (j < 0 || j >= order.length) { return; }
    order[i] = order[j]; order[j] = id;
    send(urls.order, "POST", { order });
  });
  const addLayer = document.getElementById("add-layer");
  addLayer.addEventListener("submit", (e) => {
    e.preventDefault();
    send(urls.layers, "POST", { layer_id: +e.target.querySelector("select").value });
  });
  // The button stays disabled until this handler exists (and while there is nothing to add).
  addLayer.querySelector("button[type=submit]").disabled = !addLayer.querySelector("select").value;
  document.getElementById("map-settings").addEventListener("change", (e) => {
    const f = e.currentTarget;
    send(urls.api, "PATCH", {
      title: f.querySelector("[name=title]").value, description: f.querySelector("[name=description]").value,
      basemap: f.querySelector("[name=basemap]").value,
    });
  });
  document.getElementById("use-view").addEventListener("click", () => {
    const b = map.getBounds();
    send(urls.api, "PATCH", { extent: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()] });
  });
  send(urls.api, "GET");
  return { map };
}
