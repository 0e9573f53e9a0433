"""Reads for the home page and project pages, always narrowed by the user's scope."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from projects.access import UserLike, can_make_move, is_provider_staff_anywhere
from projects.models import Agency, Deliverable, Project, ServiceAgreement

OPEN_STATUSES = [
    Deliverable.Status.PLANNED,
    Deliverable.Status.IN_PROGRESS,
    Deliverable.Status.IN_REVIEW,
    Deliverable.Status.CHANGES_REQUESTED,
]


def projects_visible_to(user: UserLike) -> QuerySet[Project]:
    return (
        Project.objects.visible_to(user)
        .select_related("agreement__client", "lead")
        .annotate(
            open_deliverables=Count(
                "deliverables", filter=Q(deliverables__status__in=OPEN_STATUSES)
            )
        )
    )


def deliverables_visible_to(user: UserLike) -> QuerySet[Deliverable]:
    return Deliverable.objects.visible_to(user).select_related(
        "project__agreement__client", "assignee"
    )


def allowed_moves(user: UserLike, deliverable: Deliverable) -> list[tuple[str, str]]:
    """(status, label) of the moves this user may make on the deliverable now."""
    agreement = deliverable.project.agreement
    return [
        (status, Deliverable.Status(status).label)
        for status, side in deliverable.next_statuses().items()
        if can_make_move(user, agreement, side)
    ]


@dataclass
class Home:
    is_provider_staff: bool
    clients: QuerySet[Agency]
    agreements: QuerySet[ServiceAgreement]
    projects: QuerySet[Project]
    due_soon: QuerySet[Deliverable]
    awaiting_client: QuerySet[Deliverable]


def home_for(user: UserLike, *, today: date | None = None, horizon_days: int = 14) -> Home:
    today = today or timezone.localdate()
    deliverables = deliverables_visible_to(user)
    return Home(
        is_provider_staff=is_provider_staff_anywhere(user),
        clients=Agency.objects.visible_to(user).filter(kind=Agency.Kind.CLIENT),
        agreements=ServiceAgreement.objects.visible_to(user).select_related("client", "provider"),
        projects=projects_visible_to(user),
        due_soon=deliverables.filter(
            status__in=OPEN_STATUSES, due_date__lte=today + timedelta(days=horizon_days)
        ).order_by("due_date"),
        awaiting_client=deliverables.filter(status=Deliverable.Status.DELIVERED),
    )
