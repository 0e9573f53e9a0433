"""Feature partitions never outlive their layer versions, however the versions were deleted."""

from pathlib import Path

import pytest
from django.db import connection

from layers.models import Layer, LayerVersion
from layers.services import partitions_drop_orphans
from tests.conftest import World
from tests.layers_data import points_frame, run_import

pytestmark = pytest.mark.django_db


def partition_exists(version_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"layers_feature_p{version_id}"])
        return bool(cursor.fetchone()[0])


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
