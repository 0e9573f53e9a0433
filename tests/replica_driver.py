"""Plays browser sessions against a portal configured with a primary and a streaming replica.

Run by tests/test_read_replica.py in a child process whose DATABASE_URL is the primary and
DATABASE_REPLICA_URL the replica (two real PostgreSQL clusters). Replay on the replica is
paused at chosen moments, so the replica visibly lags: what each request sees then tells which
database answered it. Prints one JSON object of observations on its last line.
"""

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from maps.models import Map  # noqa: E402
from projects.models import Agency  # noqa: E402
from tests.factories import make_agency, make_agreement, make_project, make_user  # noqa: E402
from tests.map_factories import make_published_map, tile_of  # noqa: E402


def _sql(alias: str, query: str) -> Any:
    with connections[alias].cursor() as cur:
        cur.execute(query)
        return cur.fetchone()[0]


def caught_up() -> None:
    """Wait until the replica has replayed everything the primary has written."""
    target = _sql("default", "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _sql("replica", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
            return
        time.sleep(0.05)
    raise RuntimeError("the replica did not catch up within 30 s")


def replay(paused: bool) -> None:
    _sql("replica", f"SELECT pg_wal_replay_{'pause' if paused else 'resume'}()::text")


def main() -> None:
    setup_test_environment()  # lets the test Client's "testserver" host in
    seen: dict[str, Any] = {"replica_in_recovery": _sql("replica", "SELECT pg_is_in_recovery()")}
    provider = make_agency(kind=Agency.Kind.PROVIDER, name="City GIS", slug="city-gis")
    town = make_agency(name="Town A", slug="town-a")
    project = make_project(
        agreement=make_agreement(provider=provider, client=town), name="Zoning", slug="zoning"
    )
    analyst = make_user(username="analyst", agency=provider, role="analyst")
    colleague = make_user(username="colleague", agency=provider, role="analyst")
    _, version = make_published_map(project=project, by=analyst, n=40)
    writer, reader = Client(), Client()
    writer.force_login(analyst)
    reader.force_login(colleague)
    caught_up()

    replay(paused=True)
    try:
        created = writer.post(f"/maps/new/{project.slug}/", {"title": "Fresh map"})
        seen["create_status"] = created.status_code
        fresh = Map.objects.using("default").get(title="Fresh map")
        seen["fresh_on_replica_while_paused"] = (
            Map.objects.using("replica").filter(pk=fresh.pk).exists()
        )
        # The writer is pinned to the primary: it reads what it just wrote.
        seen["writer_reads_its_write"] = writer.get(created["Location"]).status_code
        # A colleague's GET is answered by the (lagging) replica.
        seen["reader_map_page_while_paused"] = reader.get(f"/maps/{fresh.pk}/edit/").status_code
        layer_id = version.definition["layers"][0]["layer_id"]
        version_id = version.definition["layers"][0]["version_id"]
        z, x, y = tile_of(-122.3595, 38.4001, 15)
        tile = reader.get(f"/tiles/layers/{layer_id}/{z}/{x}/{y}.pbf?v={version_id}")
        seen["reader_tile_while_paused"] = (tile.status_code, len(tile.content) > 0)
    finally:
        replay(paused=False)
    caught_up()
    seen["reader_map_page_after_catch_up"] = reader.get(f"/maps/{fresh.pk}/edit/").status_code

    # Once the pin expires, the writer's reads go back to the replica too.
    time.sleep(float(os.environ["REPLICA_PIN_SECONDS"]) + 0.5)
    replay(paused=True)
    try:
        later = Map.objects.create(project=project, title="Later map", created_by=analyst)
        seen["writer_after_pin_expired"] = writer.get(f"/maps/{later.pk}/edit/").status_code
    finally:
        replay(paused=False)
    caught_up()
    seen.update(raw_reads(writer, reader, project, version, layer_id, version_id))
    print(json.dumps(seen))


def raw_reads(
    writer: Client, reader: Client, project: Any, version: Any, layer_id: int, version_id: int
) -> dict[str, Any]:
    """Raw-SQL reads (OGC items, search, a never-cached tile) while only the primary changed.

    With replay paused, every feature of the layer is renamed and moved 1 degree east on the
    primary: the primary would answer "Moved", no "Parcel" and an empty tile (204); the lagging
    replica still has the parcels where they were.
    """
    seen: dict[str, Any] = {}
    z, x, y = tile_of(-122.3595, 38.4001, 16)  # not asked for before: not in the tile cache
    replay(paused=True)
    try:
        with connections["default"].cursor() as cur:
            cur.execute(
                "UPDATE layers_feature SET geom = ST_Translate(geom, 1, 0), "
                "properties = jsonb_set(properties, '{name}', to_jsonb('Moved ' || fid)) "
                "WHERE version_id = %s",
                [version_id],
            )
        items = reader.get(f"/ogc/collections/layer-{layer_id}/items?limit=5")
        seen["reader_ogc_items_while_paused"] = [
            items.status_code,
            [f["properties"]["name"] for f in items.json()["features"]],
        ]
        found = reader.get(f"/maps/versions/{version.pk}/search/?q=Parcel")
        seen["reader_search_while_paused"] = [found.status_code, len(found.json()["results"])]
        tile = reader.get(f"/tiles/layers/{layer_id}/{z}/{x}/{y}.pbf?v={version_id}")
        seen["reader_uncached_tile_while_paused"] = [tile.status_code, len(tile.content) > 0]
        # A POST pins the writer to the primary: the search after its redirect sees "Moved".
        created = writer.post(f"/maps/new/{project.slug}/", {"title": "Pinned map"})
        writer.get(created["Location"])
        moved = writer.get(f"/maps/versions/{version.pk}/search/?q=Moved")
        seen["writer_search_after_post"] = [created.status_code, len(moved.json()["results"])]
    finally:
        replay(paused=False)
    caught_up()
    moved = reader.get(f"/maps/versions/{version.pk}/search/?q=Moved")
    seen["reader_search_after_catch_up"] = len(moved.json()["results"])
    return seen


if __name__ == "__main__":
    main()
