"""projects.services.audit_for files an agreement's action under that agreement and its client.

One function takes both ids from the one agreement, so an entry cannot be filed under another
town; audit.services.audit_record keeps the entries that belong to no agreement.
"""

import ast
from pathlib import Path

import pytest

from audit.models import AuditEntry
from projects.audit_log import audit_entries_visible_to
from projects.models import ServiceAgreement
from projects.services import audit_for
from tests.conftest import SecondProvider, World

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
APPS = ["portal", "maps", "hours", "ogc", "collaboration", "layers", "projects"]


def test_an_entry_is_filed_under_the_agreement_and_its_client_town(world: World) -> None:
    entry = audit_for(
        world.agreement_b,
        action="test.action",
        summary="Something done for town B",
        actor=world.analyst,
        target=world.project_b,
        data={"n": 1},
    )
    entry.refresh_from_db()
    assert (entry.agency_id, entry.agreement_id) == (world.town_b.pk, world.agreement_b.pk)
    assert entry.actor == world.analyst and entry.client_visible is False
    assert (entry.target_type, entry.target_id) == ("projects.project", str(world.project_b.pk))
    assert entry.data == {"n": 1}


def test_a_client_manager_reads_exactly_the_client_visible_entries_of_their_agreements(
    world: World, second_provider: SecondProvider
) -> None:
    def entry(agreement: ServiceAgreement, action: str, visible: bool) -> AuditEntry:
        return audit_for(
            agreement, action=action, summary=action, actor=None, client_visible=visible
        )

    shown_a = entry(world.agreement_a, "a.shown", True)
    entry(world.agreement_a, "a.staff_only", False)
    entry(world.agreement_b, "b.shown", True)
    county_shown = entry(second_provider.agreement, "county.shown", True)
    entry(second_provider.agreement, "county.staff_only", False)

    read_by_a = set(audit_entries_visible_to(world.manager_a))
    assert read_by_a == {shown_a, county_shown}
    assert {e.action for e in audit_entries_visible_to(world.manager_b)} == {"b.shown"}
    # The provider's lead reads all of its own agreements' entries, none of County GIS's.
    assert {e.action for e in audit_entries_visible_to(world.lead)} == {
        "a.shown",
        "a.staff_only",
        "b.shown",
    }


def _agreement_id_passed_to_audit_record() -> list[str]:
    """Where an app calls audit_record with agreement_id=… (which audit_for should do)."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "audit_record"
                    and any(k.arg == "agreement_id" for k in node.keywords)
                ):
                    found.append(str(path.relative_to(ROOT)))
    return found


def test_only_audit_for_and_view_as_pass_an_agreement_to_audit_record() -> None:
    # view_as files an entry about a town whose agreement may be gone (see its comment).
    assert _agreement_id_passed_to_audit_record() == [
        "projects/services.py",
        "projects/view_as.py",
    ]
