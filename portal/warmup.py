"""Warm a web worker before it takes requests (gunicorn's post_worker_init, portal/gunicorn_conf.py).

A fresh worker paid its one-off costs inside the first requests of a morning rush: each pooled
PostgreSQL backend's first PostGIS query (~150 ms of catalog and library loading, see
docs/operations.md "Load"), compiling the templates, importing the views behind the URLconf,
the Redis connection. `warm()` pays them once, before the worker accepts a connection. It reads
nothing of any tenant and writes nothing; a failure is logged and the worker starts anyway (a
database that is down at start-up must not keep the portal from serving its 503 page).
"""

import gc
import logging
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

# Touches the PostGIS functions tiles and pages call, so the backend loads them now.
WARM_SQL = (
    "SELECT ST_AsMVT(t) FROM (SELECT ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(0, 0), 4326),"
    " 3857), ST_TileEnvelope(0, 0, 0)) AS geom) AS t"
)


def _warm_connection(barrier: threading.Barrier) -> None:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(WARM_SQL)
            cursor.fetchall()
            # Hold this connection until every thread has one: each warms a different backend.
            barrier.wait(timeout=10)
    except Exception:  # noqa: BLE001 - start-up must not fail on a slow or absent database
        log.warning("warm-up: a database connection was not warmed", exc_info=True)
        barrier.abort()
    finally:
        connection.close()  # back to the pool


def _warm_database() -> None:
    size = max(int(getattr(settings, "DB_POOL_MAX_SIZE", 0) or 0), 1)
    barrier = threading.Barrier(size)
    threads = [
        threading.Thread(target=_warm_connection, args=(barrier,), daemon=True) for _ in range(size)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)


def _template_names() -> list[str]:
    from django.apps import apps

    engines: list[dict[str, Any]] = settings.TEMPLATES
    dirs = [Path(d) for engine in engines for d in engine.get("DIRS", [])]
    dirs += [Path(app.path) / "templates" for app in apps.get_app_configs()]
    return sorted(
        {
            str(path.relative_to(base))
            for base in dirs
            # The portal's own templates: installed packages' (admin) compile on first use.
            if base.is_dir() and ".venv" not in base.parts and "site-packages" not in base.parts
            for path in base.rglob("*.html")
        }
    )


def _warm_templates() -> None:
    from django.template import TemplateSyntaxError, loader

    for name in _template_names():
        try:
            loader.get_template(name)  # compiled once into the cached loader
        except TemplateSyntaxError:
            log.warning("warm-up: template %s does not compile", name, exc_info=True)


def warm() -> float:
    """Pay a worker's one-off costs now; returns the seconds it took."""
    started = time.monotonic()
    from django.core.cache import cache
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every app's views
    _warm_templates()
    try:
        cache.get("warmup")
    except Exception:  # noqa: BLE001 - Redis away: the cache degrades anyway (settings)
        log.warning("warm-up: Redis did not answer", exc_info=True)
    _warm_database()
    return time.monotonic() - started


# Young-generation threshold once the heap is frozen: a page allocates tens of thousands of objects,
# and Python's default (700) ran ~50 young collections per 50 pages here.
GC_YOUNG_THRESHOLD = 10_000


def freeze_heap() -> int:
    """Move everything the worker has loaded so far out of the garbage collector's sight.

    A worker holds ~150,000 long-lived objects (modules, URLconf, compiled templates). Each full
    collection walked all of them while holding the GIL, ~100 ms during which none of the
    worker's threads answered (about one per 50 pages: 2.5 ms of every page on average, and a
    pause in the p95 of every request behind it). Frozen objects are never collected, which is
    right for objects that live as long as the worker. Returns how many objects were frozen.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
    return gc.get_freeze_count()
