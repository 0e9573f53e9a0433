"""Template helpers for the sections maps adds to project and deliverable pages."""

import json
from pathlib import Path
from typing import Any

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from maps.models import MapVersion
from maps.selectors import is_provider_of, maps_of_project, published_versions_of_agreement
from maps.styles import style_schema as _style_schema

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


@register.simple_tag
def style_schema() -> dict[str, Any]:
    """The server's style vocabulary for static/js/maps/schema.js (embed it with json_script)."""
    return _style_schema()


MAP_MODULES_DIR = "js/maps"
MAP_ENTRY = "main.js"


def map_module_paths() -> list[str]:
    """Static paths of the viewer/composer ES modules (every .js file in static/js/maps/)."""
    found = finders.find(MAP_MODULES_DIR)
    if not isinstance(found, str):
        raise ImproperlyConfigured(f"No static/{MAP_MODULES_DIR}/ folder: the map pages need it.")
    folder = Path(found)
    return sorted(f"{MAP_MODULES_DIR}/{p.name}" for p in folder.glob("*.js"))


@register.simple_tag
def map_module_scripts() -> SafeString:
    """An import map, preloads and the entry module of the map pages.

    Modules import each other by relative URL; the import map sends each of those URLs to
    `static()` of the file, i.e. to the hashed name when the manifest storage serves production,
    so a deploy never mixes old and new modules. Preloads fetch the module graph in parallel.
    """
    paths = map_module_paths()
    imports = {f"{settings.STATIC_URL}{p}": static(p) for p in paths}
    importmap = json.dumps({"imports": imports}).replace("</", "<\\/")
    preloads = format_html_join(
        "\n", '<link rel="modulepreload" href="{}">', ((static(p),) for p in paths)
    )
    entry = format_html(
        '<script type="module" src="{}"></script>', static(f"{MAP_MODULES_DIR}/{MAP_ENTRY}")
    )
    return mark_safe(  # noqa: S308  (JSON of static URLs, "</" escaped; the rest built by format_html)
        f'<script type="importmap">{importmap}</script>\n{preloads}\n{entry}'
    )
