/* The raster type's composer controls (style type, bands, ramp, stretch, hillshade, zooms) and
   the style they describe; layers/raster/styles.py validates it when the composer PATCHes it.
   Types, ramps and stretches come from the style schema; which types suit this raster and how
   many bands it has come from its composer layer (`l.raster`, maps/api.py::map_state). Only the
   current type's controls are drawn: changing the type saves, and the fieldset is redrawn. */

import { escapeHtml } from "./html.js";
import { schema } from "./schema.js";

function options(items, selected) {
  return items.map((it) => {
    const name = typeof it === "string" ? it : it.name;
    const label = typeof it === "string" ? it : it.label || it.name;
    return '<option value="' + escapeHtml(name) + '"' + (String(name) === String(selected) ? " selected" : "") + ">" + escapeHtml(label) + "</option>";
  }).join("");
}

function bandSelect(name, label, bands, selected) {
  const numbers = Array.from({ length: bands }, (_, i) => ({ name: String(i + 1), label: String(i + 1) }));
  return "<label>" + label + ' <select name="' + name + '">' + options(numbers, selected) + "</select></label>";
}

function number(name, label, value, min, max, step) {
  return "<label>" + label + ' <input type="number" name="' + name + '" min="' + min + '" max="' + max + '" step="' + step + '" value="' + value + '"></label>';
}

/* The stretch choices, keeping a custom stretch (set through the API) selectable. */
function stretchSelect(s) {
  const choices = schema().raster.stretches.slice();
  if (s.stretch === "custom") { choices.push("custom"); }
  return '<label>Stretch <select name="stretch">' + options(choices, s.stretch || "minmax") + "</select></label>";
}

/* The controls of raster draft layer `l`. */
export function rasterFieldsHtml(l) {
  const s = l.style, rs = schema().raster, sc = schema(), facts = l.raster || {};
  const bands = facts.bands || 1;
  const offered = facts.types || rs.types.map((t) => t.name);
  // The current type stays listed even if the raster no longer suits it, so the select is honest.
  const types = rs.types.filter((t) => offered.indexOf(t.name) >= 0 || t.name === s.type);
  const zoom = 'min="' + sc.zoom.min + '" max="' + sc.zoom.max + '"';
  let html = '<label>Raster style <select name="raster_type">' + options(types, s.type) + "</select></label>";
  if (s.type === "raster_rgb") {
    const chosen = s.bands || [1, 2, 3];
    html += ["Red", "Green", "Blue"].map((c, i) => bandSelect("rgb_band", c + " band", bands, chosen[i])).join("") + stretchSelect(s);
  } else if (s.type === "raster_pseudocolor") {
    html += (bands > 1 ? bandSelect("band", "Band", bands, s.band || 1) : "") +
      '<label>Ramp <select name="ramp">' + options(rs.ramps, s.ramp || "terrain") + "</select></label>" + stretchSelect(s);
  } else if (s.type === "raster_hillshade") {
    html += (bands > 1 ? bandSelect("band", "Elevation band", bands, s.band || 1) : "") +
      number("azimuth", "Azimuth (°)", s.azimuth ?? 315, 0, 360, 1) +
      number("altitude", "Altitude (°)", s.altitude ?? 45, 0, 90, 1) +
      number("z_factor", "Z-factor", s.z_factor ?? 1, 0.0001, 10000, "any") +
      '<label>Colour relief <select name="relief"><option value="">none</option>' + options(rs.ramps, s.relief || "") + "</select></label>" +
      (s.relief ? stretchSelect(s) : "");
  } else if (s.type === "raster_paletted" && bands > 1) {
    html += bandSelect("band", "Band", bands, s.band || 1);
  }
  return html + '<label>Zoom range <input type="number" name="min_zoom" ' + zoom + ' value="' + (s.min_zoom ?? 0) + '"> – <input type="number" name="max_zoom" ' + zoom + ' value="' + (s.max_zoom ?? 22) + '"></label>';
}

/* The style the controls in `fs` describe; `old` is the layer's current style. Settings of the
   old type carry over where the new type has them (band, ramp, stretch); what a control does not
   show is left for the server's defaults. */
export function rasterStyleFrom(fs, old) {
  const v = (n) => fs.querySelector("[name=" + n + "]");
  const type = v("raster_type").value, same = type === old.type;
  const style = { type, min_zoom: +v("min_zoom").value, max_zoom: +v("max_zoom").value };
  const stretch = v("stretch") ? v("stretch").value : old.stretch || "minmax";
  if (type === "raster_rgb") {
    const picks = Array.from(fs.querySelectorAll("[name=rgb_band]")).map((s) => +s.value);
    if (picks.length === 3) { style.bands = picks; }
    style.stretch = stretch;
    if (stretch === "custom" && same && (!picks.length || String(picks) === String(old.bands))) { style.ranges = old.ranges; }
  } else if (type === "raster_paletted") {
    style.band = v("band") ? +v("band").value : old.band || 1;
    // The colour table and names set through the API stay; the server falls back to the file's.
    if (same) { style.colormap = old.colormap; style.labels = old.labels; }
  } else {
    style.band = v("band") ? +v("band").value : old.band || 1;
    if (type === "raster_pseudocolor") {
      style.ramp = v("ramp") ? v("ramp").value : old.ramp || old.relief || "terrain";
      if (same) { style.mode = old.mode; style.classes = old.classes; }
    } else {
      if (v("azimuth")) {
        style.azimuth = +v("azimuth").value; style.altitude = +v("altitude").value; style.z_factor = +v("z_factor").value;
      }
      style.relief = v("relief") ? v("relief").value || null : null;
    }
    if (type === "raster_pseudocolor" || style.relief) {
      style.stretch = stretch;
      if (stretch === "custom" && old.band === style.band) { style.range = old.range; }
    }
  }
  return style;
}
