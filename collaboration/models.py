"""Working together on the same tenancy: map requests from towns, comments pinned on published map
versions, daily usage counts for the value report, and deliverable packages.

Every model is a tenant row scoped by its service agreement (TenantQuerySet.agreement_path).
Geometries in EPSG:4326 (STORAGE_SRID).
"""

from django.conf import settings
from django.contrib.gis.db import models as gis
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from maps.models import MapVersion, ShareLink
from projects.access import TenantQuerySet, UserLike
from projects.models import (
    STORAGE_SRID,
    Agency,
    Deliverable,
    DeliverableTransition,
    ServiceAgreement,
)


class MapRequestQuerySet(TenantQuerySet["MapRequest"]):
    agreement_path = "agreement__"


class MapRequest(models.Model):
    """A client's "can you make us a map of…", triaged by the provider's leads."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        QUESTION = "question", "Question for the client"
        ESTIMATED = "estimated", "Estimated"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class AreaSource(models.TextChoices):
        NONE = "", "No area"
        DRAWN = "drawn", "Drawn on the map"
        BOUNDARY = "boundary", "The agency's boundary"
        FILE = "file", "Uploaded file"

    OPEN_STATUSES = (Status.SUBMITTED, Status.QUESTION, Status.ESTIMATED)

    agreement = models.ForeignKey(
        ServiceAgreement, on_delete=models.PROTECT, related_name="map_requests"
    )
    title = models.CharField(max_length=200)
    need = models.TextField(help_text="What is needed and why.")
    needed_by = models.DateField(null=True, blank=True)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    area = gis.MultiPolygonField(srid=STORAGE_SRID, null=True, blank=True, help_text="EPSG:4326.")
    area_source = models.CharField(max_length=16, choices=AreaSource.choices, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    estimate_hours = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Hours the provider estimates; charged against the budget once accepted.",
    )
    decline_reason = models.TextField(blank=True)
    deliverable = models.OneToOneField(
        Deliverable,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="map_request",
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = MapRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class RequestEventQuerySet(TenantQuerySet["RequestEvent"]):
    agreement_path = "request__agreement__"


class RequestEvent(models.Model):
    """One step of a request, shown to both sides in order."""

    class Kind(models.TextChoices):
        FILED = "filed", "Filed"
        QUESTION = "question", "Question"
        ANSWER = "answer", "Answer"
        ESTIMATE = "estimate", "Estimate"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    request = models.ForeignKey(MapRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField(blank=True)
    hours = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    objects = RequestEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request}: {self.kind}"


class RequestAttachmentQuerySet(TenantQuerySet["RequestAttachment"]):
    agreement_path = "request__agreement__"


class RequestAttachment(models.Model):
    request = models.ForeignKey(MapRequest, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="requests/%Y/%m/", max_length=500)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = RequestAttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class CommentThreadQuerySet(TenantQuerySet["CommentThread"]):
    agreement_path = "version__map__project__agreement__"


class CommentThread(models.Model):
    """A pin (or small shape) on a published map version with its comments, first one first."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    version = models.ForeignKey(
        MapVersion, on_delete=models.CASCADE, related_name="comment_threads"
    )
    geom = gis.GeometryField(srid=STORAGE_SRID, help_text="EPSG:4326; a point or a small shape.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    resolved_in = models.ForeignKey(
        MapVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resolved_threads",
        help_text="The version that fixed it.",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when the thread was started by a visitor of a share link that allows comments.
    share_link = models.ForeignKey(
        ShareLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # "Request changes" on a deliverable may cite threads.
    transitions = models.ManyToManyField(
        DeliverableTransition, blank=True, related_name="comment_threads"
    )

    objects = CommentThreadQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["version", "status"], name="thread_version_status")]

    def __str__(self) -> str:
        return f"thread {self.pk} on {self.version}"


class CommentQuerySet(TenantQuerySet["Comment"]):
    agreement_path = "thread__version__map__project__agreement__"


class Comment(models.Model):
    thread = models.ForeignKey(CommentThread, on_delete=models.CASCADE, related_name="comments")
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Share-link visitors have no account: the name they typed.
    author_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.thread_id}"


class UsageDailyQuerySet(TenantQuerySet["UsageDaily"]):
    agreement_path = "version__map__project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        return None


class UsageDaily(models.Model):
    """How often a map version was opened, exported or downloaded, per day and agency.

    Aggregated counts only (no per-person rows): one upsert per viewer open, export or
    download, never per tile. `agency` is the viewer's agency; share-link visits count under
    the client agency with kind "share_view".
    """

    class Kind(models.TextChoices):
        VIEW = "view", "Viewer opens"
        SHARE_VIEW = "share_view", "Share-link opens"
        EXPORT = "export", "Exports (PNG/PDF)"
        DOWNLOAD = "download", "Data downloads"

    day = models.DateField()
    version = models.ForeignKey(MapVersion, on_delete=models.CASCADE, related_name="usage")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    count = models.PositiveIntegerField(default=0)

    objects = UsageDailyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "version", "agency", "kind"], name="one_usage_row_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.version} {self.kind}: {self.count}"


class PackageQuerySet(TenantQuerySet["DeliverablePackage"]):
    agreement_path = "deliverable__project__agreement__"


class DeliverablePackage(models.Model):
    """The zip of an accepted or delivered deliverable, built by a Celery job."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    deliverable = models.OneToOneField(
        Deliverable, on_delete=models.CASCADE, related_name="package"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="packages/", max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now=True)
    built_at = models.DateTimeField(null=True, blank=True)

    objects = PackageQuerySet.as_manager()

    def __str__(self) -> str:
        return f"package of {self.deliverable}"
