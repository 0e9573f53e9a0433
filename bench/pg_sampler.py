"""Samples this portal database's PostgreSQL connections (pg_stat_activity) twice a second.

    python bench/pg_sampler.py OUT   (one line per sample: unix time, connections; until killed)
Its own connection is not counted. The first line is max_connections.
"""

import os
import sys
import time

import dj_database_url
import psycopg

cfg = dj_database_url.parse(os.environ.get("DATABASE_URL", "postgres:///sharedgis"))
with (
    psycopg.connect(
        dbname=cfg["NAME"],
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        autocommit=True,
    ) as conn,
    open(sys.argv[1], "w", buffering=1) as out,
):
    out.write(f"max_connections {conn.execute('SHOW max_connections').fetchone()[0]}\n")  # type: ignore[index]
    while True:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
        out.write(f"{time.time():.1f} {row[0] if row else 0}\n")
        time.sleep(0.5)
