"""REST endpoints: upload a file as an import job (multipart) and follow the job's status."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from layers import selectors
from layers.ingest.errors import ImportFailed
from layers.models import Layer
from layers.services import can_edit_layers, import_job_create
from layers.views import job_payload
from projects.params import id_param


class ImportCreate(APIView):
    """POST a file (field `file`; optional name, srid, source_layer, drop_z, layer) → 202 + job."""

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request: Request, slug: str) -> Response:
        project = selectors.project_for(request.user, slug)
        if not can_edit_layers(request.user, project):
            raise PermissionDenied("Only the provider's GIS staff can upload layers.")
        # Refuse an oversized body before Django spools it to disk.
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.UPLOAD_MAX_BYTES + 1024 * 1024:
            limit = settings.UPLOAD_MAX_BYTES / 1024**2
            return Response(
                {
                    "error": f"The upload is {length / 1024**2:,.0f} MB; the limit is {limit:,.0f} MB."
                },
                status=413,
            )
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"error": "Attach the file in the field “file”."}, status=400)
        layer = None
        if request.data.get("layer"):
            layer = get_object_or_404(
                Layer.objects.visible_to(request.user).filter(project=project),
                pk=id_param(request.data, "layer") or 0,
            )
        try:
            job = import_job_create(
                project=project,
                upload=upload,
                by=request.user,
                options={
                    k: request.data.get(k) for k in ("name", "srid", "source_layer", "drop_z")
                },
                layer=layer,
            )
        except ImportFailed as exc:
            return Response({"error": exc.message}, status=400)
        return Response(job_payload(job), status=status.HTTP_202_ACCEPTED)


class ImportStatus(APIView):
    def get(self, request: Request, job_id: str) -> Response:
        return Response(job_payload(selectors.job_for(request.user, job_id)))
