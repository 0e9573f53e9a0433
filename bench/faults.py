"""make bench-faults: the faults of issue 12 §2 played against a live stack on private services.

Starts its own PostgreSQL cluster (Debian's `pg_createcluster 15 opsfault --port 9601`), its own
redis-server (port 9602) and the stack `make run` starts (scripts/run.sh: gunicorn + Celery
worker + beat, port 9603) with MEDIA_ROOT on a small tmpfs, while a prober browses as a client
(home, maps, a vector tile, a download) four times a second. Then:

1. PostgreSQL stopped for 6 s while a 60,000-point import runs: every answer during the outage
   is the friendly 503 (no 500, no traceback); seconds from the database's return to the first
   200; the job completes once (one layer, every feature).
2. Redis stopped: pages, tiles and downloads keep answering 200; an upload is accepted (202)
   and its job runs once Redis is back and the sweeper re-queues it.
3. Disk full (the tmpfs filled): an upload gets a clear 400, nothing partial is stored, /readyz
   reports the disk, pages keep answering.

Never touches the shared PostgreSQL (5432) or Redis (6379). Last line:
RESULT faults db_recovery_s=… db_outage_500s=… redis_down_errors=… disk_full_partial_files=… ok=…
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
CLUSTER, PG_PORT, REDIS_PORT, WEB_PORT = "opsfault", 9601, 9602, 9603
BASE = f"http://127.0.0.1:{WEB_PORT}"
DB_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/sharedgis_fault"
PASSWORD = "sharedgis-demo"
FRIENDLY = "SharedGIS is back in a moment"


def sh(*cmd: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stdout}{done.stderr}")
    return done.stdout


def cluster_up() -> None:
    if CLUSTER not in sh("pg_lsclusters", "-h"):
        sh("pg_createcluster", "15", CLUSTER, "--port", str(PG_PORT), "-o", "fsync=off",
           "-o", "shared_buffers=32MB", "--", "--auth-local=trust", "--auth-host=trust")  # fmt: skip
    cluster("start")


def cluster(action: str) -> None:
    sh("pg_ctlcluster", "--skip-systemctl-redirect", "15", CLUSTER, action, "-m", "fast") if (
        action == "stop"
    ) else sh("pg_ctlcluster", "--skip-systemctl-redirect", "15", CLUSTER, action, check=False)


class Prober(threading.Thread):
    """A client manager browsing: (time, kind, status, traceback shown, friendly page)."""

    def __init__(self, session: requests.Session, urls: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.session, self.urls = session, urls
        self.log: list[tuple[float, str, int, bool, bool]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for kind, url in self.urls.items():
                try:
                    r = self.session.get(BASE + url, timeout=10)
                    body = r.text if "text" in r.headers.get("content-type", "") else ""
                    self.log.append(
                        (time.time(), kind, r.status_code, "Traceback" in body, FRIENDLY in body)
                    )
                except requests.RequestException:
                    self.log.append((time.time(), kind, 0, False, False))
            time.sleep(0.25)

    def between(self, start: float, end: float) -> list[tuple[float, str, int, bool, bool]]:
        return [e for e in self.log if start <= e[0] <= end]


def login(username: str) -> requests.Session:
    s = requests.Session()
    s.get(f"{BASE}/accounts/login/", timeout=30)
    r = s.post(
        f"{BASE}/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": s.cookies["csrftoken"],
        },
        headers={"Referer": f"{BASE}/accounts/login/"},
        timeout=60,
    )
    assert "/accounts/login/" not in r.url, f"login of {username} refused"
    return s


def points(n: int, tag: str) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [-122.4 + (i % 300) / 3000, 38.4 + (i // 300) / 3000],
                    },
                    "properties": {"n": i, "tag": tag},
                }
                for i in range(n)
            ],
        }
    ).encode()


def upload(s: requests.Session, api: str, name: str, body: bytes) -> requests.Response:
    return s.post(
        BASE + api,
        files={"file": (name, body, "application/geo+json")},
        headers={"X-CSRFToken": s.cookies["csrftoken"], "Referer": BASE + "/"},
        timeout=60,
    )


def wait_job(s: requests.Session, status_url: str, seconds: float) -> dict[str, Any]:
    deadline = time.time() + seconds
    job: dict[str, Any] = {}
    while time.time() < deadline:
        try:
            job = s.get(BASE + status_url, timeout=10).json()
        except (requests.RequestException, ValueError):
            job = {}
        if job.get("status") in ("succeeded", "failed"):
            return job
        time.sleep(0.5)
    return job


def manage_shell(code: str, env: dict[str, str]) -> str:
    return (
        sh(PY, "manage.py", "shell", "--no-imports", "-c", code, env=env).strip().splitlines()[-1]
    )


def main() -> int:
    media = Path(tempfile.mkdtemp(prefix="sharedgis-faults-"))
    sh("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(media))
    redis = stack = None
    prober = None
    results: dict[str, Any] = {}
    env = {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "MEDIA_ROOT": str(media),
        "DEBUG": "1",
        "PORT": str(WEB_PORT),
        "CELERY_QUEUE": "sharedgis-faults",
        "DISK_MIN_FREE_MB": "8",
        "SHAREDGIS_ENV_FILE": "",
        "LOGIN_SLOT_DIR": str(Path(tempfile.gettempdir()) / "sharedgis-faults-slots"),
    }
    try:
        cluster_up()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL,
        )  # fmt: skip
        # A fresh database each run: nothing left from an earlier one.
        sh(
            "psql",
            DB_URL.rsplit("/", 1)[0] + "/postgres",
            "-qc",
            "DROP DATABASE IF EXISTS sharedgis_fault WITH (FORCE)",
        )
        sh(PY, "scripts/ensure_db.py", env=env)
        sh(PY, "manage.py", "migrate", "--noinput", "-v", "0", env=env)
        stack = subprocess.Popen(
            ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        for _ in range(240):
            try:
                if requests.get(f"{BASE}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("the stack did not become ready")
        prep = json.loads(sh(PY, "bench/load_prepare.py", env=env))
        town_map = prep["maps"]["yountville"][0]
        z, x, y = town_map["tile_xyz"][len(town_map["tile_xyz"]) // 2]
        client = login("yountville")
        analyst = login("analyst")
        layer_id = manage_shell(
            "from layers.models import Layer; print(Layer.objects.filter(project__agreement__client__slug='yountville').order_by('pk').first().pk)",
            env,
        )  # fmt: skip
        prober = Prober(
            client,
            {
                "page": "/",
                "maps": "/maps/",
                "tile": town_map["tiles"][0].format(z=z, x=x, y=y),
                "download": f"/layers/{layer_id}/download/geojson/",
            },
        )
        prober.start()
        time.sleep(2)

        # --- 1. PostgreSQL restart during browsing and an import.
        n = 60_000
        restart_name = f"restart-{int(time.time())}.geojson"
        r = upload(analyst, prep["upload"], restart_name, points(n, "restart"))
        assert r.status_code == 202, r.text
        status_url = r.json()["status_url"]
        for _ in range(100):
            if analyst.get(BASE + status_url, timeout=10).json()["status"] == "running":
                break
            time.sleep(0.1)
        cluster("stop")
        down = time.time()
        time.sleep(6)
        cluster("start")
        up = time.time()
        recovered = None
        while time.time() < up + 30:
            ok = [e for e in prober.between(up, time.time()) if e[1] == "page" and e[2] == 200]
            if ok:
                recovered = ok[0][0] - up
                break
            time.sleep(0.1)
        outage = prober.between(down, up)
        job = wait_job(analyst, status_url, 120)
        layers_made = manage_shell(
            f"from layers.models import Layer, LayerVersion; v = LayerVersion.objects.filter(source_filename='{restart_name}'); "
            "print(f'{v.count()} {sum(x.feature_count for x in v)}')",
            env,
        )  # fmt: skip
        results["db"] = {
            "outage_statuses": dict(Counter(f"{e[1]}:{e[2]}" for e in outage)),
            "outage_500s": sum(1 for e in outage if e[2] >= 500 and e[2] != 503),
            "outage_tracebacks": sum(1 for e in outage if e[3]),
            "outage_friendly_pages": sum(1 for e in outage if e[4]),
            "recovery_s": None if recovered is None else round(recovered, 2),
            "job": job.get("status"),
            "versions_and_features": layers_made,
            "expected": f"1 {n}",
        }

        # --- 2. Redis stopped.
        redis.send_signal(signal.SIGTERM)
        redis.wait(10)
        start = time.time()
        time.sleep(1)
        r = upload(analyst, prep["upload"], "no-redis.geojson", points(500, "no-redis"))
        upload_status = r.status_code
        redis_job = r.json().get("status_url") if r.status_code == 202 else None
        time.sleep(4)
        during = prober.between(start + 0.5, time.time())
        redis = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(2)
        requeued = manage_shell(
            "from datetime import timedelta; from layers.services import jobs_requeue_stuck; "
            "print(jobs_requeue_stuck(queued_after=timedelta(0)))",
            env,
        )  # fmt: skip
        job = wait_job(analyst, redis_job, 90) if redis_job else {}
        results["redis"] = {
            "statuses": dict(Counter(f"{e[1]}:{e[2]}" for e in during)),
            "errors": sum(1 for e in during if e[2] != 200),
            "upload_status": upload_status,
            "requeued_by_sweeper": requeued,
            "job_after_redis_back": job.get("status"),
        }

        # --- 3. Disk full.
        filler = media / "filler.bin"
        with filler.open("wb") as out:
            try:
                while True:
                    out.write(b"\0" * 1024 * 1024)
                    out.flush()
            except OSError:
                pass
        files_before = sorted(p.name for p in media.rglob("*") if p.is_file())
        start = time.time()
        r = upload(analyst, prep["upload"], "full.geojson", points(20_000, "full"))
        ready = requests.get(f"{BASE}/readyz", timeout=10)
        time.sleep(2)
        during = prober.between(start, time.time())
        files_after = sorted(p.name for p in media.rglob("*") if p.is_file())
        filler.unlink()
        results["disk"] = {
            "upload_status": r.status_code,
            "message": (
                r.json().get("error")
                if r.headers.get("content-type", "").startswith("application/json")
                else r.text[:200]
            ),
            "partial_files": len(set(files_after) - set(files_before)),
            "readyz": [ready.status_code, ready.json()["checks"]["disk"]],
            "serving": dict(Counter(f"{e[1]}:{e[2]}" for e in during)),
            "serving_errors": sum(1 for e in during if e[2] != 200),
        }
    finally:
        if prober:
            prober.stop.set()
        if stack:
            os.killpg(stack.pid, signal.SIGTERM)
            try:
                stack.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
        if redis:
            redis.terminate()
        cluster("stop")
        subprocess.run(["umount", str(media)], check=False)
        shutil.rmtree(media, ignore_errors=True)
        print(json.dumps(results, indent=2))

    db, rd, dk = results["db"], results["redis"], results["disk"]
    ok = (
        db["outage_500s"] == 0
        and db["outage_friendly_pages"] > 0
        and db["outage_tracebacks"] == 0
        and db["recovery_s"] is not None
        and db["recovery_s"] <= 5
        and db["job"] == "succeeded"
        and db["versions_and_features"] == db["expected"]
        and rd["errors"] == 0
        and rd["upload_status"] == 202
        and rd["job_after_redis_back"] == "succeeded"
        and dk["upload_status"] == 400
        and dk["partial_files"] == 0
        and dk["serving_errors"] == 0
    )
    print(
        f"RESULT faults db_recovery_s={db['recovery_s']} db_outage_500s={db['outage_500s']} "
        f"db_job={db['job']} redis_down_errors={rd['errors']} redis_job={rd['job_after_redis_back']} "
        f"disk_full_upload={dk['upload_status']} disk_full_partial_files={dk['partial_files']} ok={int(ok)}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
