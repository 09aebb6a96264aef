"""Reading Severa requests: query parameters by their type in the vendor document, JSON bodies,
JSON Patch documents and paging parameters. Everything wrong is a 400 in the ExceptionModel
envelope naming the parameter (`InvalidParameter`, location `UriParameter` or `RequestBody`).

A parameter's *kind* is its type in Severa's OpenAPI document (checked against it by
`contract_tests/severa/test_listing_parity.py`):

| kind | OpenAPI | read as |
|---|---|---|
| ``guids`` | array of string/uuid (``?a=g1&a=g2``, ``a[]=``, or comma-separated) | set of lower-case GUIDs |
| ``ints`` | array of integer | set of ints |
| ``texts`` | array of string, comma-separated | set of strings |
| ``names`` | array of string (names may hold commas: never split) | set of strings |
| ``bool`` | boolean (``true``/``false``, any case) | bool |
| ``text`` | string | str |
| ``datetime`` | string/date-time (an unencoded ``+`` arrives as a space) | aware datetime |
| ``number`` | number | float |
| ``enum`` | string enum (matched case-insensitively) | the value as documented |
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import request

from simulators.kit import request_json

from .errors import SeveraError, bad_param

JSON_PATCH_OPS = ("add", "copy", "move", "remove", "replace", "test")


def values(name: str) -> list[str]:
    return request.args.getlist(name) + request.args.getlist(name + "[]")


def q_str(name: str) -> str | None:
    v = request.args.get(name)
    return v if v not in (None, "") else None


def q_int(name: str, default: int | None = None, minimum: int | None = None) -> int | None:
    v = q_str(name)
    if v is None:
        return default
    if not re.fullmatch(r"-?\d{1,10}", v.strip()):
        raise bad_param(name, f"The value '{v}' is not valid for {name}: expected an integer.")
    out = int(v)
    if minimum is not None and out < minimum:
        raise bad_param(name, f"{name} must be at least {minimum}.")
    return out


def q_bool(name: str) -> bool | None:
    v = q_str(name)
    if v is None:
        return None
    if v.lower() not in ("true", "false"):
        raise bad_param(name, f"The value '{v}' is not valid for {name}: expected true or false.")
    return v.lower() == "true"


def parse_dt(name: str, v: str) -> datetime:
    text = v.strip().replace(" ", "+")  # an unencoded '+' of an offset arrives as a space
    try:
        d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_param(
            name, f"The value '{v}' is not valid for {name}: expected an ISO 8601 date-time."
        ) from exc
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def q_dt(name: str) -> datetime | None:
    v = q_str(name)
    return None if v is None else parse_dt(name, v)


def q_float(name: str) -> float | None:
    v = q_str(name)
    if v is None:
        return None
    try:
        return float(v)
    except ValueError as exc:
        raise bad_param(name, f"The value '{v}' is not valid for {name}: expected a number.") from exc


def q_texts(name: str) -> set[str] | None:
    return {v for raw in values(name) for v in raw.split(",") if v} or None


def q_names(name: str) -> set[str] | None:
    return {v for v in values(name) if v} or None


def q_guids(name: str) -> set[str] | None:
    vals = [v for raw in values(name) for v in raw.split(",") if v]
    if not vals:
        return None
    for v in vals:
        try:
            uuid.UUID(v)
        except ValueError as exc:
            raise bad_param(name, f"The value '{v}' is not valid for {name}: expected a GUID.") from exc
    return {v.lower() for v in vals}


def q_ints(name: str) -> set[int] | None:
    vals = [v for raw in values(name) for v in raw.split(",") if v]
    if not vals:
        return None
    bad = [v for v in vals if not re.fullmatch(r"-?\d{1,10}", v)]
    if bad:
        raise bad_param(name, f"The value '{bad[0]}' is not valid for {name}: expected an integer.")
    return {int(v) for v in vals}


def q_enum(name: str, allowed: Iterable[str]) -> str | None:
    v = q_str(name)
    if v is None:
        return None
    for a in allowed:
        if a.lower() == v.lower():
            return a
    raise bad_param(name, f"The value '{v}' is not valid for {name}: expected one of {', '.join(allowed)}.")


READERS = {
    "guids": q_guids,
    "ints": q_ints,
    "texts": q_texts,
    "names": q_names,
    "bool": q_bool,
    "text": q_str,
    "datetime": q_dt,
    "number": q_float,
}


def q_kind(kind: str, name: str, allowed: tuple[str, ...] = ()) -> Any:
    """The parameter `name` read as `kind` (see the module table); None when it is absent."""
    if kind == "enum":
        return q_enum(name, allowed)
    return READERS[kind](name)


# ---------------------------------------------------------------------------- paging
def row_count(cap: int, default: int = 20) -> int:
    """`rowCount`: 0 or less is a 400; above the cap it is clamped to the cap."""
    n = q_int("rowCount", default)
    assert n is not None
    if n <= 0:
        raise bad_param("rowCount", "rowCount must be greater than 0.")
    return min(n, cap)


def first_row() -> int:
    first = q_int("firstRow", 0, minimum=0)
    assert first is not None
    return first


def filters_key() -> str:
    """What a page token is bound to: the path (alias folded) and every filter but the paging."""
    items = sorted((k, v) for k, v in request.args.items(multi=True) if k not in ("pageToken", "rowCount"))
    return request.path.replace("/v1.0/", "/v1/") + "?" + "&".join(f"{k}={v}" for k, v in items)


# ---------------------------------------------------------------------------- bodies
def _body_error(message: str, name: str, type: str = "InvalidRequest") -> SeveraError:
    return SeveraError(400, message, type=type, location="RequestBody", name=name)


def read_json() -> Any:
    if not request.get_data().strip():
        raise _body_error("A request body is required.", "body")
    try:
        return request_json()  # parsed once, before the lock; nesting deeper than ASP.NET's 64 is a 400
    except ValueError as exc:
        raise _body_error(f"The request body is not valid JSON: {exc}", "body") from exc


def read_object(what: str, name: str) -> dict[str, Any]:
    """A JSON object body (`what`: "an InvoiceStatusModel"), its keys folded to lower case
    (ASP.NET binds fields case-insensitively)."""
    body = read_json()
    if not isinstance(body, dict):
        raise _body_error(f"The request body must be {what} object.", name)
    return {k.lower(): v for k, v in body.items()}


def read_patch() -> list[dict[str, Any]]:
    body = read_json()
    if not isinstance(body, list):
        raise _body_error(
            "The request body must be a JSON Patch document (an array of operations).", "patchDocument"
        )
    ops = []
    for i, op in enumerate(body):
        if not isinstance(op, dict):
            raise bad_param(f"[{i}]", f"Operation {i} must be an object.", "RequestBody")
        low = {k.lower(): v for k, v in op.items()}
        kind, path = low.get("op"), low.get("path")
        if not isinstance(kind, str) or kind.lower() not in JSON_PATCH_OPS:
            raise bad_param(
                f"[{i}].op",
                f"Operation {i}: 'op' must be one of Add, Copy, Move, Remove, Replace.",
                "RequestBody",
            )
        if not isinstance(path, str) or not path.startswith("/"):
            raise bad_param(
                f"[{i}].path",
                f"Operation {i}: 'path' must be a JSON pointer such as /status/guid.",
                "RequestBody",
            )
        ops.append({"op": kind.lower(), "path": path, "value": low.get("value"), "from": low.get("from")})
    return ops
