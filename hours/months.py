"""Calendar months of an agreement and which of them are closed."""

import calendar
from collections.abc import Iterable
from datetime import date, timedelta

from hours.models import MonthClose
from projects.models import ServiceAgreement


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def parse_month(text: str) -> date | None:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return None


def closed_months(agreement: ServiceAgreement) -> set[date]:
    return set(
        MonthClose.objects.filter(agreement=agreement).active().values_list("month", flat=True)
    )


def is_month_closed(agreement_id: int, day: date) -> bool:
    return (
        MonthClose.objects.active()
        .filter(agreement_id=agreement_id, month=month_start(day))
        .exists()
    )


class ClosedMonths:
    """Which (agreement, month) pairs are closed, read in one query for a set of agreements.

    Checking entries one by one with `is_month_closed` costs a query each (an N+1 on a week or
    a CSV import); load this once and ask `covers(agreement_id, day)`.
    """

    def __init__(self, agreement_ids: Iterable[int]) -> None:
        self.keys = set(
            MonthClose.objects.active()
            .filter(agreement_id__in=set(agreement_ids))
            .values_list("agreement_id", "month")
        )

    def covers(self, agreement_id: int, day: date) -> bool:
        return (agreement_id, month_start(day)) in self.keys


def statement_months(agreement: ServiceAgreement, *, today: date) -> list[date]:
    """Months from the agreement's start to the current (or its last) month, newest first."""
    months = []
    current = month_start(agreement.start_date)
    last = month_start(min(today, agreement.end_date))
    while current <= last:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months[::-1]
