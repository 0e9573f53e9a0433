"""Logging time: quarter hours, the weekly timesheet, month close immutability, CSV import/export."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEntry
from hours.models import TimeEntry
from hours.selectors import week_bounds
from hours.services import (
    EntryData,
    month_close,
    month_reopen,
    time_entry_create,
    time_entry_delete,
    time_entry_update,
)
from tests.conftest import World, client_for
from tests.hours_helpers import log

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:  # type: ignore[no-untyped-def]
    """The whole body of a streamed export."""
    return b"".join(response.streaming_content)


def _month(world: World):  # type: ignore[no-untyped-def]
    return world.agreement_a.start_date.replace(day=1) + timedelta(days=40)


def test_hours_must_be_quarter_hours(world: World) -> None:
    with pytest.raises(ValidationError, match="quarter hours"):
        time_entry_create(
            by=world.analyst,
            data=EntryData(
                project=world.project_a, date=timezone.localdate(), hours=Decimal("1.1")
            ),
        )
    entry = time_entry_create(
        by=world.analyst,
        data=EntryData(project=world.project_a, date=timezone.localdate(), hours=Decimal("1.75")),
    )
    assert entry.hours == Decimal("1.75") and entry.user == world.analyst


def test_clients_cannot_log_time(world: World) -> None:
    with pytest.raises(PermissionDenied):
        time_entry_create(
            by=world.manager_a,
            data=EntryData(project=world.project_a, date=timezone.localdate(), hours=Decimal("1")),
        )


def test_entries_of_a_closed_month_are_read_only_until_a_logged_reopen(world: World) -> None:
    month = _month(world)
    entry = log(world.analyst, world.project_a, month.replace(day=4), "2")
    month_close(agreement=world.agreement_a, month=month, by=world.lead)
    data = EntryData(project=world.project_a, date=month.replace(day=5), hours=Decimal("1"))
    with pytest.raises(ValidationError, match="closed"):
        time_entry_create(by=world.analyst, data=data)
    with pytest.raises(ValidationError, match="closed"):
        time_entry_update(entry=entry, by=world.analyst, data=data)
    with pytest.raises(ValidationError, match="closed"):
        time_entry_delete(entry=entry, by=world.analyst)
    # Moving an open entry into the closed month is refused too.
    open_entry = log(world.analyst, world.project_a, timezone.localdate(), "1")
    with pytest.raises(ValidationError, match="closed"):
        time_entry_update(entry=open_entry, by=world.analyst, data=data)
    with pytest.raises(PermissionDenied):
        month_reopen(agreement=world.agreement_a, month=month, by=world.analyst, reason="x")
    with pytest.raises(ValidationError, match="reason"):
        month_reopen(agreement=world.agreement_a, month=month, by=world.lead, reason=" ")
    month_reopen(agreement=world.agreement_a, month=month, by=world.lead, reason="Typo in hours")
    reopen = AuditEntry.objects.get(action="month.reopen")
    assert reopen.actor == world.lead and "Typo in hours" in reopen.summary
    assert reopen.agency == world.town_a
    time_entry_delete(entry=entry, by=world.analyst)
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()


def test_only_leads_close_months(world: World) -> None:
    with pytest.raises(PermissionDenied):
        month_close(agreement=world.agreement_a, month=_month(world), by=world.analyst)
    with pytest.raises(PermissionDenied):
        month_close(agreement=world.agreement_a, month=_month(world), by=world.manager_a)


def test_closing_and_reopening_through_the_statement_page(world: World) -> None:
    month = f"{_month(world):%Y-%m}"
    lead = client_for(world.lead)
    base = f"/agreements/{world.agreement_a.pk}/months/{month}"
    lead.post(f"{base}/close/")
    assert AuditEntry.objects.filter(action="month.close").count() == 1
    page = lead.get(f"/agreements/{world.agreement_a.pk}/statements/{month}/")
    assert b"Reopen month" in page.content
    lead.post(f"{base}/reopen/", {"reason": "Late timesheet"})
    assert AuditEntry.objects.filter(action="month.reopen").count() == 1
    # A manager cannot close: the statement page does not offer it and the POST changes nothing.
    client_for(world.manager_a).post(f"{base}/close/")
    assert AuditEntry.objects.filter(action="month.close").count() == 1


def test_the_weekly_timesheet_saves_a_week_and_copies_last_week(world: World) -> None:
    monday, _ = week_bounds(timezone.localdate())
    client = client_for(world.analyst)
    post = {
        "rows": "2",
        "r0-project": "zoning-a",
        "r0-deliverable": str(world.deliverable_a.pk),
        "r0-billable": "on",
        "r0-note": "Zoning edits",
        "r0-private_note": "slow county data",
        "r0-d0": "2",
        "r0-d1": "1.5",
        "r0-d4": "0.25",
        "r1-project": "",
    }
    last_week = (monday - timedelta(days=7)).isoformat()
    response = client.post(f"/hours/timesheet/?week={last_week}", post)
    assert response.status_code == 302
    assert TimeEntry.objects.filter(user=world.analyst).count() == 3
    page = client.get(f"/hours/timesheet/?week={monday.isoformat()}&copy=last")
    assert page.content.count(b'value="1.5"') == 1 and b"Zoning edits" in page.content
    # Saving again replaces the week (no duplicates); bad cells are reported and nothing is lost.
    post["r0-d1"] = "1.3"
    response = client.post(f"/hours/timesheet/?week={last_week}", post)
    assert response.status_code == 200 and b"quarter hours" in response.content
    assert b'value="1.3"' in response.content
    assert TimeEntry.objects.filter(user=world.analyst).count() == 3
    post["r0-d1"] = "3"
    client.post(f"/hours/timesheet/?week={last_week}", post)
    hours = sorted(TimeEntry.objects.filter(user=world.analyst).values_list("hours", flat=True))
    assert hours == [Decimal("0.25"), Decimal("2"), Decimal("3")]


CSV_OK = (
    "date,project,deliverable_id,hours,billable,note,private_note\n"
    "{day},zoning-a,,1.5,yes,Edits,\n"
    "{day},zoning-a,,0.75,no,Admin,internal only\n"
)


def test_csv_import_stores_all_rows_and_export_includes_them(world: World) -> None:
    day = timezone.localdate().isoformat()
    client = client_for(world.analyst)
    upload = SimpleUploadedFile("t.csv", CSV_OK.format(day=day).encode(), "text/csv")
    client.post("/hours/entries/import/", {"file": upload})
    assert TimeEntry.objects.filter(user=world.analyst).count() == 2
    exported = _body(client.get("/hours/entries/?format=csv")).decode()
    assert exported.splitlines()[0] == (
        "date,user,project,deliverable_id,deliverable,hours,billable,note,private_note"
    )
    assert f"{day},analyst,zoning-a,,,0.75,no,Admin,internal only" in exported


def test_a_bad_csv_row_is_named_by_line_and_nothing_of_the_file_is_stored(world: World) -> None:
    day = timezone.localdate().isoformat()
    bad = CSV_OK.format(day=day) + f"{day},storm-b,,1,yes,,\n" + "31/12/2026,zoning-a,,1,yes,,\n"
    bad += f"{day},zoning-a,,1.1,yes,,\n"
    client = client_for(world.analyst)
    upload = SimpleUploadedFile("t.csv", bad.encode(), "text/csv")
    response = client.post("/hours/entries/import/", {"file": upload}, follow=True)
    text = response.content.decode()
    assert "Line 5: date &#x27;31/12/2026&#x27; is not YYYY-MM-DD" in text
    assert "Line 6: " in text and "quarter hours" in text
    assert "Nothing of this file was imported." in text
    assert TimeEntry.objects.count() == 0
    # storm-b belongs to the same provider, so line 4 is fine; a town's project slug is unknown.
    missing = SimpleUploadedFile("m.csv", b"date,hours\n2026-01-01,1\n", "text/csv")
    response = client.post("/hours/entries/import/", {"file": missing}, follow=True)
    assert "Line 1: missing column(s) project" in response.content.decode()


def test_private_notes_never_reach_clients(world: World) -> None:
    month = _month(world)
    log(world.analyst, world.project_a, month.replace(day=3), "2", private_note="SECRET-NOTE")
    ym = f"{month:%Y-%m}"
    client = client_for(world.manager_a)
    for url in (
        f"/agreements/{world.agreement_a.pk}/",
        f"/agreements/{world.agreement_a.pk}/statements/{ym}/",
        f"/agreements/{world.agreement_a.pk}/statements/{ym}/statement.csv",
    ):
        assert b"SECRET-NOTE" not in client.get(url).content
    assert client.get("/hours/entries/").status_code == 404
    assert client.get("/hours/entries/?format=csv").status_code == 404


def test_a_week_across_a_closed_month_keeps_the_closed_days_and_saves_the_open_ones(
    world: World,
) -> None:
    first = timezone.localdate().replace(day=1)
    while first.weekday() == 0:  # the week must straddle two months
        first = (first - timedelta(days=1)).replace(day=1)
    monday, _ = week_bounds(first)
    before, after = first - timedelta(days=1), first
    log(world.analyst, world.project_a, before, "2", note="Same note")
    log(world.analyst, world.project_a, after, "3", note="Same note")
    month_close(agreement=world.agreement_a, month=before, by=world.lead)
    client = client_for(world.analyst)
    page = client.get(f"/hours/timesheet/?week={monday.isoformat()}").content.decode()
    assert page.count('class="locked"') == 1
    # Re-post the page as a browser would: disabled (closed) rows are not sent.
    d_after = (after - monday).days
    post = {
        "rows": "5",
        "r1-project": "zoning-a",
        "r1-billable": "on",
        "r1-note": "Same note",
        f"r1-d{d_after}": "3.5",
    }
    response = client.post(f"/hours/timesheet/?week={monday.isoformat()}", post)
    assert response.status_code == 302
    kept = dict(TimeEntry.objects.values_list("date", "hours"))
    assert kept == {before: Decimal("2"), after: Decimal("3.5")}


def test_exported_cells_cannot_run_as_formulas_and_import_back_unchanged(world: World) -> None:
    day = timezone.localdate()
    log(world.analyst, world.project_a, day, "1", note="=HYPERLINK(evil)", private_note="-2 h")
    client = client_for(world.analyst)
    exported = _body(client.get("/hours/entries/?format=csv"))
    assert b",'=HYPERLINK(evil),'-2 h" in exported
    TimeEntry.objects.all().delete()
    upload = SimpleUploadedFile("back.csv", exported, "text/csv")
    client.post("/hours/entries/import/", {"file": upload})
    entry = TimeEntry.objects.get()
    assert (entry.note, entry.private_note, entry.hours) == ("=HYPERLINK(evil)", "-2 h", 1)
