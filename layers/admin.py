from typing import Any

from django.contrib import admin

from layers.models import ImportJob, Layer, LayerVersion
from layers.services import layer_delete


class LayerVersionInline(admin.TabularInline):
    model = LayerVersion
    fields = ["number", "source_filename", "feature_count", "geometry_type", "published_at"]
    readonly_fields = [
        "number",
        "source_filename",
        "feature_count",
        "geometry_type",
        "published_at",
    ]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "kind", "current_version", "updated_at"]
    list_filter = ["kind", "project"]
    search_fields = ["name", "project__name"]
    readonly_fields = ["current_version", "created_by", "created_at", "updated_at"]
    inlines = [LayerVersionInline]

    def delete_model(self, request: Any, obj: Layer) -> None:
        # Through the service: drops the version partitions and writes the audit row.
        layer_delete(layer=obj, by=request.user)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for layer in queryset:
            layer_delete(layer=layer, by=request.user)


@admin.register(LayerVersion)
class LayerVersionAdmin(admin.ModelAdmin):
    list_display = [
        "layer",
        "number",
        "feature_count",
        "geometry_type",
        "source_srid",
        "published_at",
    ]
    search_fields = ["layer__name", "source_filename"]
    # Versions are immutable once imported: the admin only shows them.
    readonly_fields = [f.name for f in LayerVersion._meta.fields]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["original_filename", "project", "status", "progress", "attempts", "created_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]
