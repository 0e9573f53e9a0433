"""Thin views: tenancy through projects.access, reads from selectors, writes through services."""

import contextlib
from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hours import ical
from hours.exports import statement_csv_write, time_entries_csv
from hours.forms import (
    BLANK_ROWS,
    GridRow,
    TimeEntryForm,
    items_from_rows,
    rows_from_entries,
    rows_from_post,
)
from hours.models import CalendarToken, MonthClose, TimeEntry
from hours.selectors import (
    BoardFilters,
    agreement_summary,
    board_for,
    burndown,
    burndown_svg,
    client_summaries,
    closed_months,
    entries_visible_to,
    parse_month,
    statement_for,
    statement_months,
    timesheet_rows,
    week_bounds,
)
from hours.services import (
    month_close,
    month_reopen,
    time_entries_import,
    time_entry_delete,
    time_entry_update,
    timesheet_save,
)
from projects.access import (
    agreements_of_staff,
    can_see_money,
    get_object_for,
    is_lead,
    is_lead_anywhere,
    is_provider_staff_anywhere,
    signed_in,
)
from projects.errors import validation_message, validation_messages
from projects.models import Agency, Deliverable, Project, ServiceAgreement
from projects.params import id_param
from projects.selectors import deliverables_visible_to
from projects.services import deliverable_transition


def _agreement(request: HttpRequest, pk: int) -> ServiceAgreement:
    return get_object_for(
        request.user, ServiceAgreement.objects.select_related("provider", "client"), pk=pk
    )


def _money_agreement(request: HttpRequest, pk: int) -> ServiceAgreement:
    """The agreement, for users who may see its money (other agencies get 404, viewers 403)."""
    agreement = _agreement(request, pk)
    if not can_see_money(request.user, agreement):
        raise PermissionDenied("Hours and amounts are shown to the client's managers only.")
    return agreement


def _provider_projects(request: HttpRequest) -> QuerySet[Project]:
    return Project.objects.filter(agreement__in=agreements_of_staff(request.user)).select_related(
        "agreement"
    )


def _require_provider(request: HttpRequest) -> None:
    if not is_provider_staff_anywhere(request.user):
        raise Http404("Not found.")


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk)
    today = timezone.localdate()
    context: dict[str, object] = {
        "agreement": agreement,
        "deliverables": deliverables_visible_to(request.user)
        .filter(project__agreement=agreement)
        .order_by("project__name", "due_date"),
        "show_money": can_see_money(request.user, agreement),
        "today": today,
    }
    if context["show_money"]:
        chart = burndown(agreement, today=today)
        closed = closed_months(agreement)
        context.update(
            summary=agreement_summary(agreement, today=today),
            chart=chart,
            svg=burndown_svg(chart, agreement),
            months=[(m, m in closed) for m in statement_months(agreement, today=today)],
            can_close=is_lead(request.user, agreement),
        )
    return render(request, "hours/agreement.html", context)


@login_required
def burndown_data(request: HttpRequest, pk: int) -> JsonResponse:
    agreement = _money_agreement(request, pk)
    return JsonResponse(burndown(agreement, today=timezone.localdate()).as_json())


def _statement(request: HttpRequest, pk: int, month: str) -> tuple[ServiceAgreement, dict]:
    agreement = _money_agreement(request, pk)
    start = parse_month(month)
    if start is None or not (agreement.start_date.replace(day=1) <= start <= agreement.end_date):
        raise Http404("No statement for that month.")
    return agreement, statement_for(agreement, start)


@login_required
def statement_page(request: HttpRequest, pk: int, month: str) -> HttpResponse:
    agreement, statement = _statement(request, pk, month)
    return render(
        request,
        "hours/statement.html",
        {
            "agreement": agreement,
            "s": statement,
            "period": parse_month(month),
            "can_close": is_lead(request.user, agreement),
        },
    )


@login_required
def statement_csv(request: HttpRequest, pk: int, month: str) -> HttpResponse:
    _, s = _statement(request, pk, month)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-{s["number"]}.csv"'
    statement_csv_write(s, response)
    return response


@login_required
def statement_pdf(request: HttpRequest, pk: int, month: str) -> HttpResponse:
    from weasyprint import HTML

    agreement, s = _statement(request, pk, month)
    html = render_to_string("hours/statement_pdf.html", {"agreement": agreement, "s": s})
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{s["number"]}.pdf"'
    return response


@login_required
@require_POST
def month_close_view(request: HttpRequest, pk: int, month: str) -> HttpResponse:
    agreement = _agreement(request, pk)
    start = parse_month(month)
    if start is None:
        raise Http404("Bad month.")
    try:
        close = month_close(agreement=agreement, month=start, by=signed_in(request))
        messages.success(request, f"{start:%B %Y} closed; statement {close.number}.")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
        return redirect("hours:agreement", pk=pk)
    return redirect("hours:statement", pk=pk, month=month)


@login_required
@require_POST
def month_reopen_view(request: HttpRequest, pk: int, month: str) -> HttpResponse:
    agreement = _agreement(request, pk)
    start = parse_month(month)
    if start is None:
        raise Http404("Bad month.")
    try:
        month_reopen(
            agreement=agreement,
            month=start,
            by=signed_in(request),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, f"{start:%B %Y} reopened; its time can be changed again.")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
    return redirect("hours:statement", pk=pk, month=month)


# --- Time entry


def _monday(request: HttpRequest) -> date:
    try:
        day = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = timezone.localdate()
    return week_bounds(day)[0]


@login_required
def timesheet(request: HttpRequest) -> HttpResponse:
    _require_provider(request)
    monday = _monday(request)
    projects = _provider_projects(request).order_by("agreement__client__name", "name")
    if request.method == "POST":
        rows = rows_from_post(request.POST)
        items, errors = items_from_rows(rows, monday, {p.slug: p for p in projects})
        if not errors:
            try:
                saved = timesheet_save(
                    by=signed_in(request),
                    monday=monday,
                    items=items,
                    override=request.POST.get("override") == "on",
                )
                total = sum((e.hours for e in saved), start=Decimal(0))
                messages.success(request, f"Week of {monday:%d %b %Y} saved: {total} hours.")
                return redirect(f"{reverse('hours:timesheet')}?week={monday.isoformat()}")
            except (PermissionDenied, ValidationError) as exc:
                errors = validation_messages(exc)
        for error in errors:
            messages.error(request, error)
        # Posted rows come back as typed; closed rows are reloaded from the database.
        locked = [
            r for r in rows_from_entries(timesheet_rows(signed_in(request), monday)) if r.locked
        ]
        rows = locked + rows
    else:
        grouped = timesheet_rows(signed_in(request), monday)
        rows = rows_from_entries(grouped)
        if request.GET.get("copy") == "last" and not [r for r in rows if not r.locked]:
            last = timesheet_rows(signed_in(request), monday - timedelta(days=7))
            rows += [GridRow(**{**r.__dict__, "locked": False}) for r in rows_from_entries(last)]
            messages.info(request, "Last week copied: check the hours, then save.")
    rows += [GridRow() for _ in range(BLANK_ROWS)]
    days = [monday + timedelta(days=d) for d in range(7)]
    totals = []
    for d in range(7):
        day_total = 0.0
        for r in rows:
            with contextlib.suppress(ValueError):
                day_total += float(r.hours[d] or 0)
        totals.append(day_total)
    lead = is_lead_anywhere(request.user)
    return render(
        request,
        "hours/timesheet.html",
        {
            "monday": monday,
            "prev": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
            "days": days,
            # Each hours cell with its day, so inputs can be labelled "Hours on Monday 3 November".
            "grid": [(row, list(zip(days, row.hours, strict=True))) for row in rows],
            "rows": rows,
            "totals": totals,
            "projects": projects,
            "deliverables": Deliverable.objects.filter(project__in=projects).select_related(
                "project"
            ),
            "is_lead": lead,
        },
    )


@login_required
def entry_list(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    _require_provider(request)
    entries = entries_visible_to(request.user).order_by("-date", "-id")
    mine = request.GET.get("who") != "all"
    if mine:
        entries = entries.filter(user=signed_in(request))
    month = parse_month(request.GET.get("month", ""))
    if month:
        entries = entries.filter(date__year=month.year, date__month=month.month)
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(
            time_entries_csv(entries.iterator(chunk_size=2000)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="time-entries.csv"'
        return response
    page = list(entries[:500])
    closed = set(
        MonthClose.objects.active()
        .filter(agreement_id__in={e.project.agreement_id for e in page})
        .values_list("agreement_id", "month")
    )
    for e in page:
        e.closed = (e.project.agreement_id, e.date.replace(day=1)) in closed  # type: ignore[attr-defined]
    return render(
        request,
        "hours/entries.html",
        {"entries": page, "mine": mine, "month": request.GET.get("month", "")},
    )


@login_required
@require_POST
def entry_import(request: HttpRequest) -> HttpResponse:
    _require_provider(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV file to import.")
        return redirect("hours:entries")
    try:
        created = time_entries_import(
            by=signed_in(request), file=upload, override=request.POST.get("override") == "on"
        )
        messages.success(request, f"Imported {len(created)} time entries.")
    except (PermissionDenied, ValidationError) as exc:
        for message in validation_messages(exc):
            messages.error(request, message)
    return redirect("hours:entries")


@login_required
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_for(
        request.user, TimeEntry.objects.select_related("project__agreement"), pk=pk
    )
    projects = _provider_projects(request)
    initial = {
        "date": entry.date,
        "project": entry.project,
        "deliverable": entry.deliverable,
        "hours": entry.hours,
        "billable": entry.billable,
        "note": entry.note,
        "private_note": entry.private_note,
    }
    form = TimeEntryForm(request.POST or None, initial=initial, projects=projects)
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                time_entry_delete(entry=entry, by=signed_in(request))
                messages.success(request, "Time entry deleted.")
                return redirect("hours:entries")
            if form.is_valid():
                time_entry_update(
                    entry=entry,
                    by=signed_in(request),
                    data=form.entry_data(),
                    override=form.cleaned_data["override"],
                )
                messages.success(request, "Time entry saved.")
                return redirect("hours:entries")
        except (PermissionDenied, ValidationError) as exc:
            form.add_error(None, validation_message(exc))
    return render(request, "hours/entry_edit.html", {"form": form, "entry": entry})


# --- Lead dashboard


@login_required
def board(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    filters = BoardFilters(
        client=id_param(request.GET, "client"),
        project=request.GET.get("project", ""),
        assignee=id_param(request.GET, "assignee"),
        due=request.GET.get("due", ""),
    )
    visible = deliverables_visible_to(request.user)
    return render(
        request,
        "hours/board.html",
        {
            "columns": board_for(request.user, filters, today=today),
            "filters": filters,
            "clients": Agency.objects.visible_to(request.user).filter(kind=Agency.Kind.CLIENT),
            "projects": Project.objects.visible_to(request.user).order_by("name"),
            "assignees": get_user_model()
            .objects.filter(pk__in=visible.values("assignee_id"))
            .order_by("username"),
            "summaries": client_summaries(request.user, today=today),
            "today": today,
        },
    )


@login_required
@require_POST
def board_move(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = get_object_for(request.user, Deliverable, pk=pk)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    try:
        deliverable_transition(
            deliverable=deliverable,
            to_status=request.POST.get("to_status", ""),
            by=signed_in(request),
            comment=request.POST.get("comment", ""),
        )
    except (PermissionDenied, ValidationError) as exc:
        error = validation_message(exc)
        if wants_json:
            return JsonResponse({"ok": False, "error": error}, status=400)
        messages.error(request, error)
        return redirect(_board_next(request))
    if wants_json:
        return JsonResponse(
            {"ok": True, "status": deliverable.status, "label": deliverable.get_status_display()}
        )
    messages.success(
        request, f"“{deliverable.title}” is now {deliverable.get_status_display().lower()}."
    )
    return redirect(_board_next(request))


def _board_next(request: HttpRequest) -> str:
    """Back to the board (with its filters); never a URL elsewhere, whatever `next` says."""
    next_url = request.POST.get("next", "")
    return next_url if next_url.startswith("/board/") else reverse("hours:board")


# --- Calendar


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    token, _ = CalendarToken.objects.get_or_create(user=signed_in(request))
    if request.method == "POST":
        token.rotate()
        token.save()
        messages.success(request, "A new calendar link was made; the old one no longer works.")
        return redirect("hours:calendar")
    feed = request.build_absolute_uri(reverse("hours:ical", args=[token.token]))
    return render(request, "hours/calendar.html", {"feed": feed})


def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    row = CalendarToken.objects.select_related("user").filter(token=token).first()
    if row is None or not row.user.is_active:
        raise Http404("Not found.")
    deliverables = deliverables_visible_to(row.user).filter(due_date__isnull=False)
    body = ical.calendar(deliverables, host=request.get_host())
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")
