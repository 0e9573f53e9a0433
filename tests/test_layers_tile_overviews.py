"""A finished import queues the low-zoom tile overviews of its new version on the worker."""

import time
from pathlib import Path

from layers.models import TileOverview, TileOverviewState
from layers.tiles import OVERVIEW_MIN_FEATURES
from tests.conftest import World
from tests.layers_data import points_frame, run_import


def wait_for_state(version_id: int, seconds: float = 60) -> TileOverviewState | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = TileOverviewState.objects.filter(version_id=version_id).first()
        if state is not None:
            return state
        time.sleep(0.2)
    return None


def test_a_large_import_gets_its_overviews_built_in_the_background(
    world: World, celery_worker: str, tmp_path: Path
) -> None:
    path = tmp_path / "hydrants.gpkg"
    points_frame(OVERVIEW_MIN_FEATURES + 500).to_file(path, driver="GPKG")
    (version,) = run_import(world.project_a, path)
    state = wait_for_state(version.pk)
    assert state is not None and state.max_zoom >= 0
    assert TileOverview.objects.filter(version_id=version.pk, zoom=0).exists()


def test_a_small_import_is_marked_as_needing_no_overview(
    world: World, celery_worker: str, tmp_path: Path
) -> None:
    path = tmp_path / "few.gpkg"
    points_frame(50).to_file(path, driver="GPKG")
    (version,) = run_import(world.project_a, path)
    state = wait_for_state(version.pk)
    assert state is not None and state.max_zoom == -1
    assert not TileOverview.objects.filter(version_id=version.pk).exists()


def test_tilejson_bounds_are_the_extent_recorded_at_import(
    world: World, tmp_path: Path, as_analyst
) -> None:
    path = tmp_path / "few.gpkg"
    points_frame(50).to_file(path, driver="GPKG")
    (version,) = run_import(world.project_a, path)
    body = as_analyst.get(f"/tiles/layers/{version.layer_id}/tilejson.json").json()
    assert body["bounds"] == list(version.extent.extent)
