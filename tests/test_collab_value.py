"""The value report and the usage counts behind it: every figure from rows the client can see."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from collaboration.models import UsageDaily
from collaboration.services import map_request_ask, map_request_file, usage_record
from collaboration.value import period_from, value_report
from hours.selectors import statement_for
from hours.services import month_close
from maps.services import map_version_attach
from projects.models import DeliverableTransition
from projects.services import deliverable_transition
from tests.conftest import World, client_for
from tests.hours_helpers import log
from tests.map_factories import make_published_map

pytestmark = pytest.mark.django_db


def test_fiscal_years_start_in_the_configured_month(settings) -> None:  # type: ignore[no-untyped-def]
    settings.FISCAL_YEAR_START_MONTH = 7
    today = date(2026, 12, 1)
    fy = period_from({"period": "fy", "fy": "2026"}, today=today)
    assert (fy.start, fy.end) == (date(2025, 7, 1), date(2026, 6, 30))
    current = period_from({"period": "fy"}, today=today)
    assert (current.start, current.end) == (date(2026, 7, 1), date(2027, 6, 30))
    q2 = period_from({"period": "quarter", "fy": "2027", "q": "2"}, today=today)
    assert (q2.start, q2.end) == (date(2026, 10, 1), date(2026, 12, 31))
    month = period_from({"period": "month", "month": "2026-02"}, today=today)
    assert (month.start, month.end) == (date(2026, 2, 1), date(2026, 2, 28))
    settings.FISCAL_YEAR_START_MONTH = 1
    calendar = period_from({"period": "fy", "fy": "2026"}, today=today)
    assert (calendar.start, calendar.end) == (date(2026, 1, 1), date(2026, 12, 31))


def test_an_unreadable_period_is_a_400_with_a_message(world: World) -> None:
    manager = client_for(world.manager_a)
    for query in ("period=decade", "period=month&month=2026-13", "period=quarter&q=7"):
        response = manager.get(f"/agreements/{world.agreement_a.pk}/value/?{query}")
        assert response.status_code == 400, query
        assert b"period" in response.content or b"quarter" in response.content


def test_billed_hours_and_cost_equal_the_statements_and_the_alternative_shows_the_difference(
    world: World, settings
) -> None:  # type: ignore[no-untyped-def]
    from collaboration.value import fiscal_year_of

    agreement = world.agreement_a
    agreement.alternative_hourly_rate = Decimal("165.00")
    agreement.alternative_rate_source = "Consultant quote, 2026"
    agreement.save()
    first = timezone.localdate().replace(day=1)
    prev = (first - timedelta(days=1)).replace(day=1)
    log(
        world.analyst,
        world.project_a,
        prev + timedelta(days=3),
        "6.5",
        deliverable=world.deliverable_a,
    )
    log(world.analyst, world.project_a, first, "2.25")
    log(world.analyst, world.project_a, first, "4", billable=False)
    month_close(agreement=agreement, month=prev, by=world.lead)
    # A fiscal year starting last month holds both months, whatever today is.
    settings.FISCAL_YEAR_START_MONTH = prev.month
    period = period_from({"period": "fy", "fy": str(fiscal_year_of(prev, prev.month))}, today=first)
    report = value_report(agreement, period)
    statements = [statement_for(agreement, m) for m in (prev, first)]
    assert period.start == prev
    assert (
        report.hours_billed == Decimal("8.75") == sum(Decimal(s["total_hours"]) for s in statements)
    )
    assert report.cost_billed == Decimal("875.00")
    assert report.alternative_cost == Decimal("1443.75")
    assert report.difference == Decimal("568.75")
    assert report.used_hours_to_date == Decimal("8.75") and report.remaining_hours == Decimal(
        "91.25"
    )
    page = (
        client_for(world.manager_a)
        .get(f"/agreements/{agreement.pk}/value/?{period.query}")
        .content.decode()
    )
    assert "$1,443.75" in page and "$568.75" in page and "Consultant quote, 2026" in page
    # Each month links down to its statement, which the manager can open.
    assert f"/agreements/{agreement.pk}/statements/{prev:%Y-%m}/" in page
    assert (
        client_for(world.manager_a)
        .get(f"/agreements/{agreement.pk}/statements/{prev:%Y-%m}/")
        .status_code
        == 200
    )
    rows = list(
        csv.reader(
            io.StringIO(
                client_for(world.manager_a)
                .get(f"/agreements/{agreement.pk}/value.csv?{period.query}")
                .content.decode()
            )
        )
    )
    assert ["billed", "hours", "8.75", "hours", ""] in rows
    assert ["alternative", "difference (alternative minus billed)", "568.75", "USD", ""] in rows


def test_viewers_and_other_towns_never_see_the_value_report(world: World) -> None:
    assert (
        client_for(world.viewer_a).get(f"/agreements/{world.agreement_a.pk}/value/").status_code
        == 403
    )
    assert (
        client_for(world.viewer_a).get(f"/agreements/{world.agreement_a.pk}/value.pdf").status_code
        == 403
    )
    assert (
        client_for(world.manager_b).get(f"/agreements/{world.agreement_a.pk}/value/").status_code
        == 404
    )


def test_only_provider_leads_set_the_alternative_rate_and_the_response_target(world: World) -> None:
    url = f"/agreements/{world.agreement_a.pk}/value/terms/"
    data = {
        "alternative_hourly_rate": "150",
        "alternative_rate_source": "In-house estimate",
        "response_target_days": "3",
    }
    client_for(world.manager_a).post(url, data)
    world.agreement_a.refresh_from_db()
    assert world.agreement_a.alternative_hourly_rate is None
    client_for(world.lead).post(url, {**data, "alternative_rate_source": ""})
    world.agreement_a.refresh_from_db()
    assert world.agreement_a.alternative_hourly_rate is None  # a rate needs its source
    client_for(world.lead).post(url, data)
    world.agreement_a.refresh_from_db()
    assert world.agreement_a.alternative_hourly_rate == Decimal("150.00")
    assert world.agreement_a.response_target_days == 3


def test_deliveries_on_time_or_late_and_rounds_of_changes(world: World) -> None:
    d = world.deliverable_a
    for status in ("in_progress", "in_review", "delivered"):
        deliverable_transition(deliverable=d, to_status=status, by=world.analyst)
    deliverable_transition(
        deliverable=d, to_status="changes_requested", by=world.manager_a, comment="Fix labels"
    )
    for status in ("in_progress", "in_review", "delivered"):
        deliverable_transition(deliverable=d, to_status=status, by=world.analyst)
    deliverable_transition(deliverable=d, to_status="accepted", by=world.manager_a)
    # Delivered after its due date: late.
    d.due_date = timezone.localdate() - timedelta(days=1)
    d.save()
    period = period_from({"period": "month"}, today=timezone.localdate())
    report = value_report(world.agreement_a, period)
    (line,) = report.deliverables
    assert (
        line.change_rounds == 1
        and line.on_time is False
        and line.accepted_on == timezone.localdate()
    )
    assert (report.delivered_count, report.accepted_count, report.late_count) == (1, 1, 1)
    assert DeliverableTransition.objects.filter(deliverable=d).count() == 8


def test_requests_received_and_their_response_times(world: World) -> None:
    world.agreement_a.response_target_days = 2
    world.agreement_a.save()
    r = map_request_file(
        agreement=world.agreement_a,
        title="Flood map",
        need="For the council",
        needed_by=None,
        priority="normal",
        area_source="",
        by=world.manager_a,
    )
    map_request_ask(request=r, text="Which storm?", by=world.lead)
    report = value_report(
        world.agreement_a, period_from({"period": "month"}, today=timezone.localdate())
    )
    (line,) = report.requests
    assert (
        line.response_hours is not None and line.response_hours < 1 and line.within_target is True
    )


def test_usage_is_counted_per_open_export_and_download_not_per_tile(world: World) -> None:
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=5)
    manager = client_for(world.manager_a)
    manager.get(f"/maps/versions/{version.pk}/")
    manager.get(f"/maps/versions/{version.pk}/")
    layer = version.definition["layers"][0]
    manager.get(f"/tiles/layers/{layer['layer_id']}/15/5266/12674.pbf?v={layer['version_id']}")
    manager.get(f"/maps/versions/{version.pk}/export.png?width=400&height=300")
    manager.get(f"/layers/{layer['layer_id']}/download/geojson/?version=1")
    client_for(world.analyst).get(f"/maps/versions/{version.pk}/")
    counts = {(u.agency_id, u.kind): u.count for u in UsageDaily.objects.filter(version=version)}
    assert counts == {
        (world.town_a.pk, "view"): 2,
        (world.town_a.pk, "export"): 1,
        (world.town_a.pk, "download"): 1,
        (world.provider.pk, "view"): 1,
    }
    # One row per day, map version, agency and kind: the upsert adds to it.
    usage_record(version_id=version.pk, agency_id=world.town_a.pk, kind="view", n=5)
    assert UsageDaily.objects.get(version=version, agency=world.town_a, kind="view").count == 7
    report = value_report(
        world.agreement_a, period_from({"period": "month"}, today=timezone.localdate())
    )
    assert report.usage_totals == {"view": 7, "export": 1, "download": 1}  # the town's use only
    assert [v.pk for v in report.maps_published] == [version.pk]


def test_the_value_pdf_is_a_pdf_with_the_billed_totals(world: World) -> None:
    from pypdf import PdfReader

    log(world.analyst, world.project_a, timezone.localdate(), "3")
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=5)
    map_version_attach(version=version, deliverable=world.deliverable_a, by=world.analyst)
    response = client_for(world.manager_a).get(f"/agreements/{world.agreement_a.pk}/value.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Value report" in text and "$300.00" in text and "Zoning map A" in text
