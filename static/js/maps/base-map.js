/* A Leaflet map with its basemap, and its first view. */

const DEFAULT_VIEW = { center: [38.4, -122.36], zoom: 12 };
const DEFAULT_BASEMAP_MAX_ZOOM = 19;

export function createMap(el, config, options) {
  const map = L.map(el, options);
  const basemap = config.basemap;
  if (basemap && basemap.url) {
    L.tileLayer(basemap.url, { attribution: basemap.attribution, maxZoom: basemap.max_zoom || DEFAULT_BASEMAP_MAX_ZOOM }).addTo(map);
  }
  return map;
}

/* extent: [west, south, east, north] in degrees, or none for the default view. */
export function fitExtent(map, extent) {
  if (extent) { map.fitBounds([[extent[1], extent[0]], [extent[3], extent[2]]]); }
  else { map.setView(DEFAULT_VIEW.center, DEFAULT_VIEW.zoom); }
}

/* [west, south, east, north] of the current view, as the server's bbox parameters expect. */
export function bboxParam(map) {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
}
