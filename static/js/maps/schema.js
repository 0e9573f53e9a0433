/* The server's style vocabulary (maps/styles.py::style_schema), embedded by the page as JSON
   (<script id="style-schema" type="application/json">). Ramps, classification methods, markers,
   dashes and limits come from here; no module writes them a second time. */

let cached = null;

export function schema() {
  if (!cached) {
    const el = document.getElementById("style-schema");
    if (!el) { throw new Error("No style schema on the page (templates/maps/_map_scripts.html embeds it)."); }
    cached = JSON.parse(el.textContent);
  }
  return cached;
}

/* Same rule as maps/styles.py::is_numeric_type: the type's name contains a numeric marker. */
export function isNumericType(typeName) {
  const name = String(typeName || "").toLowerCase();
  return schema().numeric_type_markers.some((m) => name.includes(m));
}

/* The colours the server gives a graduated style of `classes` classes on this ramp. */
export function rampColors(name, classes) {
  const ramp = schema().ramps.find((r) => r.name === name);
  return ramp ? ramp.colors[String(classes)] || [] : [];
}

/* An SVG/canvas dash array ("8 6"), or null for a solid line. */
export function dashArray(name) {
  const dash = schema().dashes.find((d) => d.name === name);
  return dash && dash.pattern ? dash.pattern.join(" ") : null;
}
