"""gunicorn settings for `make run` and production (`gunicorn -c portal/gunicorn_conf.py portal.wsgi`).

Threaded workers (gthread) with keep-alive: a map view asks for dozens of tiles at once over a few
connections. gthread's threads are a fixed pool and each keeps at most one persistent database
connection (DB_CONN_MAX_AGE), so the portal holds at most WEB_WORKERS x WEB_THREADS connections
(24 by default) whatever the load. With many more threads set DB_POOL_MAX_SIZE (a psycopg pool
per worker) instead; a pool makes requests wait for a connection while the database is down
rather than answering 503 at once.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "12"))
worker_class = "gthread"
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
graceful_timeout = 30
# Pending connections beyond the threads wait in the kernel's queue, not in a worker.
backlog = 2048
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
