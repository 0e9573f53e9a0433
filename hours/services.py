"""Writes for hours: time entries, CSV import, month close and reopen, budget thresholds."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hours.models import BudgetAlert, MonthClose, TimeEntry
from hours.selectors import (
    ClosedMonths,
    billable_hours_used,
    month_start,
    statement_compute,
    statement_number,
)
from projects.access import (
    agreements_of_staff,
    client_managers,
    is_lead,
    is_provider_staff,
    provider_leads,
)
from projects.csv_safety import unescape_text
from projects.models import Deliverable, Project, ServiceAgreement
from projects.params import BadParameter, parse_int
from projects.services import audit_for

THRESHOLDS = (80, 100)
CSV_COLUMNS = ["date", "project", "deliverable_id", "hours", "billable", "note", "private_note"]
TRUE = {"1", "true", "yes", "y"}
FALSE = {"0", "false", "no", "n", ""}


class OverBudget(ValidationError):
    """Billable time past 100% of the budget, without a lead's override."""


@dataclass
class EntryData:
    project: Project
    date: date
    hours: Decimal
    deliverable: Deliverable | None = None
    billable: bool = True
    note: str = ""
    private_note: str = ""


def _check_can_log(by: User, agreement: ServiceAgreement) -> None:
    if not is_provider_staff(by, agreement):
        raise PermissionDenied("Only the provider's staff log time on this agreement.")


def _check_open(agreement: ServiceAgreement, day: date, closed: ClosedMonths) -> None:
    if closed.covers(agreement.pk, day):
        raise ValidationError(
            f"{day:%B %Y} is closed on “{agreement.title}”; a lead must reopen it to change time."
        )


def _lock_agreement(agreement_id: int) -> ServiceAgreement:
    # Serialises budget checks and threshold alerts per agreement.
    return (
        ServiceAgreement.objects.select_for_update()
        .select_related("provider", "client")
        .get(pk=agreement_id)
    )


def _validated(data: EntryData, user: User) -> TimeEntry:
    if data.deliverable is not None and data.deliverable.project_id != data.project.pk:
        raise ValidationError("The deliverable belongs to another project.")
    entry = TimeEntry(
        user=user,
        project=data.project,
        deliverable=data.deliverable,
        date=data.date,
        hours=data.hours,
        billable=data.billable,
        note=data.note,
        private_note=data.private_note,
    )
    entry.full_clean()
    return entry


def _check_budget(
    agreement: ServiceAgreement,
    added: Decimal,
    *,
    by: User,
    override: bool,
) -> bool:
    """True when the entry goes past 100% and a lead overrode; raises when no override."""
    if added <= 0:
        return False
    used = billable_hours_used(agreement)
    if used + added <= agreement.hours_budget:
        return False
    if not override:
        raise OverBudget(
            f"This would bring “{agreement.title}” to {used + added} of {agreement.hours_budget} "
            "budgeted hours. Logging past 100% needs a lead's explicit override."
        )
    if not is_lead(by, agreement):
        raise PermissionDenied("Only a project lead can override the budget.")
    return True


def _leads_and_managers(agreement: ServiceAgreement) -> list[User]:
    """Who hears of budgets and closed months: the provider's leads, the agreement's project
    leads and the client's managers."""
    project_leads = User.objects.filter(led_projects__agreement=agreement)
    return [*provider_leads(agreement), *project_leads, *client_managers(agreement)]


def budget_thresholds_check(*, agreement: ServiceAgreement) -> None:
    """Record each threshold crossed for the first time and notify leads and client managers."""
    if agreement.hours_budget <= 0:
        return
    used = billable_hours_used(agreement)
    percent = used * 100 / agreement.hours_budget
    for threshold in THRESHOLDS:
        if percent < threshold:
            continue
        _, created = BudgetAlert.objects.get_or_create(
            agreement=agreement, threshold=threshold, defaults={"billable_hours": used}
        )
        if not created:
            continue
        audit_for(
            agreement,
            action="budget.threshold",
            summary=f"{agreement.title} reached {threshold}% of its hours budget ({used} h)",
            actor=None,
            client_visible=True,
            target=agreement,
            data={"threshold": threshold, "billable_hours": str(used)},
        )
        users = _leads_and_managers(agreement)
        subject = f"{agreement.title}: {threshold}% of the hours budget used"
        body = (
            f"Billable hours on “{agreement.title}” ({agreement.client}) reached {used} of "
            f"{agreement.hours_budget} budgeted hours ({threshold}%)."
        )
        url = reverse("hours:agreement", args=[agreement.pk])
        kind = f"budget_{threshold}"

        def send(users=users, kind=kind, subject=subject, body=body, url=url) -> None:  # type: ignore[no-untyped-def]
            from notifications.services import notify_users

            notify_users(users=users, kind=kind, subject=subject, body=body, url=url)

        transaction.on_commit(send)


def _save_entries(
    *,
    by: User,
    items: list[EntryData],
    override: bool,
    replacing: Iterable[TimeEntry] = (),
    owner: User | None = None,
) -> list[TimeEntry]:
    """Validate and store `owner`'s (default `by`'s) entries after deleting `replacing`; all or nothing."""
    replacing = list(replacing)
    agreement_ids = sorted(
        {d.project.agreement_id for d in items} | {e.project.agreement_id for e in replacing}
    )
    agreements = {pk: _lock_agreement(pk) for pk in agreement_ids}
    # Read after the locks: a month closing meanwhile waits for them.
    closed = ClosedMonths(agreement_ids)
    for old in replacing:
        _check_can_log(by, agreements[old.project.agreement_id])
        _check_open(agreements[old.project.agreement_id], old.date, closed)
    entries = []
    for data in items:
        agreement = agreements[data.project.agreement_id]
        _check_can_log(by, agreement)
        _check_open(agreement, data.date, closed)
        entries.append(_validated(data, owner or by))
    TimeEntry.objects.filter(pk__in=[e.pk for e in replacing]).delete()
    added: dict[int, Decimal] = {}
    for entry in entries:
        if entry.billable:
            key = entry.project.agreement_id
            added[key] = added.get(key, Decimal(0)) + entry.hours
    overridden = set()
    for pk, hours in added.items():
        if _check_budget(agreements[pk], hours, by=by, override=override):
            overridden.add(pk)
    for entry in entries:
        entry.over_budget_override = entry.billable and entry.project.agreement_id in overridden
    TimeEntry.objects.bulk_create(entries)
    for pk in overridden:
        audit_for(
            agreements[pk],
            action="budget.override",
            summary=f"{by} logged {added[pk]} h past the budget of {agreements[pk].title}",
            actor=by,
            client_visible=True,
            target=agreements[pk],
            data={"hours": str(added[pk])},
        )
    for pk in agreement_ids:
        budget_thresholds_check(agreement=agreements[pk])
    return entries


def time_entry_create(*, by: User, data: EntryData, override: bool = False) -> TimeEntry:
    return time_entries_create(by=by, items=[data], override=override)[0]


def time_entries_create(
    *, by: User, items: list[EntryData], override: bool = False
) -> list[TimeEntry]:
    """Log several of `by`'s entries at once (CSV import, demo): checked as one, all or nothing."""
    with transaction.atomic():
        return _save_entries(by=by, items=items, override=override)


def time_entry_update(
    *, entry: TimeEntry, by: User, data: EntryData, override: bool = False
) -> TimeEntry:
    """Replace an entry (own entries, or any on the agreement for a lead) while its month is open."""
    _check_can_edit(entry, by)
    with transaction.atomic():
        new = _save_entries(
            by=by, owner=entry.user, items=[data], override=override, replacing=[entry]
        )
        return new[0]


def time_entry_delete(*, entry: TimeEntry, by: User) -> None:
    _check_can_edit(entry, by)
    with transaction.atomic():
        _save_entries(by=by, items=[], override=False, replacing=[entry])


def _check_can_edit(entry: TimeEntry, by: User) -> None:
    if entry.user_id != by.pk and not is_lead(by, entry.project.agreement):
        raise PermissionDenied("Only the person who logged the time or a lead can change it.")


def timesheet_save(
    *, by: User, monday: date, items: list[EntryData], override: bool = False
) -> list[TimeEntry]:
    """Replace the user's entries of that week in open months by the timesheet's contents."""
    sunday = monday + timedelta(days=6)
    for data in items:
        if not monday <= data.date <= sunday:
            raise ValidationError(f"{data.date} is not in the week of {monday}.")
    with transaction.atomic():
        week = list(
            TimeEntry.objects.select_related("project").filter(
                user=by, date__gte=monday, date__lte=sunday
            )
        )
        closed = ClosedMonths(e.project.agreement_id for e in week)
        week = [e for e in week if not closed.covers(e.project.agreement_id, e.date)]
        return _save_entries(by=by, items=items, override=override, replacing=week)


# --- CSV


def _parse_row(row: dict[str, str], projects: dict[str, Project]) -> EntryData:
    def cell(name: str) -> str:
        return unescape_text((row.get(name) or "").strip())

    try:
        day = date.fromisoformat(cell("date"))
    except ValueError:
        raise ValidationError(f"date {cell('date')!r} is not YYYY-MM-DD") from None
    project = projects.get(cell("project"))
    if project is None:
        raise ValidationError(f"project {cell('project')!r} is not one of your projects")
    try:
        hours = Decimal(cell("hours"))
    except InvalidOperation:
        raise ValidationError(f"hours {cell('hours')!r} is not a number") from None
    billable_text = cell("billable").lower()
    if billable_text not in TRUE | FALSE:
        raise ValidationError(f"billable {cell('billable')!r} must be yes or no")
    deliverable = None
    if cell("deliverable_id"):
        try:
            pk = parse_int(cell("deliverable_id"), name="deliverable_id", minimum=1)
        except BadParameter:
            pk = None
        deliverable = Deliverable.objects.filter(pk=pk, project=project).first() if pk else None
        if deliverable is None:
            raise ValidationError(
                f"deliverable_id {cell('deliverable_id')!r} is not a deliverable of {project.slug}"
            )
    return EntryData(
        project=project,
        date=day,
        hours=hours,
        deliverable=deliverable,
        billable=billable_text in TRUE if billable_text else True,
        note=cell("note"),
        private_note=cell("private_note"),
    )


def time_entries_import(*, by: User, file: Any, override: bool = False) -> list[TimeEntry]:
    """Import a CSV of the user's time. Any bad row rejects the whole file, naming its line."""
    raw = file.read()
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text; nothing was imported.") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"date", "project", "hours"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationError(
            f"Line 1: missing column(s) {', '.join(sorted(missing))}; expected "
            f"{','.join(CSV_COLUMNS)}. Nothing was imported."
        )
    projects = {p.slug: p for p in Project.objects.filter(agreement__in=agreements_of_staff(by))}
    items: list[EntryData] = []
    errors: list[str] = []
    closed = ClosedMonths(p.agreement_id for p in projects.values())
    for row in reader:
        line = reader.line_num
        try:
            data = _parse_row(row, projects)
            _validated(data, by)
            if closed.covers(data.project.agreement_id, data.date):
                raise ValidationError(f"{data.date:%B %Y} is closed on {data.project.agreement}")
            items.append(data)
        except ValidationError as exc:
            errors.append(f"Line {line}: {'; '.join(exc.messages)}")
    if errors:
        raise ValidationError([*errors[:20], "Nothing of this file was imported."])
    if not items:
        raise ValidationError("The file has no rows; nothing was imported.")
    return time_entries_create(by=by, items=items, override=override)


# --- Month close


def month_close(*, agreement: ServiceAgreement, month: date, by: User) -> MonthClose:
    """Freeze a month: its entries become read-only and its statement a stable snapshot."""
    if not is_lead(by, agreement):
        raise PermissionDenied("Only a project lead of the provider can close a month.")
    month = month_start(month)
    if month > month_start(timezone.localdate()):
        raise ValidationError("A month cannot be closed before it starts.")
    if not month_start(agreement.start_date) <= month <= agreement.end_date:
        raise ValidationError(f"{month:%B %Y} is outside the agreement's period.")
    with transaction.atomic():
        agreement = _lock_agreement(agreement.pk)
        if MonthClose.objects.active().filter(agreement=agreement, month=month).exists():
            raise ValidationError(f"{month:%B %Y} is already closed.")
        revision = MonthClose.objects.filter(agreement=agreement, month=month).count() + 1
        snapshot = statement_compute(agreement, month, revision=revision)
        close = MonthClose.objects.create(
            agreement=agreement,
            month=month,
            revision=revision,
            number=statement_number(agreement, month, revision),
            closed_by=by,
            snapshot=snapshot,
        )
        audit_for(
            agreement,
            action="month.close",
            summary=f"{agreement.title}: {month:%B %Y} closed ({close.number}, "
            f"{snapshot['total_hours']} h, {snapshot['total_amount']})",
            actor=by,
            client_visible=True,
            target=close,
            data={"month": f"{month:%Y-%m}", "number": close.number},
        )
        users = _leads_and_managers(agreement)
        url = reverse("hours:statement", args=[agreement.pk, f"{month:%Y-%m}"])

        def send() -> None:
            from notifications.services import notify_users

            notify_users(
                users=users,
                kind="month_closed",
                subject=f"{agreement.title}: {month:%B %Y} closed",
                body=f"Statement {close.number} for {month:%B %Y} is ready: "
                f"{snapshot['total_hours']} billable hours.",
                url=url,
            )

        transaction.on_commit(send)
    return close


def month_reopen(*, agreement: ServiceAgreement, month: date, by: User, reason: str) -> MonthClose:
    if not is_lead(by, agreement):
        raise PermissionDenied("Only a project lead of the provider can reopen a month.")
    if not reason.strip():
        raise ValidationError("Say why the month is reopened: a reason is required.")
    month = month_start(month)
    with transaction.atomic():
        close = (
            MonthClose.objects.select_for_update()
            .active()
            .filter(agreement=agreement, month=month)
            .first()
        )
        if close is None:
            raise ValidationError(f"{month:%B %Y} is not closed.")
        close.reopened_at = timezone.now()
        close.reopened_by = by
        close.reopen_reason = reason.strip()
        close.save(update_fields=["reopened_at", "reopened_by", "reopen_reason"])
        audit_for(
            agreement,
            action="month.reopen",
            summary=f"{agreement.title}: {month:%B %Y} reopened ({close.number}): {reason.strip()}",
            actor=by,
            client_visible=True,
            target=close,
            data={"month": f"{month:%Y-%m}", "number": close.number, "reason": reason.strip()},
        )
    return close
