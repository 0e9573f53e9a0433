from django.http import HttpRequest

from projects.access import scope_for


def memberships(request: HttpRequest) -> dict[str, object]:
    """Expose the user's scope to templates (navigation differs for provider staff and clients)."""
    return {"scope": scope_for(request.user)}
