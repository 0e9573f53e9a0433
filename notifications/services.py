"""Writes for notifications: in-app rows now, emails by a Celery job after the commit.

A leaf: it delivers to the recipients it is given. The app that owns an event decides who is
told (projects for deliverable moves, maps for publishing, hours for budgets and months).
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from notifications.models import EmailOptOut, Kind, Notification


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
