"""The value report of an agreement for a period: every figure computed from rows the client can
see (statements, deliverables and their moves, requests, published map versions, usage counts),
each with the link down to its rows."""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from collaboration.models import MapRequest, UsageDaily
from hours.selectors import money, month_end, month_start, statement_for
from maps.models import MapVersion
from projects.models import Deliverable, DeliverableTransition, ServiceAgreement

ZERO = Decimal("0")
PERIOD_KINDS = ("month", "quarter", "fy")


def fiscal_start_month() -> int:
    month = int(getattr(settings, "FISCAL_YEAR_START_MONTH", 7))
    return month if 1 <= month <= 12 else 7


def fiscal_year_of(day: date, first_month: int) -> int:
    """FY N ends in calendar year N (July 2025 – June 2026 is FY2026); January starts = the year."""
    return day.year + (1 if first_month > 1 and day.month >= first_month else 0)


def fiscal_year_start(fy: int, first_month: int) -> date:
    return date(fy - (1 if first_month > 1 else 0), first_month, 1)


def add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date
    label: str
    query: str  # the query string that selects this period again

    def months(self) -> list[date]:
        out, m = [], month_start(self.start)
        while m <= self.end:
            out.append(m)
            m = add_months(m, 1)
        return out


class PeriodError(ValueError):
    pass


def period_from(params: QueryDict | dict[str, str], *, today: date) -> Period:
    """?period=month&month=2026-11 | period=quarter&fy=2026&q=2 | period=fy&fy=2026."""
    first = fiscal_start_month()
    kind = params.get("period") or "month"
    if kind not in PERIOD_KINDS:
        raise PeriodError("The period is month, quarter or fy (fiscal year).")
    try:
        if kind == "month":
            text = params.get("month") or f"{today:%Y-%m}"
            year, mon = (int(p) for p in text.split("-"))
            start = date(year, mon, 1)
            return Period(
                kind, start, month_end(start), f"{start:%B %Y}", f"period=month&month={start:%Y-%m}"
            )
        fy = int(params.get("fy") or fiscal_year_of(today, first))
        fy_start = fiscal_year_start(fy, first)
        if kind == "fy":
            end = add_months(fy_start, 12) - timedelta(days=1)
            return Period(
                kind,
                fy_start,
                end,
                f"Fiscal year {fy} ({fy_start:%b %Y} – {end:%b %Y})",
                f"period=fy&fy={fy}",
            )
        current_q = (today.year * 12 + today.month - fy_start.year * 12 - fy_start.month) // 3 + 1
        q = int(params.get("q") or min(max(current_q, 1), 4))
        if not 1 <= q <= 4:
            raise PeriodError("The quarter is 1 to 4.")
        start = add_months(fy_start, 3 * (q - 1))
        end = add_months(start, 3) - timedelta(days=1)
        return Period(
            kind,
            start,
            end,
            f"FY{fy} Q{q} ({start:%b} – {end:%b %Y})",
            f"period=quarter&fy={fy}&q={q}",
        )
    except (TypeError, ValueError) as exc:
        raise PeriodError(
            "That period cannot be read: use e.g. month=2026-11, or fy=2026 and q=1-4."
        ) from exc


@dataclass
class StatementLine:
    month: date
    number: str
    closed: bool
    hours: Decimal
    amount: Decimal
    url: str


@dataclass
class DeliverableLine:
    deliverable: Deliverable
    delivered_on: date | None
    accepted_on: date | None
    on_time: bool | None
    change_rounds: int
    url: str


@dataclass
class RequestLine:
    request: MapRequest
    response_hours: float | None
    within_target: bool | None
    url: str


@dataclass
class ValueReport:
    agreement: ServiceAgreement
    period: Period
    statements: list[StatementLine]
    hours_billed: Decimal
    cost_billed: Decimal
    alternative_rate: Decimal | None
    alternative_cost: Decimal | None
    difference: Decimal | None  # alternative minus billed: what the agreement saved
    budget_hours: Decimal
    used_hours_to_date: Decimal
    remaining_hours: Decimal
    committed_estimate_hours: Decimal
    deliverables: list[DeliverableLine]
    delivered_count: int
    accepted_count: int
    on_time_count: int
    late_count: int
    change_rounds: int
    requests: list[RequestLine]
    median_response_hours: float | None
    maps_published: list[MapVersion]
    usage: dict[str, dict[str, int]] = field(default_factory=dict)  # month -> kind -> count
    usage_by_version: list[dict[str, Any]] = field(default_factory=list)

    @property
    def usage_totals(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for kinds in self.usage.values():
            for kind, n in kinds.items():
                totals[kind] += n
        return dict(totals)


def _day(moment: datetime) -> date:
    from django.utils import timezone

    return timezone.localtime(moment).date()


def value_report(agreement: ServiceAgreement, period: Period) -> ValueReport:
    months = [
        m for m in period.months() if month_start(agreement.start_date) <= m <= agreement.end_date
    ]
    statements = []
    for m in months:
        s = statement_for(agreement, m)
        statements.append(
            StatementLine(
                month=m,
                number=s["number"],
                closed=bool(s.get("closed")),
                hours=Decimal(s["total_hours"]),
                amount=Decimal(s["total_amount"]),
                url=reverse("hours:statement", args=[agreement.pk, f"{m:%Y-%m}"]),
            )
        )
    hours = sum((s.hours for s in statements), start=ZERO)
    cost = sum((s.amount for s in statements), start=ZERO)
    alt_rate = agreement.alternative_hourly_rate
    alt_cost = money(hours * alt_rate) if alt_rate is not None else None
    last = statement_for(agreement, months[-1]) if months else None
    used = Decimal(last["used_hours_to_date"]) if last else ZERO
    committed = sum(
        (
            r.estimate_hours or ZERO
            for r in MapRequest.objects.filter(
                agreement=agreement,
                status=MapRequest.Status.ACCEPTED,
                decided_at__date__lte=period.end,
            )
        ),
        start=ZERO,
    )
    deliverables = _deliverables(agreement, period)
    requests = _requests(agreement, period)
    times = [r.response_hours for r in requests if r.response_hours is not None]
    published = list(
        MapVersion.objects.filter(
            map__project__agreement=agreement,
            published_at__date__gte=period.start,
            published_at__date__lte=period.end,
        )
        .select_related("map__project")
        .order_by("published_at")
    )
    usage, by_version = _usage(agreement, period)
    return ValueReport(
        agreement=agreement,
        period=period,
        statements=statements,
        hours_billed=hours,
        cost_billed=money(cost),
        alternative_rate=alt_rate,
        alternative_cost=alt_cost,
        difference=money(alt_cost - cost) if alt_cost is not None else None,
        budget_hours=agreement.hours_budget,
        used_hours_to_date=used,
        remaining_hours=agreement.hours_budget - used,
        committed_estimate_hours=committed,
        deliverables=deliverables,
        delivered_count=sum(1 for d in deliverables if d.delivered_on),
        accepted_count=sum(1 for d in deliverables if d.accepted_on),
        on_time_count=sum(1 for d in deliverables if d.on_time is True),
        late_count=sum(1 for d in deliverables if d.on_time is False),
        change_rounds=sum(d.change_rounds for d in deliverables),
        requests=requests,
        median_response_hours=round(statistics.median(times), 1) if times else None,
        maps_published=published,
        usage=usage,
        usage_by_version=by_version,
    )


def _deliverables(agreement: ServiceAgreement, period: Period) -> list[DeliverableLine]:
    moves = (
        DeliverableTransition.objects.filter(
            deliverable__project__agreement=agreement,
            to_status__in=[
                Deliverable.Status.DELIVERED,
                Deliverable.Status.ACCEPTED,
                Deliverable.Status.CHANGES_REQUESTED,
            ],
        )
        .select_related("deliverable__project")
        .order_by("at", "id")
    )
    seen: dict[int, dict[str, Any]] = {}
    for t in moves:
        day = _day(t.at)
        if day > period.end:
            continue
        row = seen.setdefault(
            t.deliverable_id,
            {"d": t.deliverable, "delivered": None, "accepted": None, "rounds": 0, "in": False},
        )
        if t.to_status == Deliverable.Status.CHANGES_REQUESTED:
            row["rounds"] += 1
        elif period.start <= day:
            key = "delivered" if t.to_status == Deliverable.Status.DELIVERED else "accepted"
            row[key] = row[key] or day
            row["in"] = True
    lines = []
    for row in seen.values():
        if not row["in"]:
            continue
        d: Deliverable = row["d"]
        done = row["accepted"] or row["delivered"]
        lines.append(
            DeliverableLine(
                deliverable=d,
                delivered_on=row["delivered"],
                accepted_on=row["accepted"],
                # Delivered by the due date counts as on time (acceptance is the client's pace).
                on_time=(row["delivered"] or done) <= d.due_date if d.due_date and done else None,
                change_rounds=row["rounds"],
                url=reverse("projects:deliverable", args=[d.pk]),
            )
        )
    return sorted(
        lines, key=lambda x: (x.delivered_on or x.accepted_on or period.end, x.deliverable.pk)
    )


def _requests(agreement: ServiceAgreement, period: Period) -> list[RequestLine]:
    target = agreement.response_target_days
    lines = []
    for r in MapRequest.objects.filter(
        agreement=agreement, created_at__date__gte=period.start, created_at__date__lte=period.end
    ).order_by("created_at"):
        hours = (
            (r.first_response_at - r.created_at).total_seconds() / 3600
            if r.first_response_at
            else None
        )
        lines.append(
            RequestLine(
                request=r,
                response_hours=round(hours, 1) if hours is not None else None,
                within_target=(hours <= target * 24) if hours is not None and target else None,
                url=reverse("collaboration:request", args=[r.pk]),
            )
        )
    return lines


def _usage(agreement: ServiceAgreement, period: Period) -> tuple[dict, list]:
    rows = (
        UsageDaily.objects.filter(
            version__map__project__agreement=agreement,
            agency_id=agreement.client_id,
            day__gte=period.start,
            day__lte=period.end,
        )
        .select_related("version__map")
        .order_by("day")
    )
    by_month: dict[str, dict[str, int]] = {}
    by_version: dict[int, dict[str, Any]] = {}
    for u in rows:
        month = f"{u.day:%Y-%m}"
        by_month.setdefault(month, defaultdict(int))[u.kind] += u.count
        v = by_version.setdefault(
            u.version_id,
            {
                "version": u.version,
                "url": reverse("maps:version", args=[u.version_id]),
                "counts": defaultdict(int),
            },
        )
        v["counts"][u.kind] += u.count
    return {m: dict(k) for m, k in by_month.items()}, list(by_version.values())


def report_rows(report: ValueReport, base_url: str = "") -> list[list[str]]:
    """The report as CSV rows: section, item, value, unit, link to the rows behind it."""
    r = report
    rows: list[list[str]] = [["section", "item", "value", "unit", "source"]]

    def add(section: str, item: str, value: Any, unit: str = "", url: str = "") -> None:
        rows.append(
            [
                section,
                item,
                "" if value is None else str(value),
                unit,
                base_url + url if url else "",
            ]
        )

    add("period", r.period.label, f"{r.period.start} to {r.period.end}")
    for s in r.statements:
        add("statement", s.number, s.hours, "hours", s.url)
        add("statement", s.number, s.amount, "USD", s.url)
    add("billed", "hours", r.hours_billed, "hours")
    add("billed", "cost", r.cost_billed, "USD")
    add("alternative", "hourly rate", r.alternative_rate, "USD/hour")
    add("alternative", "same hours at the alternative rate", r.alternative_cost, "USD")
    add("alternative", "difference (alternative minus billed)", r.difference, "USD")
    add("budget", "hours budget", r.budget_hours, "hours")
    add("budget", "used to the end of the period", r.used_hours_to_date, "hours")
    add("budget", "left", r.remaining_hours, "hours")
    add("budget", "estimated hours of accepted requests", r.committed_estimate_hours, "hours")
    for d in r.deliverables:
        on_time = {True: "on time", False: "late", None: ""}[d.on_time]
        add(
            "deliverable",
            d.deliverable.title,
            f"delivered {d.delivered_on or '-'}; accepted {d.accepted_on or '-'}; {on_time}; {d.change_rounds} rounds of changes",
            "",
            d.url,
        )
    add("deliverables", "delivered", r.delivered_count)
    add("deliverables", "accepted", r.accepted_count)
    add("deliverables", "on time", r.on_time_count)
    add("deliverables", "late", r.late_count)
    add("deliverables", "rounds of changes", r.change_rounds)
    for q in r.requests:
        add("request", q.request.title, q.response_hours, "hours to first response", q.url)
    add("requests", "received", len(r.requests))
    add("requests", "median first response", r.median_response_hours, "hours")
    for v in r.maps_published:
        add(
            "map published",
            f"{v.map.title} v{v.number}",
            v.published_at.date(),
            "",
            reverse("maps:version", args=[v.pk]),
        )
    for month, kinds in sorted(r.usage.items()):
        for kind, n in sorted(kinds.items()):
            add("usage", f"{month} {UsageDaily.Kind(kind).label}", n, "count")
    for used in r.usage_by_version:
        for kind, n in sorted(used["counts"].items()):
            add(
                "usage by map",
                f"{used['version']} {UsageDaily.Kind(kind).label}",
                n,
                "count",
                used["url"],
            )
    return rows
