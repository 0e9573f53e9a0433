"""What the benchmarks share: a provider, a client town and a project to load data into."""

from datetime import date
from typing import Any


def bench_project(*, client_slug: str, client_name: str, slug: str, name: str) -> Any:
    """A project of an active agreement between the bench provider and a bench client (idempotent)."""
    from projects.models import Agency, Project, ServiceAgreement

    provider, _ = Agency.objects.get_or_create(
        slug="bench-provider", defaults={"name": "Bench provider", "kind": "provider"}
    )
    client, _ = Agency.objects.get_or_create(
        slug=client_slug, defaults={"name": client_name, "kind": "client"}
    )
    agreement, _ = ServiceAgreement.objects.get_or_create(
        provider=provider,
        client=client,
        title=f"{name} agreement",
        defaults={
            "start_date": date(2026, 1, 1),
            "end_date": date(2027, 1, 1),
            "hourly_rate": 1,
            "hours_budget": 1,
            "status": "active",
        },
    )
    project, _ = Project.objects.get_or_create(
        slug=slug, defaults={"name": name, "agreement": agreement}
    )
    return project
