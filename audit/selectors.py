"""Who reads which audit entries: superusers all, provider admins and leads their provider's and its
clients', client managers their own agency's."""

from django.db.models import Q, QuerySet

from audit.models import AuditEntry
from projects.access import UserLike, scope_for
from projects.models import ServiceAgreement


def audit_entries_visible_to(user: UserLike) -> QuerySet[AuditEntry]:
    scope = scope_for(user)
    if getattr(user, "is_superuser", False):
        return AuditEntry.objects.select_related("actor", "agency")
    # A provider's admin is not another provider's: both read their own provider and its clients.
    lead_of = [a for a, role in scope.provider_roles.items() if role in ("admin", "lead")]
    managed = [a for a, role in scope.client_roles.items() if role == "manager"]
    q = Q(agency_id__in=managed)
    if lead_of:
        clients = ServiceAgreement.objects.filter(provider_id__in=lead_of).values("client_id")
        q |= Q(agency_id__in=lead_of) | Q(agency_id__in=clients)
    if not lead_of and not managed:
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(q).select_related("actor", "agency")


def may_read_audit(user: UserLike) -> bool:
    scope = scope_for(user)
    return (
        getattr(user, "is_superuser", False)
        or bool({"admin", "lead"} & set(scope.provider_roles.values()))
        or "manager" in scope.client_roles.values()
    )
