"""Reads to a streaming replica, writes and an analyst's read-after-write to the primary.

Active only when DATABASE_REPLICA_URL is set. The middleware decides per request:
- GET/HEAD requests read from the replica (pages, tiles, OGC API, downloads);
- any other method (POST, PUT, PATCH, DELETE) reads and writes on the primary, and pins that
  browser to the primary for REPLICA_PIN_SECONDS with a cookie, so the page it is redirected to
  and the next requests see what it just wrote, whatever the replica's lag;
- a write inside a GET (e.g. a session refresh) switches the rest of that request to the primary.
Outside requests (Celery workers, management commands) everything stays on the primary.
"""

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

PRIMARY = "default"
REPLICA = "replica"
PIN_COOKIE = "sharedgis_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_read_from: ContextVar[str] = ContextVar("sharedgis_read_from", default=PRIMARY)


def pinned_to_primary() -> bool:
    return _read_from.get() == PRIMARY


class ReplicaRouter:
    """Database router: the alias each query goes to."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return _read_from.get()

    def db_for_write(self, model: type, **hints: Any) -> str:
        # What this request reads from now on must include what it just wrote.
        _read_from.set(PRIMARY)
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows: objects from both may relate

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY


class PrimaryPinMiddleware:
    """Chooses the read database of each request (first in MIDDLEWARE, before sessions)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        safe = request.method in SAFE_METHODS
        token = _read_from.set(REPLICA if safe and not self._pinned(request) else PRIMARY)
        try:
            response = self.get_response(request)
        finally:
            _read_from.reset(token)
        if not safe:
            response.set_signed_cookie(
                PIN_COOKIE,
                "1",
                salt=PIN_COOKIE,
                max_age=settings.REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    @staticmethod
    def _pinned(request: HttpRequest) -> bool:
        try:
            request.get_signed_cookie(
                PIN_COOKIE, salt=PIN_COOKIE, max_age=settings.REPLICA_PIN_SECONDS
            )
        except (KeyError, signing.BadSignature):
            return False
        return True
