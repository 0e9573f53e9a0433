import os
import time
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="portal.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Beat runs this every minute: /readyz reports a worker whose last beat is too old."""
    from django.core.cache import cache

    from portal.health import HEARTBEAT_KEY

    cache.set(HEARTBEAT_KEY, time.time(), timeout=3600)


@worker_ready.connect
def _heartbeat_on_start(**kwargs: Any) -> None:
    heartbeat()
