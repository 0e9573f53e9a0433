"""Raw-SQL reads on the database the router picks for reads (a read replica when configured).

The ORM asks the router (portal/db_router.py) by itself; a raw `connection.cursor()` always talks
to the primary. Raw reads of a request (OGC API pages, tiles, search, labels, style classes, the
GeoJSON preview) go through these helpers instead, so they follow the same choice as the ORM: the
replica for GET requests of browsers not pinned to the primary, the primary for writes, the
writer's read-after-write, workers and commands. Writes never use them.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, router, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Model


def read_alias(model: type[Model]) -> str:
    """The database alias reads of `model` go to now ("default" without a replica)."""
    return router.db_for_read(model)


def read_cursor(model: type[Model]) -> CursorWrapper:
    """A cursor on the read database of `model`: `with read_cursor(Feature) as cur: …`."""
    return connections[read_alias(model)].cursor()


@contextmanager
def read_transaction_cursor(model: type[Model]) -> Iterator[CursorWrapper]:
    """A cursor inside a transaction on the read database, for reads that need SET LOCAL."""
    alias = read_alias(model)
    with transaction.atomic(using=alias), connections[alias].cursor() as cur:
        yield cur
