"""“View as Town X”: provider staff open, read-only, exactly what a client agency's users see.

The one home of "View as": the session holds the agency id; the middleware swaps the user's
scope for a client viewer's scope of that agency, through the staff member's own provider's
agreements only (never another provider's work for the same town), on every request including
tiles, and refuses writes until they stop.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit.services import audit_record
from projects.access import (
    agreements_of_staff,
    clients_served_by,
    get_object_for,
    is_provider_staff_anywhere,
    viewer_scope,
)
from projects.params import id_param

SESSION_KEY = "view_as_agency"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ViewAsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        agency_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        request.view_as = None  # type: ignore[attr-defined]
        if agency_id is not None and request.user.is_authenticated:
            from projects.models import Agency

            # Only while the user is still staff of a provider serving that agency.
            agency = clients_served_by(request.user).filter(pk=agency_id).first()
            if agency is None:
                request.session.pop(SESSION_KEY, None)
            else:
                assert isinstance(agency, Agency)
                agreements = agreements_of_staff(request.user).filter(client=agency)
                request.view_as = agency  # type: ignore[attr-defined]
                request.user._sharedgis_scope = viewer_scope(  # type: ignore[attr-defined]
                    agency.pk, frozenset(agreements.values_list("pk", flat=True))
                )
                allowed = {reverse("projects:view-as-stop"), reverse("logout")}
                if request.method not in SAFE_METHODS and request.path not in allowed:
                    return HttpResponseForbidden(
                        f"Read-only: you are viewing as {agency.name}. Stop viewing as to make changes."
                    )
        return self.get_response(request)


@login_required
@require_POST
def view_as_start(request: HttpRequest) -> HttpResponse:
    if not is_provider_staff_anywhere(request.user):
        messages.error(request, "Only the provider's staff can view as a client.")
        return redirect("home")
    # Only towns their provider serves (as the middleware re-checks), not towns they belong to.
    agency = get_object_for(
        request.user, clients_served_by(request.user), pk=id_param(request.POST, "agency") or 0
    )
    request.session[SESSION_KEY] = agency.pk
    agreement = agreements_of_staff(request.user).filter(client=agency).order_by("pk").first()
    # Not audit_for: the entry is about the town, which may have no agreement with this user's
    # provider left; when it has one, it is chosen by client=agency, so the pair cannot disagree.
    audit_record(
        action="maps.view_as",
        summary=f"{request.user} viewed the portal as {agency.name}",
        actor=request.user,
        agency_id=agency.pk,
        agreement_id=agreement.pk if agreement is not None else None,
        client_visible=True,
        target=agency,
    )
    return redirect("home")


@login_required
@require_POST
def view_as_stop(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("maps:list")
