"""Deliverable packages: a page with the build state, a build request, the zip."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from collaboration.models import DeliverablePackage
from collaboration.package_services import PACKAGE_STATUSES, package_request
from projects.access import get_object_for, signed_in
from projects.errors import validation_message
from projects.models import Deliverable


def _deliverable(request: HttpRequest, pk: int) -> Deliverable:
    return get_object_for(
        request.user, Deliverable.objects.select_related("project__agreement__client"), pk=pk
    )


@login_required
@require_GET
def package_page(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable(request, pk)
    package = DeliverablePackage.objects.filter(deliverable=deliverable).first()
    return render(
        request,
        "collaboration/package.html",
        {
            "deliverable": deliverable,
            "package": package,
            "packable": deliverable.status in PACKAGE_STATUSES,
            "building": package is not None
            and package.status
            in (DeliverablePackage.Status.QUEUED, DeliverablePackage.Status.RUNNING),
        },
    )


@login_required
@require_POST
def package_build(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable(request, pk)
    try:
        package_request(deliverable=deliverable, by=signed_in(request))
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
    else:
        messages.info(request, "The package is being built; this page shows it when ready.")
    return redirect("collaboration:package", pk=pk)


@login_required
@require_GET
def package_zip(request: HttpRequest, pk: int) -> HttpResponseBase:
    deliverable = _deliverable(request, pk)
    package = DeliverablePackage.objects.filter(
        deliverable=deliverable, status=DeliverablePackage.Status.READY
    ).first()
    if package is None or not package.file:
        # Not built yet: the package page offers the build.
        return redirect("collaboration:package", pk=pk)
    response = FileResponse(
        package.file.open("rb"),
        as_attachment=True,
        filename=f"deliverable-{deliverable.pk}-package.zip",
        content_type="application/zip",
    )
    response["X-Content-SHA256"] = package.sha256
    return response
