"""Reads for hours pages: money visibility, agreement summary, burn-down, statements, the board."""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Case, Count, DecimalField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from hours.models import AgreementRate, MonthClose, TimeEntry
from projects.access import UserLike, scope_for
from projects.models import Agency, Deliverable, DeliverableTransition, ServiceAgreement
from projects.selectors import OPEN_STATUSES, deliverables_visible_to

CENT = Decimal("0.01")
ZERO = Decimal("0")
MONEY_ROLES_CLIENT = frozenset({"manager"})
CLOSE_ROLES = frozenset({"lead", "admin"})


def money(value: Decimal) -> Decimal:
    """Round to cents, half up, as a statement must."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def can_see_money(user: UserLike, agreement: ServiceAgreement) -> bool:
    """Provider staff of the agreement and managers of its client see hours used and amounts."""
    scope = scope_for(user)
    return (
        agreement.provider_id in scope.provider_ids
        or scope.client_roles.get(agreement.client_id) in MONEY_ROLES_CLIENT
    )


def is_provider_staff_of(user: UserLike, agreement: ServiceAgreement) -> bool:
    return agreement.provider_id in scope_for(user).provider_ids


def can_close_months(user: UserLike, agreement: ServiceAgreement) -> bool:
    return scope_for(user).provider_roles.get(agreement.provider_id) in CLOSE_ROLES


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


def agreement_entries(agreement: ServiceAgreement) -> QuerySet[TimeEntry]:
    return TimeEntry.objects.filter(project__agreement=agreement)


def _sum_hours(qs: QuerySet[TimeEntry]) -> Decimal:
    return qs.aggregate(total=Coalesce(Sum("hours"), Value(ZERO), output_field=DecimalField()))[
        "total"
    ]


def rate_changes(agreement: ServiceAgreement) -> list[tuple[date, Decimal]]:
    """(effective from, hourly rate) of the agreement's rate changes, oldest first."""
    return list(
        AgreementRate.objects.filter(agreement=agreement)
        .order_by("effective_from")
        .values_list("effective_from", "hourly_rate")
    )


def rate_on(agreement: ServiceAgreement, day: date) -> Decimal:
    """The hourly rate in effect on `day`."""
    rate = agreement.hourly_rate
    for effective_from, changed in rate_changes(agreement):
        if effective_from <= day:
            rate = changed
    return rate


def rate_expression(agreement: ServiceAgreement) -> Case | Value:
    """The rate in effect on an entry's date, as a CASE over the (few) rate changes.

    A per-row CASE keeps statements one plain GROUP BY; a correlated subquery per entry was
    several times slower on a busy agreement (bench/hours.py).
    """
    changes = rate_changes(agreement)
    base = Value(agreement.hourly_rate, output_field=DecimalField())
    if not changes:
        return base
    return Case(
        *(
            When(date__gte=effective_from, then=Value(rate, output_field=DecimalField()))
            for effective_from, rate in reversed(changes)
        ),
        default=base,
        output_field=DecimalField(),
    )


def billable_hours_used(agreement: ServiceAgreement, *, through: date | None = None) -> Decimal:
    qs = agreement_entries(agreement).filter(billable=True)
    if through is not None:
        qs = qs.filter(date__lte=through)
    return _sum_hours(qs)


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


@dataclass
class AgreementSummary:
    budget_hours: Decimal
    budget_amount: Decimal
    used_hours: Decimal
    used_amount: Decimal
    remaining_hours: Decimal
    remaining_amount: Decimal
    nonbillable_hours: Decimal
    percent_used: int
    current_rate: Decimal


def agreement_summary(agreement: ServiceAgreement, *, today: date) -> AgreementSummary:
    """Budget, use and remainder in one aggregate query (amounts rounded per rate, like lines)."""
    groups = (
        agreement_entries(agreement)
        .annotate(rate=rate_expression(agreement))
        .values("rate")
        .annotate(
            billable_h=Sum("hours", filter=Q(billable=True)),
            other_h=Sum("hours", filter=Q(billable=False)),
        )
        .order_by()
    )
    used = nonbillable = used_amount = ZERO
    for g in groups:
        used += g["billable_h"] or ZERO
        nonbillable += g["other_h"] or ZERO
        used_amount += money((g["billable_h"] or ZERO) * g["rate"])
    current_rate = rate_on(agreement, min(today, agreement.end_date))
    remaining = agreement.hours_budget - used
    budget = agreement.hours_budget
    return AgreementSummary(
        budget_hours=budget,
        budget_amount=agreement.budget_amount,
        used_hours=used,
        used_amount=used_amount,
        remaining_hours=remaining,
        remaining_amount=money(remaining * current_rate),
        nonbillable_hours=nonbillable,
        percent_used=int(used * 100 / budget) if budget else 0,
        current_rate=current_rate,
    )


def published_maps(user: UserLike, agreement: ServiceAgreement) -> list[Any]:
    """The agreement's published map versions the user may see, newest first (one per map)."""
    from maps.models import MapVersion

    latest: dict[int, Any] = {}
    for version in (
        MapVersion.objects.visible_to(user)
        .filter(map__project__agreement=agreement)
        .select_related("map__project")
        .order_by("map_id", "-number")
    ):
        latest.setdefault(version.map_id, version)
    return sorted(latest.values(), key=lambda v: v.published_at, reverse=True)


# --- Burn-down


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


# --- Statements


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


def statement_months(agreement: ServiceAgreement, *, today: date) -> list[date]:
    """Months from the agreement's start to the current (or its last) month, newest first."""
    months = []
    current = month_start(agreement.start_date)
    last = month_start(min(today, agreement.end_date))
    while current <= last:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months[::-1]


# --- Lead dashboard


@dataclass
class BoardFilters:
    client: int | None = None
    project: str = ""
    assignee: int | None = None
    due: str = ""  # "", "overdue", "week", "month"


@dataclass
class Column:
    status: str
    label: str
    cards: list[Deliverable] = field(default_factory=list)


def week_bounds(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def board_for(user: UserLike, filters: BoardFilters, *, today: date) -> list[Column]:
    scope = scope_for(user)
    qs = deliverables_visible_to(user).select_related("project__agreement__client", "assignee")
    if filters.client:
        qs = qs.filter(project__agreement__client_id=filters.client)
    if filters.project:
        qs = qs.filter(project__slug=filters.project)
    if filters.assignee:
        qs = qs.filter(assignee_id=filters.assignee)
    _, sunday = week_bounds(today)
    if filters.due == "overdue":
        qs = qs.filter(due_date__lt=today, status__in=OPEN_STATUSES)
    elif filters.due == "week":
        qs = qs.filter(due_date__gte=today, due_date__lte=sunday)
    elif filters.due == "month":
        qs = qs.filter(due_date__gte=today, due_date__lte=month_end(today))
    columns = {s: Column(status=s, label=label) for s, label in Deliverable.Status.choices}
    for d in qs.order_by("due_date", "title"):
        agreement = d.project.agreement
        is_provider = agreement.provider_id in scope.provider_ids
        is_manager = scope.client_roles.get(agreement.client_id) == "manager"
        d.allowed_moves = [  # type: ignore[attr-defined]
            (s, Deliverable.Status(s).label)
            for s, side in d.next_statuses().items()
            if (side == "provider" and is_provider) or (side == "client" and is_manager)
        ]
        d.move_codes = " ".join(s for s, _ in d.allowed_moves)  # type: ignore[attr-defined]
        d.is_open = d.status in OPEN_STATUSES  # type: ignore[attr-defined]
        d.overdue = bool(d.due_date and d.due_date < today and d.is_open)  # type: ignore[attr-defined]
        d.due_this_week = bool(  # type: ignore[attr-defined]
            d.due_date and today <= d.due_date <= sunday and d.is_open  # type: ignore[attr-defined]
        )
        columns[d.status].cards.append(d)
    return list(columns.values())


@dataclass
class ClientSummary:
    client: Agency
    active_agreements: int
    hours_this_month: Decimal
    open_deliverables: int


def client_summaries(user: UserLike, *, today: date) -> list[ClientSummary]:
    """Per client of the provider staff member: agreements, hours this month, open work."""
    scope = scope_for(user)
    if not scope.provider_ids:
        return []
    start, end = month_start(today), month_end(today)
    clients = Agency.objects.filter(
        kind=Agency.Kind.CLIENT, client_agreements__provider_id__in=scope.provider_ids
    ).distinct()
    agreements = ServiceAgreement.objects.filter(provider_id__in=scope.provider_ids)
    active = dict(
        agreements.filter(status=ServiceAgreement.Status.ACTIVE)
        .values_list("client_id")
        .annotate(n=Count("id"))
    )
    hours = dict(
        TimeEntry.objects.filter(project__agreement__in=agreements, date__gte=start, date__lte=end)
        .values_list("project__agreement__client_id")
        .annotate(h=Sum("hours"))
    )
    open_counts = dict(
        Deliverable.objects.filter(project__agreement__in=agreements, status__in=OPEN_STATUSES)
        .values_list("project__agreement__client_id")
        .annotate(n=Count("id"))
    )
    return [
        ClientSummary(
            client=c,
            active_agreements=active.get(c.pk, 0),
            hours_this_month=hours.get(c.pk, ZERO),
            open_deliverables=open_counts.get(c.pk, 0),
        )
        for c in clients
    ]


def timesheet_rows(user: User, monday: date) -> list[dict[str, Any]]:
    """The user's entries of one week grouped into timesheet rows (one cell per weekday)."""
    entries = (
        TimeEntry.objects.filter(user=user, date__gte=monday, date__lte=monday + timedelta(days=6))
        .select_related("project__agreement", "deliverable")
        .order_by("project__name", "deliverable__title", "id")
    )
    grouped: dict[tuple, dict[str, Any]] = {}
    for e in entries:
        # Closed-month entries get rows of their own: those rows are shown read-only and are
        # never posted back, while the open ones are replaced on save.
        locked = is_month_closed(e.project.agreement_id, e.date)
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
