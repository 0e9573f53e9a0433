"""One layer's work never freezes everyone's maps: tiles of layer A keep coming, within a second,
while layer B is exported, replaced and its overviews built, layer C deleted and layer D imported.

Dropping an attached partition takes ACCESS EXCLUSIVE on the shared `layers_feature`; while an
export holds a snapshot, that DDL waits and every later tile read of every layer queues behind it.
"""

import math
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from layers import partitions
from layers.exports import _batches
from layers.models import LayerVersion
from layers.services import ImportOptions, layer_delete, layer_import_file, partitions_drop_orphans
from layers.tiles import OVERVIEW_MIN_FEATURES, TileSpec, overviews_prepare, render_tile
from tests.conftest import World
from tests.layers_data import LAT, LON, points_frame, run_import

pytestmark = pytest.mark.django_db(transaction=True)

MAX_READ_WAIT_SECONDS = 1.0
# A slow download keeps the export's snapshot (and its lock on the parent) this long at most.
EXPORT_HOLD_SECONDS = 30.0
# How long the delete runs beside the export before the download finishes.
DELETE_WAIT_SECONDS = 2.0


def tile_of(version: LayerVersion, z: int = 14) -> TileSpec:
    """The web-mercator tile at zoom z that holds the test data's centre."""
    n = 2**z
    x = int((LON + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(LAT))) / math.pi) / 2 * n)
    return TileSpec(
        version_id=version.pk,
        layer_id=version.layer_id,
        z=z,
        x=x,
        y=y,
        fields=("name",),
        coarse_fields=(),
        feature_count=version.feature_count,
    )


class TileReader(threading.Thread):
    """Reads one tile again and again on its own database connection, timing every read."""

    def __init__(self, spec: TileSpec) -> None:
        super().__init__(daemon=True)
        self.spec = spec
        self.stop = threading.Event()
        self.waits: list[float] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                start = time.perf_counter()
                data = render_tile(self.spec)
                self.waits.append(time.perf_counter() - start)
                assert data, "layer A's tile came back empty"
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connection.close()


class SlowExport(threading.Thread):
    """The real export generator of a version, read by a client that pauses after the first batch."""

    def __init__(self, version: LayerVersion) -> None:
        super().__init__(daemon=True)
        self.version = version
        self.started = threading.Event()
        self.release = threading.Event()
        self.rows = 0

    def run(self) -> None:
        try:
            batches = _batches(self.version, 4326)
            self.rows += next(batches).num_rows
            self.started.set()
            self.release.wait(EXPORT_HOLD_SECONDS)
            self.rows += sum(b.num_rows for b in batches)
        finally:
            self.started.set()
            connection.close()


def test_tiles_of_one_layer_never_wait_while_other_layers_are_exported_replaced_deleted_imported(
    world: World, tmp_path: Path
) -> None:
    def gpkg(name: str, n: int) -> Path:
        path = tmp_path / f"{name}.gpkg"
        points_frame(n).to_file(path, driver="GPKG")
        return path

    (a,) = run_import(world.project_a, gpkg("a", 500))
    (b,) = run_import(world.project_b, gpkg("b", 300))
    (c,) = run_import(world.project_b, gpkg("c", 200))
    replacement = gpkg("b2", OVERVIEW_MIN_FEATURES)
    d_file = gpkg("d", 400)

    reader = TileReader(tile_of(a))
    export = SlowExport(b)
    deleter = threading.Thread(
        target=lambda: (layer_delete(layer=c.layer, by=world.analyst), connection.close()),
        daemon=True,
    )
    reader.start()
    export.start()
    assert export.started.wait(30)
    try:
        (b2,) = layer_import_file(
            project=world.project_b,
            path=replacement,
            original_filename="b2.gpkg",
            by=world.analyst,
            options=ImportOptions(),
            layer=b.layer,
        )
        overviews_prepare(b2.pk)
        (d,) = run_import(world.project_b, d_file)
        # The analyst deletes C while B's download is still running: give the delete time to wait.
        deleter.start()
        deleter.join(DELETE_WAIT_SECONDS)
    finally:
        export.release.set()
        export.join(30)
        deleter.join(30)
        reader.stop.set()
        reader.join(30)

    assert reader.error is None, reader.error
    assert len(reader.waits) > 10
    worst = max(reader.waits)
    print(f"tile reads of layer A: {len(reader.waits)}, worst wait {worst:.3f} s")
    assert worst < MAX_READ_WAIT_SECONDS, f"a tile read of layer A waited {worst:.2f} s"

    # Every write did its job: B's export was whole, C is gone, B v2 and D are readable.
    assert export.rows == 300
    partitions_drop_orphans()
    assert not partitions.exists(c.pk)
    assert not LayerVersion.objects.filter(pk=c.pk).exists()
    assert LayerVersion.objects.get(pk=b2.pk).features.count() == OVERVIEW_MIN_FEATURES
    assert LayerVersion.objects.get(pk=d.pk).features.count() == 400
