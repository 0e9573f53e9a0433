"""Monthly statements: computed from the entries, or the frozen snapshot of a closed month.

Read by pages and exports, and by services (closing a month freezes `statement_compute`).
"""

from datetime import date
from typing import Any

from django.db.models import Sum

from hours.models import MonthClose
from hours.money import (
    ZERO,
    agreement_entries,
    billable_hours_used,
    money,
    rate_expression,
    rate_on,
)
from hours.months import month_end, month_start
from projects.models import Deliverable, DeliverableTransition, ServiceAgreement


def statement_number(agreement: ServiceAgreement, month: date, revision: int | None) -> str:
    base = f"{agreement.client.slug.upper()[:12]}-{agreement.pk:04d}-{month:%Y%m}"
    if revision is None:
        return f"{base}-DRAFT"
    return base if revision == 1 else f"{base}-R{revision}"


def _transitions(agreement: ServiceAgreement, start: date, end: date, status: str) -> list[dict]:
    moves = (
        DeliverableTransition.objects.filter(
            deliverable__project__agreement=agreement,
            to_status=status,
            at__date__gte=start,
            at__date__lte=end,
        )
        .select_related("deliverable__project")
        .order_by("at", "id")
    )
    return [
        {
            "deliverable": t.deliverable.title,
            "project": t.deliverable.project.name,
            "date": t.at.date().isoformat(),
        }
        for t in moves
    ]


def statement_compute(
    agreement: ServiceAgreement, month: date, *, revision: int | None = None
) -> dict[str, Any]:
    """The statement of one month computed from the entries now (JSON-ready: decimals as text)."""
    start, end = month_start(month), month_end(month)
    rows = (
        agreement_entries(agreement)
        .filter(billable=True, date__gte=start, date__lte=end)
        .annotate(rate=rate_expression(agreement))
        .values("project__name", "deliverable__title", "rate")
        .annotate(hours=Sum("hours"))
        .order_by("project__name", "deliverable__title", "rate")
    )
    lines = []
    total_hours = ZERO
    total_amount = ZERO
    for row in rows:
        amount = money(row["hours"] * row["rate"])
        total_hours += row["hours"]
        total_amount += amount
        lines.append(
            {
                "project": row["project__name"],
                "deliverable": row["deliverable__title"] or "",
                "hours": str(row["hours"]),
                "rate": str(row["rate"]),
                "amount": str(amount),
            }
        )
    rate = rate_on(agreement, end)
    used_to_date = billable_hours_used(agreement, through=end)
    remaining = agreement.hours_budget - used_to_date
    return {
        "number": statement_number(agreement, start, revision),
        "revision": revision,
        "agreement": agreement.title,
        "agreement_id": agreement.pk,
        "provider": agreement.provider.name,
        "client": agreement.client.name,
        "month": f"{start:%Y-%m}",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "rate": str(rate),
        "lines": lines,
        "total_hours": str(total_hours),
        "total_amount": str(money(total_amount)),
        "budget_hours": str(agreement.hours_budget),
        "budget_amount": str(agreement.budget_amount),
        "used_hours_to_date": str(used_to_date),
        "remaining_hours": str(remaining),
        "remaining_amount": str(money(remaining * rate)),
        "delivered": _transitions(agreement, start, end, Deliverable.Status.DELIVERED),
        "accepted": _transitions(agreement, start, end, Deliverable.Status.ACCEPTED),
    }


def statement_for(agreement: ServiceAgreement, month: date) -> dict[str, Any]:
    """The frozen statement of a closed month, else a draft computed now."""
    close = (
        MonthClose.objects.active().filter(agreement=agreement, month=month_start(month)).first()
    )
    if close is not None:
        data = dict(close.snapshot)
        data["closed"] = True
        data["closed_at"] = close.closed_at
        return data
    data = statement_compute(agreement, month)
    data["closed"] = False
    return data
