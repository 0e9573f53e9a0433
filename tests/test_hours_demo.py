"""The demo gives the hours pages months of data at first run, and loading it twice changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from hours.models import MonthClose, TimeEntry
from projects.models import ServiceAgreement
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_demo_has_months_of_time_one_closed_month_and_is_idempotent() -> None:
    call_command("load_demo", stdout=StringIO())
    entries = TimeEntry.objects.count()
    months = {d.replace(day=1) for d in TimeEntry.objects.values_list("date", flat=True)}
    assert entries > 200 and len(months) >= 3
    assert MonthClose.objects.count() == ServiceAgreement.objects.count() == 2
    call_command("load_demo", stdout=StringIO())
    assert TimeEntry.objects.count() == entries and MonthClose.objects.count() == 2
    close = MonthClose.objects.select_related("agreement__client").first()
    manager = close.agreement.client.memberships.get(role="manager").user
    page = client_for(manager).get(
        f"/agreements/{close.agreement_id}/statements/{close.month:%Y-%m}/"
    )
    assert page.status_code == 200 and close.number.encode() in page.content
