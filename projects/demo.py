"""Demo agencies, agreements, projects, deliverables and users. Idempotent: keyed by slug/username.

The demo owns its provider, that provider's agreements and their projects, and its users; rows that
users added (another provider serving a demo town, a project that took a demo slug) are left
exactly as they are. The other apps' demos reach their rows through `demo_agreements`.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import transaction
from django.db.models import QuerySet

from projects.models import (
    Agency,
    Deliverable,
    DeliverableTransition,
    Membership,
    Project,
    ServiceAgreement,
)

PROVIDER = "city-of-sample-gis"
TOWN_A = "yountville"
TOWN_B = "calistoga"

# (username, full name, agency slug, role)
USERS = [
    ("gisadmin", "Pat Admin", PROVIDER, "admin"),
    ("lead", "Lee Lead", PROVIDER, "lead"),
    ("analyst", "Ana Analyst", PROVIDER, "analyst"),
    ("yountville", "Yolanda Manager", TOWN_A, "manager"),
    ("yountville-viewer", "Yusuf Viewer", TOWN_A, "viewer"),
    ("calistoga", "Carl Manager", TOWN_B, "manager"),
    ("calistoga-viewer", "Cleo Viewer", TOWN_B, "viewer"),
]


def _box(lon: float, lat: float, half: float) -> MultiPolygon:
    ring = (
        (lon - half, lat - half),
        (lon + half, lat - half),
        (lon + half, lat + half),
        (lon - half, lat + half),
        (lon - half, lat - half),
    )
    return MultiPolygon(Polygon(ring), srid=4326)


def demo_agreements() -> QuerySet[ServiceAgreement]:
    """The demo provider's agreements: the only agreements any demo module writes to."""
    return ServiceAgreement.objects.filter(provider__slug=PROVIDER).select_related("client")


def demo_projects() -> QuerySet[Project]:
    return Project.objects.filter(agreement__in=demo_agreements()).select_related(
        "agreement__client"
    )


@transaction.atomic
def load(password: str, today: date | None = None) -> list[tuple[str, str, str]]:
    today = today or date.today()
    User = get_user_model()
    # get_or_create: a town others serve too keeps whatever its users changed.
    provider, _ = Agency.objects.get_or_create(
        slug=PROVIDER,
        defaults={
            "name": "City of Sample GIS Services",
            "kind": Agency.Kind.PROVIDER,
            "boundary": _box(-122.29, 38.30, 0.06),
        },
    )
    town_a, _ = Agency.objects.get_or_create(
        slug=TOWN_A,
        defaults={
            "name": "Town of Yountville",
            "kind": Agency.Kind.CLIENT,
            "boundary": _box(-122.362, 38.401, 0.012),
        },
    )
    town_b, _ = Agency.objects.get_or_create(
        slug=TOWN_B,
        defaults={
            "name": "City of Calistoga",
            "kind": Agency.Kind.CLIENT,
            "boundary": _box(-122.579, 38.578, 0.015),
        },
    )
    agencies = {a.slug: a for a in (provider, town_a, town_b)}

    logins = []
    for username, full_name, agency_slug, role in USERS:
        first, last = full_name.split(" ", 1)
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
        )
        user.set_password(password)
        user.is_staff = user.is_superuser = username == "gisadmin"
        user.save()
        Membership.objects.update_or_create(
            user=user, agency=agencies[agency_slug], defaults={"role": role}
        )
        logins.append((username, role, agencies[agency_slug].name))
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in USERS])}

    start = today.replace(day=1) - timedelta(days=120)
    agreement_a, _ = ServiceAgreement.objects.update_or_create(
        provider=provider,
        client=town_a,
        title="Yountville GIS shared services FY26",
        defaults={
            "scope": "Zoning and parcel mapping, address points, council map packets.",
            "start_date": start,
            "end_date": start + timedelta(days=364),
            "hourly_rate": Decimal("95.00"),
            "hours_budget": Decimal("400"),
            "status": ServiceAgreement.Status.ACTIVE,
        },
    )
    agreement_b, _ = ServiceAgreement.objects.update_or_create(
        provider=provider,
        client=town_b,
        title="Calistoga GIS support FY26",
        defaults={
            "scope": "Stormwater asset inventory and wildfire evacuation maps.",
            "start_date": start,
            "end_date": start + timedelta(days=364),
            "hourly_rate": Decimal("90.00"),
            "hours_budget": Decimal("250"),
            "status": ServiceAgreement.Status.ACTIVE,
        },
    )

    projects = [
        (
            agreement_a,
            "yountville-zoning",
            "Zoning map update",
            "Update the zoning layer after the 2026 general plan amendments.",
        ),
        (
            agreement_a,
            "yountville-addressing",
            "Address points cleanup",
            "Reconcile address points with the county parcel roll.",
        ),
        (
            agreement_b,
            "calistoga-stormwater",
            "Stormwater inventory",
            "Digitise culverts, inlets and outfalls from as-builts.",
        ),
        (
            agreement_b,
            "calistoga-evacuation",
            "Evacuation zones",
            "Wildfire evacuation zone maps for the public.",
        ),
    ]
    D = Deliverable.Status
    deliverables = {
        "yountville-zoning": [
            ("Zoning map update", "map", 10, D.DELIVERED),
            ("Zoning dataset", "dataset", 20, D.IN_PROGRESS),
            ("Council packet map", "map", -5, D.ACCEPTED),
        ],
        "yountville-addressing": [
            ("Address QA report", "report", 5, D.IN_REVIEW),
            ("Address points", "dataset", 30, D.PLANNED),
        ],
        "calistoga-stormwater": [
            ("Stormwater asset map", "map", 7, D.IN_PROGRESS),
            ("Culvert dataset", "dataset", -3, D.CHANGES_REQUESTED),
        ],
        "calistoga-evacuation": [("Evacuation zone map", "map", 12, D.DELIVERED)],
    }
    path = {
        D.IN_PROGRESS: [D.IN_PROGRESS],
        D.IN_REVIEW: [D.IN_PROGRESS, D.IN_REVIEW],
        D.DELIVERED: [D.IN_PROGRESS, D.IN_REVIEW, D.DELIVERED],
        D.ACCEPTED: [D.IN_PROGRESS, D.IN_REVIEW, D.DELIVERED, D.ACCEPTED],
        D.CHANGES_REQUESTED: [D.IN_PROGRESS, D.IN_REVIEW, D.DELIVERED, D.CHANGES_REQUESTED],
        D.PLANNED: [],
    }
    for agreement, slug, name, description in projects:
        client_slug = agreement.client.slug
        taken = Project.objects.filter(slug=slug).exclude(agreement=agreement).exists()
        if taken:
            continue  # a user's project holds the slug: not the demo's to change
        project, _ = Project.objects.update_or_create(
            slug=slug,
            defaults={
                "agreement": agreement,
                "name": name,
                "description": description,
                "lead": users["lead"],
                "status": Project.Status.ACTIVE,
                "start_date": start,
                "due_date": today + timedelta(days=60),
                "area_of_interest": agencies[client_slug].boundary,
            },
        )
        for title, kind, due_in, status in deliverables[slug]:
            deliverable, created = Deliverable.objects.get_or_create(
                project=project,
                title=title,
                defaults={
                    "kind": kind,
                    "due_date": today + timedelta(days=due_in),
                    "assignee": users["analyst"],
                },
            )
            if not created:
                continue
            # History is recorded as the workflow would have, so the pages show a believable trail.
            previous = D.PLANNED
            for step in path[status]:
                by = (
                    users[client_slug]
                    if step in (D.ACCEPTED, D.CHANGES_REQUESTED)
                    else users["analyst"]
                )
                comment = (
                    "Please label the parcels with APNs." if step == D.CHANGES_REQUESTED else ""
                )
                DeliverableTransition.objects.create(
                    deliverable=deliverable,
                    from_status=previous,
                    to_status=step,
                    by=by,
                    comment=comment,
                )
                previous = step
            deliverable.status = status
            deliverable.save(update_fields=["status"])
    return logins
