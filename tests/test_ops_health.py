"""Operations: the local .env, fast start-up, /healthz and /readyz, and the 503 page while the
database cannot be reached (a real gunicorn pointed at a closed port)."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.cache import cache
from django.test import Client

from portal.health import HEARTBEAT_KEY

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "geopandas", "pyogrio", "weasyprint", "rasterio", "pyarrow")


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_settings_read_the_local_env_file_and_an_exported_variable_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# written by make setup\nSECRET_KEY=from-the-file\nDEBUG=1\nTIME_ZONE='Europe/Paris'\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env |= {"SHAREDGIS_ENV_FILE": str(env_file), "TIME_ZONE": "UTC"}
    result = _python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'portal.settings'; "
        "django.setup(); from django.conf import settings; "
        "print(settings.SECRET_KEY, settings.DEBUG, settings.TIME_ZONE)",
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["from-the-file", "True", "UTC"]


def test_a_malformed_env_file_stops_the_start_with_its_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=1\nthis is not a setting\n")
    result = _python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'portal.settings'; django.setup()",
        {**os.environ, "SHAREDGIS_ENV_FILE": str(env_file)},
    )
    assert result.returncode != 0
    assert "line 2: expected KEY=VALUE" in result.stderr


def test_the_web_process_starts_without_the_heavy_data_libraries() -> None:
    """URLs, views and the WSGI app load; pandas, pyogrio, WeasyPrint... wait until used."""
    result = _python(
        "import os, sys; os.environ['DJANGO_SETTINGS_MODULE'] = 'portal.settings'; "
        "from portal.wsgi import application; from django.urls import get_resolver; "
        "get_resolver().url_patterns; import django.core.management; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))",
        {**os.environ},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_healthz_answers_without_touching_anything(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_each_dependency_and_no_secret(client: Client, settings: Any) -> None:
    cache.set(HEARTBEAT_KEY, time.time(), 60)
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "worker", "disk"}
    assert all(check["ok"] for check in body["checks"].values())
    text = response.content.decode()
    for secret in (settings.SECRET_KEY, settings.REDIS_URL, settings.DATABASES["default"]["NAME"]):
        assert secret not in text


@pytest.mark.django_db
def test_readyz_is_503_when_no_worker_has_beaten_lately(client: Client) -> None:
    cache.set(HEARTBEAT_KEY, time.time() - 3600, 60)
    response = client.get("/readyz")
    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker["ok"] is False and "heartbeat" in worker["error"]
    cache.delete(HEARTBEAT_KEY)
    assert client.get("/readyz").json()["checks"]["worker"]["error"] == "no heartbeat from a worker"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_with_the_database_unreachable_pages_are_a_friendly_503_and_healthz_stays_up() -> None:
    closed = _free_port()  # nothing listens there: PostgreSQL refuses, as when it is down
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://nobody:secret@127.0.0.1:{closed}/sharedgis",
        "DEBUG": "1",
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
    }
    web = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "portal/gunicorn_conf.py", "portal.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=20)
                break
            except requests.RequestException:
                time.sleep(0.2)
        assert health.status_code == 200
        # The tile carries a session cookie, as a signed-in user's panning does: tiles connect
        # lazily, so the outage surfaces in a middleware (the session load), not up front.
        for path in ("/", "/maps/", "/accounts/login/", "/tiles/layers/1/14/2500/6000.pbf"):
            page = requests.get(
                f"http://127.0.0.1:{port}{path}", cookies={"sessionid": "k" * 32}, timeout=30
            )
            assert page.status_code == 503, path
            assert "SharedGIS is back in a moment" in page.text
            assert "Traceback" not in page.text and "secret" not in page.text
            assert page.headers["Retry-After"] == "5"
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=30)
        assert ready.status_code == 503
        assert json.loads(ready.text)["checks"]["database"] == {
            "ok": False,
            "error": "OperationalError",
            "ms": json.loads(ready.text)["checks"]["database"]["ms"],
        }
    finally:
        web.terminate()
        web.wait(30)


class _SessionStoreDown:
    """Stands for a middleware after DatabaseUnavailableMiddleware that needs the database (the
    session load of a tile request, which connects lazily) while PostgreSQL is down."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from django.db import OperationalError

        raise OperationalError("connection refused")


_SESSION_STORE_DOWN = f"{__name__}._SessionStoreDown"


@pytest.mark.django_db
def test_a_database_failure_in_a_later_middleware_is_the_503_page_not_a_500(
    client: Client, settings: Any
) -> None:
    settings.DEBUG = True  # as `make run` serves: Django's 500 would be a stack trace
    at = settings.MIDDLEWARE.index("portal.health.DatabaseUnavailableMiddleware")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[: at + 1], _SESSION_STORE_DOWN]
    client.raise_request_exception = False
    for path in ("/maps/", "/tiles/layers/1/14/2500/6000.pbf"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "SharedGIS is back in a moment" in response.content.decode()
        assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_a_request_for_a_host_not_served_is_the_400_page_not_a_500() -> None:
    # Refused before AuthenticationMiddleware runs, so the page renders for a request with no user.
    client = Client(raise_request_exception=False)
    page = client.get("/", HTTP_HOST="portal.attacker.example")
    assert page.status_code == 400
    assert b"Traceback" not in page.content
    tile = client.get("/tiles/layers/1/0/0/0.pbf", HTTP_HOST="portal.attacker.example")
    assert tile.status_code == 400 and "detail" in tile.json()
