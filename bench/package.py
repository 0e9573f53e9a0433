"""Deliverable package benchmark: a map of 1,000,000 polygons packaged with bounded memory.

Builds the package of a deliverable whose map pins one layer of N generated parcels (a
100,000-feature run first, so memory can be compared across a tenfold size), each build in a
child process whose peak RSS is read with wait4. Reference in the same run: `ogr2ogr -f GPKG`
writing the same features from PostGIS (the package's largest part). Cleans up what it made.

Run: make bench-package  (or DEBUG=1 .venv/bin/python bench/package.py --features 1000000)
Last line: RESULT package seconds=... peak_rss_mb=... ogr2ogr_seconds=... ratio=... ...
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """(wall seconds, stdout) of a child; the child prints its own peak RSS."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {proc.stderr.decode()[-2000:]}")
    return elapsed, proc.stdout.decode()


def make_fixture(n: int) -> tuple[int, int]:
    """(deliverable id, layer version id): a delivered deliverable with a published n-parcel map."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from bench.common import bench_project
    from layers import partitions
    from layers.models import Layer, LayerVersion
    from maps.services import (
        map_create,
        map_layer_add,
        map_layer_update,
        map_publish,
        map_version_attach,
    )
    from projects.models import Deliverable, Membership

    project = bench_project(
        client_slug="bench-package-client",
        client_name="Bench package client",
        slug="bench-package",
        name="Bench package",
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-package-lead")
    Membership.objects.get_or_create(
        user=user, agency=project.agreement.provider, defaults={"role": "lead"}
    )
    with transaction.atomic():
        layer = Layer.objects.create(project=project, name=f"Parcels {n}")
        version = LayerVersion.objects.create(
            layer=layer, number=1, source_filename="generated.gpkg", source_format="GPKG",
            geometry_type="Polygon", schema=[{"name": "zone", "type": "string"}, {"name": "value", "type": "real"}],
            feature_count=n,
        )  # fmt: skip
        layer.current_version = version
        layer.save(update_fields=["current_version"])
        cols = 1000
        with connection.cursor() as cur:
            # Loaded like an import: a standalone partition, indexed, then attached.
            table = partitions.create(cur, version.pk)
            cur.execute(
                f"INSERT INTO {table} (version_id, fid, geom, properties) "
                "SELECT %(v)s, i, ST_MakeEnvelope(-122.6 + (i %% %(c)s) * 0.0004, 38.2 + (i / %(c)s) * 0.0004, "
                "-122.6 + (i %% %(c)s) * 0.0004 + 0.0003, 38.2 + (i / %(c)s) * 0.0004 + 0.0003, 4326), "
                "jsonb_build_object('zone', (ARRAY['R1','R2','C','I'])[1 + i %% 4], 'value', i) "
                "FROM generate_series(0, %(n)s - 1) i",
                {"v": version.pk, "c": cols, "n": n},
            )
            partitions.index(cur, version.pk)
            partitions.attach(cur, [version.pk])
    new = map_create(project=project, title=f"Bench parcels {n}", by=user, basemap="none")
    map_layer = map_layer_add(map=new, layer=layer, by=user)
    map_layer_update(
        map_layer=map_layer, by=user, style={"type": "categorized", "attribute": "zone"}
    )
    published = map_publish(map=new, by=user, notes="bench")
    deliverable = Deliverable.objects.create(project=project, title=f"Bench package {n}")
    map_version_attach(version=published, deliverable=deliverable, by=user)
    return deliverable.pk, version.pk


def cleanup(deliverable_id: int) -> None:
    from layers.models import Layer
    from maps.models import Map
    from projects.models import Deliverable

    deliverable = Deliverable.objects.get(pk=deliverable_id)
    for m in Map.objects.filter(versions__deliverable=deliverable).distinct():
        layer_ids = list(m.map_layers.values_list("layer_id", flat=True))
        m.delete()
        for layer in Layer.objects.filter(pk__in=layer_ids):
            from layers.services import layer_delete

            layer_delete(layer=layer, by=None)
    deliverable.delete()


def child(deliverable_id: int, out: str) -> None:
    """Build one package in this (fresh) process and print its peak RSS."""
    import resource

    import django

    django.setup()
    from collaboration.packages import build_package_file
    from projects.models import Deliverable

    sha = build_package_file(Deliverable.objects.get(pk=deliverable_id), Path(out))
    print(f"sha={sha} peak_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


def measure(n: int, tmp: Path) -> dict[str, float]:
    from bench.ingest import pg_conninfo

    deliverable_id, version_id = make_fixture(n)
    try:
        out = tmp / f"package-{n}.zip"
        env = dict(os.environ)
        elapsed, text = run_child(
            [sys.executable, __file__, "--child", str(deliverable_id), str(out)], env
        )
        rss_kb = int(text.strip().rsplit("peak_rss_kb=", 1)[1])
        with zipfile.ZipFile(out) as archive:
            files = len(archive.namelist())
        ref = tmp / f"ogr-{n}.gpkg"
        start = time.perf_counter()
        subprocess.run(
            ["ogr2ogr", "-f", "GPKG", str(ref), f"PG:{pg_conninfo()}", "-sql",
             f"SELECT fid, geom, properties->>'zone' AS zone, (properties->>'value')::float AS value "
             f"FROM layers_feature WHERE version_id = {version_id} ORDER BY fid", "-nln", "parcels"],
            check=True, capture_output=True,
        )  # fmt: skip
        ogr = time.perf_counter() - start
        return {
            "seconds": elapsed,
            "rss_mb": rss_kb / 1024,
            "zip_mb": out.stat().st_size / 1024 / 1024,
            "files": files,
            "ogr_seconds": ogr,
        }
    finally:
        cleanup(deliverable_id)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="the size memory is compared to")
    parser.add_argument("--child", nargs=2, metavar=("DELIVERABLE", "OUT"))
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1])
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        small = measure(args.small, Path(tmp))
        print(
            f"{args.small:>9,} features: package {small['seconds']:6.1f} s, peak RSS {small['rss_mb']:6.0f} MB, zip {small['zip_mb']:.1f} MB; ogr2ogr GPKG {small['ogr_seconds']:.1f} s"
        )
        large = measure(args.features, Path(tmp))
        print(
            f"{args.features:>9,} features: package {large['seconds']:6.1f} s, peak RSS {large['rss_mb']:6.0f} MB, zip {large['zip_mb']:.1f} MB; ogr2ogr GPKG {large['ogr_seconds']:.1f} s"
        )
    ratio = large["seconds"] / large["ogr_seconds"]
    rss_growth = large["rss_mb"] / small["rss_mb"]
    print(
        f"RESULT package features={args.features} seconds={large['seconds']:.1f} "
        f"peak_rss_mb={large['rss_mb']:.0f} ogr2ogr_seconds={large['ogr_seconds']:.1f} "
        f"ratio={ratio:.2f} rss_growth_10x={rss_growth:.2f} zip_mb={large['zip_mb']:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
