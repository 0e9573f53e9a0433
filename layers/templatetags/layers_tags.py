from typing import Any

from django import template

from layers.selectors import layers_of_project
from layers.services import can_edit_layers

register = template.Library()


@register.inclusion_tag("layers/_layer_table.html", takes_context=True)
def project_layers(context: dict[str, Any], project: Any) -> dict[str, Any]:
    user = context["request"].user
    return {
        "project": project,
        "layers": layers_of_project(user, project),
        "can_edit": can_edit_layers(user, project),
    }
