"""Personal access tokens: HTTP Basic and Bearer, revocation, expiry, the page and the command."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from ogc.models import AccessToken
from tests.conftest import World
from tests.ogc_helpers import basic, bearer, publish_parcels, token_for

pytestmark = pytest.mark.django_db


def test_a_token_works_as_the_basic_password_and_as_bearer(world: World) -> None:
    p = publish_parcels(world, n=5)
    token = token_for(world.manager_a)
    client = Client()
    for headers in (basic("manager_a", token), bearer(token)):
        response = client.get(f"/ogc/collections/{p.cid}/items", **headers)
        assert response.status_code == 200
        assert response.json()["numberReturned"] == 5
    assert AccessToken.objects.get().last_used_at is not None


def test_anonymous_clients_get_401_with_www_authenticate(world: World) -> None:
    response = Client().get("/ogc/collections")
    assert response.status_code == 401
    assert "Basic" in response["WWW-Authenticate"] and "Bearer" in response["WWW-Authenticate"]


def test_revoked_expired_wrong_user_and_unknown_tokens_get_401(world: World) -> None:
    client = Client()
    revoked, expired = token_for(world.manager_a), token_for(world.manager_a)
    AccessToken.objects.filter(prefix=revoked[:9]).update(revoked_at=timezone.now())
    AccessToken.objects.filter(prefix=expired[:9]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    good = token_for(world.manager_a)
    for headers in (
        bearer(revoked),
        bearer(expired),
        basic("manager_b", good),
        bearer("sgis_not-a-token"),
        {"HTTP_AUTHORIZATION": "Basic !!!"},
    ):
        response = client.get("/ogc/collections", **headers)
        assert response.status_code == 401, headers
        assert "WWW-Authenticate" in response


def test_a_token_in_the_query_string_is_refused(world: World) -> None:
    token = token_for(world.manager_a)
    response = Client().get(f"/ogc/collections?access_token={token}")
    assert response.status_code == 400


def test_tokens_are_stored_hashed(world: World) -> None:
    token = token_for(world.manager_a)
    row = AccessToken.objects.get()
    assert token not in (row.digest, row.prefix) and len(row.digest) == 64


def test_the_connect_page_creates_lists_and_revokes_tokens_with_audit_entries(
    world: World, as_town_a: Client
) -> None:
    page = as_town_a.get("/ogc/connect/")
    assert page.status_code == 200 and b"http://testserver/ogc/" in page.content
    created = as_town_a.post("/ogc/connect/", {"name": "QGIS laptop", "days": "30"})
    assert created.status_code == 201
    token = AccessToken.objects.get(user=world.manager_a)
    assert token.name == "QGIS laptop"
    assert 29 <= (token.expires_at - timezone.now()).days <= 30
    clear = created.content.decode().split('id="new-token">')[1].split("<")[0]
    assert Client().get("/ogc/collections", **bearer(clear)).status_code == 200
    as_town_a.post(f"/ogc/connect/tokens/{token.pk}/revoke/")
    assert Client().get("/ogc/collections", **bearer(clear)).status_code == 401
    actions = list(AuditEntry.objects.values_list("action", flat=True).order_by("pk"))
    assert actions[-2:] == ["ogc.token_create", "ogc.token_revoke"]


def test_a_token_cannot_outlive_the_configured_maximum(world: World, as_town_a: Client) -> None:
    response = as_town_a.post(
        "/ogc/connect/", {"name": "x", "days": str(settings.OGC_TOKEN_MAX_DAYS + 1)}
    )
    assert response.status_code == 200 and not AccessToken.objects.exists()
    assert b"between 1 and" in response.content


def test_another_user_cannot_revoke_my_token(world: World, as_town_b: Client) -> None:
    token_for(world.manager_a)
    token = AccessToken.objects.get()
    assert as_town_b.post(f"/ogc/connect/tokens/{token.pk}/revoke/").status_code == 404
    assert AccessToken.objects.get().revoked_at is None


@pytest.mark.django_db(transaction=True)
def test_token_create_prints_the_token_alone_on_one_line(world: World) -> None:
    from tests.layers_data import database_url_for_subprocesses

    done = subprocess.run(
        [sys.executable, "manage.py", "token_create", "manager_a", "--name", "script", "--days", "7"],
        capture_output=True, text=True, check=True,
        env={**__import__("os").environ, "DATABASE_URL": database_url_for_subprocesses()},
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sgis_")
    token = AccessToken.objects.get(name="script")
    assert token.user == world.manager_a and 6 <= (token.expires_at - timezone.now()).days <= 7


def test_token_create_refuses_too_long_a_token(world: World) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="between 1 and"):
        call_command("token_create", "manager_a", "--days", str(settings.OGC_TOKEN_MAX_DAYS + 1))
