"""gunicorn settings for `make run` and production (`gunicorn -c portal/gunicorn_conf.py portal.wsgi`).

Threaded workers (gthread) with keep-alive: a map view asks for dozens of tiles at once over a few
connections. Database connections come from a psycopg pool per worker (DB_POOL_MAX_SIZE, 3), so
the portal holds at most WEB_WORKERS x DB_POOL_MAX_SIZE connections (18 on 2 cores) whatever the
load and the threads.

Three small workers per core, not one big one: a worker's threads share one GIL, and under load
its GIL sat idle while the thread it was handed to waited for a core; two workers of 48 threads
left 10-15 % of the cores idle with requests queued. On a 2-core machine (bench-load, 100 users,
pages p95): 2 x 48 threads, pools of 8: 0.65-2.4 s (16 runs); 4 x 12, pools of 4: 0.62-1.08 s
(6 runs); 6 x 8, pools of 3: 0.62-0.95 s (4 runs, three interleaved with 4 x 12); 8 x 6, pools
of 2: 0.65 s (docs/operations.md, "Load").
"""

import os
from typing import Any

bind = os.environ.get("BIND", "127.0.0.1:8000")
# At most 12 by default: on a big host that is still 36 connections.
workers = int(os.environ.get("WEB_WORKERS", str(min(3 * (len(os.sched_getaffinity(0)) or 1), 12))))
# A login waiting for its password-hash slot (portal/auth.py) holds a thread but no database
# connection; 8 per worker leave room for a login rush beside the tiles.
threads = int(os.environ.get("WEB_THREADS", "8"))
# Each worker borrows database connections from its own pool (portal/settings.py).
os.environ.setdefault("DB_POOL_MAX_SIZE", "3")
worker_class = "gthread"
# Idle keep-alive connections wait in the worker's poller, not in a thread, so they are cheap. Keep
# them longer than any client or proxy idles between requests (nginx and cloud balancers: 60 s):
# a server that closes first races the client's next request, which then fails with no answer.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
graceful_timeout = 30
# The heartbeat file each worker touches on every loop: in memory, not on a journaled disk
# (gunicorn's advice; on a VM disk every touch was a metadata write). gunicorn creates it with
# mkstemp (unique name, mode 0600), so a shared folder is safe.
SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = SHM if os.path.isdir(SHM) else None
# Pending connections beyond the threads wait in the kernel's queue, not in a worker.
backlog = 2048
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_worker_init(worker: Any) -> None:
    """Warm the worker (pooled connections, templates, views) before it accepts a request."""
    from portal.warmup import freeze_heap, warm

    seconds = warm()
    frozen = freeze_heap()  # after warm-up: what it loaded lives as long as the worker
    worker.log.info("worker warmed in %.2f s; %d long-lived objects frozen", seconds, frozen)
