"""Layer import benchmark: `manage.py import_layer` against `ogr2ogr -f PostgreSQL` (PG_USE_COPY).

Generates (fixed seed, cached in bench/data/) a GeoPackage of 1,000,000 points with 5 attributes
and one of 200,000 parcel-like polygons over a city-sized extent, imports each several times with
both tools into the same database, and prints features/s, the ratio ours/ogr2ogr and our peak
RSS. It also measures the two storage designs on the same rows (see docs/architecture.md).

    make bench-ingest            # or: DEBUG=1 .venv/bin/python bench/ingest.py [--runs 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
SEED = 20261126
# A city-sized extent around Napa, CA (about 18 km by 22 km), in EPSG:4326.
WEST, SOUTH, EAST, NORTH = -122.36, 38.22, -122.16, 38.42


def generate_points(path: Path, n: int) -> None:
    import pyarrow as pa
    import pyogrio
    import shapely

    rng = np.random.default_rng(SEED)
    x = rng.uniform(WEST, EAST, n)
    y = rng.uniform(SOUTH, NORTH, n)
    kinds = np.array(["hydrant", "valve", "inlet", "manhole", "meter", "pole"])
    table = pa.table(
        {
            "asset_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "kind": pa.array(kinds[rng.integers(0, len(kinds), n)]),
            "install_year": pa.array(rng.integers(1950, 2026, n).astype(np.int32)),
            "condition": pa.array(np.round(rng.uniform(0, 10, n), 2)),
            "label": pa.array([f"A-{i:07d}" for i in range(n)]),
            "geometry": pa.array(shapely.to_wkb(shapely.points(x, y)), type=pa.binary()),
        }
    )
    pyogrio.write_arrow(
        table,
        str(path),
        layer="points",
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="Point",
        crs="EPSG:4326",
        layer_options={"SPATIAL_INDEX": "NO"},
        dataset_options={"VERSION": "1.3"},
    )


def generate_parcels(path: Path, n: int) -> None:
    import pyarrow as pa
    import pyogrio
    import shapely

    rng = np.random.default_rng(SEED + 1)
    cols = int(np.ceil(np.sqrt(n * 1.2)))
    rows = int(np.ceil(n / cols))
    dx, dy = (EAST - WEST) / cols, (NORTH - SOUTH) / rows
    i = np.arange(n)
    cx = WEST + (i % cols + 0.5) * dx
    cy = SOUTH + (i // cols + 0.5) * dy
    # Irregular quadrilaterals and pentagons inside each grid cell, like surveyed lots.
    k = 5
    # Evenly spread corners with jitter keep every lot a simple (valid) polygon.
    angles = np.arange(k) * (2 * np.pi / k) + rng.uniform(-0.4, 0.4, (n, k))
    radius = rng.uniform(0.35, 0.48, (n, k))
    px = cx[:, None] + np.cos(angles) * radius * dx
    py = cy[:, None] + np.sin(angles) * radius * dy
    coords = np.stack([px, py], axis=2)
    coords = np.concatenate([coords, coords[:, :1, :]], axis=1)
    polygons = shapely.polygons(coords)
    zoning = np.array(["R-1", "R-2", "R-3", "C-1", "C-2", "M-1", "OS", "PQP"])
    table = pa.table(
        {
            "apn": pa.array(
                [
                    f"{i // 1000:03d}-{i % 1000:03d}-{j:03d}"
                    for i, j in enumerate(rng.integers(0, 999, n))
                ]
            ),
            "zoning": pa.array(zoning[rng.integers(0, len(zoning), n)]),
            "area_sqft": pa.array(np.round(rng.uniform(2000, 40000, n), 1)),
            "year_built": pa.array(rng.integers(1900, 2026, n).astype(np.int32)),
            "owner": pa.array([f"Owner {v}" for v in rng.integers(0, 50000, n)]),
            "geometry": pa.array(shapely.to_wkb(polygons), type=pa.binary()),
        }
    )
    pyogrio.write_arrow(
        table,
        str(path),
        layer="parcels",
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="Polygon",
        crs="EPSG:4326",
        layer_options={"SPATIAL_INDEX": "NO"},
        dataset_options={"VERSION": "1.3"},
    )


def run_with_rss(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    # Small outputs only: wait4 on the child gives its own peak RSS.
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {err[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, out


def pg_conninfo() -> str:
    import dj_database_url

    cfg = dj_database_url.parse(os.environ.get("DATABASE_URL", "postgres:///sharedgis"))
    parts = [f"dbname={cfg['NAME']}"]
    for key, name in (
        ("HOST", "host"),
        ("PORT", "port"),
        ("USER", "user"),
        ("PASSWORD", "password"),
    ):
        if cfg.get(key):
            parts.append(f"{name}={cfg[key]}")
    return " ".join(parts)


def bench_project() -> str:
    import django

    django.setup()
    from bench.common import bench_project as make_project

    project = make_project(
        client_slug="bench-client",
        client_name="Bench client",
        slug="bench-ingest",
        name="Bench ingest",
    )
    return project.slug


def drop_layer(layer_id: int) -> None:
    from layers.models import Layer
    from layers.services import layer_delete

    layer_delete(layer=Layer.objects.get(pk=layer_id), by=None)  # type: ignore[arg-type]


def sql(statement: str) -> float:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(statement)
    return time.perf_counter() - start


def storage_comparison(version_id: int, polygons_version: int) -> dict[str, float]:
    """The same rows through both designs: a shared indexed table vs a table per version."""
    src = f"layers_feature_p{version_id}"
    sql("DROP TABLE IF EXISTS bench_single; DROP TABLE IF EXISTS bench_per_version")
    sql("CREATE TABLE bench_single (LIKE layers_feature INCLUDING DEFAULTS)")
    sql("CREATE INDEX ON bench_single USING gist (version_id, geom)")
    sql("CREATE INDEX ON bench_single (version_id, fid)")
    # The shared table already holds another layer, as it would in production.
    sql(f"INSERT INTO bench_single SELECT * FROM layers_feature_p{polygons_version}")
    single = sql(f"INSERT INTO bench_single SELECT * FROM {src}") + sql("ANALYZE bench_single")
    per = (
        sql(f"CREATE TABLE bench_per_version AS SELECT * FROM {src}")
        + sql("CREATE INDEX ON bench_per_version USING gist (geom)")
        + sql("CREATE INDEX ON bench_per_version (version_id, fid)")
        + sql("ANALYZE bench_per_version")
    )
    q = f"SELECT count(*) FROM {{}} WHERE version_id = {version_id} AND geom && ST_MakeEnvelope(-122.30, 38.30, -122.29, 38.31, 4326)"
    qs = min(sql(q.format("bench_single")) for _ in range(5))
    qp = min(sql(q.format("bench_per_version")) for _ in range(5))
    sql("DROP TABLE bench_single; DROP TABLE bench_per_version")
    return {
        "single_load_s": single,
        "per_version_load_s": per,
        "single_query_ms": qs * 1000,
        "per_version_query_ms": qp * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--polygons", type=int, default=200_000)
    args = parser.parse_args()

    DATA.mkdir(parents=True, exist_ok=True)
    points = DATA / f"points_{args.points}.gpkg"
    parcels = DATA / f"parcels_{args.polygons}.gpkg"
    for path, gen, n in (
        (points, generate_points, args.points),
        (parcels, generate_parcels, args.polygons),
    ):
        if not path.exists():
            print(f"generating {path.name} ...", flush=True)
            gen(path, n)

    slug = bench_project()
    import json

    env = os.environ.copy()
    py = str(ROOT / ".venv" / "bin" / "python")
    conninfo = pg_conninfo()
    results: dict[str, dict[str, list[float]]] = {}
    kept: dict[str, int] = {}
    for label, path, n, layer in (
        ("points", points, args.points, "points"),
        ("polygons", parcels, args.polygons, "parcels"),
    ):
        ours, ogr, rss = [], [], []
        for run in range(args.runs):
            t, mb, out = run_with_rss(
                [
                    py,
                    str(ROOT / "manage.py"),
                    "import_layer",
                    str(path),
                    "--project",
                    slug,
                    "--json",
                ],
                env,
            )
            info = json.loads(out.strip().splitlines()[-1])
            assert info["feature_count"] == n, info
            ours.append(t)
            rss.append(mb)
            if run < args.runs - 1:
                drop_layer(info["id"])
            else:
                from layers.models import Layer

                kept[label] = Layer.objects.get(pk=info["id"]).current_version_id  # type: ignore[assignment]
            ogr_env = dict(env, PG_USE_COPY="YES")
            t2, _, _ = run_with_rss(
                [
                    "ogr2ogr",
                    "-f",
                    "PostgreSQL",
                    f"PG:{conninfo}",
                    str(path),
                    layer,
                    "-nln",
                    f"bench_ogr_{label}",
                    "-overwrite",
                    "-lco",
                    "GEOMETRY_NAME=geom",
                    "-lco",
                    "SPATIAL_INDEX=GIST",
                ],
                ogr_env,
            )
            ogr.append(t2)
            print(
                f"{label:8} run {run + 1}: ours {t:6.2f} s ({n / t:>9,.0f}/s, {mb:5.0f} MB)  "
                f"ogr2ogr {t2:6.2f} s ({n / t2:>9,.0f}/s)",
                flush=True,
            )
        results[label] = {"ours": ours, "ogr": ogr, "rss": rss}
        sql(f"DROP TABLE IF EXISTS bench_ogr_{label}")

    storage = storage_comparison(kept["points"], kept["polygons"])
    for vid in kept.values():
        from layers.models import LayerVersion

        drop_layer(LayerVersion.objects.get(pk=vid).layer_id)

    pts = statistics.median(results["points"]["ours"])
    pts_ogr = statistics.median(results["points"]["ogr"])
    pol = statistics.median(results["polygons"]["ours"])
    pol_ogr = statistics.median(results["polygons"]["ogr"])
    ratio_points = pts_ogr / pts
    ratio_polygons = pol_ogr / pol
    # Speed ratio ours/ogr2ogr in features per second over both datasets (1.0 = as fast).
    ratio = (
        (args.points + args.polygons)
        / (pts + pol)
        / ((args.points + args.polygons) / (pts_ogr + pol_ogr))
    )
    peak = max(results["points"]["rss"] + results["polygons"]["rss"])
    print()
    print(
        f"points   (median of {args.runs}): ours {args.points / pts:,.0f}/s  ogr2ogr {args.points / pts_ogr:,.0f}/s  ratio {ratio_points:.2f}"
    )
    print(
        f"polygons (median of {args.runs}): ours {args.polygons / pol:,.0f}/s  ogr2ogr {args.polygons / pol_ogr:,.0f}/s  ratio {ratio_polygons:.2f}"
    )
    print(
        "storage, same 1M point rows: shared table with composite GiST (version_id, geom) "
        f"{storage['single_load_s']:.2f} s to insert, per-version table + GiST build "
        f"{storage['per_version_load_s']:.2f} s; bbox query {storage['single_query_ms']:.2f} ms vs "
        f"{storage['per_version_query_ms']:.2f} ms"
    )
    print(
        f"RESULT ingest ratio={ratio:.2f} points_per_s={args.points / pts:.0f} "
        f"polygons_per_s={args.polygons / pol:.0f} peak_rss_mb={peak:.0f} "
        f"ogr2ogr_points_per_s={args.points / pts_ogr:.0f} ogr2ogr_polygons_per_s={args.polygons / pol_ogr:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
