"""The backup drill: demo, an imported layer, a published map, a closed month; back up; restore
into a new database and an empty storage; everything reads back identical."""

import json
import os
import subprocess
import sys
import tarfile
from datetime import timedelta
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from hours.months import month_start
from hours.services import month_close
from layers.models import ImportJob
from layers.services import ImportOptions, layer_import_file
from maps.services import share_link_create
from projects.models import Project
from tests.map_factories import make_published_map

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent


def _database_url(name: str) -> str:
    s = connection.settings_dict
    auth = f"{s['USER']}:{s['PASSWORD']}@" if s.get("USER") and s.get("PASSWORD") else ""
    host = f"{s['HOST']}:{s['PORT']}" if s.get("HOST") and s.get("PORT") else s.get("HOST") or ""
    return f"postgres://{auth}{host}/{name}"


def _env(database: str, media: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(database),
        "MEDIA_ROOT": str(media),
        "SHAREDGIS_ENV_FILE": "",
        "DEBUG": "1",
    }


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _fingerprint(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.backup_fingerprint", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _drop(name: str) -> None:
    s = connection.settings_dict
    with psycopg.connect(
        dbname="postgres",
        host=s.get("HOST") or None,
        port=s.get("PORT") or None,
        user=s.get("USER") or None,
        password=s.get("PASSWORD") or None,
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def restore_target() -> Any:
    name = f"{connection.settings_dict['NAME']}_restore"
    _drop(name)
    yield name
    _drop(name)


def test_a_backup_restored_into_an_empty_database_and_storage_reads_back_identical(
    tmp_path: Path, settings: Any, restore_target: str
) -> None:
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    call_command("load_demo", stdout=StringIO())
    analyst = User.objects.get(username="analyst")
    lead = User.objects.get(username="lead")
    project = Project.objects.filter(agreement__client__slug="yountville").first()
    assert project is not None
    source = tmp_path / "wells.geojson"
    source.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [-122.36 + i / 1000, 38.4]},
                        "properties": {"name": f"Well {i}", "depth": i * 1.5},
                    }
                    for i in range(50)
                ],
            }
        )
    )
    [version] = layer_import_file(
        project=project,
        path=source,
        original_filename="wells.geojson",
        by=analyst,
        options=ImportOptions(),
    )
    _, map_version = make_published_map(project=project, by=analyst, n=30)
    share_link_create(
        version=map_version, by=analyst, expires_at=timezone.now() + timedelta(days=7)
    )
    month = month_start(timezone.localdate())
    month_close(agreement=project.agreement, month=month, by=lead)
    # A stored file: an upload waiting for its job.
    ImportJob.objects.create(
        project=project,
        upload=SimpleUploadedFile("later.geojson", source.read_bytes()),
        original_filename="later.geojson",
    )
    args = (str(version.layer_id), str(project.agreement_id), f"{month:%Y-%m}")
    source_env = _env(connection.settings_dict["NAME"], media)
    archive = tmp_path / "backup.tar"
    backup = _manage("backup", "--output", str(archive), env=source_env)
    assert backup.returncode == 0, backup.stderr
    # Read after the backup: the fingerprint's own logins add rows the archive does not hold.
    before = _fingerprint(source_env, *args)
    assert len(before["features"]) == 50
    assert before["tile"][0] == 200 and before["tile"][1] > 0
    assert before["downloads"] == {
        "geojson": [200, before["downloads"]["geojson"][1]],
        "csv": [200, before["downloads"]["csv"][1]],
    }
    assert len(before["files"]) == 1

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["versions"]["postgis"] and manifest["versions"]["django"]
    assert set(manifest["files"]) == {"database.dump", *(f"media/{n}" for n in before["files"])}
    assert all(len(meta["sha256"]) == 64 for meta in manifest["files"].values())

    restored_media = tmp_path / "restored-media"
    target_env = _env(restore_target, restored_media)
    restore = _manage("restore", str(archive), env=target_env)
    assert restore.returncode == 0, restore.stderr
    after = _fingerprint(target_env, *args)
    assert {t: n for t, n in after["counts"].items() if before["counts"].get(t) != n} == {}
    assert after == before

    # A second restore over the now full database is refused, and changes nothing.
    again = _manage("restore", str(archive), env=target_env)
    assert again.returncode != 0 and "not empty" in again.stderr


def test_a_damaged_archive_is_refused_before_anything_is_restored(
    tmp_path: Path, restore_target: str
) -> None:
    media = tmp_path / "media"
    source_env = _env(connection.settings_dict["NAME"], media)
    archive = tmp_path / "backup.tar"
    assert _manage("backup", "--output", str(archive), env=source_env).returncode == 0
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(damaged, "w") as tar:
        for name, body in members.items():
            if name == "database.dump":
                body = body[:-10] + b"0123456789"
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, BytesIO(body))
    result = _manage("restore", str(damaged), env=_env(restore_target, tmp_path / "r"))
    assert result.returncode != 0
    assert "Checksum mismatch for database.dump" in result.stderr
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [restore_target])
        exists = cursor.fetchone()[0] == 1
    if exists:  # created empty by the restore's first step, never filled
        s = connection.settings_dict
        with psycopg.connect(
            dbname=restore_target,
            host=s.get("HOST") or None,
            port=s.get("PORT") or None,
            user=s.get("USER") or None,
            password=s.get("PASSWORD") or None,
        ) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'spatial_ref_sys'"
            ).fetchone()
        assert tables is not None and tables[0] == 0
