"""JSON API of the composer: the editor page changes the draft and redraws without a reload."""

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from layers.models import Layer, RasterVersion
from layers.raster.styles import raster_style_types
from layers.raster.tiles import raster_info
from maps.models import Map, MapLayer
from maps.selectors import is_provider_of
from maps.services import (
    map_layer_add,
    map_layer_remove,
    map_layer_update,
    map_layers_reorder,
    map_update,
    schema_fields,
)
from maps.views import draft_preview
from projects.access import api_login_required, get_object_for, signed_in
from projects.errors import validation_message


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise ValidationError("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ValidationError("The request body must be a JSON object.")
    return data


def _error(exc: Exception) -> JsonResponse:
    if isinstance(exc, PermissionDenied):
        return JsonResponse({"detail": str(exc)}, status=403)
    return JsonResponse({"detail": validation_message(exc)}, status=400)


def _draft_map(request: HttpRequest, pk: int) -> Map:
    map_ = get_object_for(request.user, Map.objects.select_related("project__agreement"), pk=pk)
    if not is_provider_of(request.user, map_.project):
        raise Http404("Not found.")
    return map_


def _raster_facts(version_id: int | None) -> dict[str, Any] | None:
    """What the composer's raster controls offer (bands, suitable style types), or None."""
    raster = RasterVersion.objects.filter(version_id=version_id).first() if version_id else None
    if raster is None:
        return None
    info = raster_info(raster)
    return {
        "bands": info["bands"],
        "dtype": info["dtype"],
        "content": info["content"],
        "types": raster_style_types(info),
    }


def map_state(map_: Map) -> dict[str, Any]:
    layers = []
    for ml in map_.map_layers.select_related("layer__current_version").order_by("position", "pk"):
        fields = schema_fields(ml.layer.current_version)
        raster = _raster_facts(ml.layer.current_version_id)
        layers.append(
            {
                "id": ml.pk,
                "layer_id": ml.layer_id,
                "title": ml.title or ml.layer.name,
                "visible": ml.visible,
                "opacity": ml.opacity,
                "style": ml.style,
                "fields": fields,
                # A raster draft layer gets the raster type's controls (static/js/maps/raster-form.js).
                **({"kind": "raster", "raster": raster} if raster else {}),
            }
        )
    return {
        "id": map_.pk,
        "title": map_.title,
        "description": map_.description,
        "basemap": map_.basemap,
        "extent": list(map_.initial_extent.extent) if map_.initial_extent else None,
        "layers": layers,
        "preview": draft_preview(map_),
    }


@api_login_required
@require_http_methods(["GET", "PATCH"])
def api_map(request: HttpRequest, pk: int) -> HttpResponse:
    map_ = _draft_map(request, pk)
    if request.method == "PATCH":
        try:
            data = _body(request)
            map_update(
                map=map_,
                by=signed_in(request),
                title=data.get("title"),
                description=data.get("description"),
                basemap=data.get("basemap"),
                initial_extent=data.get("extent"),
            )
        except (PermissionDenied, ValidationError, TypeError, ValueError) as exc:
            return _error(exc)
    return JsonResponse(map_state(map_))


@api_login_required
@require_http_methods(["POST"])
def api_map_layers(request: HttpRequest, pk: int) -> HttpResponse:
    map_ = _draft_map(request, pk)
    try:
        data = _body(request)
        layer = get_object_for(request.user, Layer, pk=data.get("layer_id") or 0)
        map_layer_add(map=map_, layer=layer, by=signed_in(request))
    except (PermissionDenied, ValidationError) as exc:
        return _error(exc)
    return JsonResponse(map_state(map_), status=201)


@api_login_required
@require_http_methods(["POST"])
def api_map_order(request: HttpRequest, pk: int) -> HttpResponse:
    map_ = _draft_map(request, pk)
    try:
        order = _body(request).get("order")
        if not isinstance(order, list) or not all(isinstance(i, int) for i in order):
            raise ValidationError("The order must be a list of map layer ids.")
        map_layers_reorder(map=map_, order=order, by=signed_in(request))
    except (PermissionDenied, ValidationError) as exc:
        return _error(exc)
    return JsonResponse(map_state(map_))


@api_login_required
@require_http_methods(["PATCH", "DELETE"])
def api_map_layer(request: HttpRequest, pk: int) -> HttpResponse:
    map_layer = get_object_for(
        request.user,
        MapLayer.objects.select_related("map__project__agreement", "layer__current_version"),
        pk=pk,
    )
    try:
        if request.method == "DELETE":
            map_layer_remove(map_layer=map_layer, by=signed_in(request))
        else:
            data = _body(request)
            map_layer_update(
                map_layer=map_layer,
                by=signed_in(request),
                title=data.get("title"),
                visible=data.get("visible"),
                opacity=data.get("opacity"),
                style=data.get("style"),
            )
    except (PermissionDenied, ValidationError) as exc:
        return _error(exc)
    return JsonResponse(map_state(map_layer.map))
