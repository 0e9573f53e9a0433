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
    agreement_id: int | None = None,
    client_visible: bool = False,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; called inside the action's own transaction so both land or neither.

    The caller (the app owning the action) says which agreement it belongs to and whether the
    client may read it; who reads what is decided in projects.access.audit_q.
    """
    return AuditEntry.objects.create(
        action=action,
        summary=summary[:500],
        actor=actor if isinstance(actor, User) else None,
        agency_id=agency_id,
        agreement_id=agreement_id,
        client_visible=client_visible,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
