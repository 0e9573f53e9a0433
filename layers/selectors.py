"""Reads for layer pages and the API; every one goes through projects.access."""

from typing import Any

from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.http import Http404

from layers.models import ExportJob, Feature, ImportJob, Layer, LayerVersion
from projects.access import UserLike, get_object_for, is_provider_staff
from projects.db import read_cursor
from projects.models import Project

User = UserLike
GEOJSON_PREVIEW_LIMIT = 5000


def features_extent(version_ids: list[int]) -> list[float] | None:
    """[w, s, e, n] of the features of these versions (a scan), None when they have none.

    Raster versions have no features: the extent recorded at their import stands for them.
    """
    with read_cursor(Feature) as cur:
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(g) AS e "
            "FROM (SELECT geom AS g FROM layers_feature WHERE version_id = ANY(%s) UNION ALL "
            "SELECT v.extent FROM layers_layerversion v JOIN layers_rasterversion r "
            "ON r.version_id = v.id WHERE v.id = ANY(%s)) u) s",
            [version_ids, version_ids],
        )
        row = cur.fetchone()
    return [float(v) for v in row] if row and row[0] is not None else None


def layers_of_project(user: User, project: Project) -> list[Layer]:
    """The project's layers the user may see, each with `shown_version`: the current version
    for the provider's staff, the latest published one for clients (never an unpublished one)."""
    layers = list(
        Layer.objects.visible_to(user)
        .filter(project=project)
        .select_related("current_version", "created_by")
        .order_by("name")
    )
    if is_provider_staff(user, project):
        for layer in layers:
            layer.shown_version = layer.current_version  # type: ignore[attr-defined]
        return layers
    published: dict[int, LayerVersion] = {}
    for version in LayerVersion.objects.filter(
        layer__in=layers, published_at__isnull=False
    ).order_by("layer_id", "-number"):
        published.setdefault(version.layer_id, version)
    for layer in layers:
        layer.shown_version = published.get(layer.pk)  # type: ignore[attr-defined]
    return layers


def layer_for(user: User, pk: int) -> Layer:
    return get_object_for(
        user, Layer.objects.select_related("project__agreement", "current_version"), pk=pk
    )


def is_provider_for(user: User, layer: Layer) -> bool:
    return is_provider_staff(user, layer.project)


def versions_for(user: User, layer: Layer) -> QuerySet[LayerVersion]:
    """Provider staff see every version; clients only the published ones."""
    qs = layer.versions.select_related("created_by").order_by("-number")
    return qs if is_provider_for(user, layer) else qs.filter(published_at__isnull=False)


def version_for(user: User, layer: Layer, number: int | None = None) -> LayerVersion:
    versions = versions_for(user, layer)
    if number is not None:
        version = versions.filter(number=number).first()
    elif is_provider_for(user, layer) and layer.current_version_id:
        version = versions.filter(pk=layer.current_version_id).first()
    else:
        version = versions.first()
    if version is None:
        raise Http404("Not found.")
    return version


def features_page(
    version: LayerVersion, *, page: int, size: int, sort: str, desc: bool, q: str
) -> dict[str, Any]:
    """One page of the attribute table, sorted and filtered in the database."""
    qs = Feature.objects.filter(version=version)
    if q:
        qs = qs.annotate(_text=Cast("properties", TextField())).filter(_text__icontains=q)
    types = {f["name"]: f["type"] for f in version.schema or []}
    if sort in types:
        key: Any = KT(f"properties__{sort}")
        if types[sort] in ("integer", "real"):
            # Numbers sort as numbers, not as text ("9" after "29").
            key = Cast(key, FloatField())
        order = [key.desc(nulls_last=True) if desc else key.asc(nulls_last=True), "fid"]
    else:
        order = [F("fid").desc() if desc else F("fid").asc()]
    total = qs.count()
    size = max(1, min(size, 200))
    page = max(1, page)
    rows = qs.order_by(*order).values("fid", "properties")[(page - 1) * size : page * size]
    return {
        "total": total,
        "page": page,
        "size": size,
        "columns": [f["name"] for f in version.schema or []],
        "rows": [{"fid": r["fid"], **(r["properties"] or {})} for r in rows],
    }


def job_for(user: User, job_id: str) -> ImportJob:
    """A job is visible to the provider staff of its project's agreement only."""
    return get_object_for(user, ImportJob.objects.select_related("project__agreement"), pk=job_id)


def project_for(user: User, slug: str) -> Project:
    return get_object_for(user, Project.objects.select_related("agreement"), slug=slug)


def recent_jobs(user: User, project: Project) -> QuerySet[ImportJob]:
    # A failure the analyst has since fixed (the same file imported later) no longer needs attention.
    fixed = ImportJob.objects.filter(
        project=project,
        status="succeeded",
        original_filename=OuterRef("original_filename"),
        created_at__gt=OuterRef("created_at"),
    )
    return (
        ImportJob.objects.visible_to(user)
        .filter(project=project)
        .filter(~Q(status="succeeded"))
        .exclude(Exists(fixed))[:10]
    )


def export_job_for(user: User, job_id: str) -> ExportJob:
    """A prepared download is its requester's, and only while they may still see the layer."""
    return get_object_for(
        user,
        ExportJob.objects.filter(created_by_id=user.pk).select_related("version__layer"),
        pk=job_id,
    )
