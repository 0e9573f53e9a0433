"""Viewer benchmark: headless Chromium opens the client viewer of the 200,000-parcel map and reports
the time from navigation start until the first vector tiles are drawn (target under 1.5 s).

Uses the layer and published map of bench/tiles.py (built on first use), gunicorn as production
(DEBUG on only for static files), a fresh tile cache for the cold load and the same cache for the warm loads.

    DEBUG=1 .venv/bin/python bench/viewer.py [--runs 5]
"""

import argparse
import statistics
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tiles import setup_layer, start_gunicorn  # noqa: E402  (sets Django up)

DRAWN = (
    "() => document.querySelectorAll('.leaflet-tile-loaded canvas, canvas.leaflet-tile-loaded')"
    ".length > 0"
)


def first_tiles_ms(page, url: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(first tiles drawn, page load event) in ms since navigation start."""
    page.goto(url, wait_until="commit")
    page.wait_for_function(DRAWN, timeout=30_000)
    drawn = float(page.evaluate("() => performance.now()"))
    page.wait_for_load_state("load")
    loaded = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    return drawn, float(loaded)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from maps.models import MapVersion
    from tests.browser import browser_page

    layer_id, version_id, cookie = setup_layer()
    version = MapVersion.objects.filter(layer_versions=version_id).order_by("-published_at").first()
    assert version is not None
    # DEBUG on here only so WhiteNoise serves the static files without a collectstatic.
    proc, port = start_gunicorn("portal.settings", 3, f"bench-{uuid.uuid4().hex[:8]}", debug=True)
    try:
        url = f"http://localhost:{port}/maps/versions/{version.pk}/"
        with browser_page() as page:
            page.context.add_cookies(
                [{"name": "sessionid", "value": cookie, "domain": "localhost", "path": "/"}]
            )
            # Every load asks the server again: the browser's own cache is off.
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cold, _ = first_tiles_ms(page, url)
            runs = [first_tiles_ms(page, url) for _ in range(args.runs)]
    finally:
        proc.terminate()
        proc.wait()
    median = statistics.median(r[0] for r in runs)
    load = statistics.median(r[1] for r in runs)
    print(f"viewer of {version} ({layer_id=}): first tiles drawn after {cold:.0f} ms cold "
          f"(tile cache empty), median {median:.0f} ms with the server's tile cache warm over "
          f"{args.runs} loads; the page's own load event (HTML, CSS, JS) at {load:.0f} ms")  # fmt: skip
    # Reference: the page load itself, measured in the same loads.
    print(f"RESULT viewer first_tiles_ms={median:.0f} cold_ms={cold:.0f} page_load_ms={load:.0f} "
          f"ratio={median / load:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
