"""The audit log page: provider admins see everything, client managers only their own agency."""

import pytest
from django.utils import timezone

from hours.services import month_close
from projects.services import membership_set
from tests.conftest import SecondProvider, World, client_for
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _setup(world: World) -> None:
    admin = make_user(username="admin", agency=world.provider, role="admin")
    month_close(agreement=world.agreement_a, month=timezone.localdate(), by=world.lead)
    month_close(agreement=world.agreement_b, month=timezone.localdate(), by=world.lead)
    newcomer = make_user(username="newcomer")
    membership_set(user=newcomer, agency=world.town_b, role="viewer", by=admin)


def test_provider_admins_see_every_agency_entry(world: World) -> None:
    _setup(world)
    admin = world.provider.memberships.get(role="admin").user
    page = client_for(admin).get("/audit/").content.decode()
    assert "A services" in page and "B services" in page and "newcomer" in page


def test_client_managers_see_only_their_own_agency_entries(world: World) -> None:
    _setup(world)
    page = client_for(world.manager_a).get("/audit/").content.decode()
    assert "A services" in page
    assert "B services" not in page and "newcomer" not in page
    page_b = client_for(world.manager_b).get("/audit/?action=membership").content.decode()
    assert "newcomer" in page_b and "A services" not in page_b


def test_viewers_and_analysts_have_no_audit_page(world: World) -> None:
    assert client_for(world.viewer_a).get("/audit/").status_code == 404
    assert client_for(world.analyst).get("/audit/").status_code == 404


def test_the_audit_link_is_shown_only_to_those_who_may_read_it(world: World) -> None:
    assert b"Audit log" in client_for(world.manager_a).get("/").content
    assert b"Audit log" in client_for(world.lead).get("/").content
    assert b"Audit log" not in client_for(world.viewer_a).get("/").content
    assert b"Audit log" not in client_for(world.analyst).get("/").content


def test_client_managers_do_not_read_entries_naming_drafts_or_unpublished_layers(
    world: World,
) -> None:
    from maps.services import map_create, map_layer_add
    from tests.map_factories import make_parcel_layer

    draft = map_create(project=world.project_a, title="Secret draft plan", by=world.analyst)
    layer = make_parcel_layer(project=world.project_a, name="Unpublished wetlands")
    map_layer_add(map=draft, layer=layer, by=world.analyst)
    month_close(agreement=world.agreement_a, month=timezone.localdate(), by=world.lead)
    page = client_for(world.manager_a).get("/audit/").content.decode()
    assert "A services" in page  # the closed month is the client's business
    assert "Secret draft plan" not in page and "Unpublished wetlands" not in page
    lead_page = client_for(world.lead).get("/audit/").content.decode()
    assert "Secret draft plan" in lead_page and "Unpublished wetlands" in lead_page


def test_the_other_provider_of_a_town_reads_none_of_the_first_providers_entries_there(
    world: World, second_provider: SecondProvider
) -> None:
    from hours.services import month_close as close

    close(agreement=world.agreement_a, month=timezone.localdate(), by=world.lead)
    close(agreement=second_provider.agreement, month=timezone.localdate(), by=second_provider.admin)
    county = client_for(second_provider.admin).get("/audit/").content.decode()
    assert "County roads" in county
    assert "A services" not in county
    city = client_for(world.lead).get("/audit/").content.decode()
    assert "A services" in city and "County roads" not in city
    # The town reads both providers' entries about its agreements.
    town = client_for(world.manager_a).get("/audit/").content.decode()
    assert "A services" in town and "County roads" in town
