"""“View as Town X”: provider staff see, read-only, exactly what the town's users see."""

import pytest
from django.urls import reverse

from tests.map_factories import make_map, make_published_map

pytestmark = pytest.mark.django_db


def test_viewing_as_a_town_shows_only_what_its_users_see(world, as_analyst) -> None:
    make_map(project=world.project_a, by=world.analyst, title="Secret draft")
    _, version = make_published_map(project=world.project_a, by=world.analyst, title="Released")
    make_published_map(project=world.project_b, by=world.analyst, title="Other town map")
    as_analyst.post(reverse("projects:view-as"), {"agency": world.town_a.pk})
    maps_page = as_analyst.get(reverse("maps:list")).content.decode()
    assert "Released" in maps_page
    assert "Secret draft" not in maps_page and "Other town map" not in maps_page
    assert "Viewing as" in maps_page and "Town A" in maps_page
    home = as_analyst.get(reverse("home")).content.decode()
    assert "Storm B" not in home and "Zoning A" in home
    # The version opens in the viewer, not the composer; provider tools are hidden.
    viewer = as_analyst.get(reverse("maps:version", args=[version.pk])).content.decode()
    assert "Share links" not in viewer
    assert as_analyst.get(reverse("maps:edit", args=[version.map_id])).status_code == 404


def test_viewing_as_is_read_only_until_stopped(world, as_analyst) -> None:
    new = make_map(project=world.project_a, by=world.analyst)
    as_analyst.post(reverse("projects:view-as"), {"agency": world.town_a.pk})
    refused = as_analyst.post(reverse("maps:publish", args=[new.pk]), {"notes": "x"})
    assert refused.status_code == 403 and b"Read-only" in refused.content
    assert not new.versions.exists()
    as_analyst.post(reverse("projects:view-as-stop"))
    assert "Viewing as" not in as_analyst.get(reverse("maps:list")).content.decode()
    as_analyst.post(reverse("maps:publish", args=[new.pk]), {"notes": "x"})
    assert new.versions.count() == 1


def test_clients_cannot_view_as_another_town(world, as_town_a) -> None:
    as_town_a.post(reverse("projects:view-as"), {"agency": world.town_b.pk})
    page = as_town_a.get(reverse("maps:list")).content.decode()
    assert "Viewing as" not in page and "Town B" not in page


def test_staff_cannot_view_as_an_agency_they_do_not_serve(world, as_analyst) -> None:
    from projects.models import Agency

    stranger = Agency.objects.create(name="Elsewhere", slug="elsewhere", kind="client")
    assert as_analyst.post(reverse("projects:view-as"), {"agency": stranger.pk}).status_code == 404


def test_viewing_as_a_town_applies_to_tiles_too(world, as_analyst) -> None:
    from tests.map_factories import make_parcel_layer, tile_of

    draft_layer = make_parcel_layer(project=world.project_a, n=5)
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    tile = reverse("layers:tile", args=[draft_layer.pk, z, x, y])
    tile += f"?v={draft_layer.current_version_id}"
    assert as_analyst.get(tile).status_code == 200
    as_analyst.post(reverse("projects:view-as"), {"agency": world.town_a.pk})
    # The town sees no unpublished layer, so neither does its "View as" (nor from the memo).
    assert as_analyst.get(tile).status_code == 404
    tilejson = reverse("layers:tilejson", args=[draft_layer.pk])
    assert as_analyst.get(tilejson).status_code == 404
    as_analyst.post(reverse("projects:view-as-stop"))
    assert as_analyst.get(tile).status_code == 200
