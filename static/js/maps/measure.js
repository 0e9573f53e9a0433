/* Measure: distance along a clicked path and area of its closed ring (spherical approximation). */

const EARTH_RADIUS_M = 6371008.8;
const RAD = Math.PI / 180;

export function haversine(a, b) {
  const dLat = (b.lat - a.lat) * RAD, dLon = (b.lng - a.lng) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h));
}

export function ringArea(pts) {
  let total = 0;
  for (let i = 0; i < pts.length; i++) {
    const p1 = pts[i], p2 = pts[(i + 1) % pts.length];
    total += (p2.lng - p1.lng) * RAD * (2 + Math.sin(p1.lat * RAD) + Math.sin(p2.lat * RAD));
  }
  return Math.abs(total * EARTH_RADIUS_M * EARTH_RADIUS_M / 2);
}

const fmtLen = (m) => (m >= 1000 ? (m / 1000).toFixed(2) + " km" : m.toFixed(1) + " m");
const fmtArea = (m2) => (m2 >= 1e6 ? (m2 / 1e6).toFixed(3) + " km²" : Math.round(m2) + " m²");

export function measureTool(map, output) {
  let pts = [], line = null, active = false;
  function redraw() {
    if (line) { map.removeLayer(line); }
    line = pts.length ? L.polyline(pts, { color: "#b3261e", dashArray: "4 4" }).addTo(map) : null;
    let d = 0;
    for (let i = 1; i < pts.length; i++) { d += haversine(pts[i - 1], pts[i]); }
    output.textContent = pts.length < 2 ? "Click on the map to measure." :
      "Distance " + fmtLen(d) + (pts.length > 2 ? " · Area " + fmtArea(ringArea(pts)) : "");
  }
  function click(e) { pts.push(e.latlng); redraw(); }
  return {
    toggle() {
      active = !active; pts = []; redraw();
      if (active) { map.on("click", click); map.getContainer().classList.add("measuring"); }
      else {
        map.off("click", click); map.getContainer().classList.remove("measuring"); output.textContent = "";
        if (line) { map.removeLayer(line); line = null; }
      }
      return active;
    },
  };
}

/* The Measure button of the viewer panel, when the page has one. */
export function wireMeasure(map) {
  const button = document.getElementById("measure");
  if (!button) { return; }
  const tool = measureTool(map, document.getElementById("measure-out"));
  button.addEventListener("click", () => button.setAttribute("aria-pressed", tool.toggle()));
}
