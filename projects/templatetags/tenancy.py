"""Template questions about roles, answered by projects.access (templates never spell a role).

{% load tenancy %}{% tenancy_nav as nav %}{% if nav.audit %}...{% endif %}
{% if request.user|provider_staff_of:project %}...{% endif %}
"""

from typing import Any

from django import template

from projects.access import (
    Nav,
    can_see_money,
    clients_served_by,
    is_client_manager,
    is_provider_staff,
    nav_for,
)

register = template.Library()


@register.simple_tag(takes_context=True)
def tenancy_nav(context: dict[str, Any]) -> Nav:
    """What the navigation and page headings may show the signed-in user."""
    return nav_for(context["request"].user)


@register.simple_tag(takes_context=True)
def view_as_choices(context: dict[str, Any]) -> Any:
    """The client agencies a provider's staff member may view the portal as."""
    return clients_served_by(context["request"].user)


@register.filter
def provider_staff_of(user: Any, on: Any) -> bool:
    return is_provider_staff(user, on)


@register.filter
def client_manager_of(user: Any, on: Any) -> bool:
    return is_client_manager(user, on)


@register.filter
def sees_money_of(user: Any, on: Any) -> bool:
    return can_see_money(user, on)
