"""Small helpers shared by the hours tests."""

from datetime import date
from decimal import Decimal

from hours.models import TimeEntry
from projects.models import Project


def log(user, project: Project, day: date, hours: str, *, billable: bool = True, **kw) -> TimeEntry:  # type: ignore[no-untyped-def]
    """A time entry stored directly (the services are tested separately)."""
    return TimeEntry.objects.create(
        user=user, project=project, date=day, hours=Decimal(hours), billable=billable, **kw
    )


def last_month(today: date) -> str:
    first = today.replace(day=1)
    prev = date(first.year - 1, 12, 1) if first.month == 1 else date(first.year, first.month - 1, 1)
    return f"{prev:%Y-%m}"
