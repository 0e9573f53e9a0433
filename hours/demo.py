"""Demo time entries: a few months of deterministic work on the demo agreements, one month closed."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from hours.models import MonthClose, TimeEntry
from hours.selectors import month_start
from hours.services import budget_thresholds_check, month_close
from projects.models import Deliverable, Project, ServiceAgreement

# Average billable hours per working day, per client slug: Calistoga ends up past 80%.
PACE = {"yountville": 3.0, "calistoga": 2.3}
NOTES = ["Digitising", "QA pass", "Client call", "Map layout", "Data cleanup", "Field data review"]
PRIVATE = ["Redo after county data fix", "Slow: parcel roll was late", ""]


def load(today: date | None = None) -> None:
    today = today or timezone.localdate()
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["lead", "analyst"])
    }
    if len(users) < 2:
        return
    agreements = ServiceAgreement.objects.filter(client__slug__in=PACE).select_related("client")
    for agreement in agreements:
        with transaction.atomic():
            if not TimeEntry.objects.filter(project__agreement=agreement).exists():
                _entries(agreement, users, today)
                budget_thresholds_check(agreement=agreement)
        last_month = month_start(month_start(today) - timedelta(days=1))
        if (
            last_month >= month_start(agreement.start_date)
            and not MonthClose.objects.filter(agreement=agreement, month=last_month).exists()
        ):
            month_close(agreement=agreement, month=last_month, by=users["lead"])


def _entries(agreement: ServiceAgreement, users: dict, today: date) -> None:
    rng = random.Random(agreement.title)  # noqa: S311 (demo data, not security)
    projects = list(Project.objects.filter(agreement=agreement))
    deliverables = {p.pk: list(Deliverable.objects.filter(project=p)) for p in projects}
    pace = PACE[agreement.client.slug]
    rows = []
    day = agreement.start_date
    while day <= today:
        if day.weekday() < 5:
            budget = Decimal(str(round(rng.uniform(0, 2 * pace) * 4) / 4))
            while budget > 0:
                hours = min(budget, Decimal(rng.choice(["0.5", "1", "1.5", "2", "2.5", "3"])))
                budget -= hours
                project = rng.choice(projects)
                options = deliverables[project.pk]
                rows.append(
                    TimeEntry(
                        user=users[rng.choice(["analyst", "analyst", "lead"])],
                        project=project,
                        deliverable=rng.choice(options) if options and rng.random() < 0.8 else None,
                        date=day,
                        hours=hours,
                        billable=rng.random() < 0.92,
                        note=rng.choice(NOTES),
                        private_note=rng.choice(PRIVATE),
                    )
                )
        day += timedelta(days=1)
    TimeEntry.objects.bulk_create(rows)
