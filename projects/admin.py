from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from leaflet.admin import LeafletGeoAdmin

from projects.access import signed_in
from projects.models import (
    Agency,
    Deliverable,
    DeliverableTransition,
    Membership,
    Project,
    ServiceAgreement,
)
from projects.services import membership_remove, membership_set


@admin.register(Agency)
class AgencyAdmin(LeafletGeoAdmin):
    list_display = ["name", "kind", "slug"]
    list_filter = ["kind"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Membership changes go through the services so each one is audited."""

    list_display = ["user", "agency", "role"]
    list_filter = ["role", "agency"]
    autocomplete_fields = ["user", "agency"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if change and obj.pk:
            previous = Membership.objects.get(pk=obj.pk)
            if (previous.user_id, previous.agency_id) != (obj.user_id, obj.agency_id):
                membership_remove(membership=previous, by=signed_in(request))
        saved = membership_set(
            user=obj.user, agency=obj.agency, role=obj.role, by=signed_in(request)
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_remove(membership=obj, by=signed_in(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user", "agency"):
            membership_remove(membership=membership, by=signed_in(request))


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
