from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One significant action. Append-only: a database trigger refuses UPDATE and DELETE."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The agency whose data the action touched (the client of the agreement, or the agency
    # whose memberships changed).
    agency = models.ForeignKey(
        "projects.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The agreement the action belongs to: who reads the entry is decided by it
    # (projects.access.audit_q), so one provider never reads another's entries about a town.
    agreement = models.ForeignKey(
        "projects.ServiceAgreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Shown to the client's managers: published things and decisions, never drafts.
    client_visible = models.BooleanField(default=False)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}: {self.summary}"
