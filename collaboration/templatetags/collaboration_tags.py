"""Template helpers for the sections collaboration adds to deliverable, agreement and board pages."""

from typing import Any

from django import template

from collaboration import selectors
from collaboration.models import CommentThread, DeliverablePackage, MapRequest
from projects.access import is_client_manager, is_lead, is_provider_staff

register = template.Library()


@register.simple_tag(takes_context=True)
def deliverable_collaboration(context: dict[str, Any], deliverable: Any) -> dict[str, Any]:
    user = context["request"].user
    agreement = deliverable.project.agreement
    threads = list(selectors.deliverable_threads(user, deliverable))
    request = MapRequest.objects.visible_to(user).filter(deliverable=deliverable).first()
    package = DeliverablePackage.objects.visible_to(user).filter(deliverable=deliverable).first()
    return {
        "request": request,
        "threads": threads,
        "open_threads": [t for t in threads if t.status == CommentThread.Status.OPEN],
        "can_request_changes": is_client_manager(user, agreement)
        and deliverable.can_move_to("changes_requested"),
        "package": package,
        "can_package": deliverable.status in ("accepted", "delivered"),
    }


@register.simple_tag(takes_context=True)
def board_requests(context: dict[str, Any]) -> Any:
    return selectors.open_requests_for_board(context["request"].user)


@register.simple_tag(takes_context=True)
def agreement_collaboration(context: dict[str, Any], agreement: Any) -> dict[str, Any]:
    user = context["request"].user
    return {
        "estimates": selectors.committed_estimates(agreement),
        "can_triage": is_lead(user, agreement),
    }


@register.simple_tag(takes_context=True)
def comments_config(context: dict[str, Any], version: Any, token: str | None = None) -> Any:
    """What static/js/comments.js needs, or None when comments are not shown (share links
    without comment rights)."""
    from django.urls import reverse

    from maps.models import ShareLink

    user = context["request"].user
    if token:
        link = context.get("share_link")  # the share page's own, checked active this request
        if link is None or link.token != token:
            link = ShareLink.objects.active().filter(token=token).first()
        if link is None or not link.allow_comments:
            return None
        return {
            "api": reverse("collaboration:share-comments", args=[token]),
            "can_resolve": False,
            "needs_name": True,
            "versions": "",
        }
    provider = is_provider_staff(user, version.map.project.agreement)
    numbers = version.map.versions.filter(number__gte=version.number).values_list(
        "number", flat=True
    )
    return {
        "api": reverse("collaboration:api-version-comments", args=[version.pk]),
        "can_resolve": provider,
        "needs_name": False,
        "versions": ",".join(str(n) for n in sorted(numbers)),
    }
