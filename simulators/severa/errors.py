"""Severa's error envelope (`ExceptionModel`) and the exception the routes raise.

```json
{"error": {"httpStatusCode": 400, "type": "InvalidParameter",
           "details": [{"message": "...", "url": null,
                        "location": {"type": "UriParameter", "name": "rowCount", "identifier": null}}],
           "stack": null}}
```
`type` comes from Severa's `ExceptionTypeEnum`; `location.type` from `ExceptionLocationTypeEnum`
(PathParameter, RequestBody, RequestHeader, UriParameter). Unknown routes and unknown GUIDs
answer 404 in the same envelope ([inferred]: the spec documents 404 without a body).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from simulators.kit import ServiceError

DEFAULT_TYPES = {
    400: "InvalidParameter",
    401: "AuthenticationRequired",
    403: "InsufficientApiScope",
    404: "InvalidRequest",
    405: "InvalidRequest",
    409: "InvalidOperation",
    413: "InvalidRequest",
    415: "InvalidRequest",
}

RATE_LIMIT_TEXT = "API calls quota exceeded! maximum admitted {limit} per 1s."

# Severa's ExceptionTypeEnum: a fault rule's `code` that names one of these becomes the `type`
EXCEPTION_TYPES = frozenset(
    {
        "InternalSystemError",
        "AuthenticationRequired",
        "AddonMissing",
        "FeatureIsNotEnabled",
        "InvalidParameter",
        "InvalidOperation",
        "InvalidRequest",
        "InsufficientApiScope",
        "InvalidApiVersion",
        "ConfigurationError",
        "UserLicenseType",
        "TermsOfServiceNotApproved",
        "HttpsRequired",
        "OrganizationNotActive",
        "PermissionDenied",
        "TrialExpired",
        "NotAvailableInTrial",
        "InvalidRecaptcha",
        "AddonMissingTermsOfServiceApproval",
    }
)


class SeveraError(ServiceError):
    """An error answered in the ExceptionModel envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        location: str | None = None,
        name: str | None = None,
        identifier: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type or default_type(status)
        self.location, self.name, self.identifier = location, name, identifier

    def response(self) -> Response:
        return envelope(
            self.status,
            self.message,
            type=self.type,
            location=self.location,
            name=self.name,
            identifier=self.identifier,
        )


def default_type(status: int) -> str:
    if status >= 500:
        return "InternalSystemError"
    return DEFAULT_TYPES.get(status, "InvalidRequest")


def envelope(
    status: int,
    message: str,
    *,
    type: str | None = None,
    location: str | None = None,
    name: str | None = None,
    identifier: str | None = None,
) -> Response:
    detail: dict[str, Any] = {"message": message, "url": None}
    if location:
        detail["location"] = {"type": location, "name": name, "identifier": identifier}
    resp = jsonify(
        {
            "error": {
                "httpStatusCode": status,
                "type": type or default_type(status),
                "details": [detail],
                "stack": None,
            }
        }
    )
    resp.status_code = status
    return resp


def bad_param(name: str, message: str, location: str = "UriParameter") -> SeveraError:
    return SeveraError(400, message, type="InvalidParameter", location=location, name=name)


def not_found(what: str, guid: str, name: str = "guid") -> SeveraError:
    return SeveraError(
        404,
        f"{what} with guid '{guid}' was not found.",
        type="InvalidParameter",
        location="PathParameter",
        name=name,
        identifier=guid,
    )


def rate_limited(limit: int, retry_after: int) -> Response:
    """The 429 of Severa's rate-limit middleware: plain text, not the JSON envelope."""
    resp = Response(RATE_LIMIT_TEXT.format(limit=limit), status=429, content_type="text/plain")
    resp.headers["Retry-After"] = str(max(1, retry_after))
    return resp


class RateLimited(SeveraError):
    """More than `limit` calls in a second from one client."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(429, RATE_LIMIT_TEXT.format(limit=limit))
        self.limit, self.retry_after = limit, retry_after

    def response(self) -> Response:
        return rate_limited(self.limit, self.retry_after)


def error_response(status: int, message: str, *, code: str | None = None, details: Any = None) -> Response:
    """The envelope of an error the kit answers (a fault rule, an unknown route, a bug)."""
    return envelope(status, message, type=code if code in EXCEPTION_TYPES else None)


def invalid_text_response(field: str, message: str) -> Response:
    return bad_param(field, message, "RequestBody").response()
