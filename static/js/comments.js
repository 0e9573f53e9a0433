/* Comments pinned on a published map version: their own layer of pins on the viewer's map, a
   threaded list beside it, an open/resolved filter, replies, resolve and reopen.
   Talks to GET/POST /api/maps/versions/<id>/comments/ (GeoJSON) or a share link's comments.
   Hooks into the viewer only through the Leaflet map the map modules announce (sharedgis:mapready). */
(function () {
  "use strict";

  var COLORS = { open: "#b3261e", resolved: "#2e7d32" };

  function esc(s) {
    return String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function when(iso) { return iso ? iso.slice(0, 16).replace("T", " ") : ""; }

  function start(section, map) {
    var api = section.dataset.api;
    var canResolve = section.dataset.canResolve === "1";
    var needsName = section.dataset.needsName === "1";
    var versions = (section.dataset.versions || "").split(",").filter(Boolean);
    var list = document.getElementById("comments-list");
    var filter = document.getElementById("comments-filter");
    var form = document.getElementById("comment-form");
    var pinBtn = document.getElementById("comment-pin");
    var errorBox = document.getElementById("comments-error");
    var pins = L.layerGroup().addTo(map);
    var features = [], pending = null, pinning = false;

    function request(url, method, body) {
      return fetch(url, {
        method: method, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": section.dataset.csrf },
        body: body ? JSON.stringify(body) : undefined
      }).then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { throw new Error(data.detail || "Could not save."); }
          return data;
        });
      });
    }
    function showError(e) { errorBox.hidden = false; errorBox.textContent = e.message; }

    function visible(f) { return filter.value === "all" || f.properties.status === filter.value; }

    function render() {
      pins.clearLayers();
      var shown = features.filter(visible);
      shown.forEach(function (f) {
        var color = COLORS[f.properties.status] || COLORS.open;
        var layer = L.geoJSON(f, {
          pointToLayer: function (_pt, latlng) {
            return L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillColor: color, fillOpacity: 0.95 });
          },
          style: function () { return { color: color, weight: 2, fillOpacity: 0.15 }; }
        });
        layer.on("click", function () {
          var item = document.getElementById("comment-" + f.id);
          if (item) { item.scrollIntoView({ block: "nearest" }); item.classList.add("is-current"); }
        });
        layer.bindTooltip(esc(f.properties.text).slice(0, 80));
        pins.addLayer(layer);
      });
      var open = features.filter(function (f) { return f.properties.status === "open"; }).length;
      document.getElementById("comments-count").textContent = "(" + open + " open)";
      list.innerHTML = shown.map(function (f) {
        var p = f.properties;
        var replies = p.replies.map(function (r) {
          return '<li class="reply"><strong>' + esc(r.author) + "</strong> <span class=\"muted\">" + when(r.created) + "</span><p>" + esc(r.text) + "</p></li>";
        }).join("");
        var actions = "";
        if (p.urls && p.urls.replies) {
          actions += '<form class="reply-form" data-id="' + f.id + '"><label for="reply-' + f.id + '" class="visually-hidden">Reply</label>' +
            '<input id="reply-' + f.id + '" name="text" placeholder="Reply…" maxlength="5000"><button type="submit" class="secondary">Reply</button></form>';
        }
        if (canResolve && p.status === "open") {
          actions += '<form class="resolve-form" data-id="' + f.id + '"><label>Fixed in <select name="fixed_in"><option value="">—</option>' +
            versions.map(function (n) { return '<option value="' + n + '">v' + n + "</option>"; }).join("") +
            '</select></label><button type="submit">Resolve</button></form>';
        }
        if (canResolve && p.status === "resolved") {
          actions += '<button type="button" class="secondary reopen" data-id="' + f.id + '">Reopen</button>';
        }
        return '<li id="comment-' + f.id + '" class="comment s-' + p.status + '" data-status="' + p.status + '">' +
          '<button type="button" class="link goto" data-id="' + f.id + '">📍</button> <strong>' + esc(p.author) + "</strong> " +
          '<span class="muted">' + when(p.created) + '</span> <span class="status s-' + p.status + '">' + esc(p.status) +
          (p.resolved_in ? " in v" + p.resolved_in : "") + "</span><p>" + esc(p.text) + "</p>" +
          (replies ? '<ol class="replies">' + replies + "</ol>" : "") + actions + "</li>";
      }).join("") || '<li class="empty">No comments to show.</li>';
      section.dataset.ready = "1";
    }

    function load() {
      return fetch(api, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        features = data.features || [];
        render();
      });
    }
    function replace(feature) {
      var found = false;
      features = features.map(function (f) { if (f.id === feature.id) { found = true; return feature; } return f; });
      if (!found) { features.push(feature); }
      errorBox.hidden = true;
      render();
    }
    function byId(id) { return features.filter(function (f) { return f.id === +id; })[0]; }

    function setPinning(on) {
      pinning = on;
      pinBtn.setAttribute("aria-pressed", on ? "true" : "false");
      map.getContainer().classList.toggle("measuring", on);
      form.hidden = !on && !pending;
    }
    pinBtn.addEventListener("click", function () { setPinning(!pinning); });
    // Capture phase on the container: clicks on drawn features (which stop Leaflet's own map
    // click) still place the pin; controls and popups keep their clicks.
    map.getContainer().addEventListener("click", function (ev) {
      if (!pinning || ev.target.closest(".leaflet-control, .leaflet-popup")) { return; }
      var latlng = map.mouseEventToLatLng(ev);
      if (pending) { map.removeLayer(pending); }
      pending = L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillColor: "#a15c00", fillOpacity: 0.95, interactive: false }).addTo(map);
      form.hidden = false;
      document.getElementById("comment-where").textContent = "At " + latlng.lat.toFixed(5) + ", " + latlng.lng.toFixed(5) + ".";
      document.getElementById("comment-text").focus();
    }, true);
    function cancel() {
      if (pending) { map.removeLayer(pending); pending = null; }
      form.hidden = true;
      setPinning(false);
    }
    document.getElementById("comment-cancel").addEventListener("click", cancel);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!pending) { showError(new Error("Click the map where the comment belongs.")); return; }
      var ll = pending.getLatLng();
      var props = { text: document.getElementById("comment-text").value };
      if (needsName) { props.author = document.getElementById("comment-author").value; }
      request(api, "POST", { type: "Feature", geometry: { type: "Point", coordinates: [+ll.lng.toFixed(7), +ll.lat.toFixed(7)] }, properties: props })
        .then(function (feature) {
          document.getElementById("comment-text").value = "";
          cancel();
          if (filter.value === "resolved") { filter.value = "open"; }
          replace(feature);
        }).catch(showError);
    });
    filter.addEventListener("change", render);
    list.addEventListener("submit", function (e) {
      e.preventDefault();
      var f = byId(e.target.dataset.id);
      if (!f) { return; }
      if (e.target.classList.contains("reply-form")) {
        request(f.properties.urls.replies, "POST", { text: e.target.querySelector("input").value }).then(replace).catch(showError);
      } else if (e.target.classList.contains("resolve-form")) {
        request(f.properties.urls.resolve, "POST", { fixed_in: e.target.querySelector("select").value }).then(replace).catch(showError);
      }
    });
    list.addEventListener("click", function (e) {
      var btn = e.target.closest("button[data-id]");
      if (!btn) { return; }
      var f = byId(btn.dataset.id);
      if (!f) { return; }
      if (btn.classList.contains("reopen")) {
        request(f.properties.urls.reopen, "POST", {}).then(replace).catch(showError);
      } else if (btn.classList.contains("goto")) {
        var layer = L.geoJSON(f);
        map.fitBounds(layer.getBounds(), { maxZoom: Math.max(map.getZoom(), 16) });
      }
    });
    load().then(function () {
      var m = location.hash.match(/^#comment-(\d+)$/);
      if (m && document.getElementById("comment-" + m[1])) { document.getElementById("comment-" + m[1]).scrollIntoView(); }
    });
    window.SharedGISComments = { reload: load };
  }

  // The map modules (static/js/maps/main.js) are deferred and start on DOMContentLoaded too, in an
  // order this classic script cannot rely on: they announce the map with "sharedgis:mapready".
  function begin(map) {
    var section = document.getElementById("comments");
    if (section && map && !section.dataset.started) {
      section.dataset.started = "1";
      start(section, map);
    }
  }
  document.addEventListener("sharedgis:mapready", function (e) { begin(e.detail.map); });
  document.addEventListener("DOMContentLoaded", function () { begin(window.sharedgisMap); });
})();
