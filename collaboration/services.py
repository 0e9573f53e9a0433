"""Writes for requests, comments and usage: permission check, change, audit and after-commit
notification in one place (one transaction each)."""

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from collaboration.models import (
    Comment,
    CommentThread,
    MapRequest,
    RequestAttachment,
    RequestEvent,
    UsageDaily,
)
from maps.models import MapVersion, ShareLink
from notifications.services import notify_users
from projects.access import (
    LEAD_ROLES,
    MANAGER,
    client_managers,
    is_client_manager,
    is_lead,
    is_provider_staff,
    provider_leads,
)
from projects.models import STORAGE_SRID, Deliverable, Project, ServiceAgreement
from projects.services import audit_for, deliverable_transition

MAX_TEXT = 5000
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_AREA_FILE_BYTES = 5 * 1024 * 1024
# A comment marks a place: shapes larger than this (in square degrees, ~ 10 km × 10 km) are not.
MAX_COMMENT_SHAPE_DEG2 = 0.01
MAX_ESTIMATE_HOURS = Decimal("10000")


def _users(q: Q) -> list[User]:
    return list(get_user_model().objects.filter(q, is_active=True).distinct())


def _notify(users: Iterable[User], kind: str, subject: str, body: str, url: str, by: Any) -> None:
    recipients = [u for u in users if getattr(by, "pk", None) != u.pk]
    transaction.on_commit(
        lambda: notify_users(users=recipients, kind=kind, subject=subject, body=body, url=url)
    )


def _text(value: str, what: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"{what} is required.")
    if len(value) > MAX_TEXT:
        raise ValidationError(f"{what} is too long: at most {MAX_TEXT} characters.")
    return value


# --- areas


def area_from_geojson(text: str) -> MultiPolygon:
    """A (Multi)Polygon, Feature or FeatureCollection of polygons in EPSG:4326 as one MultiPolygon."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise ValidationError("The area is not valid GeoJSON.") from exc
    if not isinstance(data, dict):
        raise ValidationError("The area is not valid GeoJSON.")
    geometries: list[dict[str, Any]] = []
    if data.get("type") == "FeatureCollection":
        geometries = [f.get("geometry") or {} for f in data.get("features") or []]
    elif data.get("type") == "Feature":
        geometries = [data.get("geometry") or {}]
    else:
        geometries = [data]
    polygons: list[Polygon] = []
    for g in geometries:
        try:
            geom = GEOSGeometry(json.dumps(g), srid=STORAGE_SRID)
        except (GEOSException, GDALException, ValueError, TypeError) as exc:
            raise ValidationError("The area holds a geometry that cannot be read.") from exc
        if geom.geom_type == "Polygon":
            polygons.append(geom)  # type: ignore[arg-type]
        elif geom.geom_type == "MultiPolygon":
            polygons.extend(geom)  # type: ignore[arg-type]
        else:
            raise ValidationError(f"The area must be polygons, not a {geom.geom_type}.")
    if not polygons:
        raise ValidationError("The area holds no polygon.")
    area = MultiPolygon(polygons, srid=STORAGE_SRID)
    w, s, e, n = area.extent
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise ValidationError("The area must be in longitude/latitude degrees (EPSG:4326).")
    if not area.valid:
        area = area.buffer(0)  # type: ignore[assignment]
        if area.geom_type == "Polygon":
            area = MultiPolygon([area], srid=STORAGE_SRID)
        if area.geom_type != "MultiPolygon" or area.empty:
            raise ValidationError("The area's outline crosses itself and cannot be repaired.")
    return area


# --- map requests


def map_request_file(
    *,
    agreement: ServiceAgreement,
    title: str,
    need: str,
    needed_by: date | None,
    priority: str,
    area_source: str,
    area_geojson: str = "",
    area_file: UploadedFile | None = None,
    attachments: Iterable[UploadedFile] = (),
    by: User,
) -> MapRequest:
    """A client manager asks the provider for a map; the provider's leads are told."""
    if not is_client_manager(by, agreement):
        raise PermissionDenied("Only a manager of the client agency can file a map request.")
    title = _text(title, "A title")[:200]
    need = _text(need, "What you need and why")
    if priority not in MapRequest.Priority.values:
        raise ValidationError("Choose a priority: low, normal, high or urgent.")
    if needed_by is not None and needed_by < timezone.localdate():
        raise ValidationError("The needed-by date is in the past.")
    area = None
    if area_source == MapRequest.AreaSource.DRAWN:
        area = area_from_geojson(area_geojson)
    elif area_source == MapRequest.AreaSource.BOUNDARY:
        boundary = agreement.client.boundary
        if boundary is None:
            raise ValidationError("Your agency has no boundary on record: draw the area instead.")
        area = boundary
    elif area_source == MapRequest.AreaSource.FILE:
        if area_file is None:
            raise ValidationError("Choose a GeoJSON file with the area.")
        if area_file.size and area_file.size > MAX_AREA_FILE_BYTES:
            raise ValidationError("The area file is larger than 5 MB.")
        area = area_from_geojson(area_file.read().decode("utf-8", errors="replace"))
    elif area_source:
        raise ValidationError("Choose how to give the area: drawn, boundary or file.")
    files = list(attachments)
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(f"At most {MAX_ATTACHMENTS} attachments.")
    for f in files:
        if f.size and f.size > MAX_ATTACHMENT_BYTES:
            raise ValidationError(f"“{f.name}” is larger than 20 MB.")
    with transaction.atomic():
        request = MapRequest.objects.create(
            agreement=agreement,
            title=title,
            need=need,
            needed_by=needed_by,
            priority=priority,
            area=area,
            area_source=area_source if area is not None else "",
            filed_by=by,
        )
        for f in files:
            RequestAttachment.objects.create(
                request=request,
                file=f,
                name=(f.name or "attachment")[:255],
                size=f.size or 0,
                uploaded_by=by,
            )
        RequestEvent.objects.create(request=request, kind=RequestEvent.Kind.FILED, text=need, by=by)
        audit_for(
            agreement,
            action="request.file",
            summary=f"Map request “{title}” filed",
            actor=by,
            client_visible=True,
            target=request,
            data={"priority": priority, "attachments": len(files)},
        )
        _notify(
            list(provider_leads(agreement)),
            "request_filed",
            f"Map request from {agreement.client}: {title}",
            f"{_who(by)} asks: {need}",
            reverse("collaboration:request", args=[request.pk]),
            by,
        )
    return request


def _who(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else "Someone"


def _locked(request: MapRequest) -> MapRequest:
    return (
        MapRequest.objects.select_for_update()
        .select_related("agreement__client")
        .get(pk=request.pk)
    )


def _require_triager(by: User, request: MapRequest) -> None:
    if not is_lead(by, request.agreement):
        raise PermissionDenied("Only the provider's leads triage map requests.")


def _locked_for_triage(request: MapRequest, by: User) -> MapRequest:
    """The request locked for a lead's step (inside the caller's transaction), if still open."""
    locked = _locked(request)
    _require_triager(by, locked)
    _require_open(locked)
    return locked


def _require_open(request: MapRequest) -> None:
    if not request.is_open:
        raise ValidationError(f"This request is already {request.get_status_display().lower()}.")


def _step(
    request: MapRequest,
    *,
    kind: str,
    by: User,
    text: str = "",
    hours: Decimal | None = None,
    notify_client: bool,
) -> RequestEvent:
    """Record one step, its audit entry and the notification to the other side."""
    event = RequestEvent.objects.create(request=request, kind=kind, text=text, hours=hours, by=by)
    if notify_client and request.first_response_at is None:
        request.first_response_at = event.at
        request.save(update_fields=["first_response_at"])
    label = RequestEvent.Kind(kind).label.lower()
    audit_for(
        request.agreement,
        action=f"request.{kind}",
        summary=f"Map request “{request.title}”: {label}",
        actor=by,
        client_visible=True,
        target=request,
        data={"text": text[:500], "hours": str(hours) if hours is not None else None},
    )
    recipients = (
        list(client_managers(request.agreement))
        if notify_client
        else list(provider_leads(request.agreement))
    )
    _notify(
        recipients,
        "request_updated",
        f"Map request “{request.title}”: {label}",
        f"{_who(by)}: {text}" if text else f"{_who(by)} {label} the request.",
        reverse("collaboration:request", args=[request.pk]),
        by,
    )
    return event


def map_request_ask(*, request: MapRequest, text: str, by: User) -> MapRequest:
    """A lead asks the client a question; the request waits for the answer."""
    with transaction.atomic():
        locked = _locked_for_triage(request, by)
        text = _text(text, "The question")
        locked.status = MapRequest.Status.QUESTION
        locked.save(update_fields=["status"])
        _step(locked, kind=RequestEvent.Kind.QUESTION, by=by, text=text, notify_client=True)
    return locked


def map_request_answer(*, request: MapRequest, text: str, by: User) -> MapRequest:
    """A client manager answers; the request goes back to the provider."""
    with transaction.atomic():
        locked = _locked(request)
        if not is_client_manager(by, locked.agreement):
            raise PermissionDenied("Only a manager of the client agency answers for the client.")
        _require_open(locked)
        text = _text(text, "The answer")
        locked.status = (
            MapRequest.Status.ESTIMATED
            if locked.estimate_hours is not None
            else MapRequest.Status.SUBMITTED
        )
        locked.save(update_fields=["status"])
        _step(locked, kind=RequestEvent.Kind.ANSWER, by=by, text=text, notify_client=False)
    return locked


def parse_hours(value: Any) -> Decimal:
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError("The estimate must be a number of hours, e.g. 12.5.") from exc
    if not hours.is_finite() or hours <= 0 or hours > MAX_ESTIMATE_HOURS:
        raise ValidationError("The estimate must be more than 0 and at most 10,000 hours.")
    return hours.quantize(Decimal("0.01"))


def map_request_estimate(*, request: MapRequest, hours: Any, text: str, by: User) -> MapRequest:
    with transaction.atomic():
        locked = _locked_for_triage(request, by)
        locked.estimate_hours = parse_hours(hours)
        locked.status = MapRequest.Status.ESTIMATED
        locked.save(update_fields=["estimate_hours", "status"])
        _step(
            locked,
            kind=RequestEvent.Kind.ESTIMATE,
            by=by,
            text=_text(text, "A note", required=False),
            hours=locked.estimate_hours,
            notify_client=True,
        )
    return locked


def map_request_accept(
    *,
    request: MapRequest,
    project: Project,
    by: User,
    hours: Any = None,
    due_date: date | None = None,
    text: str = "",
) -> MapRequest:
    """Accept: a deliverable in a project of the agreement, its estimate charged to the budget."""
    with transaction.atomic():
        locked = _locked_for_triage(request, by)
        if project.agreement_id != locked.agreement_id:
            raise ValidationError("Choose a project of this request's agreement.")
        if hours not in (None, ""):
            locked.estimate_hours = parse_hours(hours)
        if locked.estimate_hours is None:
            raise ValidationError("Estimate the hours before accepting: they count on the budget.")
        deliverable = Deliverable.objects.create(
            project=project,
            title=locked.title,
            description=f"{locked.need}\n\n(From map request #{locked.pk}.)",
            kind=Deliverable.Kind.MAP,
            due_date=due_date or locked.needed_by,
        )
        locked.deliverable = deliverable
        locked.status = MapRequest.Status.ACCEPTED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["deliverable", "status", "decided_at", "estimate_hours"])
        _step(
            locked,
            kind=RequestEvent.Kind.ACCEPTED,
            by=by,
            text=_text(text, "A note", required=False)
            or f"Accepted as “{deliverable.title}” in {project.name}.",
            hours=locked.estimate_hours,
            notify_client=True,
        )
        audit_for(
            locked.agreement,
            action="deliverable.create",
            summary=f"Deliverable “{deliverable.title}” created from a map request",
            actor=by,
            client_visible=True,
            target=deliverable,
            data={"request": locked.pk, "estimate_hours": str(locked.estimate_hours)},
        )
    return locked


def map_request_decline(*, request: MapRequest, reason: str, by: User) -> MapRequest:
    with transaction.atomic():
        locked = _locked_for_triage(request, by)
        locked.decline_reason = _text(reason, "A reason for declining")
        locked.status = MapRequest.Status.DECLINED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["decline_reason", "status", "decided_at"])
        _step(
            locked,
            kind=RequestEvent.Kind.DECLINED,
            by=by,
            text=locked.decline_reason,
            notify_client=True,
        )
    return locked


# --- comments pinned on map versions


def comment_geometry(value: Any) -> GEOSGeometry:
    """A GeoJSON point or small polygon in EPSG:4326."""
    try:
        geom = GEOSGeometry(json.dumps(value), srid=STORAGE_SRID)
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise ValidationError("The pin needs a GeoJSON Point or Polygon geometry.") from exc
    if geom.geom_type not in ("Point", "Polygon"):
        raise ValidationError(f"A pin is a Point or a small Polygon, not a {geom.geom_type}.")
    w, s, e, n = geom.extent
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise ValidationError("The pin must be in longitude/latitude degrees (EPSG:4326).")
    if geom.geom_type == "Polygon":
        if not geom.valid:
            raise ValidationError("The shape's outline crosses itself.")
        if geom.area > MAX_COMMENT_SHAPE_DEG2:
            raise ValidationError("The shape is too large for a comment: mark a smaller area.")
    return geom


def _comment_recipients(thread: CommentThread, by: Any) -> list[User]:
    """The other side: client members when the provider writes, else the provider's people."""
    version = thread.version
    project = version.map.project
    agreement = project.agreement
    if by is not None and is_provider_staff(by, agreement):
        # Clients who took part in the thread, and the client's managers.
        authors = Comment.objects.filter(thread=thread).values("author_id")
        return _users(
            Q(pk__in=authors, memberships__agency_id=agreement.client_id)
            | Q(memberships__agency_id=agreement.client_id, memberships__role=MANAGER)
        )
    return _users(
        Q(memberships__agency_id=agreement.provider_id, memberships__role__in=LEAD_ROLES)
        | Q(led_projects=project)
        | Q(pk=version.published_by_id or 0)
    )


def _comment_author(by: User | AnonymousUser | None, link: ShareLink | None, name: str) -> dict:
    if link is not None:
        if not link.allow_comments or not link.is_active:
            raise PermissionDenied("This share link does not take comments.")
        name = (name or "").strip()[:120]
        if not name:
            raise ValidationError("Give your name with the comment.")
        return {"author": None, "author_name": name}
    if not isinstance(by, User):
        raise PermissionDenied("Log in to comment.")
    return {"author": by, "author_name": ""}


def _comment_event(
    thread: CommentThread,
    *,
    action: str,
    summary: str,
    actor: Any,
    subject: str,
    body: str,
    data: dict[str, Any] | None = None,
) -> None:
    """The audit entry of a comment action and the notification to the other side."""
    version = thread.version
    agreement = version.map.project.agreement
    audit_for(
        agreement,
        action=action,
        summary=summary,
        actor=actor,
        client_visible=True,
        target=thread,
        data=data,
    )
    _notify(
        _comment_recipients(thread, actor),
        "map_comment",
        f"{subject} {version.map.title} v{version.number}",
        body,
        reverse("maps:version", args=[version.pk]) + f"#comment-{thread.pk}",
        actor,
    )


def comment_thread_create(
    *,
    version: MapVersion,
    geometry: Any,
    text: str,
    by: User | AnonymousUser | None,
    share_link: ShareLink | None = None,
    author_name: str = "",
) -> CommentThread:
    """Pin a comment on a published version (signed-in users, or share links allowing it)."""
    author = _comment_author(by, share_link, author_name)
    if share_link is not None and share_link.version_id != version.pk:
        raise PermissionDenied("This link is for another version.")
    geom = comment_geometry(geometry)
    text = _text(text, "The comment")
    with transaction.atomic():
        thread = CommentThread.objects.create(
            version=version, geom=geom, created_by=author["author"], share_link=share_link
        )
        Comment.objects.create(thread=thread, text=text, **author)
        _comment_event(
            thread,
            action="comment.create",
            summary=f"Comment pinned on {version}",
            actor=author["author"],
            subject="New comment on",
            body=f"{_who(author['author']) if author['author'] else author['author_name']}: {text}",
            data={"share_link": share_link.pk if share_link else None, "text": text[:500]},
        )
    return thread


def comment_reply(
    *,
    thread: CommentThread,
    text: str,
    by: User | AnonymousUser | None,
    share_link: ShareLink | None = None,
    author_name: str = "",
) -> Comment:
    author = _comment_author(by, share_link, author_name)
    text = _text(text, "The reply")
    with transaction.atomic():
        comment = Comment.objects.create(thread=thread, text=text, **author)
        _comment_event(
            thread,
            action="comment.reply",
            summary=f"Reply on a comment of {thread.version}",
            actor=author["author"],
            subject="Reply on",
            body=f"{_who(author['author']) if author['author'] else author['author_name']}: {text}",
            data={"text": text[:500]},
        )
    return comment


def _require_thread_provider(by: User, thread: CommentThread) -> None:
    if not is_provider_staff(by, thread.version.map.project.agreement):
        raise PermissionDenied("Only the provider's staff resolve or reopen comments.")


def comment_thread_resolve(
    *, thread: CommentThread, by: User, fixed_in: MapVersion | None = None
) -> CommentThread:
    """Resolve a thread, naming the version that fixed it (this version or a later one)."""
    _require_thread_provider(by, thread)
    if fixed_in is not None and (
        fixed_in.map_id != thread.version.map_id or fixed_in.number < thread.version.number
    ):
        raise ValidationError("The fixing version must be this map's version or a later one.")
    with transaction.atomic():
        locked = CommentThread.objects.select_for_update().get(pk=thread.pk)
        if locked.status == CommentThread.Status.RESOLVED:
            raise ValidationError("This comment is already resolved.")
        locked.status = CommentThread.Status.RESOLVED
        locked.resolved_in = fixed_in
        locked.resolved_by = by
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "resolved_in", "resolved_by", "resolved_at"])
        fixed = f" in v{fixed_in.number}" if fixed_in else ""
        _comment_event(
            locked,
            action="comment.resolve",
            summary=f"Comment on {thread.version} resolved{fixed}",
            actor=by,
            subject="Comment resolved on",
            body=f"{_who(by)} resolved your comment{fixed}.",
            data={"fixed_in": fixed_in.pk if fixed_in else None},
        )
    return locked


def comment_thread_reopen(*, thread: CommentThread, by: User) -> CommentThread:
    _require_thread_provider(by, thread)
    with transaction.atomic():
        locked = CommentThread.objects.select_for_update().get(pk=thread.pk)
        if locked.status == CommentThread.Status.OPEN:
            raise ValidationError("This comment is already open.")
        locked.status = CommentThread.Status.OPEN
        locked.resolved_in = None
        locked.resolved_by = None
        locked.resolved_at = None
        locked.save(update_fields=["status", "resolved_in", "resolved_by", "resolved_at"])
        audit_for(
            thread.version.map.project.agreement,
            action="comment.reopen",
            summary=f"Comment on {thread.version} reopened",
            actor=by,
            client_visible=True,
            target=locked,
        )
    return locked


def deliverable_request_changes(
    *, deliverable: Deliverable, comment: str, thread_ids: Iterable[int], by: User
) -> Any:
    """ "Request changes" on a deliverable, citing comment threads of its published maps."""
    wanted = {int(t) for t in thread_ids}
    threads = list(CommentThread.objects.filter(pk__in=wanted, version__deliverable=deliverable))
    if len(threads) != len(wanted):
        raise ValidationError("Cite only comments on this deliverable's maps.")
    with transaction.atomic():
        if threads and not comment.strip():
            comment = "See the cited map comments."
        record = deliverable_transition(
            deliverable=deliverable,
            to_status=Deliverable.Status.CHANGES_REQUESTED,
            by=by,
            comment=comment,
        )
        for thread in threads:
            thread.transitions.add(record)
    return record


# --- usage (aggregated daily counts: one upsert per open, export or download)

_UPSERT = (
    "INSERT INTO collaboration_usagedaily (day, version_id, agency_id, kind, count) "
    "VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (day, version_id, agency_id, kind) "
    "DO UPDATE SET count = collaboration_usagedaily.count + EXCLUDED.count"
)


def usage_record(
    *, version_id: int, agency_id: int, kind: str, n: int = 1, day: date | None = None
) -> None:
    if kind not in UsageDaily.Kind.values:
        raise ValidationError(f"Unknown usage kind {kind!r}.")
    with connection.cursor() as cur:
        cur.execute(_UPSERT, [day or timezone.localdate(), version_id, agency_id, kind, n])


# --- agreement terms used by the value report and the request clock


def agreement_terms_set(
    *,
    agreement: ServiceAgreement,
    alternative_hourly_rate: Any,
    alternative_rate_source: str,
    response_target_days: Any,
    by: User,
) -> ServiceAgreement:
    """The provider records what the same work would cost elsewhere, and its response target."""
    if not is_lead(by, agreement):
        raise PermissionDenied("Only the provider's leads set the agreement's terms.")
    rate = None
    if str(alternative_hourly_rate or "").strip():
        try:
            rate = Decimal(str(alternative_hourly_rate).strip()).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError) as exc:
            raise ValidationError(
                "The alternative rate is an amount per hour, e.g. 145.00."
            ) from exc
        if not rate.is_finite() or rate < 0 or rate >= Decimal("100000000"):
            raise ValidationError("The alternative rate must be a positive amount per hour.")
    source = (alternative_rate_source or "").strip()[:500]
    if rate is not None and not source:
        raise ValidationError(
            "Say where the alternative rate comes from (e.g. a consultant's quote)."
        )
    target = None
    if str(response_target_days or "").strip():
        try:
            target = int(str(response_target_days).strip())
        except ValueError as exc:
            raise ValidationError("The response target is a whole number of days.") from exc
        if not 1 <= target <= 365:
            raise ValidationError("The response target is 1 to 365 days.")
    with transaction.atomic():
        agreement.alternative_hourly_rate = rate
        agreement.alternative_rate_source = source
        agreement.response_target_days = target
        agreement.save(
            update_fields=[
                "alternative_hourly_rate",
                "alternative_rate_source",
                "response_target_days",
            ]
        )
        audit_for(
            agreement,
            action="agreement.terms",
            summary=f"{agreement.title}: alternative rate and response target set",
            actor=by,
            client_visible=True,
            target=agreement,
            data={
                "alternative_hourly_rate": str(rate) if rate is not None else None,
                "source": source,
                "response_target_days": target,
            },
        )
    return agreement
