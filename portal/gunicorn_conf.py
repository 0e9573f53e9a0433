"""gunicorn settings for `make run` and production (`gunicorn -c portal/gunicorn_conf.py portal.wsgi`).

Threaded workers (gthread) with keep-alive: a map view asks for dozens of tiles at once over a few
connections. Database connections come from a psycopg pool per worker (DB_POOL_MAX_SIZE, 8), so
the portal holds at most WEB_WORKERS x DB_POOL_MAX_SIZE connections (16) whatever the load and
the threads.
"""

import os
from typing import Any

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
# Many cheap threads: a login waiting for its password-hash slot (portal/auth.py) holds a thread
# but no database connection, so it never starves tiles of threads or connections.
threads = int(os.environ.get("WEB_THREADS", "48"))
# Each worker borrows database connections from its own pool (portal/settings.py).
os.environ.setdefault("DB_POOL_MAX_SIZE", "8")
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
    from portal.warmup import warm

    seconds = warm()
    worker.log.info("worker warmed in %.2f s", seconds)
