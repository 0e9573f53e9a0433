"""In-app notifications and each user's email opt-outs."""

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    MAP_PUBLISHED = "map_published", "Map published to your agency"
    DELIVERABLE_DELIVERED = "deliverable_delivered", "Deliverable delivered"
    DELIVERABLE_ACCEPTED = "deliverable_accepted", "Deliverable accepted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested on a deliverable"
    BUDGET_80 = "budget_80", "Agreement reached 80% of its hours budget"
    BUDGET_100 = "budget_100", "Agreement reached 100% of its hours budget"
    MONTH_CLOSED = "month_closed", "Month closed on an agreement"
    REQUEST_FILED = "request_filed", "A client filed a map request"
    REQUEST_UPDATED = "request_updated", "A map request was answered, estimated or decided"
    MAP_COMMENT = "map_comment", "A comment or reply on a published map"


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when the email has been handed to the backend; null with email_wanted=False means opted out.
    email_wanted = models.BooleanField(default=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notif_user_unread")]

    def __str__(self) -> str:
        return f"{self.user}: {self.subject}"


class EmailOptOut(models.Model):
    """A user who does not want email for one kind (in-app notifications still appear)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_opt_outs"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_opt_out_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user} opts out of {self.kind}"
