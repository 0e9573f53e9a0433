"""Backups that restore: one tar archive with the database dump, every stored file and a manifest.

The manifest records SHA-256 checksums of every member, the row count of every table and the
versions that wrote it (SharedGIS, Django, PostgreSQL, PostGIS, the latest migration of each app).
`backup_write` never leaves a partial archive; `backup_restore` checks every checksum before it
touches anything, restores only into an empty database and an empty storage, then checks the
row counts against the manifest.
"""

import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import django
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection

MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA_PREFIX = "media/"
FORMAT_VERSION = 1
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def _pg_env() -> dict[str, str]:
    """libpq variables for pg_dump / pg_restore from the default database settings."""
    db: dict[str, Any] = dict(settings.DATABASES["default"])
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if db.get(key):
            env[var] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    env["PGDATABASE"] = str(db["NAME"])
    return env


def _run(cmd: list[str]) -> str:
    result = subprocess.run(cmd, env=_pg_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


def table_counts() -> dict[str, int]:
    """Rows of every table of the public schema (partitions included, parents excluded)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname"
        )
        names = [row[0] for row in cursor.fetchall()]
        counts = {}
        for name in names:
            cursor.execute(f'SELECT count(*) FROM ONLY public."{name}"')
            counts[name] = int(cursor.fetchone()[0])
    return counts


def _versions() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), postgis_lib_version()")
        server, postgis = cursor.fetchone()
        cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        migrations = dict(cursor.fetchall())
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True
    ).stdout.strip()
    return {
        "sharedgis_commit": commit or None,
        "django": django.get_version(),
        "python": platform.python_version(),
        "postgresql": server,
        "postgis": postgis,
        "pg_dump": _run(["pg_dump", "--version"]).strip(),
        "migrations": migrations,
    }


def stored_files(prefix: str = "") -> Iterator[str]:
    """Every file name in the default storage (local folder or object store), sorted."""
    if prefix and not default_storage.exists(prefix):
        return
    try:
        dirs, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{prefix}{name}"
    for sub in sorted(dirs):
        yield from stored_files(f"{prefix}{sub}/")


class _Hashing(io.RawIOBase):
    """Reads through to `inner` while hashing what was read (tar pulls exactly `size` bytes)."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.digest.update(data)
        return data


def _add(archive: tarfile.TarFile, name: str, handle: IO[bytes], size: int) -> str:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(datetime.now(UTC).timestamp())
    reader = _Hashing(handle)
    archive.addfile(info, reader)
    return reader.digest.hexdigest()


def backup_write(*, output: Path) -> dict[str, Any]:
    """Write the archive to `output` (a temporary name first: no partial archive is ever left)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    members: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="sharedgis-backup-") as tmp:
            dump = Path(tmp) / DUMP
            # One snapshot: counts and dump are read in the same repeatable-read moment only if
            # nothing writes meanwhile; take backups at a quiet time or stop the workers.
            counts = table_counts()
            _run(["pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", str(dump)])
            with tarfile.open(partial, "w") as archive:
                with dump.open("rb") as handle:
                    size = dump.stat().st_size
                    members[DUMP] = {"sha256": _add(archive, DUMP, handle, size), "size": size}
                for name in stored_files():
                    size = default_storage.size(name)
                    with default_storage.open(name, "rb") as handle:
                        digest = _add(archive, MEDIA_PREFIX + name, handle, size)
                    members[MEDIA_PREFIX + name] = {"sha256": digest, "size": size}
                manifest = {
                    "format": FORMAT_VERSION,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "database": str(settings.DATABASES["default"]["NAME"]),
                    "versions": _versions(),
                    "tables": counts,
                    "files": members,
                }
                body = json.dumps(manifest, indent=2, sort_keys=True).encode()
                _add(archive, MANIFEST, io.BytesIO(body), len(body))
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _verified(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        handle = archive.extractfile(MANIFEST)
    except KeyError as exc:
        raise BackupError(
            "This archive has no manifest.json: it is not a SharedGIS backup."
        ) from exc
    assert handle is not None
    manifest = json.load(handle)
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    names = {m.name for m in archive.getmembers() if m.isfile()} - {MANIFEST}
    if names != set(manifest["files"]):
        raise BackupError("The archive's members differ from its manifest: it is incomplete.")
    for name, meta in manifest["files"].items():
        member = archive.extractfile(name)
        assert member is not None
        digest = hashlib.sha256()
        while chunk := member.read(CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != meta["sha256"]:
            raise BackupError(f"Checksum mismatch for {name}: the archive is damaged.")
    return manifest


def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'spatial_ref_sys'"
        )
        return int(cursor.fetchone()[0]) == 0


def backup_restore(*, archive_path: Path) -> dict[str, Any]:
    """Restore an archive into the (empty) configured database and (empty) storage."""
    if not archive_path.is_file():
        raise BackupError(f"No backup at {archive_path}.")
    ensure = subprocess.run(
        [sys.executable, "scripts/ensure_db.py"],
        cwd=settings.BASE_DIR,
        env=_pg_env() | {"DATABASE_URL": os.environ.get("DATABASE_URL", "postgres:///sharedgis")},
        capture_output=True,
        text=True,
    )
    if ensure.returncode != 0:
        raise BackupError(f"Could not create the database: {ensure.stderr.strip()[-2000:]}")
    with tarfile.open(archive_path, "r") as archive:
        manifest = _verified(archive)
        if not _database_is_empty():
            raise BackupError(
                f"Database {settings.DATABASES['default']['NAME']} is not empty: restore into a "
                "new database (set DATABASE_URL) or drop this one first."
            )
        if next(stored_files(), None) is not None:
            raise BackupError(
                "The file storage is not empty: restore into an empty MEDIA_ROOT or bucket."
            )
        with tempfile.TemporaryDirectory(prefix="sharedgis-restore-") as tmp:
            archive.extract(DUMP, tmp, filter="data")
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--no-comments",
                    "--exit-on-error",
                    "--single-transaction",
                    "-d",
                    str(settings.DATABASES["default"]["NAME"]),
                    str(Path(tmp) / DUMP),
                ]
            )
        connection.close()
        for name in manifest["files"]:
            if not name.startswith(MEDIA_PREFIX):
                continue
            member = archive.extractfile(name)
            assert member is not None
            stored = default_storage.save(name.removeprefix(MEDIA_PREFIX), File(member))
            if stored != name.removeprefix(MEDIA_PREFIX):
                raise BackupError(f"Storage renamed {name} to {stored}.")
    counts = table_counts()
    differ = {t: (n, counts.get(t)) for t, n in manifest["tables"].items() if counts.get(t) != n}
    if differ:
        raise BackupError(f"Row counts differ after restore (table: backup, restored): {differ}")
    return manifest
