"""Raster benchmark: COG conversion against gdal_translate, tiles against rio-tiler and titiler.

Generates with a fixed seed a 20,000 × 20,000 8-bit RGB orthophoto and a 10,000 × 10,000 Float32
DEM (tiled, uncompressed GeoTIFFs in bench/data/raster), then in one run:
  convert   `manage.py import_layer` (the whole import: process start, checks, COG driver,
            validation, spot checks, statistics, storage) against Debian's `gdal_translate -of
            COG` with exactly the creation options our conversion chose
            (`layers.raster.convert.creation_args`); best of two alternating runs of each, wall
            time ratio (and the ratio of the job's own conversion time), peak RSS of our process;
  tiles     the same ortho tiles at z13–z18: the portal over HTTP (gunicorn, tile cache off)
            against rio-tiler's Reader reading the same COG in-process (tile + PNG encode) and
            against titiler serving it over HTTP (uvicorn; its own venv, installed at bench time),
            the three taking turns on each tile (a load change on the shared machine hits all
            alike); then cached tiles per second through the portal;
  identify  pixel identify on the DEM over HTTP.

    make bench-raster            # or: DEBUG=1 .venv/bin/python bench/raster.py
"""

import argparse
import json
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from bench.tiles import _connections, get, start_gunicorn, tile_of  # noqa: E402

DATA = ROOT / "bench" / "data" / "raster"
PROJECT = "bench-raster"
SEED = 20261201
UTM = 32610
ORTHO_SIDE, ORTHO_PIXEL = 20_000, 0.5
DEM_SIDE, DEM_PIXEL = 10_000, 1.0
ORIGIN = (550_000.0, 4_250_000.0)  # top-left, near the vector benchmarks' town
TITILER_PORT = 9400 + 4 * 10 + 7  # within this helper's 94xx range
RUNS = 5


def generate(path: Path, *, side: int, pixel: float, kind: str) -> Path:
    """A fixed-seed raster written strip by strip (bounded memory)."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    if path.exists():
        return path
    rng = np.random.default_rng(SEED)
    bands, dtype = (3, "uint8") if kind == "ortho" else (1, "float32")
    profile = {
        "driver": "GTiff", "width": side, "height": side, "count": bands, "dtype": dtype,
        "crs": f"EPSG:{UTM}", "transform": from_origin(*ORIGIN, pixel, pixel), "tiled": True,
        "blockxsize": 512, "blockysize": 512, "BIGTIFF": "IF_SAFER",
    }  # fmt: skip
    if kind == "dem":
        profile["nodata"] = -9999.0
    tmp = path.with_suffix(".part.tif")
    strip = 512
    x = np.arange(side, dtype="float32")
    with rasterio.open(tmp, "w", **profile) as out:
        for row in range(0, side, strip):
            h = min(strip, side - row)
            y = np.arange(row, row + h, dtype="float32")[:, None]
            if kind == "ortho":
                base = (np.sin(x / 300) * np.cos(y / 410) + 1) * 100
                noise = rng.integers(0, 16, (3, h, side), dtype="uint8")
                data = np.stack([base + 10, base * 0.9 + 20, base * 0.7 + 30]) + noise
                out.write(data.clip(0, 255).astype("uint8"), window=Window(0, row, side, h))
            else:
                z = 200 + 80 * np.sin(x / 700) * np.cos(y / 900) + y * 0.01
                z = z + rng.normal(0, 0.3, (h, side))
                out.write(z.astype("float32")[None], window=Window(0, row, side, h))
    tmp.rename(path)
    return path


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of the process, stdout) of one command."""
    start = time.perf_counter()
    out_file, err_file = (DATA / "cmd.out").open("w+"), (DATA / "cmd.err").open("w+")
    proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, env=env, text=True)
    # VmHWM is the process's peak RSS since exec (ru_maxrss of a child would also count the
    # fork of this big benchmark process before exec).
    peak_kb = 0
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak_kb = max(peak_kb, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    out_file.seek(0)
    err_file.seek(0)
    out, err = out_file.read(), err_file.read()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed: {err.strip()[-500:]}")
    return seconds, peak_kb / 1024, out


def setup_users() -> tuple[Any, Any, Any]:
    from django.contrib.auth import get_user_model

    from bench.common import bench_project
    from projects.models import Membership

    User = get_user_model()
    project = bench_project(
        client_slug="bench-raster-town", client_name="Bench raster town", slug=PROJECT,
        name="Bench raster",
    )  # fmt: skip
    analyst, _ = User.objects.get_or_create(username="bench-raster-analyst")
    Membership.objects.get_or_create(
        user=analyst, agency=project.agreement.provider, defaults={"role": "analyst"}
    )
    manager, _ = User.objects.get_or_create(username="bench-raster-manager")
    Membership.objects.get_or_create(
        user=manager, agency=project.agreement.client, defaults={"role": "manager"}
    )
    return project, analyst, manager


CONVERT_ROUNDS = 2  # ours, gdal, gdal, ours: best of each, so a burst of load hits both sides


def convert(source: Path, kind: str) -> dict[str, Any]:
    import rasterio
    from django.conf import settings

    from layers.models import RasterVersion
    from layers.raster.convert import creation_args, plan_for

    env = dict(os.environ)
    reference = DATA / f"{kind}_gdal_cog.tif"
    # The reference gets exactly the creation options our conversion chose for this file.
    with rasterio.open(source) as dataset:
        options = creation_args(plan_for(dataset))

    def ours() -> tuple[float, float, int]:
        seconds, rss, out = run_measured(
            [sys.executable, str(ROOT / "manage.py"), "import_layer", str(source), "--project",
             PROJECT, "--name", f"Bench {kind} {uuid.uuid4().hex[:6]}", "--json"],
            env,
        )  # fmt: skip
        return seconds, rss, json.loads(out.strip().splitlines()[-1])["id"]

    def gdal() -> tuple[float, float, float]:
        reference.unlink(missing_ok=True)
        seconds, rss, _ = run_measured(
            ["gdal_translate", "-q", "-of", "COG", *options, str(source), str(reference)],
            dict(env, GDAL_CACHEMAX=str(settings.RASTER_GDAL_CACHE_MB)),
        )
        size = reference.stat().st_size / 1024**2
        reference.unlink()
        return seconds, rss, size

    runs_ours, runs_gdal = [], []
    for i in range(CONVERT_ROUNDS):
        pair = [ours, gdal] if i % 2 == 0 else [gdal, ours]
        for step in pair:
            (runs_ours if step is ours else runs_gdal).append(step())
    best, ref = min(runs_ours), min(runs_gdal)
    job_s = RasterVersion.objects.get(version__layer_id=best[2]).convert_seconds
    return {
        "layer_id": best[2], "ours_s": best[0], "gdal_s": ref[0], "job_s": job_s,
        "rss_mb": max(r[1] for r in runs_ours), "gdal_rss_mb": ref[1], "gdal_mb": ref[2],
        "ours_all": [round(r[0], 1) for r in runs_ours],
        "gdal_all": [round(r[0], 1) for r in runs_gdal],
    }  # fmt: skip


def publish(project: Any, analyst: Any, layer_ids: list[int]) -> dict[int, int]:
    from layers.models import Layer
    from maps.services import map_create, map_layer_add, map_publish

    new = map_create(project=project, title="Bench raster", by=analyst, basemap="none")
    for layer_id in layer_ids:
        map_layer_add(map=new, layer=Layer.objects.get(pk=layer_id), by=analyst)
    map_publish(map=new, by=analyst, notes="bench")
    return dict(Layer.objects.filter(pk__in=layer_ids).values_list("pk", "current_version_id"))


def ortho_tiles() -> list[tuple[int, int, int]]:
    """A 3×3 block of tiles at the ortho's centre at each of z13–z18 (z18 ≈ its 0.5 m pixel)."""
    from pyproj import Transformer

    cx = ORIGIN[0] + ORTHO_SIDE * ORTHO_PIXEL / 2
    cy = ORIGIN[1] - ORTHO_SIDE * ORTHO_PIXEL / 2
    lon, lat = Transformer.from_crs(UTM, 4326, always_xy=True).transform(cx, cy)
    out = []
    for z in range(13, 19):
        x, y = tile_of(lon, lat, z)
        out += [(z, x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    return out


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


def time_each(paths: list[str], fetch: Any) -> list[float]:
    """Per-path median ms of RUNS requests after one warm-up."""
    out = []
    for path in paths:
        times = []
        for run in range(RUNS + 1):
            t = time.perf_counter()
            status = fetch(path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
            if run:
                times.append((time.perf_counter() - t) * 1000)
        out.append(statistics.median(times))
    return out


def riotiler_tile(src: Any, tile: tuple[int, int, int]) -> int:
    """rio-tiler alone, in this process: one open Reader, tile(x, y, z) and PNG encoding."""
    z, x, y = tile
    src.tile(x, y, z, tilesize=256, indexes=[1, 2, 3]).render(img_format="PNG")
    return 200


def time_interleaved(fetchers: dict[str, Any], count: int) -> dict[str, list[float]]:
    """Per-item median ms of each fetcher (item index -> status), after one warm-up each: the
    fetchers take turns on the same item, so they share whatever load the machine has then."""
    out: dict[str, list[float]] = {name: [] for name in fetchers}
    for i in range(count):
        times: dict[str, list[float]] = {name: [] for name in fetchers}
        for run in range(RUNS + 1):
            for name, fetch in fetchers.items():
                t = time.perf_counter()
                status = fetch(i)
                if status != 200:
                    raise SystemExit(f"{name} answered {status} for tile {i}")
                if run:
                    times[name].append((time.perf_counter() - t) * 1000)
        for name in fetchers:
            out[name].append(statistics.median(times[name]))
    return out


def reference_sizes(cog: str, tiles: list[tuple[int, int, int]]) -> float:
    """Mean KB of rio-tiler's PNGs of the same tiles (its default encoding, zlib level 6)."""
    from rio_tiler.io import Reader

    with Reader(cog) as src:
        sizes = [
            len(src.tile(x, y, z, tilesize=256, indexes=[1, 2, 3]).render(img_format="PNG"))
            for z, x, y in tiles
        ]
    return statistics.mean(sizes) / 1024


def start_titiler() -> subprocess.Popen | None:
    venv = DATA / "titiler-venv"
    if not (venv / "bin" / "uvicorn").exists():
        print("installing titiler.application and uvicorn in their own venv …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "titiler.application", "uvicorn"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print("titiler could not be installed: " + done.stderr.strip()[-300:])
            return None
    proc = subprocess.Popen(
        [str(venv / "bin" / "uvicorn"), "titiler.application.main:app", "--port",
         str(TITILER_PORT), "--log-level", "warning"],
        env=dict(os.environ, GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_CACHEMAX="256"),
    )  # fmt: skip
    for _ in range(200):
        try:
            if get(TITILER_PORT, "/healthz", "")[0] == 200:
                return proc
        except OSError:
            pass
        _connections.pop(TITILER_PORT, None)
        time.sleep(0.2)
    proc.kill()
    return None


def _hammer(args: tuple) -> int:
    port, paths, cookie, seconds = args
    _connections.clear()
    done, i, end = 0, 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        done += get(port, paths[i % len(paths)], cookie)[0] == 200
        i += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="a 1/10 smoke run (not the figures)")
    args = parser.parse_args()
    global ORTHO_SIDE, DEM_SIDE
    if args.small:
        ORTHO_SIDE, DEM_SIDE = ORTHO_SIDE // 10, DEM_SIDE // 10
    from django.test import Client

    from layers.models import RasterVersion
    from layers.raster.storage import gdal_path

    DATA.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    ortho = generate(
        DATA / f"ortho_{ORTHO_SIDE}.tif", side=ORTHO_SIDE, pixel=ORTHO_PIXEL, kind="ortho"
    )
    dem = generate(DATA / f"dem_{DEM_SIDE}.tif", side=DEM_SIDE, pixel=DEM_PIXEL, kind="dem")
    print(f"sources ready in {time.perf_counter() - t:.0f} s: {ortho.stat().st_size / 1024**3:.2f} "
          f"GB ortho, {dem.stat().st_size / 1024**3:.2f} GB DEM")  # fmt: skip

    project, analyst, manager = setup_users()
    conversions = {}
    for kind, source in (("ortho", ortho), ("dem", dem)):
        print(f"converting the {kind} (ours, then gdal_translate) …", flush=True)
        conversions[kind] = convert(source, kind)
    versions = publish(project, analyst, [c["layer_id"] for c in conversions.values()])
    ortho_id, dem_id = conversions["ortho"]["layer_id"], conversions["dem"]["layer_id"]
    ortho_raster = RasterVersion.objects.get(version_id=versions[ortho_id])
    cog = gdal_path(ortho_raster.cog)

    browser = Client()
    browser.force_login(manager)
    cookie = browser.cookies["sessionid"].value
    from rio_tiler.io import Reader

    with Reader(cog) as src:
        tiles = [t for t in ortho_tiles() if src.tile_exists(t[1], t[2], t[0])]
    ours_paths = [f"/tiles/layers/{ortho_id}/{z}/{x}/{y}.png?v={versions[ortho_id]}"
                  for z, x, y in tiles]  # fmt: skip

    # The three servers of the same tiles run side by side and are timed in turn on each tile,
    # so a change of load on the shared machine hits them alike (same-run, same-minute ratios).
    reference_kb = reference_sizes(cog, tiles)
    titiler = start_titiler()
    proc, port = start_gunicorn("bench.tiles_settings", 2, f"bench-{uuid.uuid4().hex[:8]}")
    titiler_ms: list[float] = []
    titiler_kb = float("nan")
    load_before = os.getloadavg()[0]
    try:
        with Reader(cog) as src:
            fetchers = {
                "rio-tiler": lambda i: riotiler_tile(src, tiles[i]),
                "portal": lambda i: get(port, ours_paths[i], cookie)[0],
            }
            if titiler is not None:
                titiler_paths = [
                    f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={cog}" for z, x, y in tiles
                ]
                fetchers["titiler"] = lambda i: get(TITILER_PORT, titiler_paths[i], "")[0]
            timed = time_interleaved(fetchers, len(tiles))
        reference_ms, ours_ms = timed["rio-tiler"], timed["portal"]
        ours_kb = statistics.mean(len(get(port, p, cookie)[1]) for p in ours_paths) / 1024
        if titiler is not None:
            titiler_ms = timed["titiler"]
            titiler_kb = (
                statistics.mean(len(get(TITILER_PORT, p, "")[1]) for p in titiler_paths) / 1024
            )
        point_paths = []
        lon0, lat0 = -122.43, 38.39
        for i in range(40):
            point_paths.append(
                f"/tiles/layers/{dem_id}/identify.json?v={versions[dem_id]}"
                f"&lon={lon0 + (i % 8) * 0.008:.6f}&lat={lat0 - (i // 8) * 0.008:.6f}"
            )
        identify_ms = time_each(point_paths, lambda p: get(port, p, cookie)[0])
    finally:
        proc.terminate()
        proc.wait()
        if titiler is not None:
            titiler.terminate()
            titiler.wait()

    proc, port = start_gunicorn("portal.settings", 3, f"bench-{uuid.uuid4().hex[:8]}")
    try:
        for path in ours_paths:
            get(port, path, cookie)
        with multiprocessing.Pool(args.clients) as pool:
            t = time.perf_counter()
            counts = pool.map(_hammer, [(port, ours_paths, cookie, args.seconds)] * args.clients)
            cached_per_s = sum(counts) / (time.perf_counter() - t)
    finally:
        proc.terminate()
        proc.wait()

    print()
    for kind, c in conversions.items():
        print(f"{kind}: ours {c['ours_s']:.1f} s (runs {c['ours_all']}; peak RSS {c['rss_mb']:.0f} "
              f"MB; inside the job {c['job_s']:.1f} s), gdal_translate -of COG {c['gdal_s']:.1f} s "
              f"(runs {c['gdal_all']}; peak RSS {c['gdal_rss_mb']:.0f} MB, {c['gdal_mb']:.0f} MB), "
              f"ratio {c['ours_s'] / c['gdal_s']:.2f}, in-job ratio "
              f"{c['job_s'] / c['gdal_s']:.2f}")  # fmt: skip
    print(f"ortho stored: {ortho_raster.size_out / 1024**2:.0f} MB, conversion inside the job "
          f"{ortho_raster.convert_seconds:.1f} s")  # fmt: skip
    print(f"{'zoom':<5} {'rio-tiler ms':>12} {'portal ms':>10} {'titiler ms':>11}")
    for z in sorted({t[0] for t in tiles}):
        idx = [i for i, t in enumerate(tiles) if t[0] == z]
        ref = statistics.median(reference_ms[i] for i in idx)
        ours = statistics.median(ours_ms[i] for i in idx)
        tit = statistics.median(titiler_ms[i] for i in idx) if titiler_ms else float("nan")
        print(f"z{z:<4} {ref:12.1f} {ours:10.1f} {tit:11.1f}")
    p50, p95 = statistics.median(ours_ms), percentile(ours_ms, 0.95)
    ref50 = statistics.median(reference_ms)
    tit50 = statistics.median(titiler_ms) if titiler_ms else float("nan")
    tit95 = percentile(titiler_ms, 0.95) if titiler_ms else float("nan")
    print(f"tiles p50/p95: portal {p50:.1f}/{p95:.1f} ms (HTTP, uncached), rio-tiler in-process "
          f"{ref50:.1f}/{percentile(reference_ms, 0.95):.1f} ms, titiler {tit50:.1f}/{tit95:.1f} ms")  # fmt: skip
    print(f"mean PNG size: portal {ours_kb:.1f} KB (zlib 2), rio-tiler {reference_kb:.1f} KB, "
          f"titiler {titiler_kb:.1f} KB (zlib 6); load average {load_before:.1f} before the tile "
          f"timings, {os.getloadavg()[0]:.1f} at the end")  # fmt: skip
    print(f"cached tiles: {cached_per_s:,.0f}/s ({args.clients} clients, 3 gunicorn workers, same "
          f"2 cores); identify p50 {statistics.median(identify_ms):.1f} ms, p95 "
          f"{percentile(identify_ms, 0.95):.1f} ms")  # fmt: skip
    # convert_ratio is the conversion the issue times: the job's own conversion (COG write,
    # validation, spot checks, statistics) against gdal_translate. import_ratio is the whole
    # `import_layer` process, which also pays Python/Django start-up and copying the analyst's
    # original into storage, neither of which the bare reference does.
    import_ratio = max(c["ours_s"] / c["gdal_s"] for c in conversions.values())
    job_ratio = max(c["job_s"] / c["gdal_s"] for c in conversions.values())
    rss = max(c["rss_mb"] for c in conversions.values())
    print(
        f"RESULT raster convert_ratio={job_ratio:.2f} import_ratio={import_ratio:.2f} "
        f"tile_ratio={p50 / ref50:.2f} "
        f"titiler_ratio={p50 / tit50:.2f} titiler_p95_ratio={p95 / tit95:.2f} "
        f"peak_rss_mb={rss:.0f} identify_ms={statistics.median(identify_ms):.1f} "
        f"cached_per_s={cached_per_s:.0f}"
    )


if __name__ == "__main__":
    main()
