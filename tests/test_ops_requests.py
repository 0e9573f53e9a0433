"""What the busiest requests cost the database under load: a map viewer's cached tiles ask it
nothing (sessions are read from Redis, the tile's access is memoised, the tile is in Redis), so a
panning crowd does not queue behind queries; the database stays the sessions' record."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from tests.map_factories import make_parcel_layer, tile_of

pytestmark = pytest.mark.django_db


def test_a_cached_tile_of_a_signed_in_viewer_asks_the_database_nothing(
    world: World, as_analyst
) -> None:
    layer = make_parcel_layer(project=world.project_a, n=10)
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    url = f"/tiles/layers/{layer.pk}/{z}/{x}/{y}.pbf?v={layer.current_version_id}&fields=zone"
    first = as_analyst.get(url)
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = as_analyst.get(url)
    assert again.status_code == 200 and again.content == first.content
    assert [q["sql"] for q in queries.captured_queries] == []


def test_sessions_are_still_written_to_the_database(world: World, client) -> None:
    client.force_login(world.manager_a)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()  # backups and every web host see it
    assert client.get("/").status_code == 200
