"""Production settings pass Django's deploy checks; demo data loads twice without duplicates; audit is append-only."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, transaction

from audit.models import AuditEntry
from audit.services import audit_record
from projects.models import Agency, Deliverable, Project

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_in_production_mode() -> None:
    env = {
        **os.environ,
        "DEBUG": "0",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "",
        "SECRET_KEY": "x" * 20 + "a-real-production-secret-9f8e7d6c5b4a3",
        "ALLOWED_HOSTS": "gis.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    # Production has no local .env (SHAREDGIS_ENV_FILE="" reads none).
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {
        "DEBUG": "0",
        "SHAREDGIS_ENV_FILE": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_load_demo_is_idempotent() -> None:
    call_command("load_demo", stdout=StringIO())
    counts = (
        Agency.objects.count(),
        Project.objects.count(),
        Deliverable.objects.count(),
        get_user_model().objects.count(),
    )
    call_command("load_demo", stdout=StringIO())
    assert (
        Agency.objects.count(),
        Project.objects.count(),
        Deliverable.objects.count(),
        get_user_model().objects.count(),
    ) == counts
    assert set(get_user_model().objects.values_list("username", flat=True)) >= {
        "analyst",
        "lead",
        "yountville",
        "calistoga",
    }
    assert Agency.objects.filter(kind="client").count() == 2


@pytest.mark.django_db
def test_the_audit_log_cannot_be_edited_or_deleted() -> None:
    entry = audit_record(action="test", summary="something happened", actor=None, agency_id=None)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(summary="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).summary == "something happened"


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account(client) -> None:
    from tests.factories import make_user

    make_user(username="target")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "target", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "target", "password": "pw-for-tests-1"})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
