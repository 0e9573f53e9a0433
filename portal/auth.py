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


@contextmanager
def password_slot() -> Iterator[None]:
    slots = settings.LOGIN_SLOTS
    if slots <= 0:
        yield
        return
    folder = Path(settings.LOGIN_SLOT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    handles = [
        os.open(folder / f"login-slot-{i}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        for i in range(slots)
    ]
    held = None
    try:
        released = False
        while held is None:
            for fd in handles:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                held = fd
                break
            else:
                if not released and not connection.in_atomic_block:
                    connection.close()  # give the pooled connection back while waiting
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
