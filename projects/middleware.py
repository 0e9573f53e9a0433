"""“View as” a client agency (maps/view_as.py): a read-only client-viewer scope for provider staff."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.urls import reverse

from projects.access import Scope, scope_for

SESSION_KEY = "view_as_agency"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ViewAsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Tiles skip the session read: they are GETs and their URLs come from pages already scoped.
        tiles = request.path.startswith("/tiles/")
        agency_id = (
            request.session.get(SESSION_KEY) if hasattr(request, "session") and not tiles else None
        )
        request.view_as = None  # type: ignore[attr-defined]
        if agency_id is not None and request.user.is_authenticated:
            from projects.models import Agency

            real = scope_for(request.user)
            # Only while the user is still staff of a provider serving that agency.
            agency = Agency.objects.filter(
                pk=agency_id, client_agreements__provider_id__in=real.provider_ids
            ).first()
            if agency is None:
                request.session.pop(SESSION_KEY, None)
            else:
                request.view_as = agency  # type: ignore[attr-defined]
                request.user._sharedgis_scope = Scope(  # type: ignore[attr-defined]
                    provider_roles={}, client_roles={agency.pk: "viewer"}
                )
                allowed = {reverse("maps:view-as-stop"), reverse("logout")}
                if request.method not in SAFE_METHODS and request.path not in allowed:
                    return HttpResponseForbidden(
                        f"Read-only: you are viewing as {agency.name}. Stop viewing as to make changes."
                    )
        return self.get_response(request)
