"""The map pages load the viewer/composer as ES modules through an import map, with the server's
style schema embedded: every module is mapped and every import between them names a module."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from maps.styles import style_schema
from tests.map_factories import make_published_map

MODULES = Path(settings.BASE_DIR) / "static" / "js" / "maps"
IMPORT = re.compile(r"""^\s*import\s+(?:[^"']*\s+from\s+)?["'](\./[\w-]+\.js)["']""", re.M)


def json_script(html: str, pattern: str) -> dict:
    match = re.search(pattern + r">(.*?)</script>", html, re.S)
    assert match, pattern
    return json.loads(match.group(1))


def page_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_viewer_and_composer_map_every_module_and_embed_the_style_schema(
    world, as_analyst: Client, as_town_a: Client
) -> None:
    new, version = make_published_map(project=world.project_a, by=world.analyst)
    modules = {f"{settings.STATIC_URL}js/maps/{p.name}" for p in MODULES.glob("*.js")}
    assert f"{settings.STATIC_URL}js/maps/main.js" in modules
    for client, url in (
        (as_town_a, reverse("maps:version", args=[version.pk])),
        (as_analyst, reverse("maps:edit", args=[new.pk])),
    ):
        html = page_of(client, url)
        assert set(json_script(html, r'<script type="importmap"')["imports"]) == modules
        assert json_script(html, r'<script id="style-schema" type="application/json"') == (
            json.loads(json.dumps(style_schema()))
        )
        assert f'<script type="module" src="{settings.STATIC_URL}js/maps/main.js">' in html


def test_every_import_between_map_modules_names_an_existing_module() -> None:
    names = {p.name for p in MODULES.glob("*.js")}
    imported = set()
    for module in MODULES.glob("*.js"):
        for target in IMPORT.findall(module.read_text()):
            assert target[2:] in names, f"{module.name} imports missing {target}"
            imported.add(target[2:])
    # Every module but the entry is used by another one: none is left behind by a refactor.
    assert names - imported == {"main.js"}
