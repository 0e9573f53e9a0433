"""Writes of the OGC app: creating and revoking personal access tokens, each audited."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from ogc.models import AccessToken
from projects.models import Membership

TOKEN_PREFIX = "sgis_"  # noqa: S105 - a marker, not a secret (secret scanners can spot leaks)
# last_used_at is refreshed at most this often: a full read of a layer is many requests.
LAST_USE_RESOLUTION = timedelta(minutes=5)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _agency_id(user: User) -> int | None:
    return Membership.objects.filter(user=user).values_list("agency_id", flat=True).first()


def token_create(
    *, user: User, name: str, days: int | None = None, by: User | None
) -> tuple[AccessToken, str]:
    """A new token for `user` (yourself, or an admin from the command line); returns (row, clear token)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the token a name, e.g. “QGIS on my laptop”.")
    days = settings.OGC_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= settings.OGC_TOKEN_MAX_DAYS:
        raise ValidationError(
            f"A token lasts between 1 and {settings.OGC_TOKEN_MAX_DAYS} days, not {days}."
        )
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = AccessToken.objects.create(
            user=user,
            name=name[:100],
            digest=token_digest(clear),
            prefix=clear[: len(TOKEN_PREFIX) + 4],
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            action="ogc.token_create",
            summary=f"Access token “{token.name}” created for {user.username} ({days} days)",
            actor=by,
            agency_id=_agency_id(user),
            target=token,
        )
    return token, clear


def token_revoke(*, token: AccessToken, by: User) -> AccessToken:
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action="ogc.token_revoke",
            summary=f"Access token “{token.name}” of {token.user.username} revoked",
            actor=by,
            agency_id=_agency_id(token.user),
            target=token,
        )
    return token


def token_user(clear: str) -> User | None:
    """The active user of an active token, else None; records the use (coarsely)."""
    token = (
        AccessToken.objects.active()
        .select_related("user")
        .filter(digest=token_digest(clear))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USE_RESOLUTION:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
