"""Big downloads benchmark: peak memory of the web process for 1,000,000-feature downloads.

Serves the portal with gunicorn (one sync worker, so one process holds the whole request) and a
real Celery worker, then downloads a layer of 1,000,000 points:
- GeoJSON and CSV streamed straight from the database (the threshold is raised so they stream);
- GeoPackage as an export job: the worker builds the file into storage, the web process serves it.
For each it reports the peak RSS (VmHWM, reset before each download) of the process that did the
work, the time, and a same-run reference: the same rows dumped by `psql COPY … TO STDOUT` (text
formats) and by Debian's `ogr2ogr` from PostGIS (GeoPackage). Target: web peak < 300 MB.

    make bench-downloads          # or: DEBUG=1 .venv/bin/python bench/downloads.py [--features N]
"""

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
PORT = 9750
LAYER_NAME = "Bench downloads"
MB = 1024 * 1024


def _peak_reset(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def bench_layer(n: int) -> Any:
    """A layer of n points with 4 attributes, generated in SQL once and kept between runs."""
    from django.db import connection, transaction

    from bench.common import bench_project
    from layers import partitions
    from layers.models import Layer, LayerVersion

    project = bench_project(
        client_slug="bench-downloads-town",
        client_name="Bench downloads town",
        slug="bench-downloads",
        name="Bench downloads",
    )
    layer = Layer.objects.filter(project=project, name=LAYER_NAME).first()
    if layer and layer.current_version and layer.current_version.feature_count == n:
        return layer
    if layer:
        from layers.services import layer_delete

        layer_delete(layer=layer, by=None)
    with transaction.atomic():
        layer = Layer.objects.create(project=project, name=LAYER_NAME)
        version = LayerVersion.objects.create(
            layer=layer,
            number=1,
            source_filename="generated.gpkg",
            source_format="GPKG",
            geometry_type="Point",
            source_srid=4326,
            schema=[
                {"name": "asset_id", "type": "integer"},
                {"name": "kind", "type": "string"},
                {"name": "condition", "type": "real"},
                {"name": "label", "type": "string"},
            ],
        )
        with connection.cursor() as cur:
            table = partitions.create(cur, version.pk)
            cur.execute(
                f"INSERT INTO {table} (version_id, fid, geom, properties) "
                "SELECT %s, i, ST_SetSRID(ST_MakePoint(-122.36 + random() * 0.2, "
                "38.22 + random() * 0.2), 4326), jsonb_build_object('asset_id', i, "
                "'kind', (ARRAY['hydrant','valve','inlet','manhole'])[1 + i %% 4], "
                "'condition', round((random() * 10)::numeric, 2), 'label', 'A-' || lpad(i::text, 7, '0')) "
                "FROM generate_series(0, %s - 1) i",
                [version.pk, n],
            )
            partitions.index(cur, version.pk)
            partitions.attach(cur, [version.pk])
        version.feature_count = n
        version.save(update_fields=["feature_count"])
        layer.current_version = version
        layer.save(update_fields=["current_version"])
    return layer


def session_cookie() -> str:
    """A logged-in session of the bench analyst (its session id), as the other benches make one."""
    from django.contrib.auth.models import User
    from django.test import Client

    from projects.models import Agency, Membership
    from tests.factories import make_user

    user = User.objects.filter(username="bench-downloads").first()
    if user is None:
        user = make_user(
            username="bench-downloads",
            agency=Agency.objects.get(slug="bench-provider"),
            role="analyst",
        )
    assert Membership.objects.filter(user=user).exists()
    browser = Client()
    browser.force_login(user)  # the portal's session engine and authentication backend
    return browser.cookies["sessionid"].value


class Portal:
    """gunicorn with one sync worker and a solo-pool Celery worker, on a private media folder."""

    def __init__(self, media: Path, queue: str) -> None:
        self.env = {
            **os.environ,
            "DEBUG": "1",
            "MEDIA_ROOT": str(media),
            "CELERY_QUEUE": queue,
            # Let 1,000,000 features stream in the request, to measure the streaming path.
            "EXPORT_JOB_MIN_FEATURES": str(10**9),
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        gunicorn = [sys.executable, "-m", "gunicorn", "portal.wsgi", "-w", "1", "-k", "sync"]
        self.web = subprocess.Popen(
            gunicorn + ["-b", f"127.0.0.1:{PORT}", "--timeout", "900", "--log-level", "warning"],
            env=self.env,
            cwd=ROOT,
        )
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "solo", "-Q", queue]
            + ["-l", "warning"],
            env=self.env,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def web_pid(self) -> int:
        import psutil

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            children = psutil.Process(self.web.pid).children()
            if children:
                return int(children[0].pid)
            time.sleep(0.2)
        raise RuntimeError("gunicorn started no worker")

    def stop(self) -> None:
        for process in (self.web, self.worker):
            process.terminate()
        for process in (self.web, self.worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def request(
    method: str, path: str, cookies: dict[str, str], body: dict[str, str] | None = None
) -> tuple[int, dict[str, str], int, float]:
    """(status, headers, bytes read, seconds); the body is read in chunks and thrown away."""
    from urllib.parse import urlencode

    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    data = None
    if body is not None:
        data = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["X-CSRFToken"] = cookies["csrftoken"]
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=900)
    start = time.perf_counter()
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    size = 0
    while chunk := response.read(MB):
        size += len(chunk)
    elapsed = time.perf_counter() - start
    conn.close()
    return response.status, dict(response.getheaders()), size, elapsed


def copy_reference(version_id: int, select: str) -> float:
    """Seconds for psql to dump the same rows as text (what the database alone costs)."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    start = time.perf_counter()
    subprocess.run(
        ["psql", "-d", name, "-Atqc", f"COPY ({select} FROM layers_feature WHERE version_id = "
         f"{int(version_id)} ORDER BY fid) TO STDOUT"],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - start


def ogr2ogr_reference(version_id: int, out: Path) -> float:
    from django.db import connection

    name = connection.settings_dict["NAME"]
    start = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(out), f"PG:dbname={name}", "-sql",
         f"SELECT fid, geom, properties->>'asset_id' AS asset_id, properties->>'kind' AS kind, "
         f"properties->>'condition' AS condition, properties->>'label' AS label "
         f"FROM layers_feature WHERE version_id = {int(version_id)} ORDER BY fid",
         "-nln", "layer"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=1_000_000)
    args = parser.parse_args()
    import django

    django.setup()
    from layers.models import ExportJob

    t0 = time.perf_counter()
    layer = bench_layer(args.features)
    version = layer.current_version
    print(f"layer {layer.pk}: {version.feature_count:,} points ({time.perf_counter() - t0:.1f} s)")
    cookies = {"sessionid": session_cookie(), "csrftoken": secrets.token_hex(16)}
    media = Path(tempfile.mkdtemp(prefix="sharedgis-bench-media-"))
    portal = Portal(media, queue=f"bench-downloads-{secrets.token_hex(4)}")
    results: dict[str, Any] = {"features": version.feature_count}
    try:
        web = portal.web_pid()
        request("GET", f"/layers/{layer.pk}/", cookies)  # warm the worker (imports, connection)
        results["web_idle_rss_mb"] = round(_peak_mb(web))
        for fmt, select in (
            ("geojson", "SELECT ST_AsGeoJSON(geom, 15), properties::text"),
            ("csv", "SELECT ST_AsText(geom), properties::text"),
        ):
            _peak_reset(web)
            status, headers, size, seconds = request(
                "GET", f"/layers/{layer.pk}/download/{fmt}/", cookies
            )
            assert status == 200 and headers.get("Content-Disposition"), (status, headers)
            reference = copy_reference(version.pk, select)
            results[f"{fmt}_rss_mb"] = round(_peak_mb(web))
            results[f"{fmt}_mb"] = round(size / MB)
            results[f"{fmt}_s"] = round(seconds, 1)
            results[f"{fmt}_vs_copy"] = round(seconds / reference, 2)
            print(
                f"{fmt:8} streamed {size / MB:,.0f} MB in {seconds:.1f} s "
                f"(psql COPY {reference:.1f} s), web peak RSS {results[f'{fmt}_rss_mb']} MB"
            )

        ExportJob.objects.filter(version=version).delete()
        worker_pid = portal.worker.pid
        _peak_reset(web)
        _peak_reset(worker_pid)
        start = time.perf_counter()
        status, headers, _, _ = request(
            "POST", f"/layers/{layer.pk}/exports/", cookies, {"format": "gpkg"}
        )
        assert status == 302, status
        job_path = headers["Location"]
        while True:
            job = json.loads(_get_json(job_path.rstrip("/") + "/status.json", cookies))
            if job["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.5)
        assert job["status"] == "succeeded", job
        built = time.perf_counter() - start
        status, _, size, served = request("GET", job["file_url"], cookies)
        assert status == 200, status
        with tempfile.TemporaryDirectory() as tmp:
            reference = ogr2ogr_reference(version.pk, Path(tmp) / "ref.gpkg")
        results.update(
            gpkg_web_rss_mb=round(_peak_mb(web)),
            gpkg_worker_rss_mb=round(_peak_mb(worker_pid)),
            gpkg_mb=round(size / MB),
            gpkg_job_s=round(built, 1),
            gpkg_serve_s=round(served, 1),
            gpkg_vs_ogr2ogr=round(built / reference, 2),
        )
        print(
            f"gpkg     job built {size / MB:,.0f} MB in {built:.1f} s (ogr2ogr {reference:.1f} s), "
            f"served in {served:.1f} s; worker peak RSS {results['gpkg_worker_rss_mb']} MB, "
            f"web peak RSS {results['gpkg_web_rss_mb']} MB"
        )
    finally:
        portal.stop()
        shutil.rmtree(media, ignore_errors=True)
    web_peak = max(results[k] for k in ("geojson_rss_mb", "csv_rss_mb", "gpkg_web_rss_mb"))
    results["web_peak_rss_mb"] = web_peak
    results["target_met"] = int(web_peak < 300)
    print("RESULT downloads " + " ".join(f"{k}={v}" for k, v in results.items()))


def _get_json(path: str, cookies: dict[str, str]) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    conn.request("GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    body = conn.getresponse().read().decode()
    conn.close()
    return body


if __name__ == "__main__":
    main()
