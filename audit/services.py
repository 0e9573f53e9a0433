from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models

from audit.models import AuditEntry


def audit_record(
    *,
    action: str,
    summary: str,
    actor: User | AnonymousUser | None,
    agency_id: int | None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; called inside the action's own transaction so both land or neither."""
    return AuditEntry.objects.create(
        action=action,
        summary=summary[:500],
        actor=actor if isinstance(actor, User) else None,
        agency_id=agency_id,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
