"""The lead's board of deliverables and the per-client summary of the provider's work."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Sum

from hours.models import TimeEntry
from hours.money import ZERO
from hours.months import month_end, month_start
from projects.access import UserLike, agreements_of_staff, clients_served_by
from projects.models import Agency, Deliverable, ServiceAgreement
from projects.selectors import OPEN_STATUSES, allowed_moves, deliverables_visible_to


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
        d.allowed_moves = allowed_moves(user, d)  # type: ignore[attr-defined]
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
    start, end = month_start(today), month_end(today)
    clients = clients_served_by(user)
    agreements = agreements_of_staff(user)
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
