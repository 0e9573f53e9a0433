"""Reads of time entries: the user's week as timesheet rows, and entries a user may see."""

from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet

from hours.models import TimeEntry
from hours.money import ZERO
from hours.months import ClosedMonths
from projects.access import UserLike


def timesheet_rows(user: User, monday: date) -> list[dict[str, Any]]:
    """The user's entries of one week grouped into timesheet rows (one cell per weekday)."""
    entries = list(
        TimeEntry.objects.filter(user=user, date__gte=monday, date__lte=monday + timedelta(days=6))
        .select_related("project__agreement", "deliverable")
        .order_by("project__name", "deliverable__title", "id")
    )
    grouped: dict[tuple, dict[str, Any]] = {}
    closed = ClosedMonths(e.project.agreement_id for e in entries)
    for e in entries:
        # Closed-month entries get rows of their own: those rows are shown read-only and are
        # never posted back, while the open ones are replaced on save.
        locked = closed.covers(e.project.agreement_id, e.date)
        key = (e.project_id, e.deliverable_id, e.billable, e.note, e.private_note, locked)
        row = grouped.setdefault(
            key,
            {
                "project": e.project,
                "deliverable": e.deliverable,
                "billable": e.billable,
                "note": e.note,
                "private_note": e.private_note,
                "hours": [ZERO] * 7,
                "locked": locked,
            },
        )
        row["hours"][(e.date - monday).days] += e.hours
    return list(grouped.values())


def entries_visible_to(user: UserLike) -> QuerySet[TimeEntry]:
    return TimeEntry.objects.visible_to(user).select_related(
        "user", "project__agreement__client", "deliverable"
    )
