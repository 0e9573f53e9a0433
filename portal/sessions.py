"""Sessions read from Redis, recorded in the database, with the Redis copy kept short-lived.

Django's cached_db keeps the cached copy as long as the session itself (two weeks). The cache
ignores Redis errors so pages keep working while Redis is away; but a logout (or an admin ending a
session) during such an outage deletes only the database row, and when Redis came back its stale
copy would keep that session alive until it expired. Capping the copy's life at
SESSION_CACHE_SECONDS bounds that window; the cost is one database read per session per window.
"""

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches


class _CappedCache:
    """The session cache, with every entry's timeout capped."""

    def __init__(self, cache: Any, cap: int) -> None:
        self._cache, self._cap = cache, cap

    def set(self, key: str, value: Any, timeout: int | None = None, **kwargs: Any) -> Any:
        capped = self._cap if timeout is None else min(timeout, self._cap)
        return self._cache.set(key, value, capped, **kwargs)

    async def aset(self, key: str, value: Any, timeout: int | None = None, **kwargs: Any) -> Any:
        capped = self._cap if timeout is None else min(timeout, self._cap)
        return await self._cache.aset(key, value, capped, **kwargs)

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cache, name)


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        cache: Any = caches[settings.SESSION_CACHE_ALIAS]
        self._cache = _CappedCache(cache, settings.SESSION_CACHE_SECONDS)
