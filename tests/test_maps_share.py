"""Share links: read-only access to one version without an account; revocable and expiring."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from maps.models import ShareLink
from maps.selectors import SHARE_TILE_MEMO_SECONDS
from maps.services import map_publish, share_link_create, share_link_revoke
from tests.map_factories import make_published_map, tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(world) -> ShareLink:
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=5)
    return share_link_create(
        version=version, by=world.analyst, expires_at=timezone.now() + timedelta(days=7)
    )


def share_routes(link: ShareLink) -> list[str]:
    layer = link.version.definition["layers"][0]
    return [
        reverse("maps:share", args=[link.token]),
        reverse(
            "maps:share-tile",
            args=[link.token, layer["layer_id"], *tile_of(-122.3595, 38.4001, 15)],
        )
        + f"?v={layer['version_id']}",
        reverse("maps:share-search", args=[link.token]) + "?q=Parcel",
        reverse("maps:share-labels", args=[link.token]) + "?layer=1&bbox=-123,38,-122,39",
        reverse("maps:share-export", args=[link.token, "png"]) + "?width=400&height=300",
    ]


def test_a_share_link_opens_the_version_without_an_account(link, client) -> None:
    for url in share_routes(link):
        assert client.get(url).status_code == 200, url
    page = client.get(share_routes(link)[0]).content.decode()
    assert "Zoning" in page and "/share/" in page and "Log out" not in page


def test_only_the_share_route_may_be_framed(link, client, as_town_a) -> None:
    shared = client.get(share_routes(link)[0])
    assert "X-Frame-Options" not in shared
    assert shared["Content-Security-Policy"] == "frame-ancestors *"
    viewer = as_town_a.get(reverse("maps:version", args=[link.version_id]))
    assert viewer["X-Frame-Options"] == "DENY"


def test_the_share_link_reaches_only_its_own_version(world, link, client) -> None:
    layer = link.version.definition["layers"][0]
    newer = map_publish(map=link.version.map, by=world.analyst, notes="v2")
    other_layer_version = newer.layer_versions.get().pk
    assert other_layer_version == layer["version_id"]  # same data, still pinned by v1
    _, other = make_published_map(project=world.project_b, by=world.analyst, n=3)
    foreign = other.definition["layers"][0]
    url = reverse("maps:share-tile", args=[link.token, foreign["layer_id"], 15, 0, 0])
    assert client.get(url + f"?v={foreign['version_id']}").status_code == 404
    assert client.get(url).status_code == 404


def test_revoked_links_are_refused_everywhere(world, link, client) -> None:
    share_link_revoke(link=link, by=world.analyst)
    for url in share_routes(link):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Zoning" not in response.content


def test_expired_links_are_refused_everywhere(link, client) -> None:
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    for url in share_routes(link):
        assert client.get(url).status_code == 404, url


def test_unknown_tokens_are_a_404(client) -> None:
    assert client.get(reverse("maps:share", args=["no-such-token"])).status_code == 404


def test_staff_create_and_revoke_links_from_the_version_page(world, as_analyst) -> None:
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=3)
    as_analyst.post(reverse("maps:share-create", args=[version.pk]), {"days": "3"})
    made = ShareLink.objects.get(version=version)
    assert made.is_active and made.expires_at < timezone.now() + timedelta(days=3, minutes=1)
    page = as_analyst.get(reverse("maps:version", args=[version.pk])).content.decode()
    assert made.token in page and "&lt;iframe" in page
    as_analyst.post(reverse("maps:share-revoke", args=[made.pk]))
    made.refresh_from_db()
    assert not made.is_active


def test_town_b_cannot_revoke_or_list_town_a_links(world, link, as_town_b, as_town_a) -> None:
    assert as_town_b.post(reverse("maps:share-revoke", args=[link.pk])).status_code == 404
    assert as_town_a.post(reverse("maps:share-revoke", args=[link.pk])).status_code == 404
    link.refresh_from_db()
    assert link.is_active
    assert (
        link.token
        not in as_town_a.get(reverse("maps:version", args=[link.version_id])).content.decode()
    )


# A visitor's tiles reuse the resolved link for SHARE_TILE_MEMO_SECONDS (per process): these say
# what that may and may not change.


def share_tile_url(link: ShareLink) -> str:
    return share_routes(link)[1]


def test_a_burst_of_shared_tiles_runs_no_query_after_the_first(
    link, client, django_assert_num_queries
) -> None:
    assert client.get(share_tile_url(link)).status_code == 200
    with django_assert_num_queries(0):
        for _ in range(4):
            assert client.get(share_tile_url(link)).status_code == 200


def test_revoking_a_link_in_the_portal_stops_its_tiles_at_once(world, link, client) -> None:
    assert client.get(share_tile_url(link)).status_code == 200
    share_link_revoke(link=link, by=world.analyst)
    assert client.get(share_tile_url(link)).status_code == 404


def test_a_link_revoked_by_another_worker_stops_serving_tiles_within_seconds(link, client) -> None:
    assert client.get(share_tile_url(link)).status_code == 200
    # What another web worker's revocation leaves here: the row changed, this process's memo not.
    ShareLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    revoked = time.monotonic()
    while client.get(share_tile_url(link)).status_code == 200:
        assert time.monotonic() - revoked < SHARE_TILE_MEMO_SECONDS + 1, "still served"
        time.sleep(0.2)
    assert time.monotonic() - revoked <= SHARE_TILE_MEMO_SECONDS + 1


def test_a_link_stops_serving_tiles_when_it_expires(world, client) -> None:
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=5)
    link = share_link_create(
        version=version, by=world.analyst, expires_at=timezone.now() + timedelta(seconds=1)
    )
    assert client.get(share_tile_url(link)).status_code == 200
    time.sleep(max(0.0, (link.expires_at - timezone.now()).total_seconds()) + 0.05)
    assert client.get(share_tile_url(link)).status_code == 404


def test_the_share_page_shows_the_comments_panel_only_when_the_link_allows_comments(
    world, link, client, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(4):  # the link, and the usage counter's upsert
        closed = client.get(share_routes(link)[0]).content.decode()
    assert 'id="comments"' not in closed
    open_link = share_link_create(
        version=link.version,
        by=world.analyst,
        expires_at=timezone.now() + timedelta(days=7),
        allow_comments=True,
    )
    page = client.get(reverse("maps:share", args=[open_link.token])).content.decode()
    api = reverse("collaboration:share-comments", args=[open_link.token])
    assert 'id="comments"' in page and f'data-api="{api}"' in page
