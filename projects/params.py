"""Numbers from query strings and forms, parsed in one place: odd input is a 400, never a 500.

`"²".isdigit()` is True in Python yet `int("²")` fails, a 30-digit id overflows PostgreSQL's bigint,
and `timedelta(days=10**12)` overflows: each gave a 500. Views read numbers only through these
helpers; a bad value raises BadParameter, which Django answers with 400 and its message
(portal/errors.py).
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import BadRequest

# Ids are PostgreSQL bigints.
MAX_ID = 2**63 - 1
# Longer than any bigint: refused before int() (which also refuses more than 4,300 digits).
MAX_DIGITS = 19


class BadParameter(BadRequest):
    """A request parameter that is not what the route expects; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_int(
    value: Any,
    *,
    name: str,
    default: int | None = None,
    minimum: int | None = 0,
    maximum: int | None = MAX_ID,
) -> int | None:
    """`value` as an int within [minimum, maximum]; `default` when it is missing or empty."""
    if value is None:
        return default
    text = str(value).strip()
    if text == "":
        return default
    digits = text[1:] if text[:1] in "+-" else text
    # ASCII digits only: str.isdigit() accepts "²" and other digits int() refuses.
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_DIGITS:
        raise BadParameter(f"“{name}” must be a whole number, not “{text[:40]}”.")
    number = int(text)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        low = "" if minimum is None else f" from {minimum:,}"
        high = "" if maximum is None else f" to {maximum:,}"
        raise BadParameter(f"“{name}” must be a number{low}{high}; {number:,} is out of range.")
    return number


def int_param(
    query: Mapping[str, Any],
    name: str,
    default: int | None = None,
    *,
    minimum: int | None = 0,
    maximum: int | None = MAX_ID,
) -> int | None:
    """A number from a QueryDict (request.GET / request.POST) or any mapping."""
    return parse_int(query.get(name), name=name, default=default, minimum=minimum, maximum=maximum)


def id_param(query: Mapping[str, Any], name: str) -> int | None:
    """A row id (1 to MAX_ID), or None when the parameter is absent."""
    return int_param(query, name, None, minimum=1)


def int_list_param(query: Mapping[str, Any], name: str) -> list[int] | None:
    """Comma-separated ids ("3,5,8"); None when the parameter is absent, [] when it is empty."""
    raw = query.get(name)
    if raw is None:
        return None
    return [parse_int(part, name=name, minimum=0) or 0 for part in str(raw).split(",") if part]


def id_values(values: list[str], name: str) -> list[int]:
    """Ids from a repeated form field (request.POST.getlist)."""
    return [parse_int(v, name=name, minimum=1) or 0 for v in values if str(v).strip()]
