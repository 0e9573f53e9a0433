"""Demo time entries: a few months of deterministic work on the demo agreements, one month closed.

Only the demo provider's own agreements (projects.demo) are touched, through the same services
as users: entries are logged by the demo staff with `time_entries_create` (permission, closed
months and budget checked) and the month is closed with `month_close` by the demo lead.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from hours.models import MonthClose, TimeEntry
from hours.selectors import month_start
from hours.services import EntryData, month_close, time_entries_create
from projects.demo import demo_agreements
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
    for agreement in demo_agreements().filter(client__slug__in=PACE):
        if not TimeEntry.objects.filter(project__agreement=agreement).exists():
            for username, items in _entries(agreement, today).items():
                if items:
                    time_entries_create(by=users[username], items=items)
        last_month = month_start(month_start(today) - timedelta(days=1))
        if (
            last_month >= month_start(agreement.start_date)
            and not MonthClose.objects.filter(agreement=agreement, month=last_month).exists()
        ):
            month_close(agreement=agreement, month=last_month, by=users["lead"])


def _entries(agreement: ServiceAgreement, today: date) -> dict[str, list[EntryData]]:
    """Each demo user's entries; billable time stays within the budget (the service checks it)."""
    rng = random.Random(agreement.title)  # noqa: S311 (demo data, not security)
    projects = list(Project.objects.filter(agreement=agreement))
    deliverables = {p.pk: list(Deliverable.objects.filter(project=p)) for p in projects}
    pace = PACE[agreement.client.slug]
    items: dict[str, list[EntryData]] = {"analyst": [], "lead": []}
    billable_total = Decimal(0)
    day = agreement.start_date
    while day <= today and projects:
        if day.weekday() < 5:
            budget = Decimal(str(round(rng.uniform(0, 2 * pace) * 4) / 4))
            while budget > 0:
                hours = min(budget, Decimal(rng.choice(["0.5", "1", "1.5", "2", "2.5", "3"])))
                budget -= hours
                project = rng.choice(projects)
                options = deliverables[project.pk]
                username = rng.choice(["analyst", "analyst", "lead"])
                deliverable = rng.choice(options) if options and rng.random() < 0.8 else None
                billable = rng.random() < 0.92
                if billable and billable_total + hours > agreement.hours_budget:
                    billable = False
                billable_total += hours if billable else 0
                items[username].append(
                    EntryData(
                        project=project,
                        date=day,
                        hours=hours,
                        deliverable=deliverable,
                        billable=billable,
                        note=rng.choice(NOTES),
                        private_note=rng.choice(PRIVATE),
                    )
                )
        day += timedelta(days=1)
    return items
