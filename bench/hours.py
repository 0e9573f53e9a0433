"""Hours benchmark: statements, burn-down and the agreement page on a busy agreement, against the
plain SQL that computes the same numbers.

Builds (once, idempotently) a bench agreement with 6 projects × 8 deliverables and N time entries
(default 300,000, fixed seed) spread over its year, then measures, median of RUNS runs each:
  statement   hours.selectors.statement_compute for one month   vs a hand-written GROUP BY
              joining rate ranges (same rounding, done in SQL) plus the sum of hours used to date;
              ours also reads the month's deliverable transitions
  burndown    hours.selectors.burndown                           vs one GROUP BY date query
  page        GET /agreements/<id>/ as the client's manager (render included)
  pdf         GET …/statement.pdf (WeasyPrint)
The ratio is reference time / portal time for statement and burn-down (1.0 = as fast as raw SQL).

    DEBUG=1 .venv/bin/python bench/hours.py [--entries 300000] [--runs 5]
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from hours.models import AgreementRate, TimeEntry  # noqa: E402
from hours.selectors import burndown, statement_compute  # noqa: E402
from projects.models import Agency, Deliverable, Membership, Project, ServiceAgreement  # noqa: E402

START = date(2025, 7, 1)
MONTH = date(2026, 1, 1)


def setup(n: int) -> ServiceAgreement:
    User = get_user_model()
    provider, _ = Agency.objects.get_or_create(
        slug="bench-hours-provider", defaults={"name": "Bench GIS", "kind": "provider"}
    )
    client, _ = Agency.objects.get_or_create(
        slug="bench-hours-client", defaults={"name": "Bench Town", "kind": "client"}
    )
    agreement, _ = ServiceAgreement.objects.get_or_create(
        provider=provider,
        client=client,
        title="Bench hours agreement",
        defaults={
            "start_date": START,
            "end_date": START + timedelta(days=364),
            "hourly_rate": Decimal("95.00"),
            "hours_budget": Decimal(n),
            "status": "active",
        },
    )
    AgreementRate.objects.get_or_create(
        agreement=agreement, effective_from=date(2026, 1, 16), defaults={"hourly_rate": "101.25"}
    )
    manager, _ = User.objects.get_or_create(username="bench-hours-manager")
    Membership.objects.get_or_create(user=manager, agency=client, defaults={"role": "manager"})
    have = TimeEntry.objects.filter(project__agreement=agreement).count()
    if have >= n:
        return agreement
    print(f"generating {n - have:,} time entries …", flush=True)
    staff = []
    for i in range(20):
        user, _ = User.objects.get_or_create(username=f"bench-hours-staff-{i}")
        Membership.objects.get_or_create(user=user, agency=provider, defaults={"role": "analyst"})
        staff.append(user)
    projects = []
    for p in range(6):
        project, _ = Project.objects.get_or_create(
            slug=f"bench-hours-{p}", defaults={"agreement": agreement, "name": f"Bench {p}"}
        )
        projects.append(project)
        for d in range(8):
            Deliverable.objects.get_or_create(project=project, title=f"Bench {p}.{d}")
    deliverables = {p.pk: list(p.deliverables.all()) for p in projects}
    rng = random.Random(42)  # noqa: S311
    batch: list[TimeEntry] = []
    for _ in range(n - have):
        project = rng.choice(projects)
        batch.append(
            TimeEntry(
                user=rng.choice(staff),
                project=project,
                deliverable=rng.choice(deliverables[project.pk]) if rng.random() < 0.8 else None,
                date=START + timedelta(days=rng.randrange(365)),
                hours=Decimal(rng.randrange(1, 17)) / 4,
                billable=rng.random() < 0.9,
                note="bench",
            )
        )
        if len(batch) == 10_000:
            TimeEntry.objects.bulk_create(batch)
            batch = []
    TimeEntry.objects.bulk_create(batch)
    return agreement


RAW_STATEMENT = """
WITH changes AS (
  SELECT '-infinity'::date AS from_d, hourly_rate FROM projects_serviceagreement WHERE id = %(a)s
  UNION ALL SELECT effective_from, hourly_rate FROM hours_agreementrate WHERE agreement_id = %(a)s
), rates AS (
  SELECT from_d, LEAD(from_d, 1, 'infinity') OVER (ORDER BY from_d) AS to_d, hourly_rate
  FROM changes
)
SELECT p.name, d.title, r.hourly_rate, SUM(e.hours), ROUND(SUM(e.hours) * r.hourly_rate, 2)
FROM hours_timeentry e
JOIN projects_project p ON p.id = e.project_id
LEFT JOIN projects_deliverable d ON d.id = e.deliverable_id
JOIN rates r ON e.date >= r.from_d AND e.date < r.to_d
WHERE p.agreement_id = %(a)s AND e.billable AND e.date BETWEEN %(s)s AND %(e)s
GROUP BY p.name, d.title, r.hourly_rate ORDER BY 1, 2, 3
"""
RAW_USED = """
SELECT SUM(e.hours) FROM hours_timeentry e JOIN projects_project p ON p.id = e.project_id
WHERE p.agreement_id = %s AND e.billable AND e.date <= %s
"""
RAW_BURNDOWN = """
SELECT e.date, SUM(e.hours) FROM hours_timeentry e JOIN projects_project p ON p.id = e.project_id
WHERE p.agreement_id = %s AND e.billable GROUP BY e.date ORDER BY e.date
"""


def timed(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with transaction.atomic():
        agreement = setup(args.entries)
    # Steady state, as autovacuum leaves it: statistics and the visibility map are current.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE hours_timeentry")
    month_end = date(2026, 1, 31)

    def raw_statement() -> list:  # type: ignore[type-arg]
        with connection.cursor() as cursor:
            cursor.execute(RAW_STATEMENT, {"a": agreement.pk, "s": MONTH, "e": month_end})
            lines = cursor.fetchall()
            cursor.execute(RAW_USED, [agreement.pk, month_end])
            return [lines, cursor.fetchone()]

    def raw_burndown() -> list:  # type: ignore[type-arg]
        with connection.cursor() as cursor:
            cursor.execute(RAW_BURNDOWN, [agreement.pk])
            return cursor.fetchall()

    # Same numbers both ways, or the comparison means nothing.
    ours = statement_compute(agreement, MONTH)
    raw_lines, (raw_used,) = raw_statement()
    raw_total = sum(row[4] for row in raw_lines)
    assert Decimal(ours["total_amount"]) == raw_total, (ours["total_amount"], raw_total)
    assert Decimal(ours["used_hours_to_date"]) == raw_used

    today = agreement.end_date
    statement_ms = timed(lambda: statement_compute(agreement, MONTH), args.runs)
    raw_statement_ms = timed(raw_statement, args.runs)
    burndown_ms = timed(lambda: burndown(agreement, today=today), args.runs)
    raw_burndown_ms = timed(raw_burndown, args.runs)

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="bench-hours-manager"))
    page_url = f"/agreements/{agreement.pk}/"
    pdf_url = f"/agreements/{agreement.pk}/statements/{MONTH:%Y-%m}/statement.pdf"
    assert client.get(page_url).status_code == 200
    page_ms = timed(lambda: client.get(page_url), args.runs)
    pdf_ms = timed(lambda: client.get(pdf_url), args.runs)

    n = TimeEntry.objects.filter(project__agreement=agreement).count()
    print(f"{n:,} time entries on one agreement; medians of {args.runs} runs")
    print(f"statement  ours {statement_ms:8.1f} ms   raw SQL {raw_statement_ms:8.1f} ms")
    print(f"burn-down  ours {burndown_ms:8.1f} ms   raw SQL {raw_burndown_ms:8.1f} ms")
    print(f"agreement page {page_ms:.1f} ms, statement PDF {pdf_ms:.1f} ms")
    ratio = (raw_statement_ms + raw_burndown_ms) / (statement_ms + burndown_ms)
    print(
        f"RESULT hours ratio={ratio:.2f} statement_ratio={raw_statement_ms / statement_ms:.2f} "
        f"burndown_ratio={raw_burndown_ms / burndown_ms:.2f} statement_ms={statement_ms:.1f} "
        f"burndown_ms={burndown_ms:.1f} page_ms={page_ms:.1f} pdf_ms={pdf_ms:.1f} entries={n}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
