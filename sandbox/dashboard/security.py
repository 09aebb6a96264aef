"""The dashboard refuses cross-site use (SPEC §6 Security).

* **Host.** A request whose ``Host`` is not the address the dashboard is bound to (or a loopback
  name for it) is refused with 421: a page on another site that rebinds its own name to
  127.0.0.1 (DNS rebinding) can neither read nor drive the sandbox.
* **State changes** (POST, PUT, PATCH, DELETE) need either the same-origin form token every form
  of the dashboard carries (``_token``, a random value per process that another site cannot
  read), or ``Content-Type: application/json`` (a cross-site page cannot send that without a
  CORS preflight, which the dashboard never answers). An ``Origin`` or ``Sec-Fetch-Site`` that
  says "another site" is refused whatever the body.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

__all__ = ["FORM_TOKEN_FIELD", "form_token", "install"]

FORM_TOKEN_FIELD = "_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def form_token() -> str:
    return str(current_app.config["SANDBOX_FORM_TOKEN"])


def _refuse(status: int, message: str) -> Response:
    return Response(
        f"severa-sandbox dashboard: {message}\n", status=status, content_type="text/plain; charset=utf-8"
    )


def _check() -> Response | None:
    allowed: set[str] = current_app.config.get("SANDBOX_ALLOWED_HOSTS") or set()
    host = (request.host or "").lower()
    if host not in allowed:
        return _refuse(
            421,
            f"refused: Host {request.host!r} is not this dashboard's address "
            f"({', '.join(sorted(allowed)) or 'none configured'})",
        )
    if request.method not in UNSAFE:
        return None
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc.lower() not in allowed:
        return _refuse(403, f"refused: a request from another site ({origin}) cannot change the sandbox")
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return _refuse(403, "refused: a request from another site cannot change the sandbox")
    if request.mimetype == "application/json":
        return None
    sent = request.form.get(FORM_TOKEN_FIELD, "")
    if not sent or not hmac.compare_digest(sent, form_token()):
        return _refuse(
            403,
            "refused: this form did not come from the dashboard (missing or wrong form token); "
            "reload the page and try again",
        )
    return None


def install(app: Flask) -> None:
    app.config.setdefault("SANDBOX_FORM_TOKEN", secrets.token_urlsafe(32))
    app.config.setdefault("SANDBOX_ALLOWED_HOSTS", set())
    app.before_request(_check)

    @app.after_request
    def _headers(response: Response) -> Response:
        # the dashboard's own pages only: no framing by other sites, no sniffing, no outside assets
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        return response
