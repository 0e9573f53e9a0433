"""What the busiest requests cost the database under load: a map viewer's cached tiles ask it
nothing (sessions are read from Redis, the tile's access is memoised, the tile is in Redis), so a
panning crowd does not queue behind queries; the database stays the sessions' record."""

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from tests.map_factories import make_parcel_layer, tile_of

pytestmark = pytest.mark.django_db


def _tile_asked_twice(client: Client, world: World, *, forget_shared_copy: bool) -> list[str]:
    """A parcel tile asked for twice by the same viewer: the queries the second answer ran."""
    layer = make_parcel_layer(project=world.project_a, n=10)
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    url = f"/tiles/layers/{layer.pk}/{z}/{x}/{y}.pbf?v={layer.current_version_id}&fields=zone"
    first = client.get(url)
    assert first.status_code == 200 and first.content
    if forget_shared_copy:
        cache.delete_pattern("mvt:*")  # only this process's memory still has the tile
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert again.status_code == 200 and again.content == first.content
    return [q["sql"] for q in queries.captured_queries]


def test_a_cached_tile_of_a_signed_in_viewer_asks_the_database_nothing(
    world: World, as_analyst
) -> None:
    assert _tile_asked_twice(as_analyst, world, forget_shared_copy=False) == []


def test_sessions_are_still_written_to_the_database(world: World, client) -> None:
    client.force_login(world.manager_a)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()  # backups and every web host see it
    assert client.get("/").status_code == 200


def test_a_session_ended_while_redis_was_away_cannot_outlive_its_short_redis_copy(
    world: World, client, settings
) -> None:
    """Logging out while Redis is unreachable deletes only the database row; the stale Redis copy
    that reappears with Redis must expire within SESSION_CACHE_SECONDS, not in two weeks."""
    import time

    from django.core.cache import caches

    settings.SESSION_CACHE_SECONDS = 1
    client.force_login(world.manager_a)
    assert client.get("/").status_code == 200
    key = client.session.session_key
    cache_key = "django.contrib.sessions.cached_db" + key
    ttl = caches[settings.SESSION_CACHE_ALIAS].ttl(cache_key)
    assert ttl is not None and 0 <= ttl <= 1  # django-redis: seconds left on the copy
    Session.objects.filter(session_key=key).delete()  # the logout Redis never heard of
    deadline = time.monotonic() + 5
    while client.get("/").status_code == 200:
        assert time.monotonic() < deadline, "the ended session still opens pages"
        time.sleep(0.2)
    assert client.get("/").status_code == 302


def test_a_cached_tile_asked_again_is_answered_from_the_processs_memory_not_redis(
    world: World, as_analyst
) -> None:
    assert _tile_asked_twice(as_analyst, world, forget_shared_copy=True) == []


def test_the_tile_memory_keeps_the_most_recent_tiles_within_its_bytes() -> None:
    from layers.tiles.mvt import _TileMemory

    memory = _TileMemory(max_bytes=800)
    for name in "abcdefgh":  # eight tiles of 100 bytes fill it
        memory.put(name, name.encode() * 100)
    assert memory.get("a") == b"a" * 100  # "a" is now the most recent, "b" the oldest
    memory.put("i", b"i" * 100)
    assert memory.get("b") is None
    assert memory.get("a") is not None and memory.get("i") is not None
    assert memory.size == 800
    memory.put("huge", b"h" * 101)  # over an eighth of the memory: never kept
    assert memory.get("huge") is None and memory.size == 800
    memory.put("a", b"a" * 10)  # replacing a tile counts its new size only
    assert memory.size == 710
