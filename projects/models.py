"""Who works for whom: agencies, memberships, agreements, projects and deliverables.

All geometries are stored in EPSG:4326 (STORAGE_SRID); tiles are cut in EPSG:3857.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.gis.db import models as gis
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from projects import access
from projects.access import CLIENT_ROLES, PROVIDER_ROLES, TenantQuerySet, UserLike, agency_q

# Re-exported: older code imports the SRIDs from here.
from projects.srid import STORAGE_SRID as STORAGE_SRID
from projects.srid import TILE_SRID as TILE_SRID


class AgencyQuerySet(models.QuerySet["Agency"]):
    def visible_to(self, user: UserLike) -> "AgencyQuerySet":
        return self.filter(agency_q(user)).distinct()


class Agency(models.Model):
    class Kind(models.TextChoices):
        PROVIDER = "provider", "Provider (GIS services)"
        CLIENT = "client", "Client agency"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    boundary = gis.MultiPolygonField(
        srid=STORAGE_SRID, null=True, blank=True, help_text="EPSG:4326; default map extent."
    )

    objects = AgencyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        # The values are projects.access's: the one place that spells a role.
        ADMIN = access.ADMIN, "Provider admin"
        LEAD = access.LEAD, "Project lead"
        ANALYST = access.ANALYST, "GIS analyst"
        MANAGER = access.MANAGER, "Client manager"
        VIEWER = access.VIEWER, "Client viewer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "agency"], name="one_membership_per_agency")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.agency}"

    def clean(self) -> None:
        allowed = PROVIDER_ROLES if self.agency.kind == Agency.Kind.PROVIDER else CLIENT_ROLES
        if self.role not in allowed:
            raise ValidationError(
                {
                    "role": f"A {self.agency.get_kind_display()} member must be one of {sorted(allowed)}."
                }
            )


class AgreementQuerySet(TenantQuerySet["ServiceAgreement"]):
    agreement_path = ""


class ServiceAgreement(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        TERMINATED = "terminated", "Terminated"

    provider = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="provider_agreements",
        limit_choices_to={"kind": Agency.Kind.PROVIDER},
    )
    client = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="client_agreements",
        limit_choices_to={"kind": Agency.Kind.CLIENT},
    )
    title = models.CharField(max_length=200)
    scope = models.TextField(blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    hourly_rate = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    hours_budget = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Not-to-exceed hours.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["client__name", "-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="agreement_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.client})"

    @property
    def budget_amount(self) -> Decimal:
        return (self.hourly_rate * self.hours_budget).quantize(Decimal("0.01"))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.provider_id and self.provider.kind != Agency.Kind.PROVIDER:
            errors["provider"] = "The provider must be a provider agency."
        if self.client_id and self.client.kind != Agency.Kind.CLIENT:
            errors["client"] = "The client must be a client agency."
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The agreement cannot end before it starts."
        if errors:
            raise ValidationError(errors)


class ProjectQuerySet(TenantQuerySet["Project"]):
    agreement_path = "agreement__"


class Project(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        COMPLETED = "completed", "Completed"

    agreement = models.ForeignKey(
        ServiceAgreement, on_delete=models.PROTECT, related_name="projects"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_projects",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    area_of_interest = gis.MultiPolygonField(
        srid=STORAGE_SRID, null=True, blank=True, help_text="EPSG:4326."
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def client(self) -> Agency:
        return self.agreement.client


class DeliverableQuerySet(TenantQuerySet["Deliverable"]):
    agreement_path = "project__agreement__"


class Deliverable(models.Model):
    class Kind(models.TextChoices):
        MAP = "map", "Map"
        DATASET = "dataset", "Dataset"
        REPORT = "report", "Report"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        IN_REVIEW = "in_review", "In review"
        DELIVERED = "delivered", "Delivered"
        ACCEPTED = "accepted", "Accepted"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    # Allowed moves, and which side of the agreement may make each one.
    TRANSITIONS: dict[str, dict[str, str]] = {
        Status.PLANNED: {Status.IN_PROGRESS: "provider"},
        Status.IN_PROGRESS: {Status.IN_REVIEW: "provider"},
        Status.IN_REVIEW: {Status.DELIVERED: "provider", Status.IN_PROGRESS: "provider"},
        Status.DELIVERED: {Status.ACCEPTED: "client", Status.CHANGES_REQUESTED: "client"},
        Status.CHANGES_REQUESTED: {Status.IN_PROGRESS: "provider"},
        Status.ACCEPTED: {},
    }

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deliverables")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MAP)
    due_date = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_deliverables",
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PLANNED)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeliverableQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "title"]

    def __str__(self) -> str:
        return self.title

    def next_statuses(self) -> dict[str, str]:
        """Status -> side ("provider" or "client") allowed to make that move from here."""
        return dict(self.TRANSITIONS.get(self.status, {}))

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, {})

    def provider_path_to(self, status: str) -> list[str]:
        """The shortest run of provider moves from here to `status` ([] if none or already there)."""
        paths: dict[str, list[str]] = {self.status: []}
        queue = [self.status]
        while queue:
            here = queue.pop(0)
            for there, side in self.TRANSITIONS.get(here, {}).items():
                if side == "provider" and there not in paths:
                    paths[there] = [*paths[here], there]
                    queue.append(there)
        return paths.get(status, []) if status != self.status else []


class DeliverableTransition(models.Model):
    deliverable = models.ForeignKey(
        Deliverable, on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(max_length=24, choices=Deliverable.Status.choices)
    to_status = models.CharField(max_length=24, choices=Deliverable.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.deliverable}: {self.from_status} → {self.to_status}"

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.from_status, "to": self.to_status, "comment": self.comment}
