"""Writes for notifications: in-app rows now, emails by a Celery job after the commit."""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from notifications.models import EmailOptOut, Kind, Notification
from projects.models import Membership


def notify_users(
    *, users: Iterable[User], kind: str, subject: str, body: str, url: str = ""
) -> list[Notification]:
    """One in-app notification per distinct active user; email queued for those not opted out."""
    if kind not in Kind.values:
        raise ValidationError(f"Unknown notification kind {kind!r}.")
    by_id = {u.pk: u for u in users if u is not None and u.is_active}
    if not by_id:
        return []
    opted_out = set(
        EmailOptOut.objects.filter(user_id__in=by_id, kind=kind).values_list("user_id", flat=True)
    )
    rows = Notification.objects.bulk_create(
        Notification(
            user_id=user_id,
            kind=kind,
            subject=subject[:200],
            body=body,
            url=url[:500],
            email_wanted=user_id not in opted_out and bool(by_id[user_id].email),
        )
        for user_id in sorted(by_id)
    )
    email_ids = [n.pk for n in rows if n.email_wanted]
    if email_ids:
        from notifications.tasks import notification_email_task

        # robust: a broker outage must not undo the action that notified; the in-app row stays.
        transaction.on_commit(lambda: notification_email_task.delay(email_ids), robust=True)
    return rows


def notify_agency(
    *,
    agency_id: int,
    kind: str,
    subject: str,
    body: str,
    url: str = "",
    roles: Iterable[str] | None = None,
) -> None:
    """Notify every member of an agency (or only those holding one of `roles`)."""
    members = Membership.objects.filter(agency_id=agency_id)
    if roles is not None:
        members = members.filter(role__in=list(roles))
    users = get_user_model().objects.filter(pk__in=members.values("user_id"))
    notify_users(users=users, kind=kind, subject=subject, body=body, url=url)


def notification_email_send(*, notification_ids: list[int]) -> int:
    """Email each notification not yet emailed; returns how many were sent. Safe to repeat."""
    sent = 0
    for notification_id in notification_ids:
        with transaction.atomic():
            note = (
                Notification.objects.select_for_update()
                .select_related("user")
                .filter(pk=notification_id, email_wanted=True, emailed_at__isnull=True)
                .first()
            )
            if note is None or not note.user.email:
                continue
            link = f"\n\n{getattr(settings, 'SITE_URL', '')}{note.url}" if note.url else ""
            send_mail(
                subject=f"[SharedGIS] {note.subject}",
                message=f"{note.body}{link}\n\nTurn these emails off in SharedGIS under Notifications.",
                from_email=None,
                recipient_list=[note.user.email],
            )
            note.emailed_at = timezone.now()
            note.save(update_fields=["emailed_at"])
            sent += 1
    return sent


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when `ids` is None)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def email_preferences_set(*, user: User, email_kinds: Iterable[str]) -> None:
    """Keep email on for exactly `email_kinds`; every other kind is opted out."""
    wanted = set(email_kinds) & set(Kind.values)
    with transaction.atomic():
        EmailOptOut.objects.filter(user=user, kind__in=wanted).delete()
        existing = set(EmailOptOut.objects.filter(user=user).values_list("kind", flat=True))
        EmailOptOut.objects.bulk_create(
            EmailOptOut(user=user, kind=kind)
            for kind in sorted(set(Kind.values) - wanted - existing)
        )


def notify_transition(*, transition_id: int) -> None:
    """Tell the other side of a deliverable's move: delivered → client managers;
    accepted or changes requested → the provider's leads and the assignee."""
    from django.db.models import Q
    from django.urls import reverse

    from projects.models import Deliverable, DeliverableTransition

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
        notify_agency(
            agency_id=agreement.client_id,
            kind="deliverable_delivered",
            subject=f"Delivered for your review: {d.title}",
            body=f"{who} delivered “{d.title}” ({d.project.name}). Accept it or request changes.",
            url=url,
            roles=[Membership.Role.MANAGER],
        )
        return
    if t.to_status not in (S.ACCEPTED, S.CHANGES_REQUESTED):
        return
    users = list(
        get_user_model()
        .objects.filter(
            Q(memberships__agency_id=agreement.provider_id, memberships__role=Membership.Role.LEAD)
            | Q(led_projects=d.project)
            | Q(pk=d.assignee_id or 0)
        )
        .distinct()
    )
    if t.to_status == S.ACCEPTED:
        kind, subject = "deliverable_accepted", f"Accepted by {agreement.client}: {d.title}"
        body = f"{who} accepted “{d.title}” ({d.project.name})."
    else:
        kind, subject = "changes_requested", f"Changes requested on {d.title}"
        body = f"{who} ({agreement.client}) asked for changes to “{d.title}”:\n\n{t.comment}"
    notify_users(users=users, kind=kind, subject=subject, body=body, url=url)
