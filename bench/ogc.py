"""OGC API benchmark: /ogc/ (gunicorn) against tipg (uvicorn) and raw SQL, same 200,000 parcels.

Reuses the parcel layer of the tile benchmark (bench/tiles.py: same generator, imported with
`manage.py import_layer`, published to a client town). tipg serves a flat copy of the same rows
(bench_tipg.parcels: typed columns, GiST index: its best case). For pages of 1,000 items:
  first page, page 100 (ours: the next-link cursor; tipg: offset=99000), a bbox, a CQL2 filter;
each the median of RUNS requests after a warm-up, plus the same query run directly in SQL.
Then `ogr2ogr` reads the whole layer through each server (OAPIF, PAGE_SIZE=10000) against a
raw `ogr2ogr PG:` read of the flat table, all written to GeoJSONSeq.

    make bench-ogc          # or: DEBUG=1 .venv/bin/python bench/ogc.py
tipg is installed at run time into bench/data/tipg-venv (pip install tipg uvicorn).
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

from bench.tiles import N, setup_layer  # noqa: E402  (django.setup() happens there)

RUNS = 5
PAGE = 1000
OURS_PORT, TIPG_PORT = 9510, 9511  # this helper's port range
TIPG_VENV = ROOT / "bench" / "data" / "tipg-venv"
TIPG_ROLE, TIPG_PASSWORD = "bench_tipg", "bench-tipg-local"  # noqa: S105 - a local bench role
BBOX = (-122.30, 38.30, -122.28, 38.32)  # about 2,000 parcels of the extent
CQL = "zoning = 'R-1' AND year_built < 1950"


def wait_for(port: int, proc: subprocess.Popen, path: str = "/") -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"server on {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on {port} did not answer")


def timed_get(port: int, path: str, headers: dict[str, str]) -> tuple[float, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t = time.perf_counter()
    conn.request(
        "GET", path, headers={"Host": "localhost", "Accept": "application/geo+json", **headers}
    )
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - t
    if response.status != 200:
        raise SystemExit(f"GET {path} on {port}: {response.status} {body[:300]!r}")
    return elapsed, json.loads(body)


def median_ms(port: int, path: str, headers: dict[str, str]) -> tuple[float, int]:
    times, count = [], 0
    for run in range(RUNS + 1):
        elapsed, body = timed_get(port, path, headers)
        count = len(body["features"])
        if run:
            times.append(elapsed)
    return statistics.median(times) * 1000, count


def raw_ms(sql: str, params: list) -> float:
    from django.db import connection

    times = []
    with connection.cursor() as cur:
        for run in range(RUNS + 1):
            t = time.perf_counter()
            cur.execute(sql, params)
            rows = cur.fetchall()
            json.dumps([r for r in rows], default=str)
            if run:
                times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def prepare_tipg_table(version_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS bench_tipg")
        cur.execute("SELECT to_regclass('bench_tipg.parcels')")
        if cur.fetchone()[0] is None:
            cur.execute(
                "CREATE TABLE bench_tipg.parcels AS SELECT fid AS id, "
                "geom::geometry(Polygon, 4326) AS geom, properties->>'apn' AS apn, "
                "properties->>'zoning' AS zoning, (properties->>'area_sqft')::float8 AS area_sqft, "
                "(properties->>'year_built')::int AS year_built, properties->>'owner' AS owner "
                "FROM layers_feature WHERE version_id = %s ORDER BY fid",
                [version_id],
            )
            cur.execute("ALTER TABLE bench_tipg.parcels ADD PRIMARY KEY (id)")
            cur.execute("CREATE INDEX ON bench_tipg.parcels USING gist (geom)")
            cur.execute("ANALYZE bench_tipg.parcels")
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [TIPG_ROLE])
        if cur.fetchone() is None:
            cur.execute(f"CREATE ROLE {TIPG_ROLE} LOGIN PASSWORD %s", [TIPG_PASSWORD])
        cur.execute(f"GRANT USAGE ON SCHEMA bench_tipg TO {TIPG_ROLE}")
        cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA bench_tipg TO {TIPG_ROLE}")


def start_ours(token_env: dict[str, str]) -> subprocess.Popen:
    from django.conf import settings

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings", DB_CONN_MAX_AGE="600",
               DEBUG="0", SECRET_KEY=settings.SECRET_KEY, ALLOWED_HOSTS="localhost,127.0.0.1",
               SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0", PYTHONPATH=str(ROOT),
               PYTHONWARNINGS="ignore::UserWarning", **token_env)  # fmt: skip
    return subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi:application", "-b",
         f"127.0.0.1:{OURS_PORT}", "-w", "2", "-k", "gthread", "--threads", "2",
         "--keep-alive", "5", "--log-level", "warning", "--timeout", "300"],
        cwd=ROOT, env=env,
    )  # fmt: skip


def start_tipg() -> subprocess.Popen:
    from django.db import connection

    if not (TIPG_VENV / "bin" / "uvicorn").exists():
        print("installing tipg and uvicorn into bench/data/tipg-venv …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run(
            [str(TIPG_VENV / "bin" / "pip"), "install", "-q", "tipg", "uvicorn"], check=True
        )
    name = connection.settings_dict["NAME"]
    env = dict(os.environ, DATABASE_URL=f"postgresql://{TIPG_ROLE}:{TIPG_PASSWORD}@127.0.0.1:5432/{name}",
               TIPG_DB_SCHEMAS='["bench_tipg"]', TIPG_MAX_FEATURES_PER_QUERY="10000")  # fmt: skip
    return subprocess.Popen(
        [str(TIPG_VENV / "bin" / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1",
         "--port", str(TIPG_PORT), "--workers", "2", "--log-level", "warning"],
        env=env, cwd=str(TIPG_VENV),
    )  # fmt: skip


def ogr2ogr_s(source: list[str], out: Path, env: dict[str, str]) -> tuple[float, int]:
    out.unlink(missing_ok=True)
    t = time.perf_counter()
    done = subprocess.run(["ogr2ogr", "-f", "GeoJSONSeq", str(out), *source],
                          capture_output=True, text=True, env=env, check=False)  # fmt: skip
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"ogr2ogr {source[:2]} failed: {done.stderr[-500:]}")
    with out.open() as f:
        count = sum(1 for _ in f)
    return elapsed, count


def main() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from ogc.services import token_create

    layer_id, version_id, _cookie = setup_layer()
    cid = f"layer-{layer_id}"
    manager = get_user_model().objects.get(username="bench-tiles-manager")
    _, token = token_create(user=manager, name="bench-ogc", days=1, by=None)
    auth = {"Authorization": f"Bearer {token}"}
    prepare_tipg_table(version_id)
    with connection.cursor() as cur:
        cur.execute("SELECT fid FROM layers_feature WHERE version_id = %s ORDER BY fid "
                    "OFFSET %s LIMIT 1", [version_id, 99 * PAGE - 1])  # fmt: skip
        page100_after = cur.fetchone()[0]

    bbox = ",".join(str(v) for v in BBOX)
    cql = urllib.parse.quote(CQL)
    ours_base = f"/ogc/collections/{cid}/items?limit={PAGE}"
    tipg_base = f"/collections/bench_tipg.parcels/items?limit={PAGE}"
    cases = {
        "first": (ours_base, tipg_base),
        "page100": (f"{ours_base}&cursor=n{page100_after}", f"{tipg_base}&offset={99 * PAGE}"),
        "bbox": (f"{ours_base}&bbox={bbox}", f"{tipg_base}&bbox={bbox}"),
        "cql2": (f"{ours_base}&filter={cql}&filter-lang=cql2-text",
                 f"{tipg_base}&filter={cql}&filter-lang=cql2-text"),
    }  # fmt: skip
    raw_sql = (
        "SELECT fid, ST_AsGeoJSON(geom, 7), properties::text FROM layers_feature "
        "WHERE version_id = %s::bigint {where} ORDER BY fid LIMIT %s"
    )
    raw = {
        "first": raw_ms(raw_sql.format(where=""), [version_id, PAGE]),
        "page100": raw_ms(raw_sql.format(where="AND fid > %s"), [version_id, page100_after, PAGE]),
        "bbox": raw_ms(
            raw_sql.format(where="AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"),
            [version_id, *BBOX, PAGE],
        ),  # fmt: skip
        "cql2": raw_ms(
            raw_sql.format(
                where="AND properties->>'zoning' = 'R-1' AND "
                "(properties->>'year_built')::float8 < 1950"
            ),
            [version_id, PAGE],
        ),  # fmt: skip
    }

    results: dict[str, dict[str, float]] = {k: {"raw": v} for k, v in raw.items()}
    tmp = ROOT / "bench" / "data"
    gdal_env = dict(
        os.environ, GDAL_HTTP_AUTH="BASIC", GDAL_HTTP_USERPWD=f"bench-tiles-manager:{token}"
    )
    ours, tipg = start_ours({}), start_tipg()
    try:
        wait_for(OURS_PORT, ours, "/ogc/conformance")
        wait_for(TIPG_PORT, tipg, "/conformance")
        for name, (ours_path, tipg_path) in cases.items():
            results[name]["ours"], n_ours = median_ms(OURS_PORT, ours_path, auth)
            results[name]["tipg"], n_tipg = median_ms(TIPG_PORT, tipg_path, {})
            results[name]["n"] = n_ours
            if n_ours != n_tipg:
                print(f"  note: {name}: ours returned {n_ours}, tipg {n_tipg} features")
        full = {}
        full["ours"] = ogr2ogr_s([f"OAPIF:http://127.0.0.1:{OURS_PORT}/ogc", cid, "-oo", "PAGE_SIZE=10000"],
                                 tmp / "ogc_ours.geojsonl", gdal_env)  # fmt: skip
        full["tipg"] = ogr2ogr_s([f"OAPIF:http://127.0.0.1:{TIPG_PORT}", "bench_tipg.parcels", "-oo", "PAGE_SIZE=10000"],
                                 tmp / "ogc_tipg.geojsonl", dict(os.environ))  # fmt: skip
    finally:
        for proc in (ours, tipg):
            proc.terminate()
            proc.wait()
    name = connection.settings_dict["NAME"]
    full["raw"] = ogr2ogr_s(
        [f"PG:dbname={name}", "bench_tipg.parcels"], tmp / "ogc_raw.geojsonl", dict(os.environ)
    )

    print()
    print(f"{N:,} parcels; pages of {PAGE:,} items; medians of {RUNS} requests (ms)")
    print(f"{'case':<9} {'ours':>8} {'tipg':>8} {'raw SQL':>8} {'ours/tipg':>10} {'features':>9}")
    for case, r in results.items():
        print(
            f"{case:<9} {r['ours']:8.1f} {r['tipg']:8.1f} {r['raw']:8.1f} {r['ours'] / r['tipg']:10.2f} {int(r['n']):9d}"
        )
    print(
        "ogr2ogr full read (s, features): "
        + ", ".join(f"{k} {v[0]:.1f} s ({v[1]:,})" for k, v in full.items())
    )
    first, deep = results["first"], results["page100"]
    worst = max(r["ours"] / r["tipg"] for r in results.values())
    print(
        f"RESULT ogc page_ms={first['ours']:.1f} tipg_page_ms={first['tipg']:.1f} "
        f"ratio={first['ours'] / first['tipg']:.2f} deep_page_ratio={deep['ours'] / first['ours']:.2f} "
        f"full_read_s={full['ours'][0]:.1f} tipg_full_read_s={full['tipg'][0]:.1f} "
        f"raw_full_read_s={full['raw'][0]:.1f} full_read_ratio={full['ours'][0] / full['raw'][0]:.2f} "
        f"worst_case_ratio={worst:.2f} page100_ms={deep['ours']:.1f} tipg_page100_ms={deep['tipg']:.1f} "
        f"bbox_ms={results['bbox']['ours']:.1f} tipg_bbox_ms={results['bbox']['tipg']:.1f} "
        f"cql2_ms={results['cql2']['ours']:.1f} tipg_cql2_ms={results['cql2']['tipg']:.1f}"
    )


if __name__ == "__main__":
    main()
