"""The audit log page: provider admins see everything, client managers only their own agency."""

import pytest
from django.utils import timezone

from hours.services import month_close
from projects.services import membership_set
from tests.conftest import World, client_for
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
