"""Maestro's error body (virheilmoitus): `{"code", "message", "details": [{"field", "message"}]}`.

The same envelope is used for every error the fake gives, including the kit's faults, 404
near-miss help, 405, 413 and 500, so a client needs exactly one error parser.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from simulators.kit import ServiceError

# HTTP status -> the code used when nobody names a more specific one.
DEFAULT_CODES = {
    400: "bad_request",
    401: "invalid_api_key",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def detail(field: str | None, message: str) -> dict[str, Any]:
    """One `details` entry: the offending field (a path like `rows[1].codes`) and what is wrong."""
    return {"field": field, "message": message}


class MaestroError(ServiceError):
    """Raised anywhere in a request; becomes Maestro's error body with `status`."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []

    def response(self) -> Response:
        return error_response(self.status, self.message, code=self.code, details=self.details)


def normalise_details(details: Any) -> list[dict[str, Any]]:
    """Whatever the kit passes as details (dict, list, None) as a list of `detail` entries."""
    if details is None:
        return []
    if isinstance(details, dict):
        out: list[dict[str, Any]] = []
        for key, value in details.items():
            values = value if isinstance(value, list) else [value]
            if key == "closest_routes":
                out.extend(detail(None, f"did you mean {v}?") for v in values)
            else:
                out.extend(detail(str(key), str(v)) for v in values)
        return out
    if isinstance(details, list):
        return [
            d if isinstance(d, dict) and set(d) == {"field", "message"} else detail(None, str(d))
            for d in details
        ]
    return [detail(None, str(details))]


def error_response(status: int, message: str, *, code: str | None = None, details: Any = None) -> Response:
    resp = jsonify(
        {
            "code": code or DEFAULT_CODES.get(status, "error" if status >= 400 else "unexpected_status"),
            "message": message,
            "details": normalise_details(details),
        }
    )
    resp.status_code = status
    return resp
