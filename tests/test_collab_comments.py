"""Comments pinned on published map versions: GeoJSON API, threads, resolve/reopen, share links."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from collaboration.models import Comment, CommentThread
from maps.services import map_publish, map_version_attach, share_link_create
from notifications.models import Notification
from tests.conftest import World, client_for
from tests.map_factories import make_published_map

pytestmark = pytest.mark.django_db
PIN = {"type": "Point", "coordinates": [-122.3595, 38.4001]}


@pytest.fixture
def version(world: World):  # type: ignore[no-untyped-def]
    _, v = make_published_map(project=world.project_a, by=world.analyst, n=5)
    map_version_attach(version=v, deliverable=world.deliverable_a, by=world.analyst)
    return v


def post(client: Client, url: str, body: dict) -> object:
    return client.post(url, json.dumps(body), content_type="application/json")


def pin(client: Client, version, text: str = "This parcel's zoning is wrong", geometry=PIN):  # type: ignore[no-untyped-def]
    return post(
        client,
        f"/api/maps/versions/{version.pk}/comments/",
        {"type": "Feature", "geometry": geometry, "properties": {"text": text}},
    )


def test_a_client_pins_a_comment_and_the_api_returns_a_geojson_feature_collection(
    world: World, version, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        created = pin(client_for(world.manager_a), version)
    assert created.status_code == 201
    feature = created.json()
    assert feature["geometry"] == PIN
    assert feature["properties"]["status"] == "open" and feature["properties"]["replies"] == []
    listing = client_for(world.analyst).get(f"/api/maps/versions/{version.pk}/comments/").json()
    assert listing["type"] == "FeatureCollection"
    (only,) = listing["features"]
    props = only["properties"]
    assert props["text"] == "This parcel's zoning is wrong" and props["author"] == "manager_a"
    assert set(props) >= {"text", "author", "created", "status", "replies"}
    # The provider's side is told: the lead and the analyst who published the version.
    assert Notification.objects.filter(kind="map_comment", user=world.lead).count() == 1
    assert Notification.objects.filter(kind="map_comment", user=world.analyst).count() == 1
    assert not Notification.objects.filter(kind="map_comment", user=world.manager_a).exists()
    assert AuditEntry.objects.filter(action="comment.create", agency=world.town_a).count() == 1


def test_the_analyst_replies_and_resolves_naming_the_version_that_fixed_it(
    world: World, version, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    thread_id = pin(client_for(world.manager_a), version).json()["id"]
    analyst = client_for(world.analyst)
    with django_capture_on_commit_callbacks(execute=True):
        replied = post(
            analyst, f"/api/comments/{thread_id}/replies/", {"text": "Fixed in the next version."}
        )
    assert replied.status_code == 201
    assert replied.json()["properties"]["replies"][0]["text"] == "Fixed in the next version."
    assert Notification.objects.filter(kind="map_comment", user=world.manager_a).count() == 1
    v2 = map_publish(map=version.map, by=world.analyst, notes="Zoning fixed")
    resolved = post(analyst, f"/api/comments/{thread_id}/resolve/", {"fixed_in": v2.number})
    assert resolved.status_code == 200
    assert resolved.json()["properties"]["status"] == "resolved"
    assert resolved.json()["properties"]["resolved_in"] == 2
    open_only = analyst.get(f"/api/maps/versions/{version.pk}/comments/?status=open").json()
    assert open_only["features"] == []
    reopened = post(analyst, f"/api/comments/{thread_id}/reopen/", {})
    assert reopened.json()["properties"]["status"] == "open"
    actions = list(
        AuditEntry.objects.filter(action__startswith="comment.").values_list("action", flat=True)
    )
    assert sorted(actions) == [
        "comment.create",
        "comment.reopen",
        "comment.reply",
        "comment.resolve",
    ]


def test_only_the_provider_resolves_and_reopens(world: World, version) -> None:  # type: ignore[no-untyped-def]
    thread_id = pin(client_for(world.manager_a), version).json()["id"]
    response = post(client_for(world.manager_a), f"/api/comments/{thread_id}/resolve/", {})
    assert response.status_code == 403
    assert CommentThread.objects.get().status == "open"


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                "properties": {"text": "x"},
            },
            "Point or a small Polygon",
        ),
        (
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[-123, 38], [-121, 38], [-121, 39], [-123, 38]]],
                },
                "properties": {"text": "x"},
            },
            "too large",
        ),
        ({"geometry": PIN, "properties": {"text": "   "}}, "comment is required"),
        (
            {
                "geometry": {"type": "Point", "coordinates": [500000, 4200000]},
                "properties": {"text": "x"},
            },
            "longitude/latitude",
        ),
        ({"geometry": "junk", "properties": {"text": "x"}}, "GeoJSON Point or Polygon"),
    ],
)
def test_bad_pins_are_a_400_with_a_message_and_nothing_is_saved(
    world: World, version, body, message
) -> None:  # type: ignore[no-untyped-def]
    response = post(client_for(world.manager_a), f"/api/maps/versions/{version.pk}/comments/", body)
    assert response.status_code == 400 and message in response.json()["detail"]
    assert CommentThread.objects.count() == 0 and Comment.objects.count() == 0


def test_a_body_that_is_not_json_is_a_400(world: World, version) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world.manager_a).post(
        f"/api/maps/versions/{version.pk}/comments/", "{nope", content_type="application/json"
    )
    assert response.status_code == 400 and "not valid JSON" in response.json()["detail"]


def test_share_links_hide_comments_unless_the_link_allows_them(world: World, version) -> None:  # type: ignore[no-untyped-def]
    pin(client_for(world.manager_a), version, text="Zoning A secret remark")
    expires = timezone.now() + timedelta(days=3)
    closed = share_link_create(version=version, by=world.analyst, expires_at=expires)
    anonymous = Client()
    page = anonymous.get(f"/share/{closed.token}/").content.decode()
    assert 'id="comments"' not in page and "secret remark" not in page
    assert anonymous.get(f"/share/{closed.token}/comments/").status_code == 404
    open_link = share_link_create(
        version=version, by=world.analyst, expires_at=expires, allow_comments=True
    )
    assert 'id="comments"' in anonymous.get(f"/share/{open_link.token}/").content.decode()
    listing = anonymous.get(f"/share/{open_link.token}/comments/").json()
    assert [f["properties"]["text"] for f in listing["features"]] == ["Zoning A secret remark"]
    nameless = post(
        anonymous,
        f"/share/{open_link.token}/comments/",
        {"geometry": PIN, "properties": {"text": "hi"}},
    )
    assert nameless.status_code == 400 and "name" in nameless.json()["detail"]
    named = post(
        anonymous,
        f"/share/{open_link.token}/comments/",
        {"geometry": PIN, "properties": {"text": "Council member note", "author": "Pat"}},
    )
    assert named.status_code == 201
    assert named.json()["properties"]["author"] == "Pat (via share link)"
    assert "urls" not in named.json()["properties"]


def test_the_deliverable_shows_open_threads_and_request_changes_cites_them(
    world: World, version
) -> None:  # type: ignore[no-untyped-def]
    manager = client_for(world.manager_a)
    first = pin(manager, version, text="Wrong zone on Parcel 3").json()["id"]
    pin(manager, version, text="Label overlaps")
    page = manager.get(f"/deliverables/{world.deliverable_a.pk}/").content.decode()
    assert 'data-testid="open-threads">2<' in page and "Request changes citing comments" in page
    response = manager.post(
        f"/deliverables/{world.deliverable_a.pk}/request-changes/",
        {"threads": [first], "comment": ""},
    )
    assert response.status_code == 302
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == "changes_requested"
    transition = world.deliverable_a.transitions.get(to_status="changes_requested")
    assert list(transition.comment_threads.values_list("pk", flat=True)) == [first]


def test_request_changes_cannot_cite_another_deliverables_threads(world: World, version) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_deliverable

    other = make_deliverable(project=world.project_a, title="Other")
    other.status = "delivered"
    other.save()
    thread = pin(client_for(world.manager_a), version).json()["id"]
    client_for(world.manager_a).post(
        f"/deliverables/{other.pk}/request-changes/", {"threads": [thread]}
    )
    other.refresh_from_db()
    assert other.status == "delivered"
