from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from projects.models import (
    Agency,
    Deliverable,
    DeliverableTransition,
    Membership,
    Project,
    ServiceAgreement,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Agency)
class AgencyAdmin(LeafletGeoAdmin):
    list_display = ["name", "kind", "slug"]
    list_filter = ["kind"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "role"]
    list_filter = ["role", "agency"]
    autocomplete_fields = ["user", "agency"]


@admin.register(ServiceAgreement)
class ServiceAgreementAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "provider",
        "client",
        "status",
        "start_date",
        "end_date",
        "hourly_rate",
        "hours_budget",
    ]
    list_filter = ["status", "client"]
    search_fields = ["title"]


@admin.register(Project)
class ProjectAdmin(LeafletGeoAdmin):
    list_display = ["name", "agreement", "status", "lead", "due_date"]
    list_filter = ["status", "agreement__client"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class TransitionInline(admin.TabularInline):
    model = DeliverableTransition
    extra = 0
    readonly_fields = ["from_status", "to_status", "by", "at", "comment"]
    can_delete = False


@admin.register(Deliverable)
class DeliverableAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "kind", "status", "due_date", "assignee"]
    list_filter = ["status", "kind", "project__agreement__client"]
    search_fields = ["title"]
    # Status moves go through the workflow (deliverable_transition), never a raw edit.
    readonly_fields = ["status"]
    inlines = [TransitionInline]
