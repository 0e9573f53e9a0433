"""Maps: a project's styled composition of layers, its immutable published versions and share links.

Clients only ever see what was published: a Map is visible to them once it has a version, and the
viewer draws a version's frozen definition (pinned LayerVersions), never the draft.
"""

import secrets

from django.conf import settings
from django.contrib.gis.db import models as gis
from django.db import models
from django.db.models import Q
from django.utils import timezone

from layers.models import Layer, LayerVersion
from projects.access import TenantQuerySet, UserLike
from projects.models import Deliverable, Project
from projects.srid import STORAGE_SRID


class MapQuerySet(TenantQuerySet["Map"]):
    agreement_path = "project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        # A map is a draft until its first version is published.
        return Q(versions__isnull=False)

    def visible_to(self, user: UserLike) -> "MapQuerySet":
        return super().visible_to(user).distinct()  # type: ignore[return-value]


class Map(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="maps")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    basemap = models.CharField(max_length=32, help_text="A key of settings.BASEMAPS.")
    initial_extent = gis.PolygonField(
        srid=STORAGE_SRID, null=True, blank=True, help_text="EPSG:4326; None = layers' extent."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MapQuerySet.as_manager()

    class Meta:
        ordering = ["project", "title"]

    def __str__(self) -> str:
        return self.title


class MapLayerQuerySet(TenantQuerySet["MapLayer"]):
    agreement_path = "map__project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        # Draft layer settings are the provider's working copy; clients read versions.
        return Q(pk__in=[])


class MapLayer(models.Model):
    """One layer of the draft map, in drawing order (position 0 is drawn first, at the bottom)."""

    map = models.ForeignKey(Map, on_delete=models.CASCADE, related_name="map_layers")
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="map_layers")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200, blank=True)
    visible = models.BooleanField(default=True)
    opacity = models.FloatField(default=1.0)
    style = models.JSONField(default=dict)

    objects = MapLayerQuerySet.as_manager()

    class Meta:
        ordering = ["map", "position", "id"]

    def __str__(self) -> str:
        return self.title or self.layer.name


class MapVersionQuerySet(TenantQuerySet["MapVersion"]):
    agreement_path = "map__project__agreement__"


class MapVersion(models.Model):
    """A published, immutable snapshot: the map definition frozen with its pinned layer versions."""

    map = models.ForeignKey(Map, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    # {"title", "description", "basemap", "extent": [w, s, e, n], "layers": [...]}
    definition = models.JSONField()
    layer_versions = models.ManyToManyField(LayerVersion, related_name="map_versions")
    deliverable = models.ForeignKey(
        Deliverable,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="map_versions",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)
    # Rendered on first request and kept: the version never changes.
    thumbnail = models.BinaryField(null=True, blank=True, editable=False)

    objects = MapVersionQuerySet.as_manager()

    class Meta:
        ordering = ["map", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["map", "number"], name="one_number_per_map_version")
        ]

    def __str__(self) -> str:
        return f"{self.map} v{self.number}"


class ShareLinkQuerySet(TenantQuerySet["ShareLink"]):
    agreement_path = "version__map__project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        return Q(pk__in=[])  # links are made and revoked by the provider's staff

    def active(self) -> "ShareLinkQuerySet":
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ShareLink(models.Model):
    """A revocable, expiring, read-only URL to one map version for people without an account."""

    version = models.ForeignKey(MapVersion, on_delete=models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"share of {self.version}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )
