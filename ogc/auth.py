"""Who is asking: a signed-in browser session, a personal access token, or a share link.

Desktop clients send the token as the password of HTTP Basic (QGIS, ArcGIS Pro, GDAL) or as
`Authorization: Bearer`. Never in the query string: a URL ends up in logs and proxies.
"""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest, HttpResponse, JsonResponse

from ogc.services import token_user
from projects.access import UserLike

REALM = "SharedGIS OGC API"
WWW_AUTHENTICATE = f'Basic realm="{REALM}", Bearer realm="{REALM}"'
# Query parameters that would carry a credential: refused, so a token never lands in a log.
CREDENTIAL_PARAMS = ("token", "access_token", "api_key", "apikey", "key")


@dataclass(frozen=True)
class Principal:
    """The reader of a request: a user (their scope decides) or a share link (its version only)."""

    user: UserLike
    share: Any = None  # maps.models.ShareLink when reading through a share link


def unauthorized(
    message: str = "Authentication required: send a personal access token.",
) -> HttpResponse:
    response = JsonResponse({"code": "Unauthorized", "description": message}, status=401)
    response["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


def _token_from_header(request: HttpRequest) -> tuple[str, str | None] | None:
    """(token, basic username or None) from the Authorization header, else None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value, None
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "", None
        username, _, password = decoded.partition(":")
        return password, username
    return None


def request_user(request: HttpRequest) -> UserLike | None:
    """The user of the request, or None when credentials were sent but are not valid."""
    sent = _token_from_header(request)
    if sent is None:
        return request.user if request.user.is_authenticated else AnonymousUser()
    token, username = sent
    user = token_user(token) if token else None
    if user is None or (username is not None and username.lower() != user.username.lower()):
        return None
    return user


def ogc_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolve the principal (session or token), or answer 401 with WWW-Authenticate."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if any(p in request.GET for p in CREDENTIAL_PARAMS):
            return JsonResponse(
                {
                    "code": "InvalidParameterValue",
                    "description": "Credentials are never accepted in the URL: send the token "
                    "as the password of HTTP Basic or as “Authorization: Bearer”.",
                },
                status=400,
            )
        user = request_user(request)
        if user is None:
            return unauthorized("The access token is not valid: it may be revoked or expired.")
        if not user.is_authenticated:
            return unauthorized()
        request.user = user
        return view(request, Principal(user=user), *args, **kwargs)

    return wrapper


def signed_in_user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user
