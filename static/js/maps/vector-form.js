/* The vector type's composer controls (symbol, classification, labels, popups, zooms) and the
   style they describe. Every choice offered (types, methods, ramps, dashes, markers, limits)
   comes from the server's style schema. */

import { escapeHtml } from "./html.js";
import { swatchHtml } from "./legend.js";
import { isNumericType, rampColors, schema } from "./schema.js";

function options(items, selected) {
  return items.map((it) => {
    const name = typeof it === "string" ? it : it.name;
    const label = typeof it === "string" ? it : it.label;
    return '<option value="' + escapeHtml(name) + '"' + (name === selected ? " selected" : "") + ">" + escapeHtml(label) + "</option>";
  }).join("");
}

function fieldOptions(fields, selected, numericOnly) {
  return options(Object.keys(fields).filter((f) => !numericOnly || isNumericType(fields[f])), selected);
}

function limits(key) {
  const lim = schema().symbol_limits[key];
  return 'min="' + lim.min + '" max="' + lim.max + '" step="' + lim.step + '"';
}

function rampPreviewHtml(ramp, classes) {
  return rampColors(ramp, classes).map(swatchHtml).join("");
}

/* The controls of draft layer `l` (its style, fields and popups). */
export function vectorFieldsHtml(l) {
  const s = l.style, sym = s.symbol, sc = schema(), zoom = 'min="' + sc.zoom.min + '" max="' + sc.zoom.max + '"';
  const popupSet = (s.popup || []).map((p) => p.attribute);
  const classes = s.classes || sc.classes.default, ramp = s.ramp || sc.default_ramp;
  return '<label>Style <select name="type">' + options(sc.types, s.type) + "</select></label>" +
    '<label class="only-classified">Attribute <select name="attribute"><option value="">—</option>' + fieldOptions(l.fields, s.attribute, s.type === "graduated") + "</select></label>" +
    '<label class="only-graduated">Classification <select name="method">' + options(sc.methods, s.method || sc.default_method) + "</select></label>" +
    '<label class="only-graduated">Classes <input type="number" name="classes" min="' + sc.classes.min + '" max="' + sc.classes.max + '" value="' + classes + '"></label>' +
    '<label class="only-graduated">Ramp <select name="ramp">' + options(sc.ramps, ramp) + "</select></label>" +
    '<span class="only-graduated ramp-preview" aria-hidden="true">' + rampPreviewHtml(ramp, classes) + "</span>" +
    '<label>Fill <input type="color" name="fill" value="' + sym.fill + '"></label>' +
    '<label>Stroke <input type="color" name="stroke" value="' + sym.stroke + '"></label>' +
    '<label>Line width <input type="number" name="stroke_width" ' + limits("stroke_width") + ' value="' + sym.stroke_width + '"></label>' +
    '<label>Dash <select name="dash">' + options(sc.dashes.map((d) => d.name), sym.dash) + "</select></label>" +
    '<label>Marker <select name="marker">' + options(sc.markers, sym.marker) + "</select></label>" +
    '<label>Marker size <input type="number" name="size" ' + limits("size") + ' value="' + sym.size + '"></label>' +
    '<label>Label <select name="label"><option value="">none</option>' + fieldOptions(l.fields, (s.label || {}).attribute, false) + "</select></label>" +
    '<label>Popup attributes <select name="popup" multiple size="3">' + Object.keys(l.fields).map((f) =>
      '<option value="' + escapeHtml(f) + '"' + (popupSet.indexOf(f) >= 0 ? " selected" : "") + ">" + escapeHtml(f) + "</option>").join("") + "</select></label>" +
    (s.popup || []).map((p) =>
      "<label>Alias of " + escapeHtml(p.attribute) + ' <input name="alias" data-attr="' + escapeHtml(p.attribute) + '" value="' + escapeHtml(p.alias) + '"></label>').join("") +
    '<label>Zoom range <input type="number" name="min_zoom" ' + zoom + ' value="' + s.min_zoom + '"> – <input type="number" name="max_zoom" ' + zoom + ' value="' + s.max_zoom + '"></label>';
}

/* The style the controls in `fs` describe; `old` is the layer's current style. */
export function vectorStyleFrom(fs, old, fields) {
  const v = (n) => fs.querySelector("[name=" + n + "]");
  const style = {
    type: v("type").value,
    symbol: {
      fill: v("fill").value, fill_opacity: old.symbol.fill_opacity, stroke: v("stroke").value,
      stroke_width: +v("stroke_width").value, dash: v("dash").value, marker: v("marker").value, size: +v("size").value,
    },
    popup: Array.from(v("popup").options).filter((o) => o.selected).map((o) => {
      const input = Array.from(fs.querySelectorAll("[name=alias]")).find((i) => i.dataset.attr === o.value);
      return { attribute: o.value, alias: input && input.value ? input.value : o.value };
    }),
    min_zoom: +v("min_zoom").value, max_zoom: +v("max_zoom").value,
  };
  if (style.type !== "single") {
    // Switching to a classified style picks a suitable attribute until one is chosen.
    const usable = Array.from(v("attribute").options).filter((o) => o.value);
    const numeric = Object.keys(fields).filter((f) => isNumericType(fields[f]));
    let chosen = v("attribute").value;
    if (style.type === "graduated" && numeric.indexOf(chosen) < 0) { chosen = numeric[0]; }
    style.attribute = chosen || (usable[0] && usable[0].value) || null;
  }
  if (style.type === "graduated") { style.method = v("method").value; style.classes = +v("classes").value; style.ramp = v("ramp").value; }
  if (style.type === "categorized" && old.type === "categorized" && old.attribute === style.attribute) {
    style.categories = old.categories; style.other = old.other;
  }
  if (v("label").value) { style.label = { attribute: v("label").value, min_zoom: (old.label || {}).min_zoom || schema().label_min_zoom }; }
  return style;
}
