"""The personas every test speaks in: a provider analyst, a manager of town A, one of town B,
and a second provider that also serves town A under its own agreement."""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connections
from django.test import Client

from projects.models import Agency, Deliverable, Project, ServiceAgreement
from tests.factories import (
    box,
    make_agency,
    make_agreement,
    make_deliverable,
    make_project,
    make_user,
)

# Playwright's sync API runs an event loop in the test thread; Django must still allow DB access.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Password hashing is deliberately slow; tests create many users and measure nothing of it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    provider: Agency
    town_a: Agency
    town_b: Agency
    analyst: AbstractUser
    lead: AbstractUser
    manager_a: AbstractUser
    viewer_a: AbstractUser
    manager_b: AbstractUser
    agreement_a: ServiceAgreement
    agreement_b: ServiceAgreement
    project_a: Project
    project_b: Project
    deliverable_a: Deliverable
    deliverable_b: Deliverable


@pytest.fixture
def world(db: None) -> World:
    provider = make_agency(kind=Agency.Kind.PROVIDER, name="City GIS", slug="city-gis")
    town_a = make_agency(name="Town A", slug="town-a", boundary=box(-122.36, 38.40))
    town_b = make_agency(name="Town B", slug="town-b", boundary=box(-122.58, 38.58))
    agreement_a = make_agreement(provider=provider, client=town_a, title="A services")
    agreement_b = make_agreement(provider=provider, client=town_b, title="B services")
    project_a = make_project(agreement=agreement_a, name="Zoning A", slug="zoning-a")
    project_b = make_project(agreement=agreement_b, name="Storm B", slug="storm-b")
    return World(
        provider=provider,
        town_a=town_a,
        town_b=town_b,
        analyst=make_user(username="analyst", agency=provider, role="analyst"),
        lead=make_user(username="lead", agency=provider, role="lead"),
        manager_a=make_user(username="manager_a", agency=town_a, role="manager"),
        viewer_a=make_user(username="viewer_a", agency=town_a, role="viewer"),
        manager_b=make_user(username="manager_b", agency=town_b, role="manager"),
        agreement_a=agreement_a,
        agreement_b=agreement_b,
        project_a=project_a,
        project_b=project_b,
        deliverable_a=make_deliverable(project=project_a, title="Zoning map A"),
        deliverable_b=make_deliverable(project=project_b, title="Storm map B"),
    )


@dataclass
class SecondProvider:
    """County GIS, a second provider serving town A under its own agreement.

    Its staff must never reach City GIS's work for town A (rows, audit entries, "View as"),
    and town A sees each provider's work through that provider's agreement only.
    """

    provider: Agency
    admin: AbstractUser
    analyst: AbstractUser
    agreement: ServiceAgreement
    project: Project


@pytest.fixture
def second_provider(world: World) -> SecondProvider:
    provider = make_agency(kind=Agency.Kind.PROVIDER, name="County GIS", slug="county-gis")
    agreement = make_agreement(provider=provider, client=world.town_a, title="County roads")
    return SecondProvider(
        provider=provider,
        admin=make_user(username="county_admin", agency=provider, role="admin"),
        analyst=make_user(username="county_analyst", agency=provider, role="analyst"),
        agreement=agreement,
        project=make_project(agreement=agreement, name="Roads for A", slug="roads-a"),
    )


def client_for(user: AbstractUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_analyst(world: World) -> Client:
    return client_for(world.analyst)


@pytest.fixture
def as_town_a(world: World) -> Client:
    return client_for(world.manager_a)


@pytest.fixture
def as_town_b(world: World) -> Client:
    return client_for(world.manager_b)


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[str]:
    """A real Celery worker on the real Redis broker, consuming a queue private to this test.

    It runs in a thread of the test process, so it uses the test database; tests using it see
    only committed rows (transactional_db), exactly as in production.
    """
    from celery.contrib.testing.worker import start_worker

    # A test's last task may queue follow-up work (tile overviews of a 300,000-point layer take
    # about a minute on a busy 2-core machine); shutdown waits for it rather than failing.
    from portal.celery import app

    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        with start_worker(
            app, queues=[queue], pool="solo", perform_ping_check=False, shutdown_timeout=180
        ):
            yield queue
    finally:
        app.conf.task_default_queue = previous
        connections.close_all()
