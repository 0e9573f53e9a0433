"""Template helpers for the sections maps adds to project and deliverable pages."""

from typing import Any

from django import template

from maps.models import MapVersion
from maps.selectors import is_provider_of, maps_of_project, published_versions_of_agreement

register = template.Library()


@register.simple_tag(takes_context=True)
def project_maps(context: dict[str, Any], project: Any) -> dict[str, Any]:
    user = context["request"].user
    return {"maps": maps_of_project(user, project), "can_edit": is_provider_of(user, project)}


@register.simple_tag(takes_context=True)
def deliverable_map_versions(context: dict[str, Any], deliverable: Any) -> Any:
    user = context["request"].user
    return (
        MapVersion.objects.visible_to(user)
        .filter(deliverable=deliverable)
        .select_related("map")
        .order_by("-published_at")
    )


@register.simple_tag(takes_context=True)
def agreement_map_versions(context: dict[str, Any], agreement: Any) -> list[Any]:
    """The agreement's published maps (newest version of each) for the hours agreement page."""
    return published_versions_of_agreement(context["request"].user, agreement)
