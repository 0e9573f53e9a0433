// Layer page: Leaflet preview (GeoJSON for small layers, else the extent) and the attribute table.
(function () {
  "use strict";
  var el = document.getElementById("layer-map");
  if (el && window.L) {
    var map = L.map(el);
    var basemapNode = document.getElementById("basemap");
    var basemap = basemapNode ? JSON.parse(basemapNode.textContent) : null;
    if (basemap && basemap.url) {
      L.tileLayer(basemap.url, { attribution: basemap.attribution, maxZoom: basemap.max_zoom }).addTo(map);
    }
    var ext = (el.dataset.extent || "").split(",").map(Number);
    if (ext.length === 4 && !isNaN(ext[0])) {
      map.fitBounds([[ext[1], ext[0]], [ext[3], ext[2]]], { maxZoom: 17 });
    } else { map.setView([38.4, -122.36], 10); }
    if (el.dataset.geojson) {
      fetch(el.dataset.geojson, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (data) {
          var layer = L.geoJSON(data, {
            pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 4 }); },
            onEachFeature: function (f, l) {
              var rows = Object.keys(f.properties || {}).map(function (k) {
                var tr = document.createElement("tr");
                var th = document.createElement("th"); th.textContent = k;
                var td = document.createElement("td"); td.textContent = f.properties[k];
                tr.appendChild(th); tr.appendChild(td); return tr.outerHTML;
              });
              l.bindPopup("<table>" + rows.join("") + "</table>");
            }
          }).addTo(map);
          el.dataset.features = String(data.features.length);
          el.classList.add("loaded");
        });
    } else if (el.dataset.tiles && L.vectorGrid) {
      // Large layers: vector tiles cut by the maps app (ST_AsMVT), one style for every kind.
      var style = { weight: 1, color: "#1d5fb4", fillOpacity: 0.3, fill: true, radius: 3 };
      var styles = {};
      styles[el.dataset.tileLayer] = style;
      L.vectorGrid.protobuf(el.dataset.tiles, { vectorTileLayerStyles: styles, maxNativeZoom: 20 })
        .on("load", function () { el.classList.add("loaded"); })
        .addTo(map);
    } else {
      if (ext.length === 4 && !isNaN(ext[0])) L.rectangle([[ext[1], ext[0]], [ext[3], ext[2]]]).addTo(map);
      el.classList.add("loaded");
    }
  }

  var table = document.getElementById("attr-table");
  if (!table) return;
  var state = { page: 1, size: 25, sort: "", dir: "asc", q: "" };
  var info = document.getElementById("attr-info");

  function load() {
    var url = table.dataset.url + "&page=" + state.page + "&size=" + state.size + "&sort=" +
      encodeURIComponent(state.sort) + "&dir=" + state.dir + "&q=" + encodeURIComponent(state.q);
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(render);
  }

  function render(data) {
    var head = table.tHead, body = table.tBodies[0];
    head.innerHTML = ""; body.innerHTML = "";
    var tr = head.insertRow();
    ["fid"].concat(data.columns).forEach(function (c) {
      var th = document.createElement("th");
      th.scope = "col";
      var b = document.createElement("button");
      b.type = "button"; b.className = "linklike sort"; b.dataset.col = c === "fid" ? "" : c;
      b.textContent = c + (state.sort === b.dataset.col ? (state.dir === "asc" ? " ▲" : " ▼") : "");
      b.addEventListener("click", function () {
        state.dir = state.sort === b.dataset.col && state.dir === "asc" ? "desc" : "asc";
        state.sort = b.dataset.col; state.page = 1; load();
      });
      th.appendChild(b); tr.appendChild(th);
    });
    data.rows.forEach(function (row) {
      var r = body.insertRow();
      ["fid"].concat(data.columns).forEach(function (c) {
        var v = row[c];
        r.insertCell().textContent = v === null || v === undefined ? "" : String(v);
      });
    });
    var pages = Math.max(1, Math.ceil(data.total / data.size));
    info.textContent = "Page " + data.page + " of " + pages + " (" + data.total + " features)";
    document.getElementById("attr-prev").disabled = data.page <= 1;
    document.getElementById("attr-next").disabled = data.page >= pages;
  }

  document.getElementById("attr-prev").addEventListener("click", function () { state.page--; load(); });
  document.getElementById("attr-next").addEventListener("click", function () { state.page++; load(); });
  var timer;
  document.getElementById("attr-q").addEventListener("input", function (e) {
    clearTimeout(timer);
    timer = setTimeout(function () { state.q = e.target.value; state.page = 1; load(); }, 250);
  });
  document.getElementById("attr-filter").addEventListener("submit", function (e) { e.preventDefault(); });
  load();
}());
