"""projects/access.py answers every role question, always about one object's agreement."""

import pytest

from projects.access import (
    can_make_move,
    can_read_audit,
    can_see_money,
    clients_served_by,
    has_role,
    is_client_manager,
    is_lead,
    is_provider_staff,
    viewer_scope,
)
from tests.conftest import SecondProvider, World
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_provider_staff_are_staff_of_their_own_agreements_only(
    world: World, second_provider: SecondProvider
) -> None:
    assert is_provider_staff(world.analyst, world.project_a)
    assert is_provider_staff(world.analyst, world.deliverable_b)
    # County GIS serves the same town, under its own agreement.
    assert not is_provider_staff(second_provider.analyst, world.project_a)
    assert is_provider_staff(second_provider.analyst, second_provider.project)
    assert not is_provider_staff(world.manager_a, world.project_a)


def test_a_town_served_by_two_providers_acts_through_each_agreement(
    world: World, second_provider: SecondProvider
) -> None:
    for on in (world.agreement_a, second_provider.agreement):
        assert is_client_manager(world.manager_a, on)
        assert can_see_money(world.manager_a, on)
        assert can_make_move(world.manager_a, on, "client")
        assert not can_make_move(world.manager_a, on, "provider")
    assert not is_client_manager(world.manager_a, world.agreement_b)


def test_leads_close_months_analysts_and_viewers_do_not(world: World) -> None:
    assert is_lead(world.lead, world.agreement_a)
    assert not is_lead(world.analyst, world.agreement_a)
    assert not can_see_money(world.viewer_a, world.agreement_a)
    assert has_role(world.viewer_a, world.project_a)  # some role, on the client side
    assert not has_role(world.viewer_a, world.project_b)


def test_audit_readers_are_superusers_leads_and_managers(world: World) -> None:
    assert can_read_audit(world.lead) and can_read_audit(world.manager_a)
    assert not can_read_audit(world.analyst) and not can_read_audit(world.viewer_a)
    assert can_read_audit(make_user(username="root", is_superuser=True))


def test_view_as_sees_a_town_through_the_staff_members_own_agreements_only(
    world: World, second_provider: SecondProvider
) -> None:
    county = second_provider.analyst
    assert list(clients_served_by(county)) == [world.town_a]
    county._sharedgis_scope = viewer_scope(  # type: ignore[attr-defined]
        world.town_a.pk, frozenset({second_provider.agreement.pk})
    )
    assert has_role(county, second_provider.project)
    assert not has_role(county, world.project_a)
    from projects.models import Project

    assert list(Project.objects.visible_to(county)) == [second_provider.project]
