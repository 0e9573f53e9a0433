"""Budget thresholds: 80% and 100% notify leads and client managers once; past 100% needs a lead."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEntry
from hours.models import BudgetAlert, TimeEntry
from hours.services import EntryData, OverBudget, time_entry_create, time_entry_delete
from notifications.models import Notification
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _run_on_commit(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Notifications are created after commit; run those callbacks after each logged entry."""
    _CAPTURE.append(django_capture_on_commit_callbacks)
    yield
    _CAPTURE.clear()


_CAPTURE: list = []


def _log(world: World, hours: str, *, by=None, override: bool = False) -> TimeEntry:  # type: ignore[no-untyped-def]
    with _CAPTURE[0](execute=True):
        return time_entry_create(
            by=by or world.analyst,
            data=EntryData(
                project=world.project_a, date=timezone.localdate(), hours=Decimal(hours)
            ),
            override=override,
        )


def _kinds(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_80_percent_notifies_the_lead_and_the_client_manager_once(world: World) -> None:
    world.agreement_a.hours_budget = Decimal("10")
    world.agreement_a.save()
    _log(world, "7.75")
    assert not BudgetAlert.objects.exists()
    _log(world, "0.25")  # exactly 80%
    _log(world, "0.5")  # still past 80%: no second alert
    entry = _log(world, "0.25")
    time_entry_delete(entry=entry, by=world.analyst)
    _log(world, "0.25")  # dropping back and crossing again does not repeat it
    assert list(BudgetAlert.objects.values_list("threshold", flat=True)) == [80]
    assert _kinds(world.lead) == ["budget_80"]
    assert _kinds(world.manager_a) == ["budget_80"]
    assert _kinds(world.viewer_a) == []  # viewers see no money
    assert _kinds(world.manager_b) == []
    assert _kinds(world.analyst) == []


def test_past_100_percent_needs_a_leads_override_which_is_recorded(world: World) -> None:
    world.agreement_a.hours_budget = Decimal("4")
    world.agreement_a.save()
    _log(world, "4")
    assert sorted(BudgetAlert.objects.values_list("threshold", flat=True)) == [80, 100]
    assert sorted(_kinds(world.manager_a)) == ["budget_100", "budget_80"]
    with pytest.raises(OverBudget, match="override"):
        _log(world, "0.25")
    with pytest.raises(PermissionDenied):
        _log(world, "0.25", override=True)  # an analyst cannot override
    entry = _log(world, "1", by=world.lead, override=True)
    assert entry.over_budget_override
    assert AuditEntry.objects.filter(action="budget.override", actor=world.lead).count() == 1
    # Non-billable time is never blocked by the budget.
    time_entry_create(
        by=world.analyst,
        data=EntryData(
            project=world.project_a,
            date=timezone.localdate(),
            hours=Decimal("2"),
            billable=False,
        ),
    )
    assert BudgetAlert.objects.count() == 2
    assert _kinds(world.lead).count("budget_100") == 1
