"""Publishing: immutable numbered versions pinned to the data, drafts hidden, deliverables delivered."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from layers.models import LayerVersion
from maps.models import Map, MapLayer, MapVersion
from maps.services import map_layer_update, map_publish, map_version_attach
from tests.map_factories import add_parcels, make_layer_version, make_map, make_published_map

pytestmark = pytest.mark.django_db


def test_publishing_numbers_versions_and_pins_the_layer_data(
    world, django_capture_on_commit_callbacks
) -> None:
    new = make_map(project=world.project_a, by=world.analyst, n=8)
    layer = new.map_layers.get().layer
    with django_capture_on_commit_callbacks(execute=True):
        v1 = map_publish(map=new, by=world.analyst, notes="First cut")
    assert v1.number == 1 and v1.notes == "First cut"
    pinned = v1.layer_versions.get()
    assert pinned == layer.current_version and pinned.published_at is not None
    assert v1.definition["layers"][0]["version_id"] == pinned.pk
    assert v1.definition["basemap"] == "none"
    # Replacing the layer afterwards does not change what v1 shows.
    newer = make_layer_version(layer=layer)
    add_parcels(newer, n=2)
    v2 = map_publish(map=new, by=world.analyst, notes="Updated parcels")
    assert v2.number == 2 and v2.layer_versions.get() == newer
    v1.refresh_from_db()
    assert v1.definition["layers"][0]["version_id"] == pinned.pk
    assert AuditEntry.objects.filter(action="map.publish", agency_id=world.town_a.pk).count() == 2


def test_publishing_notifies_the_client_agency_after_commit(
    world, django_capture_on_commit_callbacks
) -> None:
    from notifications.models import Notification

    new = make_map(project=world.project_a, by=world.analyst)
    with django_capture_on_commit_callbacks(execute=True):
        version = map_publish(map=new, by=world.analyst, notes="Ready")
    notes = Notification.objects.filter(kind="map_published")
    assert {n.user for n in notes} == {world.manager_a, world.viewer_a}
    assert all(n.url == reverse("maps:version", args=[version.pk]) for n in notes)


def test_classes_are_frozen_over_the_pinned_data(world) -> None:
    new = make_map(project=world.project_a, by=world.analyst, n=30)
    ml = MapLayer.objects.get(map=new)
    map_layer_update(
        map_layer=ml,
        by=world.analyst,
        style={"type": "graduated", "attribute": "value", "method": "equal_interval", "classes": 3},
    )
    version = map_publish(map=new, by=world.analyst, notes="")
    assert version.definition["layers"][0]["style"]["breaks"] == pytest.approx(
        [96.67, 193.33, 290], rel=1e-3
    )


def test_a_map_without_layers_cannot_be_published(world) -> None:
    from maps.services import map_create

    empty = map_create(project=world.project_a, title="Empty", by=world.analyst, basemap="none")
    with pytest.raises(ValidationError, match="at least one layer"):
        map_publish(map=empty, by=world.analyst, notes="")
    assert not MapVersion.objects.exists()


def test_clients_cannot_publish(world) -> None:
    new = make_map(project=world.project_a, by=world.analyst)
    with pytest.raises(PermissionDenied):
        map_publish(map=new, by=world.manager_a, notes="")


def test_clients_see_published_maps_never_drafts(world) -> None:
    draft = make_map(project=world.project_a, by=world.analyst, title="Draft map")
    published, _ = make_published_map(project=world.project_a, by=world.analyst, title="Out")
    assert set(Map.objects.visible_to(world.manager_a)) == {published}
    assert set(Map.objects.visible_to(world.analyst)) == {draft, published}
    assert not Map.objects.visible_to(world.manager_b).exists()
    assert not MapLayer.objects.visible_to(world.manager_a).exists()
    # The client's layer list holds only published layer versions.
    assert set(LayerVersion.objects.visible_to(world.manager_a)) == set(
        published.versions.get().layer_versions.all()
    )


def test_a_client_opening_a_map_lands_on_its_latest_version(world, as_town_a) -> None:
    new, v1 = make_published_map(project=world.project_a, by=world.analyst)
    v2 = map_publish(map=new, by=world.analyst, notes="Second")
    response = as_town_a.get(reverse("maps:map", args=[new.pk]))
    assert response["Location"] == reverse("maps:version", args=[v2.pk])
    page = as_town_a.get(reverse("maps:version", args=[v1.pk])).content.decode()
    assert "v1" in page and "v2" in page and "Second" in page
    assert "Share links" not in page and "Attach" not in page  # provider-only tools


def test_attaching_a_version_delivers_the_deliverable(world, as_analyst) -> None:
    deliverable = world.deliverable_a
    deliverable.status = "in_review"
    deliverable.save()
    _, version = make_published_map(project=world.project_a, by=world.analyst)
    response = as_analyst.post(
        reverse("maps:attach", args=[version.pk]), {"deliverable": deliverable.pk}
    )
    assert response.status_code == 302
    deliverable.refresh_from_db()
    version.refresh_from_db()
    assert deliverable.status == "delivered" and version.deliverable == deliverable
    assert deliverable.transitions.get().to_status == "delivered"
    page = client_page(world.manager_a, reverse("projects:deliverable", args=[deliverable.pk]))
    assert "Attached maps" in page and reverse("maps:version", args=[version.pk]) in page


def client_page(user, url: str) -> str:
    from tests.conftest import client_for

    return client_for(user).get(url).content.decode()


def test_attaching_walks_the_workflow_to_delivered_recording_each_step(world) -> None:
    _, version = make_published_map(project=world.project_a, by=world.analyst)
    map_version_attach(version=version, deliverable=world.deliverable_a, by=world.analyst)
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == "delivered"
    steps = list(world.deliverable_a.transitions.values_list("to_status", flat=True))
    assert steps == ["in_progress", "in_review", "delivered"]
    with pytest.raises(ValidationError):
        map_version_attach(version=version, deliverable=world.deliverable_b, by=world.analyst)


def test_a_revised_version_redelivers_after_changes_were_requested(world) -> None:
    from projects.services import deliverable_transition

    _, v1 = make_published_map(project=world.project_a, by=world.analyst)
    map_version_attach(version=v1, deliverable=world.deliverable_a, by=world.analyst)
    deliverable_transition(
        deliverable=world.deliverable_a,
        to_status="changes_requested",
        by=world.manager_a,
        comment="Label the parcels",
    )
    _, v2 = make_published_map(project=world.project_a, by=world.analyst, title="Revised")
    map_version_attach(version=v2, deliverable=world.deliverable_a, by=world.analyst)
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == "delivered"


def test_attaching_to_an_accepted_deliverable_leaves_it_accepted(world) -> None:
    from projects.services import deliverable_transition

    _, v1 = make_published_map(project=world.project_a, by=world.analyst)
    map_version_attach(version=v1, deliverable=world.deliverable_a, by=world.analyst)
    deliverable_transition(
        deliverable=world.deliverable_a, to_status="accepted", by=world.manager_a
    )
    _, v2 = make_published_map(project=world.project_a, by=world.analyst, title="Later")
    map_version_attach(version=v2, deliverable=world.deliverable_a, by=world.analyst)
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == "accepted"


def test_the_project_page_lists_its_maps(world, as_analyst, as_town_a) -> None:
    make_map(project=world.project_a, by=world.analyst, title="Draft zoning")
    make_published_map(project=world.project_a, by=world.analyst, title="Final zoning")
    url = reverse("projects:project", args=[world.project_a.slug])
    staff = as_analyst.get(url).content.decode()
    assert "Draft zoning" in staff and "Final zoning" in staff and "Create map" in staff
    client = as_town_a.get(url).content.decode()
    assert "Final zoning" in client and "Draft zoning" not in client and "Create map" not in client


def test_the_admin_shows_maps_and_read_only_versions(world) -> None:
    from django.contrib.auth import get_user_model

    from tests.conftest import client_for

    _, version = make_published_map(project=world.project_a, by=world.analyst)
    admin = get_user_model().objects.create_superuser("root-admin", "r@example.org", "pw-x-1234")
    browser = client_for(admin)
    assert browser.get("/admin/maps/map/").status_code == 200
    assert browser.get(f"/admin/maps/mapversion/{version.pk}/change/").status_code == 200
    assert browser.get("/admin/maps/mapversion/add/").status_code == 403
