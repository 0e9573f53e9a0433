/* Map requests: draw the area of a new request (click the corners, then Finish), or show the area
   of a filed one. Writes GeoJSON (EPSG:4326) into the form's hidden area_geojson input. */
(function () {
  "use strict";

  function outline(map, geojson, style) {
    var layer = L.geoJSON(geojson, { style: style || { color: "#5b6776", weight: 1, fill: false } }).addTo(map);
    if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { padding: [16, 16] }); }
    return layer;
  }

  function showFiled(el) {
    var map = L.map(el);
    map.setView([38.4, -122.36], 11);
    outline(map, JSON.parse(JSON.parse(document.getElementById("request-area-geojson").textContent)),
      { color: "#0b5cad", weight: 2, fillOpacity: 0.15 });
  }

  function drawNew(el) {
    var map = L.map(el);
    map.setView([38.4, -122.36], 11);
    var boundaries = JSON.parse(document.getElementById("area-boundaries").textContent || "{}");
    var select = document.getElementById("id_agreement");
    var hidden = document.getElementById("id_area_geojson");
    var context = null, pts = [], line = null, shape = null;

    function showBoundary() {
      if (context) { map.removeLayer(context); context = null; }
      var b = boundaries[select ? select.value : Object.keys(boundaries)[0]];
      if (b) { context = outline(map, b); }
    }
    function chooseDrawn() {
      var radio = document.querySelector("input[name=area_source][value=drawn]");
      if (radio) { radio.checked = true; }
    }
    function redraw() {
      if (line) { map.removeLayer(line); }
      line = pts.length ? L.polyline(pts, { color: "#b3261e", dashArray: "4 4" }).addTo(map) : null;
    }
    map.on("click", function (e) { pts.push(e.latlng); chooseDrawn(); redraw(); });
    document.getElementById("area-finish").addEventListener("click", function () {
      if (pts.length < 3) { return; }
      var ring = pts.map(function (p) { return [+p.lng.toFixed(6), +p.lat.toFixed(6)]; });
      ring.push(ring[0]);
      if (shape) { map.removeLayer(shape); }
      shape = L.polygon(pts, { color: "#b3261e", weight: 2, fillOpacity: 0.2 }).addTo(map);
      hidden.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
      pts = []; redraw();
      el.dataset.drawn = "1";
    });
    document.getElementById("area-clear").addEventListener("click", function () {
      pts = []; redraw(); hidden.value = "";
      if (shape) { map.removeLayer(shape); shape = null; }
      delete el.dataset.drawn;
    });
    if (select) { select.addEventListener("change", showBoundary); }
    showBoundary();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var filed = document.getElementById("request-area");
    if (filed) { showFiled(filed); }
    var drawing = document.getElementById("area-map");
    if (drawing) { drawNew(drawing); }
  });
})();
