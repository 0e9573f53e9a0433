"""Writes for agencies, projects and deliverables: permission check, change and audit in one place."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse

from audit.models import AuditEntry
from audit.services import audit_record
from projects.access import can_make_move, client_managers, provider_leads
from projects.models import Agency, Deliverable, DeliverableTransition, Membership, ServiceAgreement


def audit_for(
    agreement: ServiceAgreement,
    *,
    action: str,
    summary: str,
    actor: User | AnonymousUser | None,
    client_visible: bool = False,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record an action taken under an agreement, filed under that agreement and its client town.

    Both ids come from the one agreement, so an entry cannot land in another town's log; use
    audit.services.audit_record only for entries that belong to no agreement (logins, tokens…).
    """
    return audit_record(
        action=action,
        summary=summary,
        actor=actor,
        agency_id=agreement.client_id,
        agreement_id=agreement.pk,
        client_visible=client_visible,
        target=target,
        data=data,
    )


class TransitionNotAllowed(ValidationError):
    """The requested status change is not a legal move from the current status."""


def deliverable_transition(
    *, deliverable: Deliverable, to_status: str, by: User, comment: str = ""
) -> DeliverableTransition:
    """Move a deliverable along its workflow, recording who, when and why.

    Provider staff make the production moves; only a manager of the client agency accepts a
    delivered deliverable or requests changes (and must then say what to change).
    """
    with transaction.atomic():
        locked = (
            Deliverable.objects.select_for_update()
            .select_related("project__agreement")
            .get(pk=deliverable.pk)
        )
        agreement = locked.project.agreement
        side = locked.next_statuses().get(to_status)
        if side is None:
            raise TransitionNotAllowed(
                f"A deliverable that is {locked.get_status_display().lower()} cannot move to "
                f"{Deliverable.Status(to_status).label.lower() if to_status in Deliverable.Status.values else to_status!r}."
            )
        if not can_make_move(by, agreement, side):
            raise PermissionDenied(
                "Only the provider's staff can make this change."
                if side == "provider"
                else "Only a manager of the client agency can accept or request changes."
            )
        if to_status == Deliverable.Status.CHANGES_REQUESTED and not comment.strip():
            raise ValidationError("Say what should change: a comment is required.")

        record = DeliverableTransition.objects.create(
            deliverable=locked,
            from_status=locked.status,
            to_status=to_status,
            by=by,
            comment=comment,
        )
        locked.status = to_status
        locked.save(update_fields=["status", "updated_at"])
        audit_for(
            agreement,
            action="deliverable.transition",
            summary=f"{locked.title}: {record.from_status} → {to_status}",
            actor=by,
            client_visible=True,
            target=locked,
            data=record.as_dict(),
        )
        transaction.on_commit(lambda: _notify_transition(record.pk))
    deliverable.refresh_from_db()
    return record


def _notify_transition(transition_id: int) -> None:
    """Tell the other side of a deliverable's move: delivered → the client's managers;
    accepted or changes requested → the provider's leads, the project lead and the assignee."""
    from notifications.services import notify_users

    t = (
        DeliverableTransition.objects.select_related(
            "deliverable__project__agreement__client", "deliverable__assignee", "by"
        )
        .filter(pk=transition_id)
        .first()
    )
    if t is None:
        return
    d = t.deliverable
    agreement = d.project.agreement
    url = reverse("projects:deliverable", args=[d.pk])
    who = (t.by.get_full_name() or t.by.get_username()) if t.by else "Someone"
    S = Deliverable.Status
    if t.to_status == S.DELIVERED:
        notify_users(
            users=client_managers(agreement),
            kind="deliverable_delivered",
            subject=f"Delivered for your review: {d.title}",
            body=f"{who} delivered “{d.title}” ({d.project.name}). Accept it or request changes.",
            url=url,
        )
        return
    if t.to_status not in (S.ACCEPTED, S.CHANGES_REQUESTED):
        return
    users = [*provider_leads(agreement), d.project.lead, d.assignee]
    if t.to_status == S.ACCEPTED:
        kind, subject = "deliverable_accepted", f"Accepted by {agreement.client}: {d.title}"
        body = f"{who} accepted “{d.title}” ({d.project.name})."
    else:
        kind, subject = "changes_requested", f"Changes requested on {d.title}"
        body = f"{who} ({agreement.client}) asked for changes to “{d.title}”:\n\n{t.comment}"
    notify_users(
        users=[u for u in users if u is not None], kind=kind, subject=subject, body=body, url=url
    )


def membership_set(*, user: User, agency: Agency, role: str, by: User | None) -> Membership:
    """Grant or change a user's role in an agency (validated against the agency's kind)."""
    with transaction.atomic():
        membership = Membership.objects.filter(user=user, agency=agency).first() or Membership(
            user=user, agency=agency
        )
        membership.role = role
        membership.full_clean()
        membership.save()
        audit_record(
            action="membership.set",
            summary=f"{user} is {membership.get_role_display()} at {agency}",
            actor=by,
            agency_id=agency.pk,
            target=membership,
            data={"role": role},
        )
    return membership


def membership_remove(*, membership: Membership, by: User | None) -> None:
    """Take a user's role in an agency away, leaving an audit trail."""
    with transaction.atomic():
        audit_record(
            action="membership.remove",
            summary=f"{membership.user} is no longer {membership.get_role_display()} at {membership.agency}",
            actor=by,
            agency_id=membership.agency_id,
            data={"role": membership.role, "user": membership.user_id},
        )
        membership.delete()
