"""Maventa's error envelope: ``{"code": "...", "message": "...", "details": ["..."]}``.

The AX API answers every error with this body (spec ``API_Entities_Error``). Codes used by the
fake and where they come from:

* ``invalid_credentials`` (401) – wrong company UUID / user API key / vendor key at
  ``POST /oauth2/token`` [client: Ruby client test].
* ``auth_unauthorized`` (401) – missing, malformed or expired bearer token [client].
* ``insufficient_scope`` (403) – the token lacks the operation's scope [inferred].
* ``company_unverified`` (403, message ``Unauthorized``) – sending while the company is not
  verified (KYC not signed); the docs only say the API answers "Unauthorized" [doc + inferred].
* ``invalid_parameters`` (400) – bad query/body values [spec/client].
* ``invalid_file`` / ``validation_failed`` (400) – an upload that is not safe, well-formed XML
  or not a valid Finvoice [inferred]; ``details`` lists the validator messages.
* ``bid_already_taken`` (422, message ``BID ALREADY TAKEN``) – second registration of a
  business ID [doc].
* ``not_found`` (404), ``uuid_conflict`` (409: a uuid another company used) [inferred].
* ``uuid_already_used`` (409) – a uuid sent again with *another* invoice (the default
  ``MaventaSimulator(uuid_reuse="refuse")``) [inferred: Maventa documents no answer].
* ``format_not_supported`` / ``invalid_file`` / ``file_too_large`` / ``storage_limit_exceeded``
  – uploads the fake cannot take [inferred].
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response, jsonify

from simulators.kit import ServiceError

# HTTP status -> the code of an error the kit answers (a fault rule, an unknown route, a bug)
DEFAULT_CODES = {
    401: "auth_unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "file_too_large",
    429: "rate_limited",
}


class MaventaError(ServiceError):
    """An API error in Maventa's own envelope; raised anywhere below the routes."""

    def __init__(self, status: int, code: str, message: str, details: Iterable[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = [str(d) for d in (details or [])]

    def body(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "details": self.details}

    def response(self) -> Response:
        resp = jsonify(self.body())
        resp.status_code = self.status
        return resp


def error_body(code: str, message: str, details: object = None) -> dict[str, object]:
    """The envelope; ``details`` always becomes a list of strings (as the spec says)."""
    if details is None:
        items: list[str] = []
    elif isinstance(details, (list, tuple)):
        items = [str(d) for d in details]
    elif isinstance(details, dict):
        items = [f"{k}: {v}" for k, v in details.items()]
    else:
        items = [str(details)]
    return {"code": code, "message": message, "details": items}


def error_response(status: int, message: str, *, code: str | None = None, details: Any = None) -> Response:
    default = DEFAULT_CODES.get(status, "internal_error" if status >= 500 else "invalid_parameters")
    resp = jsonify(error_body(code or default, message, details))
    resp.status_code = status
    return resp


def bad_request(message: str, details: Iterable[str] | None = None) -> MaventaError:
    return MaventaError(400, "invalid_parameters", message, details)


def not_found(what: str) -> MaventaError:
    return MaventaError(404, "not_found", f"{what} not found")
