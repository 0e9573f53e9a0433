"""Layer pages: list, upload, layer page with preview and attribute table, downloads, delete."""

import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from layers import selectors
from layers.exports import (
    FORMATS,
    STREAMED,
    ExportError,
    check_export,
    download_filename,
    export_srid,
    export_version,
    stream_version,
)
from layers.models import ExportJob, Feature, Layer, LayerVersion, RasterVersion
from layers.services import can_edit_layers, export_job_request, layer_delete
from layers.signals import layer_version_downloaded
from layers.storage import files
from layers.tiles.views import tile_url_template
from projects.access import signed_in
from projects.db import read_cursor
from projects.params import int_param
from projects.srid import STORAGE_SRID

# Pages beyond this are past any layer (and keep OFFSET within a bigint).
MAX_PAGE = 1_000_000


@login_required
@require_GET
def layer_upload(request: HttpRequest, slug: str) -> HttpResponse:
    project = selectors.project_for(request.user, slug)
    if not can_edit_layers(request.user, project):
        raise PermissionDenied("Only the provider's GIS staff can upload layers.")
    return render(
        request,
        "layers/upload.html",
        {
            "project": project,
            "replace": None,
            "max_bytes": settings.UPLOAD_MAX_BYTES,
            "jobs": selectors.recent_jobs(request.user, project),
        },
    )


@login_required
@require_GET
def layer_replace(request: HttpRequest, pk: int) -> HttpResponse:
    layer = selectors.layer_for(request.user, pk)
    if not can_edit_layers(request.user, layer.project):
        raise PermissionDenied("Only the provider's GIS staff can replace layers.")
    return render(
        request,
        "layers/upload.html",
        {"project": layer.project, "replace": layer, "max_bytes": settings.UPLOAD_MAX_BYTES},
    )


@login_required
@require_GET
def layer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    layer = selectors.layer_for(request.user, pk)
    version = selectors.version_for(
        request.user, layer, int_param(request.GET, "version", 0) or None
    )
    if layer.kind == layer.Kind.RASTER:
        return _raster_detail(request, layer, version)
    return render(
        request,
        "layers/layer_detail.html",
        {
            "layer": layer,
            "version": version,
            "versions": selectors.versions_for(request.user, layer),
            "can_edit": can_edit_layers(request.user, layer.project),
            "formats": [(key, spec[3]) for key, spec in FORMATS.items()],
            "prepared_downloads": version.feature_count > settings.EXPORT_JOB_MIN_FEATURES,
            "preview": version.feature_count <= selectors.GEOJSON_PREVIEW_LIMIT,
            "extent": list(version.extent.extent) if version.extent else None,
            "basemap": settings.BASEMAPS.get(settings.DEFAULT_BASEMAP),
            "tiles_url": _tiles_url(layer.pk, version.pk),
        },
    )


def _raster_detail(request: HttpRequest, layer: Layer, version: LayerVersion) -> HttpResponse:
    from layers.raster.importer import RASTER_FORMATS
    from layers.raster.styles import default_raster_style, raster_style_validate
    from layers.raster.tiles import raster_info

    raster = RasterVersion.objects.get(version=version)
    style = raster_style_validate(default_raster_style(raster_info(raster)), raster_info(raster))
    template = reverse("layers:raster-tile", args=[layer.pk, 0, 0, 0, "png"])
    return render(
        request,
        "layers/raster_detail.html",
        {
            "layer": layer,
            "version": version,
            "raster": raster,
            "versions": selectors.versions_for(request.user, layer),
            "can_edit": can_edit_layers(request.user, layer.project),
            "formats": [(key, spec[0]) for key, spec in RASTER_FORMATS.items()],
            "extent": list(version.extent.extent) if version.extent else None,
            "basemap": settings.BASEMAPS.get(settings.DEFAULT_BASEMAP),
            "preview": {
                "tiles": template.replace("/0/0/0.png", "/{z}/{x}/{y}.png") + f"?v={version.pk}",
                "identify": reverse("layers:raster-identify", args=[layer.pk]) + f"?v={version.pk}",
                "legend": style["legend"],
                "extent": list(version.extent.extent) if version.extent else None,
            },
        },
    )


def _tiles_url(layer_id: int, version_id: int) -> str:
    """The vector tile template of this version (layers/tiles/)."""
    return tile_url_template(layer_id) + f"?v={version_id}"


@login_required
@require_GET
def layer_features(request: HttpRequest, pk: int) -> JsonResponse:
    layer = selectors.layer_for(request.user, pk)
    version = selectors.version_for(
        request.user, layer, int_param(request.GET, "version", 0) or None
    )
    return JsonResponse(
        selectors.features_page(
            version,
            page=int_param(request.GET, "page", 1, minimum=1, maximum=MAX_PAGE) or 1,
            size=int_param(request.GET, "size", 50, minimum=1, maximum=MAX_PAGE) or 50,
            sort=request.GET.get("sort", ""),
            desc=request.GET.get("dir") == "desc",
            q=request.GET.get("q", "").strip()[:200],
        )
    )


@login_required
@require_GET
def layer_geojson(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole layer as GeoJSON for the preview map (small layers only)."""
    layer = selectors.layer_for(request.user, pk)
    version = selectors.version_for(
        request.user, layer, int_param(request.GET, "version", 0) or None
    )
    if version.feature_count > selectors.GEOJSON_PREVIEW_LIMIT:
        return JsonResponse({"error": "This layer is too large for a GeoJSON preview."}, status=413)
    with read_cursor(Feature) as cur:
        cur.execute(
            "SELECT fid, ST_AsGeoJSON(geom, 7), properties::text FROM layers_feature "
            "WHERE version_id = %s ORDER BY fid",
            [version.pk],
        )
        features = [
            f'{{"type":"Feature","id":{fid},"geometry":{geom},"properties":{props}}}'
            for fid, geom, props in cur.fetchall()
        ]
    body = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
    return HttpResponse(body, content_type="application/geo+json")


def _download_srid(request: HttpRequest, version: LayerVersion) -> int:
    source = request.GET.get("crs") or request.POST.get("crs")
    return version.source_srid if source == "source" and version.source_srid else STORAGE_SRID


@login_required
@require_GET
def layer_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    """Small layers stream straight away; large ones are offered as a prepared download (a job)."""
    layer = selectors.layer_for(request.user, pk)
    version = selectors.version_for(
        request.user, layer, int_param(request.GET, "version", 0) or None
    )
    if layer.kind == layer.Kind.RASTER:
        return _raster_download(version, fmt)
    if fmt not in FORMATS:
        return HttpResponse("Unknown format.", status=404)
    srid = _download_srid(request, version)
    try:
        check_export(version, fmt)
    except ExportError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    if version.feature_count > settings.EXPORT_JOB_MIN_FEATURES:
        # Minutes of work: a worker builds it while the page shows progress.
        return render(
            request,
            "layers/export_prepare.html",
            {
                "layer": layer,
                "version": version,
                "fmt": fmt,
                "label": FORMATS[fmt][3],
                "crs": "source" if srid != STORAGE_SRID else "",
                "srid": export_srid(fmt, srid),
            },
        )
    layer_version_downloaded.send(sender=LayerVersion, version=version, user=request.user)
    filename = download_filename(version, fmt, srid)
    if fmt in STREAMED:
        response = StreamingHttpResponse(
            stream_version(version, fmt, srid), content_type=FORMATS[fmt][2]
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    tmp = Path(tempfile.mkdtemp(prefix="sharedgis-dl-"))
    out = tmp / f"download{FORMATS[fmt][1]}"
    export_version(version=version, fmt=fmt, srid=srid, out=out)
    handle = out.open("rb")
    # The open handle keeps the data readable; the directory entry can go now.
    out.unlink()
    tmp.rmdir()
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=FORMATS[fmt][2])


@login_required
@require_POST
def export_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask a worker to prepare a download; the job page follows it and links the file."""
    layer = selectors.layer_for(request.user, pk)
    version = selectors.version_for(
        request.user, layer, int_param(request.POST, "version", 0) or None
    )
    fmt = request.POST.get("format", "")
    try:
        job = export_job_request(
            version=version, fmt=fmt, srid=_download_srid(request, version), by=signed_in(request)
        )
    except ExportError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    return redirect("layers:export", job_id=job.pk)


@login_required
@require_GET
def export_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    job = selectors.export_job_for(request.user, job_id)
    return render(request, "layers/export_job.html", {"job": job, "payload": export_payload(job)})


@login_required
@require_GET
def export_status(request: HttpRequest, job_id: str) -> JsonResponse:
    return JsonResponse(export_payload(selectors.export_job_for(request.user, job_id)))


@login_required
@require_GET
def export_file(request: HttpRequest, job_id: str) -> HttpResponseBase:
    """The prepared file: streamed from local storage, or a short-lived signed object-store link."""
    job = selectors.export_job_for(request.user, job_id)
    if job.status != ExportJob.Status.SUCCEEDED or not job.file:
        return redirect("layers:export", job_id=job.pk)
    layer_version_downloaded.send(sender=LayerVersion, version=job.version, user=request.user)
    return files.download_response(
        job.file,
        filename=download_filename(job.version, job.fmt, job.srid),
        content_type=FORMATS[job.fmt][2],
    )


def export_payload(job: ExportJob) -> dict[str, object]:
    return {
        "id": str(job.pk),
        "status": job.status,
        "status_label": job.get_status_display(),
        "progress": job.progress,
        "message": job.message,
        "size_bytes": job.size_bytes,
        "status_url": reverse("layers:export-status", kwargs={"job_id": job.pk}),
        "file_url": reverse("layers:export-file", kwargs={"job_id": job.pk})
        if job.status == ExportJob.Status.SUCCEEDED
        else "",
    }


def _raster_download(version: LayerVersion, fmt: str) -> HttpResponseBase:
    from layers.raster.importer import RASTER_FORMATS, raster_download_name, raster_file

    if fmt not in RASTER_FORMATS:
        return HttpResponse("Rasters download as cog or original.", status=404)
    try:
        field = raster_file(version, fmt)
    except ExportError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    # Streamed from disk, or a short-lived signed link to object storage.
    return files.download_response(
        field, filename=raster_download_name(version, fmt), content_type=RASTER_FORMATS[fmt][1]
    )


@login_required
@require_POST
def layer_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    layer = selectors.layer_for(request.user, pk)
    project = layer.project
    try:
        layer_delete(layer=layer, by=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("layers:layer", pk=pk)
    messages.success(request, f"Layer “{layer.name}” was deleted.")
    return redirect("projects:project", slug=project.slug)


def job_payload(job: object) -> dict[str, object]:

    from layers.models import ImportJob

    assert isinstance(job, ImportJob)
    return {
        "id": str(job.id),
        "file": job.original_filename,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "status_url": reverse("layers:api-job", kwargs={"job_id": job.id}),
        "layers": [
            {
                "id": v.layer_id,
                "name": v.layer.name,
                "version": v.number,
                "feature_count": v.feature_count,
                "url": reverse("layers:layer", kwargs={"pk": v.layer_id}),
            }
            for v in job.result_versions.select_related("layer")
        ]
        if job.status == "succeeded"
        else [],
    }
