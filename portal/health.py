"""Health for load balancers and monitors, and a friendly 503 while the database is unreachable.

`/healthz`: the process answers (no dependency is touched). `/readyz`: database, Redis, a recent
worker heartbeat (written by the beat-scheduled `portal.heartbeat` task) and free disk under
MEDIA_ROOT; 200 when all pass, else 503. Neither exposes a host name, URL, path or version.
"""

import logging
import re
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "worker-heartbeat"
# Paths answered without touching the database (the probes and static files).
NO_DATABASE_PATHS = ("/healthz", "/readyz", "/static/")
# Tiles connect only when they query: most are answered from the per-process access memo and the
# tile cache without one, and an up-front checkout made them queue for the pool behind pages
# (bench-load: pool waits of 410-440 ms at p95). A tile that does query during an outage still
# gets the 503 page (process_exception, or _flag_database_down for a middleware).
LAZY_DATABASE_PATH = re.compile(r"^/(?:share/[^/]+/)?tiles/")
DB_DOWN = (OperationalError, InterfaceError)


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _check_redis() -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def _check_worker() -> dict[str, Any]:
    from django.core.cache import cache

    beat = cache.get(HEARTBEAT_KEY)
    if beat is None:
        raise RuntimeError("no heartbeat from a worker")
    age = time.time() - float(beat)
    if age > settings.HEARTBEAT_MAX_AGE:
        raise RuntimeError(f"last worker heartbeat {age:.0f} s ago")
    return {"age_s": round(age, 1)}


def _check_disk() -> dict[str, Any]:
    root = settings.MEDIA_ROOT
    root.mkdir(parents=True, exist_ok=True)
    free_mb = shutil.disk_usage(root).free // 2**20
    if free_mb < settings.DISK_MIN_FREE_MB:
        raise RuntimeError(f"{free_mb} MB free, below {settings.DISK_MIN_FREE_MB} MB")
    return {"free_mb": free_mb}


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _check_database,
    "redis": _check_redis,
    "worker": _check_worker,
    "disk": _check_disk,
}


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = {"ok": True, **check()}
        except Exception as exc:  # a probe reports every failure, it never raises
            # Only the exception's class: messages can carry host names or credentials.
            reason = str(exc) if isinstance(exc, RuntimeError) else type(exc).__name__
            detail = {"ok": False, "error": reason}
        detail["ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = detail
    ready = all(r["ok"] for r in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )


def unavailable_response() -> HttpResponse:
    """The page shown while the database is unreachable: no template context, no database."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "5"
    return response


class DatabaseUnavailableMiddleware:
    """A friendly 503 (never a 500 or a stack trace) while PostgreSQL cannot be reached.

    Connects before the request (a no-op when the persistent connection is healthy; tiles excepted,
    see LAZY_DATABASE_PATH) and turns a connection failure inside a view (process_exception) or a
    later middleware (a lazily loaded session, say: `_flag_database_down`) into the same page.
    CONN_HEALTH_CHECKS replaces a broken connection at the next checkout, so the portal recovers
    by itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if not path.startswith(NO_DATABASE_PATHS) and not LAZY_DATABASE_PATH.match(path):
            try:
                # The request's one health check (CONN_HEALTH_CHECKS), done here rather than at
                # the first query, which may run in a later middleware.
                connection.close_if_health_check_failed()
                connection.ensure_connection()
            except DB_DOWN:
                log.warning("database unreachable: 503 for %s", request.path)
                return unavailable_response()
        response = self.get_response(request)
        if getattr(request, "_database_down", False):
            return unavailable_response()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if _database_lost(exception):
            log.warning("database lost during %s: 503", request.path)
            return unavailable_response()
        return None


def _database_lost(exception: BaseException | None) -> bool:
    return isinstance(exception, DB_DOWN) or (
        isinstance(exception, DatabaseError) and not connection.is_usable()
    )


def _flag_database_down(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """A middleware after ours failed for want of the database: Django made a 500 of it, which
    DatabaseUnavailableMiddleware replaces (exceptions do not cross middleware in Django)."""
    if request is not None and _database_lost(sys.exc_info()[1]):
        log.warning("database lost during %s: 503", request.path)
        request._database_down = True  # type: ignore[attr-defined]


got_request_exception.connect(_flag_database_down, dispatch_uid="portal.health.database_down")
