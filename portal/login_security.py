"""Login lockout: who is the client (behind the configured proxies), and when a login is locked.

A lockout keyed on the address alone let a stranger's few wrong passwords lock everyone behind the
same proxy out of the portal. Attempts are counted per user name and address together
(AXES_LOCKOUT_PARAMETERS); one account still locks after LOGIN_ACCOUNT_FAILURE_LIMIT failures from
any addresses in the cool-off period, so spreading guesses over many addresses does not help.
"""

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _trusted(remote: str) -> bool:
    """Whether the direct peer may speak for the client (any peer when TRUSTED_PROXIES is empty)."""
    if not settings.TRUSTED_PROXIES:
        return True
    try:
        peer = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the one the outermost of TRUSTED_PROXY_COUNT proxies saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with N
    trusted proxies the client is the N-th entry from the right; entries further left are
    whatever the client wrote and are never believed.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0 or not _trusted(remote):
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[max(len(forwarded) - count, 0)]
    return candidate if _valid(candidate) else remote


class LoginLockoutHandler(AxesDatabaseHandler):
    """axes' database handler, plus the per-account limit across all addresses."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        username = get_client_username(request, credentials)
        if not username:
            return failures
        account = (
            AccessAttempt.objects.filter(
                username=username, attempt_time__gte=get_cool_off_threshold(request)
            ).aggregate(total=Sum("failures_since_start"))["total"]
            or 0
        )
        if account >= settings.LOGIN_ACCOUNT_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures
