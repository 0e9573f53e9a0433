"""Request, comment, value-report and package pages. Thin: access, then a service or selector."""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collaboration import selectors, services
from collaboration.forms import MapRequestForm
from collaboration.models import CommentThread, MapRequest, RequestAttachment
from maps.models import MapVersion, ShareLink
from maps.views import active_link
from projects.access import (
    api_login_required,
    get_object_for,
    is_client_manager,
    is_lead,
    signed_in,
)
from projects.errors import validation_message
from projects.models import Deliverable, Project


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    return body


def _api_error(exc: Exception) -> JsonResponse:
    status = 403 if isinstance(exc, PermissionDenied) else 400
    return JsonResponse({"detail": validation_message(exc)}, status=status)


# --- map requests


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    return render(
        request,
        "collaboration/request_list.html",
        {
            "rows": selectors.request_queue(request.user, status=status),
            "status": status,
            "statuses": MapRequest.Status.choices,
            "can_file": selectors.agreements_for_filing(request.user).exists(),
        },
    )


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    agreements = selectors.agreements_for_filing(request.user)
    if not agreements.exists():
        # Like other role-only pages: not there for those who cannot use it.
        raise Http404("Only a client agency's managers file map requests.")
    form = MapRequestForm(request.POST or None, request.FILES or None, agreements=agreements)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            filed = services.map_request_file(
                agreement=data["agreement"],
                title=data["title"],
                need=data["need"],
                needed_by=data["needed_by"],
                priority=data["priority"],
                area_source=data["area_source"] or "",
                area_geojson=data["area_geojson"] or "",
                area_file=data["area_file"],
                attachments=request.FILES.getlist("attachments"),
                by=signed_in(request),
            )
        except (PermissionDenied, ValidationError) as exc:
            form.add_error(None, validation_message(exc))
        else:
            messages.success(
                request, f"Request “{filed.title}” sent to {filed.agreement.provider}."
            )
            return redirect("collaboration:request", pk=filed.pk)
    boundaries = {
        a.pk: json.loads(a.client.boundary.geojson) if a.client.boundary else None
        for a in agreements
    }
    return render(
        request,
        "collaboration/request_new.html",
        {"form": form, "boundaries": boundaries},
        status=400 if request.method == "POST" else 200,
    )


def _request(request: HttpRequest, pk: int) -> MapRequest:
    return get_object_for(
        request.user,
        MapRequest.objects.select_related(
            "agreement__client", "agreement__provider", "filed_by", "deliverable__project"
        ),
        pk=pk,
    )


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    map_request = _request(request, pk)
    triage = is_lead(request.user, map_request.agreement)
    published = (
        MapVersion.objects.visible_to(request.user)
        .filter(deliverable=map_request.deliverable)
        .select_related("map")
        .order_by("-published_at")
        if map_request.deliverable
        else []
    )
    return render(
        request,
        "collaboration/request_detail.html",
        {
            "r": map_request,
            "events": map_request.events.select_related("by"),
            "attachments": map_request.attachments.all(),
            "can_triage": triage and map_request.is_open,
            "can_answer": is_client_manager(request.user, map_request.agreement)
            and map_request.is_open,
            "projects": Project.objects.filter(agreement=map_request.agreement).order_by("name"),
            "area": map_request.area.geojson if map_request.area else "",
            "published": published,
        },
    )


ACTIONS = {"ask", "answer", "estimate", "accept", "decline"}


@login_required
@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    map_request = _request(request, pk)
    if action not in ACTIONS:
        raise Http404("No such action.")
    by = signed_in(request)
    post = request.POST
    try:
        if action == "ask":
            services.map_request_ask(request=map_request, text=post.get("text", ""), by=by)
        elif action == "answer":
            services.map_request_answer(request=map_request, text=post.get("text", ""), by=by)
        elif action == "estimate":
            services.map_request_estimate(
                request=map_request, hours=post.get("hours", ""), text=post.get("text", ""), by=by
            )
        elif action == "accept":
            project = Project.objects.filter(
                agreement=map_request.agreement, pk=post.get("project") or 0
            ).first()
            if project is None:
                raise ValidationError("Choose a project of this agreement.")
            services.map_request_accept(
                request=map_request,
                project=project,
                hours=post.get("hours", ""),
                text=post.get("text", ""),
                by=by,
            )
        else:
            services.map_request_decline(request=map_request, reason=post.get("reason", ""), by=by)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
    else:
        messages.success(request, "Saved.")
    return redirect("collaboration:request", pk=pk)


@login_required
@require_GET
def request_attachment(request: HttpRequest, pk: int, attachment: int) -> FileResponse:
    map_request = _request(request, pk)
    row = get_object_for(request.user, RequestAttachment, pk=attachment, request=map_request)
    return FileResponse(row.file.open("rb"), as_attachment=True, filename=row.name)


# --- comments: JSON API (GeoJSON), for signed-in users and for share links that allow it


def _version(request: HttpRequest, pk: int) -> MapVersion:
    return get_object_for(
        request.user, MapVersion.objects.select_related("map__project__agreement"), pk=pk
    )


@api_login_required
@require_http_methods(["GET", "POST"])
def api_version_comments(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    if request.method == "GET":
        threads = selectors.threads_of(request.user, version)
        status = request.GET.get("status")
        if status in CommentThread.Status.values:
            threads = threads.filter(status=status)
        return JsonResponse(selectors.threads_collection(threads))
    try:
        body = _json_body(request)
        thread = services.comment_thread_create(
            version=version,
            geometry=body.get("geometry"),
            text=str((body.get("properties") or {}).get("text") or body.get("text") or ""),
            by=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _api_error(exc)
    return JsonResponse(
        selectors.thread_feature(selectors.threads_of(request.user, version).get(pk=thread.pk)),
        status=201,
    )


def _thread(request: HttpRequest, pk: int) -> CommentThread:
    return get_object_for(
        request.user,
        CommentThread.objects.select_related("version__map__project__agreement"),
        pk=pk,
    )


def _thread_response(
    request: HttpRequest, thread: CommentThread, status: int = 200
) -> JsonResponse:
    fresh = selectors.threads_of(request.user, thread.version).get(pk=thread.pk)
    return JsonResponse(selectors.thread_feature(fresh), status=status)


@api_login_required
@require_POST
def api_thread_replies(request: HttpRequest, pk: int) -> HttpResponse:
    thread = _thread(request, pk)
    try:
        body = _json_body(request)
        services.comment_reply(thread=thread, text=str(body.get("text") or ""), by=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _api_error(exc)
    return _thread_response(request, thread, 201)


@api_login_required
@require_POST
def api_thread_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    thread = _thread(request, pk)
    try:
        body = _json_body(request)
        fixed_in = None
        if body.get("fixed_in") not in (None, ""):
            fixed_in = (
                MapVersion.objects.visible_to(request.user)
                .filter(map_id=thread.version.map_id, number=int(body["fixed_in"]))
                .first()
            )
            if fixed_in is None:
                raise ValidationError("No such version of this map.")
        services.comment_thread_resolve(thread=thread, by=signed_in(request), fixed_in=fixed_in)
    except (TypeError, ValueError):
        return JsonResponse({"detail": "fixed_in is a version number."}, status=400)
    except (PermissionDenied, ValidationError) as exc:
        return _api_error(exc)
    return _thread_response(request, thread)


@api_login_required
@require_POST
def api_thread_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    thread = _thread(request, pk)
    try:
        services.comment_thread_reopen(thread=thread, by=signed_in(request))
    except (PermissionDenied, ValidationError) as exc:
        return _api_error(exc)
    return _thread_response(request, thread)


def _share_link(token: str) -> ShareLink:
    link = active_link(token)
    # A link without comment rights answers exactly like a missing one.
    if not link.allow_comments:
        raise Http404("Not found.")
    return link


@require_http_methods(["GET", "POST"])
def share_comments(request: HttpRequest, token: str) -> HttpResponse:
    link = _share_link(token)
    if request.method == "GET":
        threads = selectors.threads_of(None, link.version, share_link=link)
        return JsonResponse(selectors.threads_collection(threads, urls=False))
    try:
        body = _json_body(request)
        props = body.get("properties") or {}
        thread = services.comment_thread_create(
            version=link.version,
            geometry=body.get("geometry"),
            text=str(props.get("text") or body.get("text") or ""),
            by=None,
            share_link=link,
            author_name=str(props.get("author") or body.get("author") or ""),
        )
    except (PermissionDenied, ValidationError) as exc:
        return _api_error(exc)
    fresh = selectors.threads_of(None, link.version, share_link=link).get(pk=thread.pk)
    return JsonResponse(selectors.thread_feature(fresh, urls=False), status=201)


@login_required
@require_POST
def deliverable_request_changes(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = get_object_for(request.user, Deliverable, pk=pk)
    try:
        ids = [int(t) for t in request.POST.getlist("threads")]
        services.deliverable_request_changes(
            deliverable=deliverable,
            comment=request.POST.get("comment", ""),
            thread_ids=ids,
            by=signed_in(request),
        )
    except ValueError:
        messages.error(request, "Choose comments from the list.")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, validation_message(exc))
    else:
        messages.success(request, f"Changes requested on “{deliverable.title}”.")
    return redirect("projects:deliverable", pk=pk)
