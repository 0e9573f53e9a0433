"""Password checks that cannot starve the map traffic.

A password check is a deliberately slow hash (PBKDF2, about 0.3-0.4 s of one core here). A
morning rush of logins on a small server would otherwise put every core into hashing while tile
and page requests wait. `SlottedModelBackend` lets at most LOGIN_SLOTS checks hash at once on
this host (a file lock, so it holds across gunicorn workers); the others wait for a slot without
holding a database connection. LOGIN_SLOTS=0 turns the limit off.
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
from django.db import connection
from django.http import HttpRequest

POLL_SECONDS = 0.02


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
