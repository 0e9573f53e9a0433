"""Reads for hours pages, one module per job; this index keeps the names callers import.

hours/months.py      months of an agreement, which are closed (ClosedMonths: one query)
hours/money.py       rates, hours used, amounts, the agreement summary
hours/burndown.py    burn-down points, projection and SVG geometry
hours/statements.py  monthly statements (computed or frozen)
hours/board.py       the lead's board and per-client summaries
hours/timesheet.py   the user's week and the entries a user may see
Who may see money or close months: projects.access (can_see_money, is_lead).
"""

from hours.board import (
    BoardFilters,
    ClientSummary,
    Column,
    board_for,
    client_summaries,
    week_bounds,
)
from hours.burndown import Burndown, burndown, burndown_svg
from hours.money import (
    CENT,
    ZERO,
    AgreementSummary,
    agreement_entries,
    agreement_summary,
    billable_hours_used,
    money,
    rate_changes,
    rate_expression,
    rate_on,
)
from hours.months import (
    ClosedMonths,
    closed_months,
    is_month_closed,
    month_end,
    month_start,
    parse_month,
    statement_months,
)
from hours.statements import statement_compute, statement_for, statement_number
from hours.timesheet import entries_visible_to, timesheet_rows

__all__ = [
    "CENT",
    "ZERO",
    "AgreementSummary",
    "BoardFilters",
    "Burndown",
    "ClientSummary",
    "ClosedMonths",
    "Column",
    "agreement_entries",
    "agreement_summary",
    "billable_hours_used",
    "board_for",
    "burndown",
    "burndown_svg",
    "client_summaries",
    "closed_months",
    "entries_visible_to",
    "is_month_closed",
    "money",
    "month_end",
    "month_start",
    "parse_month",
    "rate_changes",
    "rate_expression",
    "rate_on",
    "statement_compute",
    "statement_for",
    "statement_months",
    "statement_number",
    "timesheet_rows",
    "week_bounds",
]
