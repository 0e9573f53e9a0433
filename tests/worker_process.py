"""A real Celery worker in its own process (one that a test may SIGKILL), on a private queue."""

import os
import subprocess
import sys
from pathlib import Path

from tests import layers_data as d

ROOT = Path(__file__).resolve().parent.parent


def start_worker_process(queue: str, **env: str) -> subprocess.Popen:
    """`celery worker -P solo -Q queue` on this test run's database; `env` adds to its environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "solo", "-Q", queue]
        + ["-l", "warning"],
        env=dict(
            os.environ, DATABASE_URL=d.database_url_for_subprocesses(), CELERY_QUEUE=queue, **env
        ),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_worker_process(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
