"""Create the database named by DATABASE_URL (default: local socket, `sharedgis`) with PostGIS."""

import os
import sys

import dj_database_url
import psycopg
from psycopg import sql


def main() -> int:
    cfg = dj_database_url.parse(os.environ.get("DATABASE_URL", "postgres:///sharedgis"))
    conn_args = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
    }
    name = cfg["NAME"]
    with psycopg.connect(dbname="postgres", autocommit=True, **conn_args) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"==> Creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        superuser = conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    targets = [name]
    # Test databases are cloned from template1: with PostGIS there, a non-superuser test role works.
    if superuser and superuser[0]:
        targets.append("template1")
    for db in targets:
        with psycopg.connect(dbname=db, autocommit=True, **conn_args) as conn:
            for ext in ("postgis", "btree_gist"):
                conn.execute(
                    sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext))
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
