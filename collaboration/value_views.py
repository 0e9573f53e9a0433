"""The value report: page, PDF and CSV, for client managers and provider staff (money rules)."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from collaboration.services import agreement_terms_set
from collaboration.value import PeriodError, ValueReport, period_from, report_rows, value_report
from projects.access import can_see_money, get_object_for, is_lead, signed_in
from projects.errors import validation_message
from projects.models import ServiceAgreement


def _agreement(request: HttpRequest, pk: int) -> ServiceAgreement:
    agreement = get_object_for(
        request.user, ServiceAgreement.objects.select_related("provider", "client"), pk=pk
    )
    if not can_see_money(request.user, agreement):
        raise PermissionDenied("The value report is shown to the client's managers only.")
    return agreement


def _report(request: HttpRequest, pk: int) -> ValueReport | HttpResponse:
    agreement = _agreement(request, pk)
    try:
        period = period_from(request.GET, today=timezone.localdate())
    except PeriodError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return value_report(agreement, period)


def _filename(report: ValueReport, ext: str) -> str:
    return f"value-{slugify(report.agreement.client.name)}-{report.agreement.pk}-{report.period.start:%Y%m}-{report.period.end:%Y%m}.{ext}"


@login_required
@require_GET
def value_page(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    if isinstance(report, HttpResponse):
        return report
    return render(
        request,
        "collaboration/value.html",
        {"r": report, "can_edit_terms": is_lead(request.user, report.agreement)},
    )


@login_required
@require_GET
def value_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from weasyprint import HTML

    report = _report(request, pk)
    if isinstance(report, HttpResponse):
        return report
    html = render_to_string("collaboration/value_pdf.html", {"r": report}, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "pdf")}"'
    return response


@login_required
@require_GET
def value_csv(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    if isinstance(report, HttpResponse):
        return report
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    csv.writer(response).writerows(report_rows(report, request.build_absolute_uri("/").rstrip("/")))
    return response


@login_required
@require_POST
def value_terms(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk)
    try:
        agreement_terms_set(
            agreement=agreement,
            alternative_hourly_rate=request.POST.get("alternative_hourly_rate", ""),
            alternative_rate_source=request.POST.get("alternative_rate_source", ""),
            response_target_days=request.POST.get("response_target_days", ""),
            by=signed_in(request),
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
    else:
        messages.success(request, "Agreement terms saved.")
    return redirect("collaboration:value", pk=pk)
