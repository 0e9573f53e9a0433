"""Reads for requests and comments, always narrowed by the user's scope (projects/access.py)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from collaboration.models import Comment, CommentThread, MapRequest
from maps.models import MapVersion, ShareLink
from projects.access import MANAGER, UserLike, scope_for
from projects.models import Deliverable, ServiceAgreement


def requests_visible_to(user: UserLike) -> QuerySet[MapRequest]:
    return MapRequest.objects.visible_to(user).select_related(
        "agreement__client", "agreement__provider", "filed_by", "deliverable"
    )


@dataclass
class QueueRow:
    request: MapRequest
    age_days: int
    due_at: datetime | None  # when the response target runs out (None: no target)
    overdue: bool
    waiting_on: str  # "provider" or "client" or ""


def request_queue(user: UserLike, *, status: str = "open") -> list[QueueRow]:
    """Requests of the user's agreements, oldest open first, with the response-time clock."""
    qs = requests_visible_to(user)
    if status == "open":
        qs = qs.filter(status__in=MapRequest.OPEN_STATUSES).order_by("created_at", "id")
    elif status in MapRequest.Status.values:
        qs = qs.filter(status=status)
    now = timezone.now()
    rows = []
    for r in qs[:500]:
        target = r.agreement.response_target_days
        due_at = r.created_at + timedelta(days=target) if target is not None else None
        answered = r.first_response_at is not None
        rows.append(
            QueueRow(
                request=r,
                age_days=(now - r.created_at).days,
                due_at=due_at,
                overdue=bool(due_at and not answered and now > due_at and r.is_open),
                waiting_on=""
                if not r.is_open
                else ("client" if r.status == MapRequest.Status.QUESTION else "provider"),
            )
        )
    return rows


def agreements_for_filing(user: UserLike) -> QuerySet[ServiceAgreement]:
    """Agreements whose client the user manages: where a request can be filed."""
    managed = [a for a, role in scope_for(user).client_roles.items() if role == MANAGER]
    return (
        ServiceAgreement.objects.visible_to(user)
        .filter(client_id__in=managed, status=ServiceAgreement.Status.ACTIVE)
        .select_related("provider", "client")
    )


def open_requests_for_board(user: UserLike) -> QuerySet[MapRequest]:
    return (
        requests_visible_to(user).filter(status__in=MapRequest.OPEN_STATUSES).order_by("created_at")
    )


def committed_estimates(agreement: ServiceAgreement) -> dict[str, Any]:
    """Estimated hours of the agreement's accepted requests: what the budget has promised."""
    rows = list(
        MapRequest.objects.filter(agreement=agreement, status=MapRequest.Status.ACCEPTED)
        .select_related("deliverable")
        .order_by("decided_at")
    )
    return {"requests": rows, "hours": sum((r.estimate_hours or 0 for r in rows), start=0)}


# --- comments


def threads_of(
    user: UserLike | None, version: MapVersion, *, share_link: ShareLink | None = None
) -> QuerySet[CommentThread]:
    """Threads of a version for a signed-in user (tenancy) or a share link that allows comments."""
    qs = CommentThread.objects.filter(version=version)
    if share_link is None:
        qs = qs & CommentThread.objects.visible_to(user)  # type: ignore[arg-type]
    elif not share_link.allow_comments:
        return CommentThread.objects.none()
    return qs.select_related("resolved_in", "created_by").prefetch_related(
        Prefetch("comments", queryset=Comment.objects.select_related("author"))
    )


def _author(comment: Comment) -> str:
    if comment.author is not None:
        return comment.author.get_full_name() or comment.author.get_username()
    return f"{comment.author_name} (via share link)"


def thread_feature(thread: CommentThread, *, urls: bool = True) -> dict[str, Any]:
    import json

    comments = list(thread.comments.all())
    first, replies = (comments[0], comments[1:]) if comments else (None, [])
    props: dict[str, Any] = {
        "text": first.text if first else "",
        "author": _author(first) if first else "",
        "created": thread.created_at.isoformat(),
        "status": thread.status,
        "replies": [
            {"text": c.text, "author": _author(c), "created": c.created_at.isoformat()}
            for c in replies
        ],
        "resolved_in": thread.resolved_in.number if thread.resolved_in else None,
        "resolved_at": thread.resolved_at.isoformat() if thread.resolved_at else None,
    }
    if urls:
        props["urls"] = {
            "replies": reverse("collaboration:api-thread-replies", args=[thread.pk]),
            "resolve": reverse("collaboration:api-thread-resolve", args=[thread.pk]),
            "reopen": reverse("collaboration:api-thread-reopen", args=[thread.pk]),
        }
    return {
        "type": "Feature",
        "id": thread.pk,
        "geometry": json.loads(thread.geom.geojson),
        "properties": props,
    }


def threads_collection(threads: QuerySet[CommentThread], *, urls: bool = True) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [thread_feature(t, urls=urls) for t in threads],
    }


def open_thread_count(user: UserLike, deliverable: Deliverable) -> int:
    return (
        CommentThread.objects.visible_to(user)
        .filter(version__deliverable=deliverable, status=CommentThread.Status.OPEN)
        .count()
    )


def deliverable_threads(user: UserLike, deliverable: Deliverable) -> QuerySet[CommentThread]:
    return (
        CommentThread.objects.visible_to(user)
        .filter(version__deliverable=deliverable)
        .select_related("version__map")
        .prefetch_related("comments")
        .order_by("status", "created_at")
    )


def open_threads_by_deliverable(deliverables: QuerySet[Deliverable]) -> dict[int, int]:
    return dict(
        CommentThread.objects.filter(
            version__deliverable__in=deliverables, status=CommentThread.Status.OPEN
        )
        .values_list("version__deliverable_id")
        .annotate(n=Count("id"))
    )
