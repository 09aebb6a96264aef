"""The mailbox's error envelope: ``{"error": {"code", "message", "details"}}`` (the kit's own
shape; the mailbox imitates no vendor). Its only HTTP surface besides the control plane is the
index at ``/``, so the envelope is what faults, unknown routes and bugs answer in."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from simulators.kit import ServiceError


class MailboxError(ServiceError):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code or str(status)

    def response(self) -> Response:
        return error_response(self.status, self.message, code=self.code)


def error_response(status: int, message: str, *, code: str | None = None, details: Any = None) -> Response:
    resp = jsonify({"error": {"code": code or str(status), "message": message, "details": details}})
    resp.status_code = status
    return resp
