"""Read replica: with DATABASE_REPLICA_URL, page and tile reads go to a streaming replica while
writes, and the writer's reads right after them, stay on the primary.

Two real Debian PostgreSQL clusters of our own (never the shared 5432 one): a primary on 9702
and a replica on 9701 made from it with `pg_basebackup -R`. The session fixture creates both and
stops and drops them at the end. tests/replica_driver.py plays the browsers in a child process
configured like a production host with a replica.
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

VERSION = "15"
PRIMARY, PRIMARY_PORT = "scaleprimary", 9702
REPLICA, REPLICA_PORT = "scalereplica", 9701
SOCKETS = "/var/run/postgresql"
DATABASE = "sharedgis_replica"
ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.worker


@dataclass(frozen=True)
class Clusters:
    primary_url: str
    replica_url: str


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=120)


def _as_postgres(*args: str) -> None:
    _run("runuser", "-u", "postgres", "--", *args)


def _drop(name: str) -> None:
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    if any(line.split()[:2] == [VERSION, name] for line in listed.splitlines()):
        _run("pg_dropcluster", "--stop", VERSION, name)


def _url(port: int) -> str:
    return f"postgres://postgres@{SOCKETS.replace('/', '%2F')}:{port}/{DATABASE}"


def _create(name: str, port: int) -> None:
    # Socket only (no TCP), trust for the local postgres user: a throwaway cluster for this run.
    _run(
        "pg_createcluster", VERSION, name, "--port", str(port),
        "-o", "listen_addresses=", "-o", "fsync=off", "-o", "shared_buffers=32MB",
        "--", "--auth-local=trust",
    )  # fmt: skip


@pytest.fixture(scope="session")
def clusters() -> Iterator[Clusters]:
    if shutil.which("pg_createcluster") is None:
        pytest.skip("pg_createcluster (Debian postgresql-common) is not installed on this machine")
    for name in (REPLICA, PRIMARY):  # leftovers of an interrupted run
        _drop(name)
    try:
        _create(PRIMARY, PRIMARY_PORT)
        _run("pg_ctlcluster", VERSION, PRIMARY, "start")
        _create(REPLICA, REPLICA_PORT)
        data = Path(f"/var/lib/postgresql/{VERSION}/{REPLICA}")
        for part in data.iterdir():
            shutil.rmtree(part) if part.is_dir() else part.unlink()
        # A streaming replica of the primary: base backup plus standby settings (-R).
        _as_postgres(
            "pg_basebackup", "-h", SOCKETS, "-p", str(PRIMARY_PORT), "-U", "postgres",
            "-D", str(data), "-R", "-X", "stream",
        )  # fmt: skip
        _run("pg_ctlcluster", VERSION, REPLICA, "start")
        psql = ["psql", "-h", SOCKETS, "-p", str(PRIMARY_PORT), "-U", "postgres", "-q"]
        _run(*psql, "-c", f"CREATE DATABASE {DATABASE}")
        _run(*psql, "-d", DATABASE, "-c", "CREATE EXTENSION postgis; CREATE EXTENSION btree_gist")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            env={**os.environ, "DATABASE_URL": _url(PRIMARY_PORT)},
            cwd=ROOT,
            check=True,
            timeout=300,
        )
        yield Clusters(primary_url=_url(PRIMARY_PORT), replica_url=_url(REPLICA_PORT))
    finally:
        for name in (REPLICA, PRIMARY):
            _drop(name)


@pytest.fixture(scope="session")
def seen(clusters: Clusters) -> dict[str, Any]:
    """What the driver's browsers saw, run once against the two clusters."""
    done = subprocess.run(
        [sys.executable, "tests/replica_driver.py"],
        env={
            **os.environ,
            "DATABASE_URL": clusters.primary_url,
            "DATABASE_REPLICA_URL": clusters.replica_url,
            "REPLICA_PIN_SECONDS": "2",
            "DB_CONN_MAX_AGE": "0",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_replica_is_a_streaming_standby_of_our_own_primary(seen: dict[str, Any]) -> None:
    assert seen["replica_in_recovery"] is True


def test_a_write_goes_to_the_primary_while_the_replica_lags(seen: dict[str, Any]) -> None:
    assert seen["create_status"] == 302
    assert seen["fresh_on_replica_while_paused"] is False


def test_the_writer_reads_its_own_write_at_once_from_the_primary(seen: dict[str, Any]) -> None:
    assert seen["writer_reads_its_write"] == 200  # the new map's edit page it is sent to


def test_other_users_pages_and_tiles_are_read_from_the_replica(seen: dict[str, Any]) -> None:
    # The lagging replica does not have the new map yet: the colleague's page is its 404.
    assert seen["reader_map_page_while_paused"] == 404
    assert seen["reader_tile_while_paused"] == [200, True]
    assert seen["reader_map_page_after_catch_up"] == 200


def test_the_pin_to_the_primary_expires(seen: dict[str, Any]) -> None:
    assert seen["writer_after_pin_expired"] == 404


def test_ogc_items_are_read_from_the_replica(seen: dict[str, Any]) -> None:
    # The primary renamed every feature "Moved …" while replay was paused: the replica had not.
    status, names = seen["reader_ogc_items_while_paused"]
    assert status == 200
    assert names == [f"Parcel {i}" for i in range(5)]


def test_a_map_search_is_read_from_the_replica(seen: dict[str, Any]) -> None:
    assert seen["reader_search_while_paused"][0] == 200
    assert seen["reader_search_while_paused"][1] > 0  # the primary has no "Parcel" left


def test_an_uncached_vector_tile_is_rendered_from_the_replica(seen: dict[str, Any]) -> None:
    # On the primary the features had moved 1 degree east, out of this tile (it would be a 204).
    assert seen["reader_uncached_tile_while_paused"] == [200, True]


def test_raw_reads_after_a_post_and_its_redirect_come_from_the_primary(
    seen: dict[str, Any],
) -> None:
    created, moved = seen["writer_search_after_post"]
    assert created == 302
    assert moved > 0  # only the primary has the "Moved" names yet


def test_the_replica_shows_the_primary_changes_once_replay_resumes(seen: dict[str, Any]) -> None:
    assert seen["reader_search_after_catch_up"] > 0
