"""The kit's own errors, and the base of every service's API error.

* `ControlError` – a bad control-plane request, answered as ``{"error": {"code", "message"}}``;
* `SnapshotError` – a state snapshot that cannot be imported;
* `ServiceError` – the base of each service's own error (``SeveraError``, ``MaventaError``,
  ...): raised anywhere below a route, answered by the kit's one error handler with the
  error's `response()`, which is the service's envelope (its ``errors.py``).
"""

from __future__ import annotations

from flask import Response, jsonify


class SnapshotError(ValueError):
    """A state snapshot that cannot be imported; the message says why."""


class ControlError(Exception):
    """A bad control-plane request (400 unless told otherwise)."""

    def __init__(self, message: str, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def control_error(message: str, status: int = 400, code: str = "bad_request") -> Response:
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    return resp


class ServiceError(Exception):
    """An error a service answers in its own envelope: `status`, `message` and the `response()`."""

    status: int = 500
    message: str = ""

    def response(self) -> Response:
        raise NotImplementedError
