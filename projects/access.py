"""Tenancy: the one place that knows roles and answers "what may this user see and do".

Every view, API endpoint, tile, download and export goes through `scope_for` (directly or via a
queryset's `visible_to(user)`) and `get_object_for`, so a client of one town can never reach
another town's objects: they answer 404, exactly like objects that do not exist. Rows are scoped
by their service agreement (provider and client), never by the client agency alone. Role
questions are the named predicates below; no other module spells a role.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

M = TypeVar("M", bound=models.Model)
UserLike = User | AnonymousUser

# The roles (Membership.role values). Provider staff: admin, lead, analyst; client: manager, viewer.
ADMIN = "admin"
LEAD = "lead"
ANALYST = "analyst"
MANAGER = "manager"
VIEWER = "viewer"
PROVIDER_ROLES = frozenset({ADMIN, LEAD, ANALYST})
CLIENT_ROLES = frozenset({MANAGER, VIEWER})
# Provider roles that run an agreement: close months, read the audit log, override budgets.
LEAD_ROLES = frozenset({ADMIN, LEAD})


@dataclass(frozen=True)
class Scope:
    """The agencies a user acts for, with their role in each.

    `client_agreements` narrows the client side to some agreements ("View as": a provider's
    staff see a town only through their own provider's agreements); None means all of them.
    """

    provider_roles: dict[int, str]
    client_roles: dict[int, str]
    client_agreements: frozenset[int] | None = None

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


def viewer_scope(agency_id: int, agreement_ids: frozenset[int]) -> Scope:
    """A read-only client viewer of one agency, through the given agreements only ("View as")."""
    return Scope(
        provider_roles={}, client_roles={agency_id: VIEWER}, client_agreements=agreement_ids
    )


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
    if scope.client_agreements is not None:
        client &= Q(**{f"{path}{'id' if path else 'pk'}__in": scope.client_agreements})
    if client_filter is not None:
        client &= client_filter
    return provider | client


def agency_q(user: UserLike) -> Q:
    """Agencies a user may see: the ones they belong to, and the towns their providers serve."""
    scope = scope_for(user)
    return Q(pk__in=scope.provider_ids | scope.client_ids) | Q(
        client_agreements__provider_id__in=scope.provider_ids
    )


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


# --- role predicates: the only questions the rest of the code asks about roles.
# `on` is a ServiceAgreement or anything that leads to one (a project, a deliverable, a layer,
# a map, a time entry...): the answer is always about that object's agreement.


def agreement_of(on: Any) -> Any:
    """The ServiceAgreement an object belongs to (itself when it is one)."""
    for _ in range(4):
        if hasattr(on, "provider_id") and hasattr(on, "client_id"):
            return on
        on = on.agreement if hasattr(on, "agreement_id") else on.project
    raise TypeError(f"{on!r} does not lead to a service agreement")


def has_role(user: UserLike, on: Any, *roles: str) -> bool:
    """The user holds one of `roles` on either side of `on`'s agreement (any role if none given)."""
    scope = scope_for(user)
    agreement = agreement_of(on)
    wanted = frozenset(roles) if roles else PROVIDER_ROLES | CLIENT_ROLES
    if scope.provider_roles.get(agreement.provider_id) in wanted:
        return True
    if scope.client_agreements is not None and agreement.pk not in scope.client_agreements:
        return False
    return scope.client_roles.get(agreement.client_id) in wanted


def is_provider_staff(user: UserLike, on: Any) -> bool:
    """Staff (any role) of the provider of `on`'s agreement: they produce and edit its work."""
    return has_role(user, on, *PROVIDER_ROLES)


def is_lead(user: UserLike, on: Any) -> bool:
    """An admin or lead of the provider: closes months, overrides budgets, reads the audit log."""
    return has_role(user, on, *LEAD_ROLES)


def is_client_manager(user: UserLike, on: Any) -> bool:
    """A manager of the client: accepts deliverables, sees money, reads its audit entries."""
    return has_role(user, on, MANAGER)


def can_see_money(user: UserLike, on: Any) -> bool:
    """Hours used, rates and amounts: the provider's staff and the client's managers."""
    return is_provider_staff(user, on) or is_client_manager(user, on)


def can_make_move(user: UserLike, on: Any, side: str) -> bool:
    """A workflow move made by `side` ("provider" or "client", see Deliverable.TRANSITIONS)."""
    return is_provider_staff(user, on) if side == "provider" else is_client_manager(user, on)


def is_provider_staff_anywhere(user: UserLike) -> bool:
    """Staff of some provider (in the scope of this request: "View as" is a client's scope)."""
    return scope_for(user).is_provider_staff


def is_lead_anywhere(user: UserLike) -> bool:
    return bool(LEAD_ROLES & set(scope_for(user).provider_roles.values()))


def is_client_manager_anywhere(user: UserLike) -> bool:
    return MANAGER in scope_for(user).client_roles.values()


def can_read_audit(user: UserLike) -> bool:
    """Superusers, provider admins and leads, client managers (each their own part: audit_q)."""
    return (
        bool(getattr(user, "is_superuser", False))
        or is_lead_anywhere(user)
        or is_client_manager_anywhere(user)
    )


def audit_q(user: UserLike) -> Q:
    """The audit entries a user may read (a filter on audit.AuditEntry).

    An entry of an agreement: that agreement's provider admins and leads; its client's managers
    when the entry is `client_visible` (published things and decisions, never drafts).
    An entry without agreement (memberships): the agency's own admins, leads or managers, and
    the admins and leads of the providers serving that agency.
    """
    if getattr(user, "is_superuser", False):
        return Q()
    scope = scope_for(user)
    leads = [a for a, role in scope.provider_roles.items() if role in LEAD_ROLES]
    managed = [a for a, role in scope.client_roles.items() if role == MANAGER]
    if not leads and not managed:
        return Q(pk__in=[])
    from projects.models import ServiceAgreement

    q = Q(pk__in=[])
    if leads:
        served = ServiceAgreement.objects.filter(provider_id__in=leads).values("client_id")
        q |= Q(agreement__provider_id__in=leads)
        q |= Q(agreement__isnull=True) & (Q(agency_id__in=leads) | Q(agency_id__in=served))
    if managed:
        mine = Q(agreement__client_id__in=managed, client_visible=True)
        if scope.client_agreements is not None:
            mine &= Q(agreement_id__in=scope.client_agreements)
        q |= mine | Q(agreement__isnull=True, agency_id__in=managed)
    return q


# --- who is who: agencies and people, for lists, "View as" and notification recipients


def clients_served_by(user: UserLike) -> "models.QuerySet[Any]":
    """Client agencies the user's providers hold an agreement with (not towns they belong to)."""
    from projects.models import Agency

    return Agency.objects.filter(
        kind=Agency.Kind.CLIENT,
        client_agreements__provider_id__in=scope_for(user).provider_ids,
    ).distinct()


def agreements_of_staff(user: UserLike) -> "models.QuerySet[Any]":
    """Every agreement whose provider the user works for."""
    from projects.models import ServiceAgreement

    return ServiceAgreement.objects.filter(provider_id__in=scope_for(user).provider_ids)


def members(agency_id: int, *roles: str) -> "models.QuerySet[User]":
    """Active users of an agency holding one of `roles` (all members if none given)."""
    qs = User.objects.filter(is_active=True, memberships__agency_id=agency_id)
    return (qs.filter(memberships__role__in=roles) if roles else qs).distinct()


def provider_leads(on: Any) -> "models.QuerySet[User]":
    """The project leads of the provider of `on`'s agreement."""
    return members(agreement_of(on).provider_id, LEAD)


def client_managers(on: Any) -> "models.QuerySet[User]":
    return members(agreement_of(on).client_id, MANAGER)


@dataclass(frozen=True)
class Nav:
    """What the navigation shows a user (the `tenancy_nav` template tag)."""

    provider_staff: bool
    client_manager: bool
    audit: bool


def nav_for(user: UserLike) -> Nav:
    return Nav(
        provider_staff=is_provider_staff_anywhere(user),
        client_manager=is_client_manager_anywhere(user),
        audit=can_read_audit(user),
    )


def view_as_agency_id(request: HttpRequest) -> int | None:
    """The client agency a provider's staff member is viewing the portal as, if any."""
    agency = getattr(request, "view_as", None)
    return agency.pk if agency is not None else None


def api_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Machine routes (tiles, JSON) answer 401 instead of redirecting to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"detail": "Authentication required."}, status=401)
        return view(request, *args, **kwargs)

    return wrapper
