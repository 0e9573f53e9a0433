from django.contrib import admin

from hours.models import AgreementRate, BudgetAlert, MonthClose, TimeEntry


@admin.register(AgreementRate)
class AgreementRateAdmin(admin.ModelAdmin):
    list_display = ["agreement", "effective_from", "hourly_rate"]
    list_filter = ["agreement"]


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    list_display = ["date", "user", "project", "deliverable", "hours", "billable"]
    list_filter = ["billable", "project__agreement"]
    date_hierarchy = "date"
    # Entries change through the timesheet so closed months and budgets are enforced.
    readonly_fields = [f.name for f in TimeEntry._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(MonthClose)
class MonthCloseAdmin(admin.ModelAdmin):
    list_display = ["agreement", "month", "revision", "number", "closed_at", "reopened_at"]
    readonly_fields = [f.name for f in MonthClose._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):
    list_display = ["agreement", "threshold", "reached_at", "billable_hours"]
