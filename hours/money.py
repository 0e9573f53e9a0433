"""Rates, hours used and amounts of an agreement (money rounded as a statement must)."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, DecimalField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from hours.models import AgreementRate, TimeEntry
from projects.models import ServiceAgreement

CENT = Decimal("0.01")
ZERO = Decimal("0")


def money(value: Decimal) -> Decimal:
    """Round to cents, half up, as a statement must."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def agreement_entries(agreement: ServiceAgreement) -> QuerySet[TimeEntry]:
    return TimeEntry.objects.filter(project__agreement=agreement)


def _sum_hours(qs: QuerySet[TimeEntry]) -> Decimal:
    return qs.aggregate(total=Coalesce(Sum("hours"), Value(ZERO), output_field=DecimalField()))[
        "total"
    ]


Changes = list[tuple[date, Decimal]]  # (effective from, hourly rate)


def rate_changes(agreement: ServiceAgreement) -> Changes:
    """(effective from, hourly rate) of the agreement's rate changes, oldest first."""
    return list(
        AgreementRate.objects.filter(agreement=agreement)
        .order_by("effective_from")
        .values_list("effective_from", "hourly_rate")
    )


def rate_on(agreement: ServiceAgreement, day: date, changes: Changes | None = None) -> Decimal:
    """The hourly rate in effect on `day` (`changes`: the rate changes, when already read)."""
    rate = agreement.hourly_rate
    for effective_from, changed in rate_changes(agreement) if changes is None else changes:
        if effective_from <= day:
            rate = changed
    return rate


def rate_expression(agreement: ServiceAgreement, changes: Changes | None = None) -> Case | Value:
    """The rate in effect on an entry's date, as a CASE over the (few) rate changes.

    A per-row CASE keeps statements one plain GROUP BY; a correlated subquery per entry was
    several times slower on a busy agreement (bench/hours.py).
    """
    changes = rate_changes(agreement) if changes is None else changes
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
    changes = rate_changes(agreement)  # read once for the CASE and today's rate
    groups = (
        agreement_entries(agreement)
        .annotate(rate=rate_expression(agreement, changes))
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
    current_rate = rate_on(agreement, min(today, agreement.end_date), changes)
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
