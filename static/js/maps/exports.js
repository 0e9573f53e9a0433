/* Export links (PNG, PDF) follow the view: the server renders the visible layers in this bbox. */

import { bboxParam } from "./base-map.js";

const MIN_PNG = { width: 600, height: 400 };

export function updateExportLinks(map, visibleKeys) {
  const q = "?bbox=" + bboxParam(map) + "&layers=" + visibleKeys.join(",");
  const size = map.getSize();
  document.querySelectorAll("[data-export]").forEach((a) => {
    const extra = a.dataset.export === "png" ? "&width=" + Math.max(MIN_PNG.width, size.x) + "&height=" + Math.max(MIN_PNG.height, size.y) : "";
    a.href = a.dataset.base + q + extra;
  });
}
