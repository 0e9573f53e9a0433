"""Reads behind the tile routes: which layer version a user may draw, and its bounds."""

from django.db.models import F

from layers.models import LayerVersion
from layers.selectors import features_extent
from projects.access import UserLike, is_provider_staff_anywhere
from projects.params import parse_int

# (version id, schema, feature count): what a tile request needs to know about its version.
VersionRow = tuple[int, list, int]
WORLD_BOUNDS = [-180.0, -85.0, 180.0, 85.0]


def tile_version_for(user: UserLike, layer_id: int, version_id: str | None) -> VersionRow | None:
    """(version id, schema, feature count) of a layer version the user may draw, else None.

    Without an explicit version: the current one for provider staff, the latest published one
    for clients (whose queryset only holds published versions).
    """
    qs = LayerVersion.objects.visible_to(user).filter(layer_id=layer_id)
    if version_id is not None:
        qs = qs.filter(pk=parse_int(version_id, name="v", minimum=1) or 0)
    elif is_provider_staff_anywhere(user):
        qs = qs.filter(layer__current_version=F("pk"))
    return qs.order_by("-number").values_list("pk", "schema", "feature_count").first()


def version_bounds(version_id: int) -> list[float]:
    """The extent recorded at import (no scan of the features); the world when there is none."""
    extent = LayerVersion.objects.filter(pk=version_id).values_list("extent", flat=True).first()
    if extent is None:
        # Versions made without the import service (fixtures) have no recorded extent.
        return features_extent([version_id]) or list(WORLD_BOUNDS)
    return [float(b) for b in extent.extent]
