"""Time logged against projects, month closes with their statement snapshots, budget alerts."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from projects.access import TenantQuerySet, UserLike

QUARTER = Decimal("0.25")


def validate_quarter_hours(value: Decimal) -> None:
    if value is None or (Decimal(value) / QUARTER) % 1 != 0:
        raise ValidationError("Hours are logged in quarter hours (0.25, 0.5, 0.75, …).")


class TimeEntryQuerySet(TenantQuerySet["TimeEntry"]):
    agreement_path = "project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        # Clients read hours only through statements and the burn-down, never as raw entries.
        return Q(pk__in=[])


class TimeEntry(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="time_entries"
    )
    deliverable = models.ForeignKey(
        "projects.Deliverable",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_entries",
    )
    date = models.DateField(db_index=True)
    hours = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[
            MinValueValidator(QUARTER),
            MaxValueValidator(Decimal("24")),
            validate_quarter_hours,
        ],
    )
    billable = models.BooleanField(default=True)
    note = models.CharField(max_length=500, blank=True, help_text="Shown on statements.")
    private_note = models.TextField(
        blank=True, help_text="Internal to the provider; never shown to clients."
    )
    # A lead's explicit override to log billable time past 100% of the budget.
    over_budget_override = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TimeEntryQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        verbose_name_plural = "time entries"
        indexes = [
            models.Index(fields=["user", "date"], name="timeentry_user_date"),
            # Statements and burn-downs aggregate by project and date: index-only scans.
            models.Index(
                fields=["project", "date"],
                include=["hours", "billable"],
                name="timeentry_project_date",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=24), name="timeentry_hours_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.user} {self.hours} h on {self.project}"


class MonthCloseQuerySet(TenantQuerySet["MonthClose"]):
    agreement_path = "agreement__"

    def active(self) -> "MonthCloseQuerySet":
        return self.filter(reopened_at__isnull=True)


class MonthClose(models.Model):
    """A closed month of one agreement, with its statement frozen at the moment of closing.

    Reopening keeps the row (reopened_at set) so every close and reopen stays on record; a later
    close of the same month is a new revision with its own statement number.
    """

    agreement = models.ForeignKey(
        "projects.ServiceAgreement", on_delete=models.PROTECT, related_name="month_closes"
    )
    month = models.DateField(help_text="First day of the month.")
    revision = models.PositiveIntegerField(default=1)
    number = models.CharField(max_length=40)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(auto_now_add=True)
    snapshot = models.JSONField()
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(blank=True)

    objects = MonthCloseQuerySet.as_manager()

    class Meta:
        ordering = ["agreement_id", "month", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "month"],
                condition=Q(reopened_at__isnull=True),
                name="one_open_close_per_month",
            ),
            models.UniqueConstraint(
                fields=["agreement", "month", "revision"], name="monthclose_revision_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} {self.month:%Y-%m} ({self.number})"


class BudgetAlert(models.Model):
    """A budget threshold an agreement has crossed; recorded once so it is notified once."""

    agreement = models.ForeignKey(
        "projects.ServiceAgreement", on_delete=models.CASCADE, related_name="budget_alerts"
    )
    threshold = models.PositiveSmallIntegerField(help_text="Percent of the hours budget.")
    reached_at = models.DateTimeField(auto_now_add=True)
    billable_hours = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "threshold"], name="one_alert_per_threshold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agreement} reached {self.threshold}%"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarToken(models.Model):
    """The secret in a user's iCal feed URL (calendar apps cannot log in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_token"
    )
    token = models.CharField(max_length=64, unique=True, default=_new_token)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Calendar token of {self.user}"

    def rotate(self) -> None:
        self.token = _new_token()


class AgreementRate(models.Model):
    """An hourly rate taking effect mid-agreement (e.g. a new fiscal year's rate).

    Time is charged at the rate in effect on its date; before the first change, the agreement's
    own hourly rate applies.
    """

    agreement = models.ForeignKey(
        "projects.ServiceAgreement", on_delete=models.CASCADE, related_name="rate_changes"
    )
    effective_from = models.DateField()
    hourly_rate = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["agreement_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "effective_from"], name="one_rate_per_agreement_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agreement}: {self.hourly_rate} from {self.effective_from}"
