"""“View as Town X”: provider staff open, read-only, exactly what a client agency's users see.

The session holds the agency id; projects/middleware.py swaps the user's scope for a client
viewer's scope of that agency on every request and refuses writes until they stop.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from audit.services import audit_record
from projects.access import get_object_for, scope_for
from projects.models import Agency
from projects.params import id_param

SESSION_KEY = "view_as_agency"


@login_required
@require_POST
def view_as_start(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.is_provider_staff:
        messages.error(request, "Only the provider's staff can view as a client.")
        return redirect("home")
    # Only towns their provider serves (as the middleware re-checks), not towns they belong to.
    agency = get_object_for(
        request.user,
        Agency.objects.filter(
            kind=Agency.Kind.CLIENT, client_agreements__provider_id__in=scope.provider_ids
        ),
        pk=id_param(request.POST, "agency") or 0,
    )
    request.session[SESSION_KEY] = agency.pk
    audit_record(
        action="maps.view_as",
        summary=f"{request.user} viewed the portal as {agency.name}",
        actor=request.user,
        agency_id=agency.pk,
        target=agency,
    )
    return redirect("home")


@login_required
@require_POST
def view_as_stop(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("maps:list")
