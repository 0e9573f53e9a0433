from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from projects.access import scope_for


def memberships(request: HttpRequest) -> dict[str, object]:
    """Expose the user's scope to templates (navigation differs for provider staff and clients)."""
    # A request refused before AuthenticationMiddleware ran (a bad Host header answered with the
    # 400 page) has no user: it gets the anonymous scope, as Django's own auth processor does.
    return {"scope": scope_for(getattr(request, "user", None) or AnonymousUser())}
