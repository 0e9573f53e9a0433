/* The permalink: #zoom/lat/lon/hidden-keys in the address bar and the panel's Permalink box. */

const HASH = /^#(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)(?:\/([\d,]*))?/;

export function readHash() {
  const m = location.hash.match(HASH);
  return m ? { zoom: +m[1], lat: +m[2], lon: +m[3], hidden: m[4] ? m[4].split(",").filter(Boolean).map(Number) : [] } : null;
}

export function writeHash(map, hiddenKeys) {
  const c = map.getCenter();
  history.replaceState(null, "", "#" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5) + "/" + hiddenKeys.join(","));
  const box = document.getElementById("permalink");
  if (box) { box.value = location.href; }
}
