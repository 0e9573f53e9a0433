"""Passwords: Argon2id first (OWASP's parameters), old PBKDF2 hashes upgraded at login, and a
host-wide bound on concurrent password checks so a login rush cannot take every core.

The suite hashes with MD5 for speed (tests/conftest.py); these tests put back the production
hashers from portal/settings.py.
"""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.test import Client

import portal.settings as production
from portal.auth import password_slot
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_hashers(settings: Any) -> None:
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


def test_new_passwords_are_argon2id_with_owasp_parameters(real_hashers: None) -> None:
    encoded = make_password("a long town password")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password("a long town password", encoded)
    assert not check_password("a wrong password", encoded)


def test_one_check_costs_far_less_cpu_than_pbkdf2(real_hashers: None) -> None:
    argon = make_password("pw", hasher="argon2")
    pbkdf2 = make_password("pw", hasher="pbkdf2_sha256")

    def cpu(encoded: str) -> float:
        best = 9.0
        for _ in range(3):
            start = time.process_time()
            check_password("pw", encoded)
            best = min(best, time.process_time() - start)
        return best

    assert cpu(argon) * 3 < cpu(pbkdf2)  # measured here: about 26 ms against about 200 ms


def test_a_pbkdf2_password_still_logs_in_and_is_rehashed_with_argon2id(
    world: World, real_hashers: None
) -> None:
    user = world.manager_a
    user.password = make_password("an older password", hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    answer = Client().post(
        "/accounts/login/", {"username": user.username, "password": "an older password"}
    )
    assert answer.status_code == 302
    assert "/accounts/login/" not in answer["Location"]
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert check_password("an older password", user.password)


def test_at_most_login_slots_password_checks_run_at_once(settings: Any, tmp_path: Path) -> None:
    settings.LOGIN_SLOTS = 2
    settings.LOGIN_SLOT_DIR = str(tmp_path)
    inside, most = 0, 0
    lock = threading.Lock()

    def login() -> None:
        nonlocal inside, most
        with password_slot():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.2)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=login) for _ in range(5)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 2
    assert time.monotonic() - start >= 0.6  # five checks, two at a time: three rounds


def test_by_default_one_password_check_per_core() -> None:
    assert (
        int(os.environ["LOGIN_SLOTS"])
        if "LOGIN_SLOTS" in os.environ
        else len(os.sched_getaffinity(0))
    ) == production.LOGIN_SLOTS


def test_slots_held_by_another_process_make_a_login_wait(settings: Any, tmp_path: Path) -> None:
    settings.LOGIN_SLOTS = 1
    settings.LOGIN_SLOT_DIR = str(tmp_path)
    # Another gunicorn worker hashing: a separate process holds the host's only slot for 0.5 s.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; "
            f"fd = os.open({str(tmp_path / 'login-slot-0.lock')!r}, os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(0.5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    start = time.monotonic()
    with password_slot():
        waited = time.monotonic() - start
    holder.wait(timeout=10)
    assert waited >= 0.3
