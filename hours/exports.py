"""CSV writers for time entries and statements, safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from hours.models import TimeEntry
from projects.csv_safety import safe_text

EXPORT_COLUMNS = [
    "date",
    "user",
    "project",
    "deliverable_id",
    "deliverable",
    "hours",
    "billable",
    "note",
    "private_note",
]


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def time_entries_csv(entries: Iterable[TimeEntry]) -> Iterator[str]:
    """CSV lines of the entries, one at a time (exports are streamed, never built in memory)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for e in entries:
        yield writer.writerow(
            [
                e.date.isoformat(),
                e.user.get_username(),
                e.project.slug,
                e.deliverable_id or "",
                safe_text(e.deliverable.title) if e.deliverable else "",
                e.hours,
                "yes" if e.billable else "no",
                safe_text(e.note),
                safe_text(e.private_note),
            ]
        )


def statement_csv_write(s: dict[str, Any], out: Any) -> None:
    """A statement as CSV: header facts, the lines, totals, budget, the month's deliverables."""
    writer = csv.writer(out)
    writer.writerow(["statement", s["number"]])
    writer.writerow(["provider", safe_text(s["provider"])])
    writer.writerow(["client", safe_text(s["client"])])
    writer.writerow(["agreement", safe_text(s["agreement"])])
    writer.writerow(["period", s["period_start"], s["period_end"]])
    writer.writerow(["status", "closed" if s["closed"] else "draft"])
    writer.writerow([])
    writer.writerow(["project", "deliverable", "hours", "rate", "amount"])
    for line in s["lines"]:
        writer.writerow(
            [
                safe_text(line["project"]),
                safe_text(line["deliverable"]),
                line["hours"],
                line["rate"],
                line["amount"],
            ]
        )
    writer.writerow(["total", "", s["total_hours"], "", s["total_amount"]])
    writer.writerow([])
    writer.writerow(["budget hours", s["budget_hours"], "budget amount", s["budget_amount"]])
    writer.writerow(["used hours to date", s["used_hours_to_date"]])
    writer.writerow(
        ["remaining hours", s["remaining_hours"], "remaining amount", s["remaining_amount"]]
    )
    for label in ("delivered", "accepted"):
        for d in s[label]:
            writer.writerow(
                [label, safe_text(d["project"]), safe_text(d["deliverable"]), d["date"]]
            )
