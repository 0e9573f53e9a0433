"""Plain factory functions: each makes a valid object with sensible defaults, overridable by keyword."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.gis.geos import MultiPolygon, Polygon

from projects.models import Agency, Deliverable, Membership, Project, ServiceAgreement

_seq = count(1)


def box(lon: float, lat: float, half: float = 0.01) -> MultiPolygon:
    return MultiPolygon(
        Polygon.from_bbox((lon - half, lat - half, lon + half, lat + half)), srid=4326
    )


def make_agency(*, kind: str = Agency.Kind.CLIENT, **kw: Any) -> Agency:
    n = next(_seq)
    kw.setdefault("name", f"Agency {n}")
    kw.setdefault("slug", f"agency-{n}")
    return Agency.objects.create(kind=kind, **kw)


def make_user(*, agency: Agency | None = None, role: str | None = None, **kw: Any) -> AbstractUser:
    n = next(_seq)
    kw.setdefault("username", f"user{n}")
    user = get_user_model().objects.create_user(password="pw-for-tests-1", **kw)
    if agency is not None:
        Membership.objects.create(user=user, agency=agency, role=role or "viewer")
    return user


def make_agreement(*, provider: Agency, client: Agency, **kw: Any) -> ServiceAgreement:
    n = next(_seq)
    kw.setdefault("title", f"Agreement {n}")
    kw.setdefault("start_date", date.today() - timedelta(days=90))
    kw.setdefault("end_date", date.today() + timedelta(days=275))
    kw.setdefault("hourly_rate", Decimal("100.00"))
    kw.setdefault("hours_budget", Decimal("100"))
    kw.setdefault("status", ServiceAgreement.Status.ACTIVE)
    return ServiceAgreement.objects.create(provider=provider, client=client, **kw)


def make_project(*, agreement: ServiceAgreement, **kw: Any) -> Project:
    n = next(_seq)
    kw.setdefault("name", f"Project {n}")
    kw.setdefault("slug", f"project-{n}")
    return Project.objects.create(agreement=agreement, **kw)


def make_deliverable(*, project: Project, **kw: Any) -> Deliverable:
    n = next(_seq)
    kw.setdefault("title", f"Deliverable {n}")
    kw.setdefault("due_date", date.today() + timedelta(days=7))
    return Deliverable.objects.create(project=project, **kw)
