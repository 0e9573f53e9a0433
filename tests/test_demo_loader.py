"""The demo loads only in development, touches only its own rows, and a second load never fails
because of what users added (another provider serving a demo town, with its own time and closes)."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from hours.models import MonthClose, TimeEntry
from hours.selectors import month_start
from hours.services import EntryData, month_close, time_entry_create
from projects.models import Agency
from tests.factories import make_agency, make_agreement, make_deliverable, make_project, make_user

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@override_settings(DEVELOPMENT=False)
def test_outside_development_the_demo_refuses_to_load() -> None:
    with pytest.raises(CommandError, match="only in development"):
        load()
    assert not get_user_model().objects.filter(username="gisadmin").exists()


@override_settings(DEVELOPMENT=False, DEMO_PASSWORD="sharedgis-demo")
def test_forcing_the_demo_outside_development_still_refuses_the_default_password() -> None:
    with pytest.raises(CommandError, match="default password"):
        call_command("load_demo", "--force", stdout=StringIO())
    assert not get_user_model().objects.exists()


@override_settings(DEVELOPMENT=False, DEMO_PASSWORD="a-password-of-our-own-8472")
def test_forced_with_a_password_of_its_own_the_demo_loads() -> None:
    call_command("load_demo", "--force", stdout=StringIO())
    assert (
        get_user_model().objects.get(username="lead").check_password("a-password-of-our-own-8472")
    )


def test_a_second_load_leaves_another_providers_work_with_a_demo_town_untouched() -> None:
    other = make_agency(kind=Agency.Kind.PROVIDER, name="County GIS", slug="county-gis")
    elsewhere = make_agreement(provider=other, client=make_agency(slug="somewhere"), title="Other")
    # A user's project took a slug the demo uses: it stays the user's.
    ours = make_project(agreement=elsewhere, name="Ours", slug="yountville-zoning")
    load()
    town = Agency.objects.get(slug="yountville")
    town_name, town_boundary = town.name, town.boundary.wkt
    start = month_start(timezone.localdate()) - timedelta(days=70)
    agreement = make_agreement(
        provider=other,
        client=town,
        title="County services",
        start_date=month_start(start),
        end_date=month_start(start) + timedelta(days=364),
        hours_budget=Decimal("500"),
    )
    project = make_project(agreement=agreement, name="County parcels", slug="county-parcels")
    make_deliverable(project=project, title="County parcel map")
    county_lead = make_user(username="county-lead", agency=other, role="lead")
    county_analyst = make_user(username="county-analyst", agency=other, role="analyst")
    for offset in range(0, 40, 3):
        time_entry_create(
            by=county_analyst,
            data=EntryData(project=project, date=month_start(start) + timedelta(days=offset),
                           hours=Decimal("2"), note="County work"),
        )  # fmt: skip
    month_close(agreement=agreement, month=month_start(start), by=county_lead)
    project.refresh_from_db()
    before = (
        list(TimeEntry.objects.filter(project__agreement=agreement).values_list("pk", "user_id")),
        list(MonthClose.objects.filter(agreement=agreement).values_list("pk", "month")),
        (project.name, project.lead_id, project.agreement_id),
    )

    output = load()

    assert "Demo data ready" in output
    project.refresh_from_db()
    after = (
        list(TimeEntry.objects.filter(project__agreement=agreement).values_list("pk", "user_id")),
        list(MonthClose.objects.filter(agreement=agreement).values_list("pk", "month")),
        (project.name, project.lead_id, project.agreement_id),
    )
    assert after == before
    # No demo user logged time on, or closed a month of, the county's agreement.
    demo_users = get_user_model().objects.filter(username__in=["lead", "analyst"])
    assert not TimeEntry.objects.filter(project__agreement=agreement, user__in=demo_users).exists()
    town.refresh_from_db()
    assert (town.name, town.boundary.wkt) == (town_name, town_boundary)
    ours.refresh_from_db()
    assert (ours.name, ours.agreement_id) == ("Ours", elsewhere.pk)
    assert not ours.layers.exists() and not ours.maps.exists()
