"""Membership changes made in the Django admin are validated and land in the audit log."""

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEntry
from projects.models import Membership
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(world: World):  # type: ignore[no-untyped-def]
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    return client_for(root)


def test_adding_a_member_in_the_admin_is_audited(world: World, admin_client) -> None:
    newcomer = get_user_model().objects.create_user("newcomer")
    response = admin_client.post(
        "/admin/projects/membership/add/",
        {"user": newcomer.pk, "agency": world.town_a.pk, "role": "viewer"},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=newcomer, agency=world.town_a, role="viewer").exists()
    entry = AuditEntry.objects.get(
        action="membership.set", target_id=str(Membership.objects.get(user=newcomer).pk)
    )
    assert entry.agency_id == world.town_a.pk and entry.actor.username == "root"


def test_a_provider_role_in_a_client_town_is_refused(world: World, admin_client) -> None:
    newcomer = get_user_model().objects.create_user("newcomer")
    response = admin_client.post(
        "/admin/projects/membership/add/",
        {"user": newcomer.pk, "agency": world.town_a.pk, "role": "analyst"},
    )
    assert response.status_code == 200  # the form comes back with the error
    assert "must be one of" in response.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()


def test_removing_a_member_in_the_admin_is_audited(world: World, admin_client) -> None:
    membership = Membership.objects.get(user=world.viewer_a)
    response = admin_client.post(
        f"/admin/projects/membership/{membership.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEntry.objects.filter(action="membership.remove", agency=world.town_a).count() == 1
