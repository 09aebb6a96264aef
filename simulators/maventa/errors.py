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
* ``not_found`` (404), ``uuid_conflict`` (409) [inferred].
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, jsonify


class MaventaError(Exception):
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


def bad_request(message: str, details: Iterable[str] | None = None) -> MaventaError:
    return MaventaError(400, "invalid_parameters", message, details)


def not_found(what: str) -> MaventaError:
    return MaventaError(404, "not_found", f"{what} not found")
