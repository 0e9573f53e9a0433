"""Burn-down of an agreement's budget: weekly points, projection and the SVG geometry."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Sum

from hours.money import CENT, ZERO, agreement_entries
from projects.models import ServiceAgreement


@dataclass
class Burndown:
    budget_hours: Decimal
    points: list[tuple[date, Decimal]]  # (week ending, cumulative billable hours)
    projected_exhaustion: date | None
    exhausted_on: date | None
    rate_per_week: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "budget_hours": str(self.budget_hours),
            "points": [
                {"date": d.isoformat(), "used": str(u), "remaining": str(self.budget_hours - u)}
                for d, u in self.points
            ],
            "rate_per_week": str(self.rate_per_week),
            "projected_exhaustion": self.projected_exhaustion.isoformat()
            if self.projected_exhaustion
            else None,
            "exhausted_on": self.exhausted_on.isoformat() if self.exhausted_on else None,
        }


def burndown(agreement: ServiceAgreement, *, today: date, window_weeks: int = 8) -> Burndown:
    """Cumulative billable hours week by week, and when the budget runs out at the recent pace."""
    daily = dict(
        agreement_entries(agreement)
        .filter(billable=True)
        .values_list("date")
        .annotate(h=Sum("hours"))
        .order_by("date")
    )
    end = min(today, agreement.end_date)
    points: list[tuple[date, Decimal]] = []
    total = ZERO
    exhausted_on = None
    days = sorted(daily)
    i = 0
    week_end = agreement.start_date + timedelta(days=6)
    while True:
        cutoff = min(week_end, end)
        while i < len(days) and days[i] <= cutoff:
            total += daily[days[i]]
            if exhausted_on is None and total >= agreement.hours_budget > 0:
                exhausted_on = days[i]
            i += 1
        points.append((cutoff, total))
        if cutoff >= end:
            break
        week_end += timedelta(days=7)
    # Entries dated after today (planned) still count towards the total.
    while i < len(days):
        total += daily[days[i]]
        i += 1
    if points:
        points[-1] = (points[-1][0], total)
    window = points[-(window_weeks + 1) :]
    weeks = Decimal(max(len(window) - 1, 1))
    rate = (window[-1][1] - window[0][1]) / weeks if len(window) > 1 else total
    remaining = agreement.hours_budget - total
    projected = None
    if remaining > 0 and rate > 0:
        projected = end + timedelta(days=int(remaining / rate * 7))
    return Burndown(
        budget_hours=agreement.hours_budget,
        points=points,
        projected_exhaustion=projected,
        exhausted_on=exhausted_on,
        rate_per_week=rate.quantize(CENT, rounding=ROUND_HALF_UP),
    )


def burndown_svg(
    chart: Burndown, agreement: ServiceAgreement, *, width: int = 640, height: int = 240
) -> dict[str, Any]:
    """Coordinates for an inline SVG drawn server-side: remaining hours against time, with the
    ideal straight line over the agreement and the projection to the day the budget runs out."""
    pad_x, top, bottom = 44, 12, 28
    first = agreement.start_date
    last = max(agreement.end_date, chart.points[-1][0] if chart.points else first)
    if chart.projected_exhaustion:
        last = max(last, chart.projected_exhaustion)
    span_days = max((last - first).days, 1)
    budget = float(chart.budget_hours) or 1.0
    low = min([0.0, *(float(chart.budget_hours - used) for _, used in chart.points)])
    span = budget - low or 1.0

    def xy(day: date, value: float) -> tuple[float, float]:
        x = pad_x + (width - 2 * pad_x) * (day - first).days / span_days
        y = top + (height - top - bottom) * (budget - value) / span
        return round(x, 1), round(y, 1)

    coords = [xy(d, float(chart.budget_hours - used)) for d, used in chart.points]
    end_xy = xy(agreement.end_date, 0.0)
    projection = None
    if chart.projected_exhaustion and coords:
        projection = (coords[-1], xy(chart.projected_exhaustion, 0.0))
    return {
        "width": width,
        "height": height,
        "polyline": " ".join(f"{x},{y}" for x, y in coords),
        "ideal": (xy(first, budget), end_xy),
        "projection": projection,
        "zero_y": xy(first, 0.0)[1],
        "top_y": xy(first, budget)[1],
        "left": pad_x,
        "right": width - pad_x,
        "label_y": height - 8,
        "first": first,
        "last": last,
        "end_x": end_xy[0],
    }
