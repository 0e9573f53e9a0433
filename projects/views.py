from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from projects.access import get_object_for, signed_in
from projects.errors import validation_message
from projects.models import Deliverable, Project
from projects.selectors import allowed_moves, deliverables_visible_to, home_for
from projects.services import deliverable_transition


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "projects/home.html", {"home": home_for(request.user)})


@login_required
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = get_object_for(
        request.user, Project.objects.select_related("agreement__client", "lead"), slug=slug
    )
    deliverables = deliverables_visible_to(request.user).filter(project=project)
    return render(
        request, "projects/project_detail.html", {"project": project, "deliverables": deliverables}
    )


@login_required
def deliverable_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = get_object_for(
        request.user, Deliverable.objects.select_related("project__agreement"), pk=pk
    )
    return render(
        request,
        "projects/deliverable_detail.html",
        {
            "deliverable": deliverable,
            "moves": allowed_moves(request.user, deliverable),
            "transitions": deliverable.transitions.select_related("by"),
        },
    )


@login_required
@require_POST
def deliverable_move(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = get_object_for(request.user, Deliverable, pk=pk)
    try:
        deliverable_transition(
            deliverable=deliverable,
            to_status=request.POST.get("to_status", ""),
            by=signed_in(request),
            comment=request.POST.get("comment", ""),
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
        return redirect("projects:deliverable", pk=pk)
    messages.success(
        request, f"“{deliverable.title}” is now {deliverable.get_status_display().lower()}."
    )
    return redirect("projects:deliverable", pk=pk)
