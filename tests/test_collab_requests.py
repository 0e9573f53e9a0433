"""Map requests: a client manager files one, the provider's leads triage it, every step visible."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEntry
from collaboration.models import MapRequest, RequestEvent
from collaboration.services import (
    map_request_accept,
    map_request_answer,
    map_request_ask,
    map_request_decline,
    map_request_estimate,
    map_request_file,
)
from notifications.models import Notification
from projects.models import Deliverable
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[-122.37, 38.39], [-122.35, 38.39], [-122.35, 38.41], [-122.37, 38.41], [-122.37, 38.39]]
    ],
}


def file_request(world: World, **kw) -> MapRequest:  # type: ignore[no-untyped-def]
    args = {
        "agreement": world.agreement_a,
        "title": "Notice area for 12 Main St",
        "need": "A 500-foot notice map for the council packet.",
        "needed_by": timezone.localdate() + timedelta(days=10),
        "priority": "high",
        "area_source": "drawn",
        "area_geojson": json.dumps(SQUARE),
        "by": world.manager_a,
    }
    args.update(kw)
    return map_request_file(**args)


def test_a_client_manager_files_a_request_with_a_drawn_area_and_an_attachment(
    world: World, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.manager_a).post(
            "/requests/new/",
            {
                "agreement": world.agreement_a.pk,
                "title": "Notice area for 12 Main St",
                "need": "A 500-foot notice map.",
                "priority": "high",
                "area_source": "drawn",
                "area_geojson": json.dumps(SQUARE),
                "attachments": [SimpleUploadedFile("zoning-wrong.png", b"\x89PNG fake")],
            },
        )
    request = MapRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{request.pk}/"
    assert request.status == "submitted" and request.filed_by == world.manager_a
    assert request.area is not None and request.area.srid == 4326
    assert request.area.extent == pytest.approx((-122.37, 38.39, -122.35, 38.41))
    assert request.attachments.get().name == "zoning-wrong.png"
    assert list(request.events.values_list("kind", flat=True)) == ["filed"]
    assert AuditEntry.objects.filter(action="request.file", agency=world.town_a).count() == 1
    lead_note = Notification.objects.get(user=world.lead, kind="request_filed")
    assert "Notice area for 12 Main St" in lead_note.subject
    assert not Notification.objects.filter(user=world.analyst).exists()
    page = client_for(world.lead).get(
        f"/requests/{request.pk}/attachments/{request.attachments.get().pk}/"
    )
    assert b"".join(page.streaming_content) == b"\x89PNG fake"


def test_the_area_can_be_the_agency_boundary_or_an_uploaded_geojson_file(world: World) -> None:
    from_boundary = file_request(world, area_source="boundary", area_geojson="")
    assert from_boundary.area.equals(world.town_a.boundary)
    upload = SimpleUploadedFile(
        "area.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "geometry": SQUARE, "properties": {}}],
            }
        ).encode(),
    )
    from_file = file_request(world, area_source="file", area_geojson="", area_file=upload)
    assert from_file.area_source == "file" and from_file.area.num_geom == 1


@pytest.mark.parametrize(
    "area, message",
    [
        ("not json", "not valid GeoJSON"),
        (json.dumps({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}), "must be polygons"),
        (
            json.dumps(
                {
                    "type": "Polygon",
                    "coordinates": [
                        [[500000, 4200000], [500100, 4200000], [500100, 4200100], [500000, 4200000]]
                    ],
                }
            ),
            "longitude/latitude",
        ),
    ],
)
def test_a_bad_area_is_a_400_with_a_message_and_nothing_is_saved(
    world: World, area: str, message: str
) -> None:
    response = client_for(world.manager_a).post(
        "/requests/new/",
        {
            "agreement": world.agreement_a.pk,
            "title": "T",
            "need": "N",
            "priority": "normal",
            "area_source": "drawn",
            "area_geojson": area,
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (
        MapRequest.objects.count() == 0
        and AuditEntry.objects.filter(action="request.file").count() == 0
    )


def test_only_client_managers_file_requests(world: World) -> None:
    assert client_for(world.viewer_a).get("/requests/new/").status_code == 404
    assert client_for(world.lead).get("/requests/new/").status_code == 404
    with pytest.raises(PermissionDenied):
        file_request(world, by=world.viewer_a)


def test_the_lead_asks_the_client_answers_and_the_lead_accepts_into_a_project(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    request = file_request(world)
    with django_capture_on_commit_callbacks(execute=True):
        map_request_ask(request=request, text="Which parcels exactly?", by=world.lead)
    request.refresh_from_db()
    assert request.status == "question" and request.first_response_at is not None
    assert Notification.objects.filter(user=world.manager_a, kind="request_updated").count() == 1
    map_request_answer(request=request, text="Parcels 10 to 14.", by=world.manager_a)
    map_request_estimate(request=request, hours="12.5", text="About two days.", by=world.lead)
    accepted = map_request_accept(request=request, project=world.project_a, by=world.lead)
    deliverable = accepted.deliverable
    assert accepted.status == "accepted" and accepted.estimate_hours == Decimal("12.50")
    assert deliverable.project == world.project_a and deliverable.title == request.title
    assert deliverable.due_date == request.needed_by and deliverable.status == "planned"
    assert list(accepted.events.values_list("kind", flat=True)) == [
        "filed",
        "question",
        "answer",
        "estimate",
        "accepted",
    ]
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "request.file",
        "request.question",
        "request.answer",
        "request.estimate",
        "request.accepted",
        "deliverable.create",
    } <= actions
    # Both sides read the steps in the audit log; another town does not.
    assert (
        "Map request “Notice area for 12 Main St”: question"
        in client_for(world.manager_a).get("/audit/").content.decode()
    )
    assert "Notice area for 12 Main St" in client_for(world.lead).get("/audit/").content.decode()
    assert "Notice area" not in client_for(world.manager_b).get("/audit/").content.decode()
    # The client sees every step and the resulting deliverable; the estimate is on the budget.
    page = client_for(world.manager_a).get(f"/requests/{request.pk}/").content.decode()
    for text in (
        "Which parcels exactly?",
        "Parcels 10 to 14.",
        "About two days.",
        "12.50 hours",
        f"/deliverables/{deliverable.pk}/",
    ):
        assert text in page
    agreement_page = (
        client_for(world.manager_a).get(f"/agreements/{world.agreement_a.pk}/").content.decode()
    )
    assert "commit <strong>12.50</strong> estimated hours" in agreement_page
    assert (
        "From the map request"
        in client_for(world.manager_a).get(f"/deliverables/{deliverable.pk}/").content.decode()
    )


def test_accepting_needs_an_estimate_and_a_project_of_the_same_agreement(world: World) -> None:
    request = file_request(world)
    with pytest.raises(ValidationError, match="Estimate the hours"):
        map_request_accept(request=request, project=world.project_a, by=world.lead)
    with pytest.raises(ValidationError, match="project of this request's agreement"):
        map_request_accept(request=request, project=world.project_b, by=world.lead, hours="3")
    assert Deliverable.objects.filter(title=request.title).count() == 0
    response = client_for(world.lead).post(
        f"/requests/{request.pk}/accept/", {"project": world.project_b.pk, "hours": "3"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "submitted" and request.deliverable is None


def test_declining_needs_a_reason_which_the_client_reads(world: World) -> None:
    request = file_request(world)
    with pytest.raises(ValidationError):
        map_request_decline(request=request, reason="  ", by=world.lead)
    map_request_decline(request=request, reason="Outside the agreement's scope.", by=world.lead)
    page = client_for(world.manager_a).get(f"/requests/{request.pk}/").content.decode()
    assert "Declined because" in page and "Outside the agreement&#x27;s scope." in page
    with pytest.raises(ValidationError, match="already declined"):
        map_request_estimate(request=request, hours="2", text="", by=world.lead)


def test_analysts_and_clients_cannot_triage(world: World) -> None:
    request = file_request(world)
    for user in (world.analyst, world.manager_a):
        with pytest.raises(PermissionDenied):
            map_request_estimate(request=request, hours="2", text="", by=user)
    client_for(world.analyst).post(f"/requests/{request.pk}/decline/", {"reason": "no"})
    request.refresh_from_db()
    assert request.status == "submitted"
    assert RequestEvent.objects.filter(request=request).count() == 1


def test_the_queue_shows_age_and_the_response_clock_against_the_agreement_target(
    world: World,
) -> None:
    world.agreement_a.response_target_days = 2
    world.agreement_a.save()
    late = file_request(world, title="Late one")
    MapRequest.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(days=5))
    file_request(world, title="Fresh one")
    page = client_for(world.lead).get("/requests/").content.decode()
    assert "Late one" in page and "Fresh one" in page
    assert "5 days" in page and "target passed" in page and "respond by" in page
    # Town B's manager sees neither.
    other = client_for(world.manager_b).get("/requests/").content.decode()
    assert "Late one" not in other


def test_open_requests_appear_on_the_board(world: World) -> None:
    file_request(world, title="Board me")
    assert "Board me" in client_for(world.lead).get("/board/").content.decode()
    assert "Board me" in client_for(world.manager_a).get("/board/").content.decode()
    assert "Board me" not in client_for(world.manager_b).get("/board/").content.decode()
