"""Monthly cost-recovery statements: decimal arithmetic, stability once closed, CSV and PDF."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from hours.models import AgreementRate
from hours.selectors import agreement_summary, money, statement_compute, statement_for
from hours.services import month_close, month_reopen
from projects.models import DeliverableTransition
from projects.services import deliverable_transition
from tests.conftest import World, client_for
from tests.factories import make_deliverable, make_project
from tests.hours_helpers import log

pytestmark = pytest.mark.django_db


def _month_in_agreement(world: World) -> date:
    return world.agreement_a.start_date.replace(day=1) + timedelta(days=40)


def test_amounts_round_half_up_to_cents_per_line_and_total_is_the_sum_of_lines(
    world: World,
) -> None:
    world.agreement_a.hourly_rate = Decimal("10.02")
    world.agreement_a.save()
    day = _month_in_agreement(world).replace(day=3)
    other = make_project(agreement=world.agreement_a, name="Addressing A")
    d = make_deliverable(project=world.project_a, title="Zoning layer")
    log(world.analyst, world.project_a, day, "0.25", deliverable=d)  # 2.505 → 2.51
    log(world.analyst, other, day, "0.25")
    log(world.analyst, other, day + timedelta(days=1), "1.5")  # 1.75 h × 10.02 = 17.535 → 17.54
    log(world.analyst, other, day, "8", billable=False)  # not on the statement
    s = statement_compute(world.agreement_a, day)
    lines = {(line["project"], line["deliverable"]): line for line in s["lines"]}
    assert lines[("Zoning A", "Zoning layer")]["amount"] == "2.51"
    assert lines[("Addressing A", "")]["hours"] == "1.75"
    assert lines[("Addressing A", "")]["amount"] == "17.54"
    assert s["total_hours"] == "2.00"
    assert s["total_amount"] == "20.05"
    assert s["remaining_hours"] == "98.00"
    assert s["remaining_amount"] == "981.96"
    assert money(Decimal("0.005")) == Decimal("0.01")


def test_a_closed_month_statement_does_not_change_when_the_rate_or_later_data_change(
    world: World,
) -> None:
    month = _month_in_agreement(world)
    log(world.analyst, world.project_a, month.replace(day=5), "3")
    close = month_close(agreement=world.agreement_a, month=month, by=world.lead)
    before = statement_for(world.agreement_a, month)
    world.agreement_a.hourly_rate = Decimal("250.00")
    world.agreement_a.save()
    log(world.analyst, world.project_a, month + timedelta(days=40), "5")  # next month
    after = statement_for(world.agreement_a, month)
    assert after == before
    assert after["total_amount"] == "300.00" and after["number"] == close.number
    assert statement_for(world.agreement_a, month) == statement_for(world.agreement_a, month)
    # Reopen and close again: a new revision with its own number, recomputed at the new rate.
    month_reopen(agreement=world.agreement_a, month=month, by=world.lead, reason="Rate fixed")
    second = month_close(agreement=world.agreement_a, month=month, by=world.lead)
    assert second.number == f"{close.number}-R2"
    assert statement_for(world.agreement_a, month)["total_amount"] == "750.00"


def test_statement_lists_deliverables_delivered_and_accepted_that_month(world: World) -> None:
    d = world.deliverable_a
    for status in ("in_progress", "in_review", "delivered"):
        deliverable_transition(deliverable=d, to_status=status, by=world.analyst)
    deliverable_transition(deliverable=d, to_status="accepted", by=world.manager_a)
    s = statement_compute(world.agreement_a, timezone.localdate())
    assert [x["deliverable"] for x in s["delivered"]] == ["Zoning map A"]
    assert [x["deliverable"] for x in s["accepted"]] == ["Zoning map A"]
    assert DeliverableTransition.objects.count() == 4


def test_client_manager_downloads_csv_and_pdf_with_both_agencies_period_and_number(
    world: World,
) -> None:
    month = _month_in_agreement(world)
    log(world.analyst, world.project_a, month.replace(day=2), "2.5", note="Zoning edits")
    ym = f"{month:%Y-%m}"
    client = client_for(world.manager_a)
    page = client.get(f"/agreements/{world.agreement_a.pk}/statements/{ym}/")
    assert page.status_code == 200 and b"250.00" in page.content
    csv_text = client.get(
        f"/agreements/{world.agreement_a.pk}/statements/{ym}/statement.csv"
    ).content.decode()
    assert "Zoning A,,2.50,100.00,250.00" in csv_text
    assert "City GIS" in csv_text and "Town A" in csv_text
    response = client.get(f"/agreements/{world.agreement_a.pk}/statements/{ym}/statement.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "City GIS" in text and "Town A" in text
    assert f"TOWN-A-{world.agreement_a.pk:04d}-{month:%Y%m}" in text
    assert "250.00" in text and month.replace(day=1).isoformat() in text


def test_a_month_outside_the_agreement_or_malformed_has_no_statement(world: World) -> None:
    client = client_for(world.manager_a)
    base = f"/agreements/{world.agreement_a.pk}/statements"
    assert client.get(f"{base}/1999-01/").status_code == 404
    assert client.get(f"{base}/not-a-month/").status_code == 404


def test_a_rate_change_mid_month_charges_each_day_at_the_rate_in_effect(world: World) -> None:
    month = _month_in_agreement(world).replace(day=1)
    AgreementRate.objects.create(
        agreement=world.agreement_a,
        effective_from=month.replace(day=16),
        hourly_rate=Decimal("110.50"),
    )
    log(world.analyst, world.project_a, month.replace(day=15), "1.25")  # 125.00 at 100.00
    log(world.analyst, world.project_a, month.replace(day=16), "0.75")  # 82.875 → 82.88
    log(world.analyst, world.project_a, month.replace(day=20), "0.5")  # with the line above
    s = statement_compute(world.agreement_a, month)
    assert [(x["hours"], x["rate"], x["amount"]) for x in s["lines"]] == [
        ("1.25", "100.00", "125.00"),
        ("1.25", "110.50", "138.13"),  # 1.25 × 110.50 = 138.125 → 138.13
    ]
    assert s["total_amount"] == "263.13"
    assert s["rate"] == "110.50"
    summary = agreement_summary(world.agreement_a, today=timezone.localdate())
    assert summary.used_amount == Decimal("263.13")
    assert summary.current_rate == Decimal("110.50")
