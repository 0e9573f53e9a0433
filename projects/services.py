"""Writes for agencies, projects and deliverables: permission check, change and audit in one place."""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import audit_record
from projects.access import scope_for
from projects.models import Agency, Deliverable, DeliverableTransition, Membership


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
        scope = scope_for(by)
        if side == "provider" and agreement.provider_id not in scope.provider_ids:
            raise PermissionDenied("Only the provider's staff can make this change.")
        if (
            side == "client"
            and scope.client_roles.get(agreement.client_id) != Membership.Role.MANAGER
        ):
            raise PermissionDenied(
                "Only a manager of the client agency can accept or request changes."
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
        audit_record(
            action="deliverable.transition",
            summary=f"{locked.title}: {record.from_status} → {to_status}",
            actor=by,
            agency_id=agreement.client_id,
            target=locked,
            data=record.as_dict(),
        )
        transaction.on_commit(lambda: _notify_transition(record.pk))
    deliverable.refresh_from_db()
    return record


def _notify_transition(transition_id: int) -> None:
    """Delivered → the client's managers; accepted or changes requested → provider leads and assignee."""
    from notifications.services import notify_transition

    notify_transition(transition_id=transition_id)


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
