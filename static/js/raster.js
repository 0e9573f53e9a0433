/* SharedGIS raster layers in Leaflet: styled PNG tiles, legend, opacity, pixel identify.
 * Used by the layer page and, through the "raster" layer type (static/js/maps/raster.js), by the map viewer and composer. */
(function () {
  "use strict";

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function fmt(v) {
    if (v === null || v === undefined) return "no data";
    return typeof v === "number" ? (Math.abs(v) >= 100 ? v.toFixed(1) : String(+v.toFixed(4))) : String(v);
  }

  function identifyHtml(title, data) {
    if (!data.inside) return escapeHtml(title) + ": outside the raster";
    var rows = data.bands.map(function (b) {
      var swatch = b.color ? '<span class="swatch" style="background:' + escapeHtml(b.color) + '"></span> ' : "";
      return "<tr><th>" + escapeHtml(b.name) + "</th><td>" + swatch + escapeHtml(b.label || fmt(b.value)) + "</td></tr>";
    });
    return "<strong>" + escapeHtml(title) + "</strong><table class=\"identify\">" + rows.join("") + "</table>";
  }

  function identify(url, latlng) {
    var sep = url.indexOf("?") >= 0 ? "&" : "?";
    return fetch(url + sep + "lon=" + latlng.lng.toFixed(7) + "&lat=" + latlng.lat.toFixed(7), {
      credentials: "same-origin"
    }).then(function (r) { return r.json(); });
  }

  // A raster layer of a map definition: {tiles, identify, opacity, style:{min_zoom,max_zoom}}.
  function tileLayer(layer, options) {
    var style = layer.style || {};
    return L.tileLayer(layer.tiles, Object.assign({
      opacity: layer.opacity === undefined ? 1 : layer.opacity,
      minZoom: style.min_zoom || 0,
      maxZoom: 22,
      maxNativeZoom: layer.max_native_zoom || 22,
      pane: "rasterPane",
      className: "raster-layer",
      tileSize: 256,
      crossOrigin: false
    }, options || {}));
  }

  function ensurePane(map) {
    if (!map.getPane("rasterPane")) {
      // Rasters draw under vector tiles (overlayPane is 400) and above the basemap.
      map.createPane("rasterPane").style.zIndex = 250;
    }
  }

  function addLayer(map, layer) {
    ensurePane(map);
    var t = tileLayer(layer);
    t.on("load", function () { map.fire("sharedgis:tilesdrawn", { layer: layer }); });
    if (layer.identify) {
      map.on("click", function (e) {
        if (!map.hasLayer(t)) return;
        identify(layer.identify, e.latlng).then(function (data) {
          L.popup().setLatLng(e.latlng).setContent(identifyHtml(layer.title || "Raster", data)).openOn(map);
          map.fire("sharedgis:identified", { layer: layer, data: data });
        });
      });
    }
    return t;
  }

  function opacitySlider(container, layer, tile) {
    var label = document.createElement("label");
    label.className = "opacity";
    label.textContent = "Opacity ";
    var input = document.createElement("input");
    input.type = "range"; input.min = "0"; input.max = "1"; input.step = "0.05";
    input.value = String(layer.opacity === undefined ? 1 : layer.opacity);
    input.setAttribute("aria-label", "Opacity of " + (layer.title || "raster"));
    input.dataset.rasterOpacity = String(layer.key);
    input.addEventListener("input", function () { tile.setOpacity(Number(input.value)); });
    label.appendChild(input);
    container.appendChild(label);
    return input;
  }

  function layerPage(el, preview) {
    var map = L.map(el);
    var basemapNode = document.getElementById("basemap");
    var basemap = basemapNode ? JSON.parse(basemapNode.textContent) : null;
    if (basemap && basemap.url) {
      L.tileLayer(basemap.url, { attribution: basemap.attribution, maxZoom: basemap.max_zoom }).addTo(map);
    }
    var ext = preview.extent;
    if (ext) map.fitBounds([[ext[1], ext[0]], [ext[3], ext[2]]]);
    else map.setView([38.4, -122.36], 10);
    var layer = { key: "preview", title: "Value", tiles: preview.tiles, identify: preview.identify, opacity: 1 };
    var tile = addLayer(map, layer).addTo(map);
    tile.on("load", function () { el.classList.add("loaded"); });
    var out = document.getElementById("raster-identify-result");
    map.on("sharedgis:identified", function (e) {
      if (out) out.innerHTML = identifyHtml("At this point", e.data);
    });
    var legend = document.getElementById("raster-legend");
    if (legend) opacitySlider(legend.parentNode.insertBefore(document.createElement("div"), legend), layer, tile);
    window.sharedgisRasterMap = map;
  }

  // The viewer's layer list: an opacity slider under each raster layer's toggle.
  function decorateList(list, layers, tiles) {
    layers.forEach(function (l) {
      if (l.kind !== "raster") return;
      var input = list.querySelector('input[data-key="' + l.key + '"]');
      if (input) opacitySlider(input.closest("li"), l, tiles[l.key]);
    });
  }

  window.SharedGISRaster = { addLayer: addLayer, decorateList: decorateList, opacitySlider: opacitySlider, layerPage: layerPage, identifyHtml: identifyHtml };
})();
