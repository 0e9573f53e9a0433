"""A client of one town never reaches another town's agreements, projects or deliverables."""

import pytest
from django.urls import reverse

from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def routes_of_town_a(world: World) -> list[str]:
    return [
        reverse("projects:project", args=[world.project_a.slug]),
        reverse("projects:deliverable", args=[world.deliverable_a.pk]),
        reverse("projects:api-project", args=[world.project_a.slug]),
        reverse("projects:api-deliverable", args=[world.deliverable_a.pk]),
    ]


def test_town_a_manager_opens_every_page_of_its_own_work(world: World, as_town_a) -> None:
    for url in routes_of_town_a(world):
        assert as_town_a.get(url).status_code == 200, url


def test_provider_analyst_opens_every_client_page(world: World, as_analyst) -> None:
    for url in routes_of_town_a(world):
        assert as_analyst.get(url).status_code == 200, url


def test_town_b_gets_404_not_403_for_every_town_a_route(world: World, as_town_b) -> None:
    for url in routes_of_town_a(world):
        response = as_town_b.get(url)
        assert response.status_code == 404, url
        assert b"Town A" not in response.content and b"Zoning" not in response.content


def test_town_b_cannot_move_town_a_deliverable(world: World, as_town_b) -> None:
    url = reverse("projects:deliverable-move", args=[world.deliverable_a.pk])
    assert as_town_b.post(url, {"to_status": "in_progress"}).status_code == 404
    world.deliverable_a.refresh_from_db()
    assert world.deliverable_a.status == "planned"


def test_missing_objects_answer_like_foreign_ones(as_town_b) -> None:
    assert as_town_b.get(reverse("projects:project", args=["no-such-project"])).status_code == 404
    assert as_town_b.get(reverse("projects:deliverable", args=[999999])).status_code == 404


def test_anonymous_visitors_are_sent_to_login(world: World, client) -> None:
    for url in [reverse("home"), *routes_of_town_a(world)[:2]]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            "/accounts/login/"
        ), url
    for url in routes_of_town_a(world)[2:]:
        assert client.get(url).status_code in (401, 403), url


def test_home_of_town_b_lists_only_its_own_projects(world: World, as_town_b) -> None:
    body = as_town_b.get(reverse("home")).content.decode()
    assert "Storm B" in body
    assert "Zoning A" not in body and "Town A" not in body and "A services" not in body


def test_provider_home_lists_every_client(world: World, as_analyst) -> None:
    body = as_analyst.get(reverse("home")).content.decode()
    assert "Town A" in body and "Town B" in body and "Zoning A" in body and "Storm B" in body


def test_api_lists_are_scoped_to_the_users_agency(world: World, as_town_b) -> None:
    projects = as_town_b.get(reverse("projects:api-projects")).json()["results"]
    assert [p["slug"] for p in projects] == ["storm-b"]
    deliverables = as_town_b.get(reverse("projects:api-deliverables")).json()["results"]
    assert [d["title"] for d in deliverables] == ["Storm map B"]


def test_a_user_without_membership_sees_nothing(world: World) -> None:
    from tests.factories import make_user

    loner = client_for(make_user(username="loner"))
    assert "Zoning A" not in loner.get(reverse("home")).content.decode()
    assert loner.get(reverse("projects:project", args=[world.project_a.slug])).status_code == 404


def test_a_user_in_two_towns_sees_both(world: World) -> None:
    from projects.models import Membership

    Membership.objects.create(user=world.manager_a, agency=world.town_b, role="viewer")
    both = client_for(world.manager_a)
    assert both.get(reverse("projects:project", args=[world.project_b.slug])).status_code == 200
