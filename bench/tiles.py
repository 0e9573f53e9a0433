"""Vector tile benchmark: portal tiles over HTTP (gunicorn) against the raw ST_AsMVT query.

Builds the 200,000-parcel layer of the ingest benchmark (same generator, fixed seed, imported with
`manage.py import_layer`), publishes it in a map to a client town, runs `layers.tiles.overviews_prepare`
and then, for a fixed set of tiles at z10, z13 and z16:
  raw       the plain query (ST_AsMVT of ST_AsMVTGeom(ST_Transform(geom, 3857)), same attributes)
            run directly on one connection;
  portal    GET /tiles/layers/<id>/{z}/{x}/{y}.pbf as the client's manager through gunicorn with
            the tile cache off (bench/tiles_settings.py), then with the Redis cache on;
  cached/s  several load-generator processes hammering cached tiles for a few seconds.
Medians are over 5 runs per tile (after one warm-up) and then over the tiles of each zoom.

    make bench-tiles             # or: DEBUG=1 .venv/bin/python bench/tiles.py [--seconds 10]
"""

import argparse
import http.client
import json
import math
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from bench.ingest import DATA, EAST, NORTH, SOUTH, WEST, generate_parcels  # noqa: E402

N = 200_000
RUNS = 5
FIELDS = ["apn", "zoning"]  # what the benchmark map's style and popup need
PROJECT = "bench-tiles"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_set() -> dict[int, list[tuple[int, int, int]]]:
    """Every z10 tile of the extent, a 4×4 block at z13 and a 5×5 block at z16 at its centre."""
    x0, y0 = tile_of(WEST, NORTH, 10)
    x1, y1 = tile_of(EAST, SOUTH, 10)
    cx, cy = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
    out = {10: [(10, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]}
    for z, side in ((13, 4), (16, 5)):
        tx, ty = tile_of(cx, cy, z)
        out[z] = [
            (z, tx + dx, ty + dy)
            for dx in range(-(side // 2), side - side // 2)
            for dy in range(-(side // 2), side - side // 2)
        ]
    return out


def setup_layer() -> tuple[int, int, str]:
    """(layer id, version id, session cookie of the client manager) for the benchmark layer."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.common import bench_project
    from layers.models import Layer
    from maps.models import Map
    from maps.services import map_create, map_layer_add, map_layer_update, map_publish
    from projects.models import Membership

    User = get_user_model()
    project = bench_project(
        client_slug="bench-town", client_name="Bench town", slug=PROJECT, name="Bench tiles"
    )
    provider, client = project.agreement.provider, project.agreement.client
    analyst, _ = User.objects.get_or_create(username="bench-tiles-analyst")
    Membership.objects.get_or_create(user=analyst, agency=provider, defaults={"role": "analyst"})
    manager, _ = User.objects.get_or_create(username="bench-tiles-manager")
    Membership.objects.get_or_create(user=manager, agency=client, defaults={"role": "manager"})

    layer = (
        Layer.objects.filter(project=project, current_version__feature_count=N)
        .select_related("current_version")
        .first()
    )
    if layer is None:
        gpkg = DATA / f"parcels_{N}.gpkg"
        if not gpkg.exists():
            DATA.mkdir(parents=True, exist_ok=True)
            print(f"generating {gpkg.name} …", flush=True)
            generate_parcels(gpkg, N)
        print("importing with manage.py import_layer …", flush=True)
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "import_layer", str(gpkg),
             "--project", PROJECT, "--name", "Bench parcels", "--json"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode == 0:
            layer = Layer.objects.select_related("current_version").get(
                pk=json.loads(done.stdout.strip().splitlines()[-1])["id"]
            )
        else:
            print("import_layer failed; loading the same file with COPY instead:")
            print("  " + done.stderr.strip().splitlines()[-1][:300])
            layer = copy_load(gpkg, project)
    version = layer.current_version
    if not Map.objects.filter(project=project, versions__layer_versions=version).exists():
        new = map_create(project=project, title="Bench parcels", by=analyst, basemap="none")
        added = map_layer_add(map=new, layer=layer, by=analyst)
        map_layer_update(
            map_layer=added,
            by=analyst,
            style={"type": "categorized", "attribute": "zoning", "popup": [{"attribute": "apn"}]},
        )
        map_publish(map=new, by=analyst, notes="bench")
    browser = Client()
    browser.force_login(manager)
    return layer.pk, version.pk, browser.cookies["sessionid"].value


def copy_load(gpkg: Path, project: object) -> object:
    """The generated parcels straight into layers_feature (COPY of WKB + JSON), streamed in batches."""
    import pyogrio
    from django.db import connection, transaction

    from layers import partitions
    from layers.models import Layer, LayerVersion

    schema = [{"name": n, "type": t} for n, t in (("apn", "String"), ("zoning", "String"),
              ("area_sqft", "Real"), ("year_built", "Integer"), ("owner", "String"))]  # fmt: skip
    with transaction.atomic():
        layer = Layer.objects.create(project=project, name="Bench parcels")
        version = LayerVersion.objects.create(
            layer=layer, number=1, source_filename=gpkg.name, source_format="GPKG",
            geometry_type="Polygon", schema=schema, feature_count=N,
        )  # fmt: skip
        fid = 0
        with connection.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE bench_load (fid bigint, wkb bytea, props jsonb) ON COMMIT DROP"
            )
            with pyogrio.open_arrow(str(gpkg), batch_size=20_000, use_pyarrow=True) as (_m, reader):
                for batch in reader:
                    cols = batch.to_pydict()
                    geoms = (
                        cols.pop("wkb_geometry", None)
                        or cols.pop("geom", None)
                        or cols.pop("geometry")
                    )
                    names = list(cols)
                    with cur.cursor.copy("COPY bench_load (fid, wkb, props) FROM STDIN") as copy:
                        for i, wkb in enumerate(geoms):
                            props = {n: cols[n][i] for n in names}
                            copy.write_row((fid, wkb, json.dumps(props)))
                            fid += 1
            partitions.create_attached(cur, version.pk)
            cur.execute(
                "INSERT INTO layers_feature (version_id, fid, geom, properties) "
                "SELECT %s, fid, ST_SetSRID(ST_GeomFromWKB(wkb), 4326), props FROM bench_load",
                [version.pk],
            )
            cur.execute("ANALYZE layers_feature")
        layer.current_version = version
        layer.save(update_fields=["current_version"])
    return Layer.objects.select_related("current_version").get(pk=layer.pk)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def measure_raw(
    layer_id: int, version_id: int, tiles: list, *, parallel: bool
) -> tuple[list[float], list[int]]:
    from django.db import connection

    from layers.tiles import tile_sql

    per_tile, sizes = [], []
    with connection.cursor() as cur:
        cur.execute(f"SET max_parallel_workers_per_gather = {2 if parallel else 0}")
        for z, x, y in tiles:
            sql, params = tile_sql(
                version_id=version_id, layer_id=layer_id, z=z, x=x, y=y, fields=FIELDS, source="raw"
            )
            times = []
            for run in range(RUNS + 1):
                t = time.perf_counter()
                cur.execute(sql, params)
                data = cur.fetchone()[0]
                if run:
                    times.append(time.perf_counter() - t)
            per_tile.append(statistics.median(times))
            sizes.append(len(data or b""))
    return per_tile, sizes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    settings_module: str, workers: int, prefix: str, *, debug: bool = False
) -> tuple[subprocess.Popen, int]:
    from django.conf import settings

    port = free_port()
    # Served as in production: DEBUG off, persistent database connections.
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings_module, CACHE_KEY_PREFIX=prefix,
               DB_CONN_MAX_AGE="600", DEBUG="1" if debug else "0", SECRET_KEY=settings.SECRET_KEY,  # the session signer
               ALLOWED_HOSTS="localhost", SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0",
               PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore::UserWarning")  # fmt: skip
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application", "-b",
         f"127.0.0.1:{port}", "-w", str(workers), "-k", "gthread", "--threads", "2",
         "--keep-alive", "5", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


_connections: dict[int, http.client.HTTPConnection] = {}


def get(port: int, path: str, cookie: str) -> tuple[int, bytes]:
    # One kept-alive connection per process and port, as a browser does (HTTP/1.1).
    conn = _connections.get(port)
    if conn is None:
        conn = _connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}", "Host": "localhost"})
        response = conn.getresponse()
    except (http.client.HTTPException, OSError):
        conn.close()
        conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}", "Host": "localhost"})
        response = conn.getresponse()
    return response.status, response.read()


def tile_path(layer_id: int, version_id: int, z: int, x: int, y: int) -> str:
    # As the viewer asks: popup attributes too, only the colouring one where generalised.
    return (
        f"/tiles/layers/{layer_id}/{z}/{x}/{y}.pbf?v={version_id}"
        f"&fields={','.join(FIELDS)}&coarse=zoning"
    )


def measure_in_process(layer_id: int, version_id: int, tiles: list, cookie: str) -> list[float]:
    """The same requests through Django's handler without HTTP, tile cache off."""
    from django.test import Client, override_settings

    browser = Client(HTTP_HOST="localhost")
    browser.cookies["sessionid"] = cookie
    per_tile = []
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    ):
        for z, x, y in tiles:
            times = []
            for run in range(RUNS + 1):
                t = time.perf_counter()
                response = browser.get(tile_path(layer_id, version_id, z, x, y))
                assert response.status_code in (200, 204), response.status_code
                if run:
                    times.append(time.perf_counter() - t)
            per_tile.append(statistics.median(times))
    return per_tile


def measure_portal(port: int, layer_id: int, version_id: int, tiles: list, cookie: str):
    per_tile, sizes = [], []
    for z, x, y in tiles:
        times = []
        for run in range(RUNS + 1):
            t = time.perf_counter()
            status, body = get(port, tile_path(layer_id, version_id, z, x, y), cookie)
            if status not in (200, 204):
                raise SystemExit(f"tile {z}/{x}/{y} answered {status}: {body[:200]!r}")
            if run:
                times.append(time.perf_counter() - t)
        per_tile.append(statistics.median(times))
        sizes.append(len(body))
    return per_tile, sizes


def _hammer(args: tuple) -> int:
    port, paths, cookie, seconds = args
    _connections.clear()  # a forked client must not share its parent's socket
    done, i, end = 0, 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        status, _ = get(port, paths[i % len(paths)], cookie)
        done += status in (200, 204)
        i += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=3)
    args = parser.parse_args()

    from layers.tiles import overviews_prepare

    layer_id, version_id, cookie = setup_layer()
    t = time.perf_counter()
    overviews_prepare(version_id)
    prepare_s = time.perf_counter() - t
    print(f"overviews_prepare (overviews z0–z12): {prepare_s:.1f} s")
    tiles = tile_set()
    print(f"layer {layer_id} version {version_id}: {N:,} parcels; tiles per zoom: "
          + ", ".join(f"z{z}={len(t)}" for z, t in tiles.items()))  # fmt: skip

    results: dict[int, dict[str, float]] = {}
    for z, zoom_tiles in tiles.items():
        # The reference is the faster of the planner's default and no parallel workers.
        default_t, raw_s = measure_raw(layer_id, version_id, zoom_tiles, parallel=True)
        serial_t, _ = measure_raw(layer_id, version_id, zoom_tiles, parallel=False)
        results[z] = {
            "raw_ms": min(median_ms(default_t), median_ms(serial_t)),
            "raw_default_ms": median_ms(default_t),
            "raw_serial_ms": median_ms(serial_t),
            "raw_kb": max(raw_s) / 1024,
            "inproc_ms": median_ms(measure_in_process(layer_id, version_id, zoom_tiles, cookie)),
        }

    proc, port = start_gunicorn("bench.tiles_settings", 2, f"bench-{uuid.uuid4().hex[:8]}")
    try:
        for z, zoom_tiles in tiles.items():
            portal_t, portal_s = measure_portal(port, layer_id, version_id, zoom_tiles, cookie)
            results[z].update(
                portal_ms=median_ms(portal_t),
                portal_max_ms=max(portal_t) * 1000,
                portal_kb=max(portal_s) / 1024,
                portal_median_kb=statistics.median(portal_s) / 1024,
            )
    finally:
        proc.terminate()
        proc.wait()

    proc, port = start_gunicorn("portal.settings", args.workers, f"bench-{uuid.uuid4().hex[:8]}")
    try:
        paths = [tile_path(layer_id, version_id, *t) for zt in tiles.values() for t in zt]
        for path in paths:
            get(port, path, cookie)  # fill the cache
        small = [tile_path(layer_id, version_id, *t) for t in tiles[16]]
        rates = []
        for subset in (paths, small):
            with multiprocessing.Pool(args.clients) as pool:
                t = time.perf_counter()
                counts = pool.map(_hammer, [(port, subset, cookie, args.seconds)] * args.clients)
                rates.append(sum(counts) / (time.perf_counter() - t))
        cached_per_s, cached_z16_per_s = rates
    finally:
        proc.terminate()
        proc.wait()

    print()
    print(f"{'zoom':<5} {'raw ms':>8} {'raw KB':>8} {'portal ms':>10} {'max ms':>8} "
          f"{'KB max':>8} {'KB med':>8} {'ratio':>6}")  # fmt: skip
    for z, r in results.items():
        print(f"z{z} raw: planner default {r['raw_default_ms']:.2f} ms, "
              f"no parallel workers {r['raw_serial_ms']:.2f} ms; portal in-process (no HTTP) "
              f"{r['inproc_ms']:.2f} ms")  # fmt: skip
    for z, r in results.items():
        print(
            f"z{z:<4} {r['raw_ms']:8.2f} {r['raw_kb']:8.1f} {r['portal_ms']:10.2f} "
            f"{r['portal_max_ms']:8.1f} {r['portal_kb']:8.1f} {r['portal_median_kb']:8.1f} "
            f"{r['portal_ms'] / r['raw_ms']:6.2f}"
        )
    print(f"cached tiles: {cached_per_s:,.0f}/s over all the tiles above, {cached_z16_per_s:,.0f}/s "
          f"over the z16 ones ({args.clients} client processes, {args.workers} gunicorn workers, "
          f"{args.seconds:g} s each, load generator on the same 2 cores)")  # fmt: skip
    print(
        "portal z10/z13 read the generalised overviews (z≤12) or raw rows (z≥13); "
        "raw z10 is the ungeneralised reference."
    )
    r10, r13, r16 = results[10], results[13], results[16]
    print(
        f"RESULT tiles ratio={r13['portal_ms'] / r13['raw_ms']:.2f} "
        f"z10_ms={r10['portal_max_ms']:.1f} z10_kb={r10['portal_kb']:.0f} "
        f"z10_raw_ms={r10['raw_ms']:.0f} z10_raw_kb={r10['raw_kb']:.0f} "
        f"z16_added_ms={r16['portal_ms'] - r16['raw_ms']:.2f} "
        f"z16_added_inprocess_ms={r16['inproc_ms'] - r16['raw_ms']:.2f} "
        f"cached_per_s={cached_per_s:.0f} cached_z16_per_s={cached_z16_per_s:.0f} "
        f"prepare_s={prepare_s:.0f}"
    )


if __name__ == "__main__":
    main()
