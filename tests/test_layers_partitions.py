"""Feature partitions never outlive their layer versions, however the versions were deleted."""

from pathlib import Path

import pytest

from layers import partitions
from layers.models import Layer, LayerVersion
from layers.services import partitions_drop_orphans
from tests.conftest import World
from tests.layers_data import points_frame, run_import

# The sweeper detaches concurrently, which PostgreSQL allows only outside a transaction block.
pytestmark = pytest.mark.django_db(transaction=True)
partition_exists = partitions.exists


@pytest.fixture(autouse=True)
def no_leftover_partitions() -> None:
    # Transactional tests truncate rows, not tables: earlier tests' partitions are orphans here.
    partitions_drop_orphans()


def test_a_cascade_delete_leaves_a_partition_that_the_sweeper_drops(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "hydrants.gpkg"
    points_frame(30).to_file(path, driver="GPKG")
    (kept,) = run_import(world.project_a, path)
    (gone,) = run_import(world.project_b, path)
    assert partition_exists(gone.pk)

    Layer.objects.filter(pk=gone.layer_id).delete()  # Django's cascade, not layer_delete
    assert not LayerVersion.objects.filter(pk=gone.pk).exists()

    assert partitions_drop_orphans() == 1
    assert not partition_exists(gone.pk)
    assert partition_exists(kept.pk)
    assert LayerVersion.objects.get(pk=kept.pk).features.count() == 30
    assert partitions_drop_orphans() == 0


def test_deleting_a_layer_detaches_and_drops_its_partitions_after_commit(
    world: World, tmp_path: Path
) -> None:
    from layers.services import layer_delete

    path = tmp_path / "hydrants.gpkg"
    points_frame(30).to_file(path, driver="GPKG")
    (version,) = run_import(world.project_a, path)
    layer_delete(layer=version.layer, by=world.analyst)
    assert not partition_exists(version.pk)
    assert version.pk not in partitions.orphans()


def test_a_detach_left_pending_is_finalised_by_the_sweeper(world: World, tmp_path: Path) -> None:
    from django.db import connection

    path = tmp_path / "hydrants.gpkg"
    points_frame(30).to_file(path, driver="GPKG")
    (version,) = run_import(world.project_a, path)
    Layer.objects.filter(pk=version.layer_id).delete()
    with connection.cursor() as cursor:
        # What an interrupted DETACH … CONCURRENTLY leaves behind: the partition marked pending.
        cursor.execute(
            "UPDATE pg_inherits SET inhdetachpending = true WHERE inhrelid = %s::regclass",
            [partitions.name(version.pk)],
        )
    assert partitions.orphans() == [version.pk]
    assert partitions_drop_orphans() == 1
    assert not partition_exists(version.pk)


def test_a_delete_beside_a_long_reader_returns_quickly_and_the_sweeper_finishes_it(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from django.db import connection

    from layers.services import layer_delete

    monkeypatch.setattr(partitions, "DDL_LOCK_TIMEOUT", "200ms")
    path = tmp_path / "hydrants.gpkg"
    points_frame(30).to_file(path, driver="GPKG")
    (version,) = run_import(world.project_a, path)
    reading, release = threading.Event(), threading.Event()

    def long_export() -> None:
        # A download of this very layer, still streaming when the analyst deletes it.
        try:
            with connection.cursor() as cursor:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                cursor.execute(
                    "SELECT count(*) FROM layers_feature WHERE version_id = %s", [version.pk]
                )
                reading.set()
                release.wait(30)
                cursor.execute("COMMIT")
        finally:
            reading.set()
            connection.close()

    reader = threading.Thread(target=long_export, daemon=True)
    reader.start()
    assert reading.wait(30)
    start = time.perf_counter()
    try:
        layer_delete(layer=version.layer, by=world.analyst)
        took = time.perf_counter() - start
    finally:
        release.set()
        reader.join(30)
    assert took < 5, f"the delete waited {took:.1f} s for the reader"
    assert not LayerVersion.objects.filter(pk=version.pk).exists()
    assert partitions_drop_orphans() == 1
    assert not partition_exists(version.pk)
