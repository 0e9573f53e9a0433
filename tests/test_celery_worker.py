"""The test suite's Celery worker is real: tasks travel through Redis and see committed rows."""

import time

from django.db import transaction

from audit.models import AuditEntry
from audit.services import audit_record
from portal.celery import app


@app.task(name="tests.audit_count_task")
def audit_count_task(action: str) -> int:
    count = AuditEntry.objects.filter(action=action).count()
    audit_record(action=f"{action}.seen", summary=f"saw {count}", actor=None, agency_id=None)
    return count


def test_a_task_queued_after_commit_runs_on_the_worker_and_sees_the_row(celery_worker: str) -> None:
    with transaction.atomic():
        audit_record(action="ping", summary="queued", actor=None, agency_id=None)
        transaction.on_commit(lambda: audit_count_task.delay("ping"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        seen = AuditEntry.objects.filter(action="ping.seen").first()
        if seen:
            break
        time.sleep(0.1)
    assert seen is not None and seen.summary == "saw 1"
