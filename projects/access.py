"""Tenancy: the one place that answers "what may this user see".

Every view, API endpoint, tile, download and export goes through `scope_for` (directly or via a
queryset's `visible_to(user)`) and `get_object_for`, so a client of one town can never reach
another town's objects: they answer 404, exactly like objects that do not exist.
"""

from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpRequest

M = TypeVar("M", bound=models.Model)
UserLike = User | AnonymousUser

PROVIDER_ROLES = frozenset({"admin", "lead", "analyst"})
CLIENT_ROLES = frozenset({"manager", "viewer"})


@dataclass(frozen=True)
class Scope:
    """The agencies a user acts for, with their role in each."""

    provider_roles: dict[int, str]
    client_roles: dict[int, str]

    @property
    def provider_ids(self) -> frozenset[int]:
        return frozenset(self.provider_roles)

    @property
    def client_ids(self) -> frozenset[int]:
        return frozenset(self.client_roles)

    @property
    def is_provider_staff(self) -> bool:
        return bool(self.provider_roles)

    def role_in(self, agency_id: int) -> str | None:
        return self.provider_roles.get(agency_id) or self.client_roles.get(agency_id)


EMPTY_SCOPE = Scope(provider_roles={}, client_roles={})


def scope_for(user: UserLike) -> Scope:
    """The user's scope, computed once per request (memoised on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return EMPTY_SCOPE
    cached = getattr(user, "_sharedgis_scope", None)
    if cached is not None:
        return cached
    from projects.models import Membership

    provider_roles: dict[int, str] = {}
    client_roles: dict[int, str] = {}
    for agency_id, kind, role in Membership.objects.filter(user_id=user.pk).values_list(
        "agency_id", "agency__kind", "role"
    ):
        (provider_roles if kind == "provider" else client_roles)[agency_id] = role
    scope = Scope(provider_roles=provider_roles, client_roles=client_roles)
    user._sharedgis_scope = scope  # type: ignore[attr-defined]
    return scope


def forget_scope(user: UserLike) -> None:
    """Drop the memoised scope after memberships change."""
    if hasattr(user, "_sharedgis_scope"):
        del user._sharedgis_scope


def agreement_q(user: UserLike, path: str, *, client_filter: Q | None = None) -> Q:
    """Rows reachable through the agreement at `path` ("" for ServiceAgreement itself).

    Provider staff see every row of their provider's agreements. Client users see rows of
    their own agency's agreements, narrowed by `client_filter` (e.g. published layers only).
    """
    scope = scope_for(user)
    if not scope.provider_ids and not scope.client_ids:
        return Q(pk__in=[])
    provider = Q(**{f"{path}provider_id__in": scope.provider_ids})
    client = Q(**{f"{path}client_id__in": scope.client_ids})
    if client_filter is not None:
        client &= client_filter
    return provider | client


class TenantQuerySet(models.QuerySet[M]):
    """A queryset of rows owned through a service agreement.

    Subclasses set `agreement_path` (the lookup path to the agreement, ending in "__") and may
    override `client_filter` to hide rows from client users (drafts, unpublished layers).
    """

    agreement_path = ""

    def client_filter(self, user: UserLike) -> Q | None:
        return None

    def visible_to(self, user: UserLike) -> "TenantQuerySet[M]":
        return self.filter(
            agreement_q(user, self.agreement_path, client_filter=self.client_filter(user))
        )


def signed_in(request: HttpRequest) -> User:
    """The request's user, for views already behind login_required."""
    if not isinstance(request.user, User):
        raise PermissionDenied("Log in first.")
    return request.user


def get_object_for(user: UserLike, model_or_qs: type[M] | models.QuerySet[M], **lookup: Any) -> M:
    """The object if `user` may see it, else 404, whether it exists in another agency or not."""
    qs = (
        model_or_qs
        if isinstance(model_or_qs, models.QuerySet)
        else model_or_qs._default_manager.all()
    )
    visible = qs.visible_to(user)  # type: ignore[attr-defined]
    try:
        return visible.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found.") from exc
