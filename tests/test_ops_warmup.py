"""A web worker pays its one-off costs before its first request (portal/warmup.py), not inside the
first seconds of a morning rush: every pooled PostgreSQL backend has run a PostGIS query, the
templates are compiled and the views imported."""

import gc
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import weakref
from pathlib import Path

import pytest
from django.db import connection
from django.template import engines

from portal import warmup

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent


def test_warming_compiles_every_portal_template_and_leaves_no_connection_open(caplog) -> None:
    names = warmup._template_names()
    assert {"base.html", "maps/share.html", "hours/agreement.html"} <= set(names)
    assert not any(name.startswith("admin/") for name in names)
    assert warmup.warm() < 30
    assert not [r for r in caplog.records if r.name == "portal.warmup"], "warm-up failed somewhere"
    loaders = engines["django"].engine.template_loaders
    cached = {key for loader in loaders for key in getattr(loader, "get_template_cache", {})}
    assert {"maps/share.html", "hours/agreement.html"} <= cached


def _database_url() -> str:
    s = connection.settings_dict
    auth = (
        f"{s['USER']}:{s['PASSWORD']}@"
        if s.get("PASSWORD")
        else (f"{s['USER']}@" if s.get("USER") else "")
    )
    host = f"{s['HOST']}:{s['PORT']}" if s.get("HOST") and s.get("PORT") else (s.get("HOST") or "")
    return f"postgres://{auth}{host}/{s['NAME']}"


def _backends() -> dict[int, str]:
    """The last statement of each other client backend of the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return dict(cursor.fetchall())


def test_a_gunicorn_worker_has_warmed_its_whole_pool_before_its_first_request(tmp_path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
        "DB_POOL_MAX_SIZE": "4",
        "DEBUG": "1",
    }
    before = _backends()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "portal/gunicorn_conf.py",
            "portal.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stderr=(tmp_path / "web.log").open("w"),
    )
    try:
        deadline = time.monotonic() + 60
        while "worker warmed in" not in (log := (tmp_path / "web.log").read_text()):
            assert time.monotonic() < deadline and server.poll() is None, log
            time.sleep(0.1)
        # No request yet: the pool's four backends are open and have run the PostGIS query.
        warmed = [query for pid, query in _backends().items() if pid not in before]
        assert len(warmed) == 4 and all("ST_AsMVT" in query for query in warmed), warmed
        # What the warm-up loaded is out of the collector's sight (no full-heap GIL pauses).
        frozen = re.search(r"(\d+) long-lived objects frozen", log)
        assert frozen and int(frozen.group(1)) > 50_000, log
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


class _Node:
    self: object


def test_freezing_the_heap_keeps_young_objects_collectable() -> None:
    threshold = gc.get_threshold()
    try:
        frozen = warmup.freeze_heap()
        assert frozen == gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == warmup.GC_YOUNG_THRESHOLD
        # Garbage made after the freeze is still collected (by the next collection, whichever).
        cycle = _Node()
        cycle.self = cycle
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
