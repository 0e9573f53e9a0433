"""Layers: a named dataset in a project, with immutable versions whose features live in PostGIS.

A Layer is what analysts see and name; each upload (first import or a replacement) makes a new
LayerVersion; features belong to a version, so replacing a layer never changes a map version
that pinned the old data. `kind` leaves room for rasters (a later issue) beside vectors.
"""

import uuid

from django.conf import settings
from django.contrib.gis.db import models as gis
from django.db import models
from django.db.models import Q
from django.utils import timezone

from projects.access import TenantQuerySet, UserLike
from projects.models import Project
from projects.srid import STORAGE_SRID, TILE_SRID


class LayerQuerySet(TenantQuerySet["Layer"]):
    agreement_path = "project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        # Clients only ever see layers that were published to them in a map version.
        return Q(versions__published_at__isnull=False)

    def visible_to(self, user: UserLike) -> "LayerQuerySet":
        return super().visible_to(user).distinct()  # type: ignore[return-value]


class Layer(models.Model):
    class Kind(models.TextChoices):
        VECTOR = "vector", "Vector"
        RASTER = "raster", "Raster"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VECTOR)
    description = models.TextField(blank=True)
    current_version = models.ForeignKey(
        "LayerVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LayerQuerySet.as_manager()

    class Meta:
        ordering = ["project", "name"]

    def __str__(self) -> str:
        return self.name


class LayerVersionQuerySet(TenantQuerySet["LayerVersion"]):
    agreement_path = "layer__project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        return Q(published_at__isnull=False)


class LayerVersion(models.Model):
    """One imported state of a layer. Immutable once its import succeeded."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    source_filename = models.CharField(max_length=255)
    source_format = models.CharField(max_length=32)  # GDAL driver name, e.g. "ESRI Shapefile"
    source_layer = models.CharField(max_length=255, blank=True)
    source_srid = models.PositiveIntegerField(null=True, blank=True)
    source_crs_wkt = models.TextField(blank=True)
    geometry_type = models.CharField(max_length=32, blank=True)  # e.g. "MultiPolygon"
    has_z = models.BooleanField(default=False)
    feature_count = models.PositiveIntegerField(default=0)
    extent = gis.PolygonField(srid=STORAGE_SRID, null=True, blank=True, help_text="EPSG:4326.")
    # [{"name": "zone", "type": "string"}, ...] in source order.
    schema = models.JSONField(default=list)
    repaired_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when a map version pinning this layer version is published to the client.
    published_at = models.DateTimeField(null=True, blank=True)

    objects = LayerVersionQuerySet.as_manager()

    class Meta:
        ordering = ["layer", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "number"], name="one_number_per_layer_version")
        ]

    def __str__(self) -> str:
        return f"{self.layer} v{self.number}"


class Feature(models.Model):
    """A feature of a layer version: geometry in EPSG:4326 and attributes as JSONB."""

    # DO_NOTHING: a version's rows leave with its partition (layers/partitions.py), never row
    # by row through Django's collector.
    version = models.ForeignKey(
        LayerVersion,
        on_delete=models.DO_NOTHING,
        related_name="features",
        db_index=False,
        db_constraint=False,
    )
    fid = models.BigIntegerField(help_text="Position in the source, kept for stable ordering.")
    geom = gis.GeometryField(srid=STORAGE_SRID, help_text="EPSG:4326.")
    properties = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["version", "fid"], name="feature_version_fid"),
        ]

    def __str__(self) -> str:
        return f"feature {self.fid} of version {self.version_id}"


class Job(models.Model):
    """What every job a Celery worker runs shares: its row is the job's whole state.

    A job moves queued → running → succeeded | failed. start() and fail() write with UPDATE, not
    save(), so they never overwrite the progress the worker writes meanwhile from its own row.
    `created_by` stays on each job: who may lose a job when its user is deleted differs.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    def start(self) -> None:
        """Mark the job running (one more attempt); the row in memory is not refreshed."""
        type(self)._default_manager.filter(pk=self.pk).update(
            status=self.Status.RUNNING,
            started_at=timezone.now(),
            attempts=self.attempts + 1,
            progress=0.01,
        )

    def fail(self, message: str) -> None:
        """End the job as failed with a message for the analyst; the row in memory is not refreshed."""
        type(self)._default_manager.filter(pk=self.pk).update(
            status=self.Status.FAILED, message=message, finished_at=timezone.now()
        )


class ImportJobQuerySet(TenantQuerySet["ImportJob"]):
    agreement_path = "project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        # Imports are the provider's work in progress: clients never see them.
        return Q(pk__in=[])


class ImportJob(Job):
    """One upload being imported by a Celery worker."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    # Set when the upload replaces an existing layer (a new version of it).
    layer = models.ForeignKey(
        Layer, null=True, blank=True, on_delete=models.CASCADE, related_name="import_jobs"
    )
    upload = models.FileField(upload_to="uploads/%Y/%m/", max_length=500)
    original_filename = models.CharField(max_length=255)
    options = models.JSONField(default=dict, blank=True)  # name, source_layer, srid, drop_z
    result_versions = models.ManyToManyField(LayerVersion, blank=True, related_name="+")
    # Deleting a user keeps the imports they ran (the layers came from them).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ImportJobQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.status})"


class RasterVersionQuerySet(TenantQuerySet["RasterVersion"]):
    agreement_path = "version__layer__project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        return Q(version__published_at__isnull=False)


class RasterVersion(models.Model):
    """The pixels of a raster layer version: a Cloud-Optimized GeoTIFF and what import measured.

    Files are kept through Django's storage API; layers/raster/storage.py turns one into what GDAL
    opens. The extent (EPSG:4326), source SRID and CRS live on the LayerVersion like a vector's.
    """

    class Content(models.TextChoices):
        IMAGERY = "imagery", "Imagery (RGB)"
        CONTINUOUS = "continuous", "Measurements (continuous)"
        CATEGORICAL = "categorical", "Categories (paletted)"

    version = models.OneToOneField(
        LayerVersion, primary_key=True, on_delete=models.CASCADE, related_name="raster"
    )
    cog = models.FileField(upload_to="rasters/cog/%Y/%m/", max_length=500)
    original = models.FileField(upload_to="rasters/original/%Y/%m/", max_length=500, blank=True)
    content = models.CharField(max_length=16, choices=Content.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bands = models.PositiveSmallIntegerField()
    dtype = models.CharField(max_length=16)  # numpy name: uint8, int16, float32...
    nodata = models.FloatField(null=True, blank=True)
    compression = models.CharField(max_length=16)
    resolution = models.JSONField(default=list, help_text="[x, y] pixel size in source units.")
    crs_units = models.CharField(max_length=32, blank=True)
    # [{"band": 1, "name", "description", "min", "max", "mean", "std", "p2", "p98",
    #   "histogram": {"counts": [...], "edges": [...]}, "approximate": bool}, ...]
    band_stats = models.JSONField(default=list)
    # {"value": "#rrggbb", ...} of a paletted band, and the distinct values found.
    colormap = models.JSONField(default=dict, blank=True)
    categories = models.JSONField(default=list, blank=True)
    size_in = models.BigIntegerField(default=0)
    size_out = models.BigIntegerField(default=0)
    convert_seconds = models.FloatField(default=0.0)

    objects = RasterVersionQuerySet.as_manager()

    def __str__(self) -> str:
        return f"raster of {self.version}"


class TileOverview(models.Model):
    """Generalised geometry of a layer version per low zoom, built by layers.tiles.overviews_prepare.

    Sub-pixel features are merged into pixel cells (polygons) or thinned to one per cell
    (points); larger ones are simplified to the zoom's pixel. `fid` names the feature whose
    attributes the row carries. Geometry in EPSG:3857.
    """

    version = models.ForeignKey(
        LayerVersion, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    zoom = models.PositiveSmallIntegerField()
    fid = models.BigIntegerField()
    geom = gis.GeometryField(srid=TILE_SRID, spatial_index=False, help_text="EPSG:3857.")
    # A copy of the named feature's attributes: tiles read one table, no join.
    properties = models.JSONField(default=dict)

    class Meta:
        # The table kept the name it had when tiles lived in maps (no data moved).
        db_table = "maps_tileoverview"

    def __str__(self) -> str:
        return f"overview z{self.zoom} of version {self.version_id}"


class TileOverviewState(models.Model):
    """Which versions have their overviews built (and up to which zoom)."""

    version = models.OneToOneField(
        LayerVersion, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    max_zoom = models.SmallIntegerField(help_text="-1 when the layer needs no overview.")
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "maps_tileoverviewstate"

    def __str__(self) -> str:
        return f"overviews of version {self.version_id} to z{self.max_zoom}"


class ExportJobQuerySet(TenantQuerySet["ExportJob"]):
    agreement_path = "version__layer__project__agreement__"

    def client_filter(self, user: UserLike) -> Q | None:
        return Q(version__published_at__isnull=False)


class ExportJob(Job):
    """A download too large to build inside a web request, prepared by a Celery worker.

    Its file goes through Django's storage API (local MEDIA_ROOT or object storage) and is
    deleted after EXPORT_KEEP_HOURS. A job belongs to the user who asked for it.
    """

    version = models.ForeignKey(LayerVersion, on_delete=models.CASCADE, related_name="exports")
    fmt = models.CharField(max_length=16)  # a key of layers.exports.FORMATS
    srid = models.PositiveIntegerField(help_text="EPSG code of the exported coordinates.")
    file = models.FileField(upload_to="exports/%Y/%m/", max_length=500, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    # An export is its user's own download: it goes with them.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )

    objects = ExportJobQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.version} as {self.fmt} ({self.status})"
