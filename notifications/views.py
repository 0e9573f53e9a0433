from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from notifications.models import EmailOptOut, Kind, Notification
from notifications.services import email_preferences_set, notifications_mark_read


def signed_in(request: HttpRequest) -> User:
    """The request's user (these views are behind login_required)."""
    if not isinstance(request.user, User):
        raise PermissionDenied("Log in first.")
    return request.user


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notes = Notification.objects.filter(user=signed_in(request))[:200]
    opted_out = set(
        EmailOptOut.objects.filter(user=signed_in(request)).values_list("kind", flat=True)
    )
    kinds = [(value, label, value not in opted_out) for value, label in Kind.choices]
    return render(request, "notifications/list.html", {"notifications": notes, "kinds": kinds})


def _ids(values: list[str]) -> list[int]:
    # notifications is a leaf and cannot use projects/params.py; the same rule: ASCII digits
    # within a bigint, else a 400 with a message.
    if any(not (v.isascii() and v.isdigit() and len(v) <= 18) for v in values):
        raise BadRequest("“id” must be a notification number.")
    return [int(v) for v in values]


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    ids = _ids(request.POST.getlist("id")) or None
    notifications_mark_read(user=signed_in(request), ids=ids)
    return redirect("notifications:list")


@login_required
@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    email_preferences_set(user=signed_in(request), email_kinds=request.POST.getlist("email"))
    messages.success(request, "Email preferences saved.")
    return redirect("notifications:list")
