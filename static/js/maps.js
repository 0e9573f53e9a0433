/* SharedGIS map viewer and composer preview: Leaflet + VectorGrid drawing PostGIS vector tiles.
   One style JSON (maps/styles.py) drives this, the legend and the server-side exports. */
(function () {
  "use strict";

  // VectorGrid 1.3 calls L.DomEvent.fakeStop, removed in Leaflet 1.8: interactive canvas tiles need it.
  if (!L.DomEvent.fakeStop) { L.DomEvent.fakeStop = function () { return true; }; }

  var OTHER = "#bdbdbd";
  var DASH = { solid: null, dashed: "8 6", dotted: "2 5" };

  function colorFor(style, props) {
    if (style.type === "categorized") {
      var v = props[style.attribute];
      v = v === undefined || v === null ? null : String(v);
      for (var i = 0; i < style.categories.length; i++) {
        if (style.categories[i].value === v) { return style.categories[i].color; }
      }
      return style.other.color;
    }
    if (style.type === "graduated") {
      var n = props[style.attribute];
      if (typeof n !== "number") { return OTHER; }
      for (var j = 0; j < style.breaks.length; j++) {
        if (n <= style.breaks[j]) { return style.colors[j]; }
      }
      return style.colors[style.colors.length - 1];
    }
    return style.symbol.fill;
  }

  function markerIcon(shape, size, fill, stroke) {
    var s = size, h = s / 2, body;
    if (shape === "square") { body = '<rect x="1" y="1" width="' + (s - 2) + '" height="' + (s - 2) + '"/>'; }
    else { body = '<polygon points="' + h + ',1 ' + (s - 1) + ',' + (s - 1) + ' 1,' + (s - 1) + '"/>'; }
    var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + s + '" height="' + s + '"><g fill="' + fill +
      '" stroke="' + stroke + '" stroke-width="1">' + body + "</g></svg>";
    return L.icon({ iconUrl: "data:image/svg+xml;base64," + btoa(svg), iconSize: [s, s], iconAnchor: [h, h] });
  }

  function pathStyle(layer) {
    var style = layer.style, sym = style.symbol, icons = {};
    var gt = layer.geometry_type || "";
    var isLine = /Line/i.test(gt), isPoint = /Point/i.test(gt);
    return function (props, zoom) {
      if (zoom < style.min_zoom || zoom > style.max_zoom) { return []; }
      var color = colorFor(style, props);
      var o = {
        fill: !isLine, fillColor: color, fillOpacity: sym.fill_opacity * layer.opacity,
        color: isLine && style.type !== "single" ? color : sym.stroke,
        weight: sym.stroke_width, opacity: layer.opacity, dashArray: DASH[sym.dash],
        radius: sym.size / 2
      };
      if (isPoint && sym.marker !== "circle") {
        var k = color;
        icons[k] = icons[k] || markerIcon(sym.marker, sym.size, color, sym.stroke);
        o.icon = icons[k];
      }
      return o;
    };
  }

  function legendHtml(layer) {
    var entries = layer.style.legend || [];
    return entries.map(function (e) {
      return '<li><span class="swatch" style="background:' + e.color + '"></span>' +
        escapeHtml(e.label || layer.title) + "</li>";
    }).join("");
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function popupHtml(layer, props) {
    var popup = layer.style.popup || [];
    if (popup.length && !popup.some(function (p) { return p.attribute in props; })) {
      // Low zooms draw merged cells, not features.
      return '<div class="identify"><strong>' + escapeHtml(layer.title) + "</strong><p>Zoom in to identify features.</p></div>";
    }
    var rows = (layer.style.popup || []).map(function (p) {
      var v = props[p.attribute];
      return "<tr><th>" + escapeHtml(p.alias) + "</th><td>" + escapeHtml(v === undefined || v === null ? "—" : v) + "</td></tr>";
    }).join("");
    return '<div class="identify"><strong>' + escapeHtml(layer.title) + "</strong>" +
      (rows ? "<table>" + rows + "</table>" : "") + "</div>";
  }

  // Raster layers (static/js/raster.js): a styled tile layer with pixel identify instead of a grid.
  function rasterOr(map, layer) {
    return layer.kind === "raster" && window.SharedGISRaster ? window.SharedGISRaster.addLayer(map, layer) : null;
  }

  function vectorLayer(map, layer, maxNativeZoom) {
    var styles = {};
    var styleFn = pathStyle(layer);
    styles[layer.name] = styleFn;
    var grid = L.vectorGrid.protobuf(layer.tiles, {
      vectorTileLayerStyles: styles,
      interactive: true,
      maxNativeZoom: maxNativeZoom,
      maxZoom: maxNativeZoom,
      rendererFactory: L.canvas.tile,
      getFeatureId: function (f) { return f.properties.fid; },
      fetchOptions: { credentials: "same-origin" }
    });
    grid.on("click", function (e) {
      L.popup({ maxWidth: 320 }).setLatLng(e.latlng).setContent(popupHtml(layer, e.layer.properties || {})).openOn(map);
      map.fire("sharedgis:identify", { layer: layer, properties: e.layer.properties });
    });
    grid.on("load", function () { map.fire("sharedgis:tilesdrawn", { layer: layer }); });
    return grid;
  }

  function basemapLayer(basemap) {
    if (!basemap || !basemap.url) { return null; }
    return L.tileLayer(basemap.url, { attribution: basemap.attribution, maxZoom: basemap.max_zoom || 19 });
  }

  function fitExtent(map, extent) {
    if (extent) { map.fitBounds([[extent[1], extent[0]], [extent[3], extent[2]]]); }
    else { map.setView([38.4, -122.36], 12); }
  }

  /* ---- measure: distance along a path, area of the closed ring (spherical approximation) */
  function haversine(a, b) {
    var R = 6371008.8, toRad = Math.PI / 180;
    var dLat = (b.lat - a.lat) * toRad, dLon = (b.lng - a.lng) * toRad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(a.lat * toRad) * Math.cos(b.lat * toRad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * R * Math.asin(Math.sqrt(h));
  }
  function ringArea(pts) {
    var R = 6371008.8, toRad = Math.PI / 180, total = 0;
    for (var i = 0; i < pts.length; i++) {
      var p1 = pts[i], p2 = pts[(i + 1) % pts.length];
      total += (p2.lng - p1.lng) * toRad * (2 + Math.sin(p1.lat * toRad) + Math.sin(p2.lat * toRad));
    }
    return Math.abs(total * R * R / 2);
  }
  function fmtLen(m) { return m >= 1000 ? (m / 1000).toFixed(2) + " km" : m.toFixed(1) + " m"; }
  function fmtArea(m2) { return m2 >= 1e6 ? (m2 / 1e6).toFixed(3) + " km²" : Math.round(m2) + " m²"; }

  function measureTool(map, output) {
    var pts = [], line = null, active = false;
    function redraw() {
      if (line) { map.removeLayer(line); }
      line = pts.length ? L.polyline(pts, { color: "#b3261e", dashArray: "4 4" }).addTo(map) : null;
      var d = 0;
      for (var i = 1; i < pts.length; i++) { d += haversine(pts[i - 1], pts[i]); }
      output.textContent = pts.length < 2 ? "Click on the map to measure." :
        "Distance " + fmtLen(d) + (pts.length > 2 ? " · Area " + fmtArea(ringArea(pts)) : "");
    }
    function click(e) { pts.push(e.latlng); redraw(); }
    return {
      toggle: function () {
        active = !active; pts = []; redraw();
        if (active) { map.on("click", click); map.getContainer().classList.add("measuring"); }
        else { map.off("click", click); map.getContainer().classList.remove("measuring"); output.textContent = ""; if (line) { map.removeLayer(line); line = null; } }
        return active;
      }
    };
  }

  /* ---- permalink: #zoom/lat/lon/hidden-keys */
  function readHash() {
    var m = location.hash.match(/^#(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)(?:\/([\d,]*))?/);
    return m ? { zoom: +m[1], lat: +m[2], lon: +m[3], hidden: m[4] ? m[4].split(",").filter(Boolean).map(Number) : [] } : null;
  }

  function viewer(el, config) {
    var map = L.map(el, { zoomControl: true, preferCanvas: true, maxZoom: config.max_native_zoom });
    var base = basemapLayer(config.basemap);
    if (base) { base.addTo(map); }
    map.attributionControl.addAttribution("SharedGIS");
    var state = readHash();
    var grids = {};
    var hidden = state ? state.hidden : config.layers.filter(function (l) { return !l.visible; }).map(function (l) { return l.key; });
    config.layers.forEach(function (layer) {
      grids[layer.key] = rasterOr(map, layer) || vectorLayer(map, layer, config.max_native_zoom);
      if (hidden.indexOf(layer.key) < 0) { grids[layer.key].addTo(map); }
    });
    if (state) { map.setView([state.lat, state.lon], state.zoom); } else { fitExtent(map, config.extent); }

    function visibleKeys() {
      return config.layers.filter(function (l) { return map.hasLayer(grids[l.key]); }).map(function (l) { return l.key; });
    }
    function hiddenKeys() {
      return config.layers.filter(function (l) { return !map.hasLayer(grids[l.key]); }).map(function (l) { return l.key; });
    }
    function updateHash() {
      var c = map.getCenter();
      var h = "#" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5) + "/" + hiddenKeys().join(",");
      history.replaceState(null, "", h);
      var link = document.getElementById("permalink");
      if (link) { link.value = location.href; }
      updateExportLinks();
    }
    function updateExportLinks() {
      var b = map.getBounds();
      var q = "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",") +
        "&layers=" + visibleKeys().join(",");
      var size = map.getSize();
      document.querySelectorAll("[data-export]").forEach(function (a) {
        var extra = a.dataset.export === "png" ? "&width=" + Math.max(600, size.x) + "&height=" + Math.max(400, size.y) : "";
        a.href = a.dataset.base + q + extra;
      });
    }
    map.on("moveend", updateHash);

    // labels: text at each feature's point on surface, fetched for the view at the label's zooms
    var labelGroups = {};
    function refreshLabels() {
      if (!config.urls.labels) { return; }
      var b = map.getBounds(), z = map.getZoom();
      config.layers.forEach(function (l) {
        var label = l.style.label;
        if (!label) { return; }
        if (labelGroups[l.key]) { map.removeLayer(labelGroups[l.key]); delete labelGroups[l.key]; }
        if (z < label.min_zoom || z < l.style.min_zoom || z > l.style.max_zoom || !map.hasLayer(grids[l.key])) { return; }
        var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
        fetch(config.urls.labels + "?layer=" + l.key + "&bbox=" + bbox, { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (labelGroups[l.key]) { map.removeLayer(labelGroups[l.key]); }
            labelGroups[l.key] = L.layerGroup(data.labels.map(function (p) {
              return L.marker([p[1], p[0]], { interactive: false, keyboard: false,
                icon: L.divIcon({ className: "map-label", html: "<span>" + escapeHtml(p[2]) + "</span>", iconSize: null }) });
            })).addTo(map);
          });
      });
    }
    map.on("moveend", refreshLabels);

    // legend and toggles
    var list = document.getElementById("layer-list");
    if (list) {
      list.innerHTML = config.layers.slice().reverse().map(function (l) {
        return '<li class="layer-item"><label><input type="checkbox" data-key="' + l.key + '"' +
          (hidden.indexOf(l.key) < 0 ? " checked" : "") + "> " + escapeHtml(l.title) + '</label><ul class="legend">' + legendHtml(l) + "</ul></li>";
      }).join("");
      if (window.SharedGISRaster) { window.SharedGISRaster.decorateList(list, config.layers, grids); }
      list.addEventListener("change", function (e) {
        if (!e.target.dataset.key) { return; }
        var key = +e.target.dataset.key;
        if (e.target.checked) { grids[key].addTo(map); } else { map.removeLayer(grids[key]); }
        updateHash();
        refreshLabels();
      });
    }

    // coordinates under the cursor
    var coords = document.getElementById("coords");
    if (coords) {
      map.on("mousemove", function (e) { coords.textContent = e.latlng.lat.toFixed(5) + ", " + e.latlng.lng.toFixed(5); });
    }

    // measure
    var measureOut = document.getElementById("measure-out");
    var measureBtn = document.getElementById("measure");
    if (measureBtn) {
      var tool = measureTool(map, measureOut);
      measureBtn.addEventListener("click", function () { measureBtn.setAttribute("aria-pressed", tool.toggle()); });
    }

    // search by attribute value, zoom to feature
    var form = document.getElementById("search-form");
    if (form && config.urls.search) {
      var results = document.getElementById("search-results");
      var highlight = null;
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var q = form.querySelector("input").value;
        fetch(config.urls.search + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            results.innerHTML = data.results.length ? data.results.map(function (r, i) {
              return '<li><button type="button" class="link" data-i="' + i + '">' + escapeHtml(r.label) +
                ' <span class="muted">' + escapeHtml(r.layer_title) + "</span></button></li>";
            }).join("") : "<li>No match.</li>";
            results.onclick = function (ev) {
              var btn = ev.target.closest("button[data-i]");
              if (!btn) { return; }
              var r = data.results[+btn.dataset.i], b = r.bbox;
              var bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
              map.fitBounds(bounds, { maxZoom: 18, padding: [40, 40] });
              if (highlight) { map.removeLayer(highlight); }
              highlight = L.rectangle(bounds, { color: "#b3261e", weight: 3, fill: false }).addTo(map);
              var layer = config.layers.filter(function (l) { return l.key === r.layer; })[0];
              if (layer) { L.popup().setLatLng(bounds.getCenter()).setContent(popupHtml(layer, r.properties)).openOn(map); }
            };
          });
      });
    }

    var toggle = document.getElementById("panel-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        document.body.classList.toggle("panel-open");
        setTimeout(function () { map.invalidateSize(); }, 200);
      });
    }
    updateHash();
    refreshLabels();
    window.sharedgisMap = map;
    return { map: map, grids: grids };
  }

  /* ---- composer: edits the draft through the JSON API and redraws without a reload */
  function composer(el, config) {
    var map = L.map(el, { preferCanvas: true });
    var base = basemapLayer(config.basemap);
    if (base) { base.addTo(map); }
    var drawn = [], fitted = false, current = null;
    var csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || document.querySelector("[name=csrfmiddlewaretoken]").value;
    var errorBox = document.getElementById("composer-error");
    var statusBox = document.getElementById("composer-status");
    var pending = 0;

    // The analyst (and a test) can tell when every edit has reached the server.
    function track(delta) {
      pending += delta;
      statusBox.dataset.pending = String(pending);
      statusBox.textContent = pending ? "Saving…" : "All changes saved";
    }

    function api(url, method, body) {
      errorBox.textContent = "";
      track(1);
      return fetch(url, {
        method: method, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: body ? JSON.stringify(body) : undefined
      }).then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { errorBox.textContent = data.detail || "The change was refused."; throw new Error(data.detail); }
          return data;
        });
      }).finally(function () { track(-1); });
    }

    function draw(state) {
      current = state;
      drawn.forEach(function (g) { map.removeLayer(g); });
      drawn = [];
      var preview = state.preview;
      (preview.layers || []).forEach(function (layer) {
        if (!layer.visible) { return; }
        var grid = rasterOr(map, layer) || vectorLayer(map, layer, preview.max_native_zoom);
        grid.addTo(map);
        drawn.push(grid);
      });
      if (!fitted) { fitExtent(map, preview.extent); fitted = true; }
      renderLayers(state, preview);
    }

    function fieldOptions(fields, selected, numericOnly) {
      return Object.keys(fields).filter(function (f) {
        return !numericOnly || /int|real|float|double|number|decimal/i.test(fields[f]);
      }).map(function (f) {
        return '<option value="' + escapeHtml(f) + '"' + (f === selected ? " selected" : "") + ">" + escapeHtml(f) + "</option>";
      }).join("");
    }

    function renderLayers(state, preview) {
      var box = document.getElementById("composer-layers");
      var legend = {};
      (preview.layers || []).forEach(function (l) { legend[l.key] = l; });
      box.innerHTML = state.layers.slice().reverse().map(function (l) {
        var s = l.style, sym = s.symbol;
        var popupSet = (s.popup || []).map(function (p) { return p.attribute; });
        return '<fieldset class="card composer-layer" data-id="' + l.id + '" data-type="' + s.type + '"><legend>' + escapeHtml(l.title) + "</legend>" +
          '<label><input type="checkbox" name="visible"' + (l.visible ? " checked" : "") + "> Visible</label>" +
          '<label>Opacity <input type="range" name="opacity" min="0" max="1" step="0.05" value="' + l.opacity + '"></label>' +
          '<label>Style <select name="type">' + ["single", "categorized", "graduated"].map(function (t) {
            return '<option value="' + t + '"' + (t === s.type ? " selected" : "") + ">" + t + "</option>"; }).join("") + "</select></label>" +
          '<label class="only-classified">Attribute <select name="attribute"><option value="">—</option>' + fieldOptions(l.fields, s.attribute, s.type === "graduated") + "</select></label>" +
          '<label class="only-graduated">Classification <select name="method">' + ["equal_interval", "quantile", "jenks"].map(function (m) {
            return '<option value="' + m + '"' + (m === s.method ? " selected" : "") + ">" + m.replace("_", " ") + "</option>"; }).join("") + "</select></label>" +
          '<label class="only-graduated">Classes <input type="number" name="classes" min="3" max="9" value="' + (s.classes || 5) + '"></label>' +
          '<label class="only-graduated">Ramp <select name="ramp">' + ["blues", "greens", "reds", "oranges", "purples", "ylorrd", "viridis"].map(function (r) {
            return '<option' + (r === s.ramp ? " selected" : "") + ">" + r + "</option>"; }).join("") + "</select></label>" +
          '<label>Fill <input type="color" name="fill" value="' + sym.fill + '"></label>' +
          '<label>Stroke <input type="color" name="stroke" value="' + sym.stroke + '"></label>' +
          '<label>Line width <input type="number" name="stroke_width" min="0" max="20" step="0.5" value="' + sym.stroke_width + '"></label>' +
          '<label>Dash <select name="dash">' + ["solid", "dashed", "dotted"].map(function (d) {
            return '<option' + (d === sym.dash ? " selected" : "") + ">" + d + "</option>"; }).join("") + "</select></label>" +
          '<label>Marker <select name="marker">' + ["circle", "square", "triangle"].map(function (d) {
            return '<option' + (d === sym.marker ? " selected" : "") + ">" + d + "</option>"; }).join("") + "</select></label>" +
          '<label>Marker size <input type="number" name="size" min="2" max="40" value="' + sym.size + '"></label>' +
          '<label>Label <select name="label"><option value="">none</option>' + fieldOptions(l.fields, (s.label || {}).attribute, false) + "</select></label>" +
          '<label>Popup attributes <select name="popup" multiple size="3">' + Object.keys(l.fields).map(function (f) {
            return '<option value="' + escapeHtml(f) + '"' + (popupSet.indexOf(f) >= 0 ? " selected" : "") + ">" + escapeHtml(f) + "</option>"; }).join("") + "</select></label>" +
          (s.popup || []).map(function (p) {
            return '<label>Alias of ' + escapeHtml(p.attribute) + ' <input name="alias" data-attr="' + escapeHtml(p.attribute) + '" value="' + escapeHtml(p.alias) + '"></label>'; }).join("") +
          '<label>Zoom range <input type="number" name="min_zoom" min="0" max="22" value="' + s.min_zoom + '"> – <input type="number" name="max_zoom" min="0" max="22" value="' + s.max_zoom + '"></label>' +
          '<ul class="legend">' + (legend[l.id] ? legendHtml(legend[l.id]) : "") + "</ul>" +
          '<div class="buttons"><button type="button" class="secondary" data-act="up">Move up</button><button type="button" class="secondary" data-act="down">Move down</button><button type="button" class="danger" data-act="remove">Remove from map</button></div></fieldset>';
      }).join("") || "<p>No layers yet: add one above.</p>";
    }

    function styleFrom(fs, old, fields) {
      var v = function (n) { return fs.querySelector("[name=" + n + "]"); };
      var style = {
        type: v("type").value,
        symbol: { fill: v("fill").value, fill_opacity: old.symbol.fill_opacity, stroke: v("stroke").value,
          stroke_width: +v("stroke_width").value, dash: v("dash").value, marker: v("marker").value, size: +v("size").value },
        popup: Array.prototype.filter.call(v("popup").options, function (o) { return o.selected; }).map(function (o) {
          var input = Array.prototype.filter.call(fs.querySelectorAll("[name=alias]"), function (i) { return i.dataset.attr === o.value; })[0];
          return { attribute: o.value, alias: input && input.value ? input.value : o.value };
        }),
        min_zoom: +v("min_zoom").value, max_zoom: +v("max_zoom").value
      };
      if (style.type !== "single") {
        // Switching to a classified style picks a suitable attribute until one is chosen.
        var usable = Array.prototype.filter.call(v("attribute").options, function (o) { return o.value; });
        var numeric = Object.keys(fields).filter(function (f) { return /int|real|float|double|number|decimal/i.test(fields[f]); });
        var chosen = v("attribute").value;
        if (style.type === "graduated" && numeric.indexOf(chosen) < 0) { chosen = numeric[0]; }
        style.attribute = chosen || (usable[0] && usable[0].value) || null;
      }
      if (style.type === "graduated") { style.method = v("method").value; style.classes = +v("classes").value; style.ramp = v("ramp").value; }
      if (style.type === "categorized" && old.type === "categorized" && old.attribute === style.attribute) {
        style.categories = old.categories; style.other = old.other;
      }
      if (v("label").value) { style.label = { attribute: v("label").value, min_zoom: (old.label || {}).min_zoom || 14 }; }
      return style;
    }

    var layersBox = document.getElementById("composer-layers");
    layersBox.addEventListener("change", function (e) {
      var fs = e.target.closest("fieldset[data-id]");
      var id = +fs.dataset.id;
      var old = current.layers.filter(function (l) { return l.id === id; })[0];
      var body = {};
      if (e.target.name === "visible") { body.visible = e.target.checked; }
      else if (e.target.name === "opacity") { body.opacity = +e.target.value; }
      else { body.style = styleFrom(fs, old.style, old.fields); }
      api(config.urls.layer.replace("/0/", "/" + id + "/"), "PATCH", body).then(draw).catch(function () {});
    });
    layersBox.addEventListener("click", function (e) {
      var act = e.target.dataset && e.target.dataset.act;
      if (!act) { return; }
      var id = +e.target.closest("fieldset[data-id]").dataset.id;
      if (act === "remove") { api(config.urls.layer.replace("/0/", "/" + id + "/"), "DELETE").then(draw).catch(function () {}); return; }
      var order = current.layers.map(function (l) { return l.id; });
      var i = order.indexOf(id), j = act === "up" ? i + 1 : i - 1;
      if (j < 0 || j >= order.length) { return; }
      order[i] = order[j]; order[j] = id;
      api(config.urls.order, "POST", { order: order }).then(draw).catch(function () {});
    });
    document.getElementById("add-layer").addEventListener("submit", function (e) {
      e.preventDefault();
      var id = +e.target.querySelector("select").value;
      api(config.urls.layers, "POST", { layer_id: id }).then(draw).catch(function () {});
    });
    document.getElementById("map-settings").addEventListener("change", function (e) {
      var f = e.currentTarget;
      api(config.urls.api, "PATCH", { title: f.querySelector("[name=title]").value, description: f.querySelector("[name=description]").value,
        basemap: f.querySelector("[name=basemap]").value }).then(draw).catch(function () {});
    });
    document.getElementById("use-view").addEventListener("click", function () {
      var b = map.getBounds();
      api(config.urls.api, "PATCH", { extent: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()] }).then(draw).catch(function () {});
    });
    api(config.urls.api, "GET").then(draw).catch(function () {});
    window.sharedgisMap = map;
  }

  window.SharedGISMaps = { viewer: viewer, composer: composer, colorFor: colorFor };
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("map");
    var cfg = document.getElementById("map-config");
    if (!el || !cfg) { return; }
    var config = JSON.parse(cfg.textContent);
    (el.dataset.mode === "composer" ? composer : viewer)(el, config);
  });
})();
