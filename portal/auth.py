"""Password hashing and password checks that cannot starve the map traffic.

Passwords are hashed with Argon2id (`Argon2idHasher`, OWASP's first choice): memory-hard, so a
guess costs an attacker 19 MiB of memory as well as time, which GPUs and ASICs cannot cheapen the
way they cheapen PBKDF2. With OWASP's parameters (m=19 MiB, t=2, p=1) one check costs about 26 ms
of one core here, against about 200 ms (up to 0.43 s on a busy machine) for Django's PBKDF2 with
1,000,000 iterations. Hashes made before stay valid (PBKDF2 stays in PASSWORD_HASHERS) and are
re-hashed with Argon2id at the user's next successful login.

A morning rush of logins on a small server could still put every core into hashing while tile
and page requests wait. `SlottedModelBackend` lets at most LOGIN_SLOTS checks hash at once on
this host (a file lock, so it holds across gunicorn workers; default: the host's cores); the others
wait for a slot without holding a database connection. LOGIN_SLOTS=0 turns the limit off.
"""

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection
from django.http import HttpRequest

POLL_SECONDS = 0.02


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended minimum (Password Storage Cheat Sheet): m=19 MiB, t=2, p=1.

    Django's own defaults (m=100 MiB, t=2, p=8) cost about 170 ms a check here, almost as much as
    PBKDF2, for a 2-core server that must also answer tiles. The parameters are written into each
    hash: changing them later re-hashes each password at its next login (Django's must_update).
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1


_local_slots: dict[int, threading.BoundedSemaphore] = {}
_local_slots_lock = threading.Lock()


def _process_slots(slots: int) -> threading.BoundedSemaphore:
    """This process's share of the slots: threads beyond it sleep in the kernel, not in a poll."""
    with _local_slots_lock:
        return _local_slots.setdefault(slots, threading.BoundedSemaphore(slots))


def _give_back_connection() -> None:
    if not connection.in_atomic_block:
        connection.close()  # back to the pool while this login waits


@contextmanager
def password_slot() -> Iterator[None]:
    slots = settings.LOGIN_SLOTS
    if slots <= 0:
        yield
        return
    # First a slot among this process's threads: waiting on a semaphore costs nothing, whereas 40
    # logins of a rush polling the file locks every 20 ms would fight the tiles for the GIL.
    local = _process_slots(slots)
    released = False
    if not local.acquire(blocking=False):
        _give_back_connection()
        released = True
        local.acquire()
    try:
        with _host_slot(slots, released):
            yield
    finally:
        local.release()


@contextmanager
def _host_slot(slots: int, released: bool) -> Iterator[None]:
    """One of the host's slots (file locks shared by every gunicorn worker)."""
    folder = Path(settings.LOGIN_SLOT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    handles = [
        os.open(folder / f"login-slot-{i}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        for i in range(slots)
    ]
    held = None
    try:
        while held is None:
            for fd in handles:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                held = fd
                break
            else:
                if not released:
                    _give_back_connection()
                    released = True
                time.sleep(POLL_SECONDS)
        yield
    finally:
        if held is not None:
            fcntl.flock(held, fcntl.LOCK_UN)
        for fd in handles:
            os.close(fd)


class SlottedModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if password is None:
            return super().authenticate(request, username, password, **kwargs)
        with password_slot():
            return super().authenticate(request, username, password, **kwargs)
