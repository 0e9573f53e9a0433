from django.contrib import admin

from maps.models import Map, MapLayer, MapVersion, ShareLink


class MapLayerInline(admin.TabularInline):
    model = MapLayer
    extra = 0
    fields = ["layer", "position", "title", "visible", "opacity"]


@admin.register(Map)
class MapAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "basemap", "updated_at"]
    list_filter = ["project__agreement__client"]
    search_fields = ["title", "project__name"]
    inlines = [MapLayerInline]


@admin.register(MapVersion)
class MapVersionAdmin(admin.ModelAdmin):
    """Versions are immutable: the admin shows them, publishing happens in maps.services."""

    list_display = ["map", "number", "published_at", "published_by", "deliverable"]
    readonly_fields = [f.name for f in MapVersion._meta.fields] + ["layer_versions"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["version", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["token", "version", "created_by", "created_at"]
