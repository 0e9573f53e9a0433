"""Template helpers for the sections maps adds to project and deliverable pages."""

from typing import Any

from django import template

from maps.models import MapVersion
from maps.selectors import is_provider_of, maps_of_project
from projects.models import Agency

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
def view_as_choices(context: dict[str, Any]) -> Any:
    return Agency.objects.visible_to(context["request"].user).filter(kind=Agency.Kind.CLIENT)
