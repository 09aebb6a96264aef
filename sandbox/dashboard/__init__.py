"""The sandbox's web dashboard: Severa's settings pages and what happens at Maventa and Maestro.

Server-rendered (Flask app factory, module-level blueprints, Jinja templates), no CDN and no
outside assets: it works offline and without JavaScript (a small script only auto-refreshes the
live parts of a page and copies "curl" lines). Labels are Finnish as in the Severa help
articles, with English beside them; every element a test looks for has a ``data-testid``.

The screens (``views/``):

* Severa › Asetukset › Integraatiot › Maventa/AutoInvoice (MV-1 ... MV-14) and the Maestro
  integration (statuses, preflight, customer sync, code audit); Severa › Laskut, Laskun tilat,
  Tuotteet / Työlajit / Matkakulut; one invoice's journey across the services;
* Maventa (companies and the approver, sent invoices, print jobs, outbox), Maestro (products,
  customers, sales invoices with ``A/0`` rows highlighted, import log), one mail inbox;
* Journal, Faults, Scenarios and Reset.

It drives the bridge through the same objects as the CLI (``world.integration``, the Maestro
connector, ``audit_codes``) and the fakes through their control planes or Python API. Cross-site
use is refused (``security``).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from . import filters, security
from .views import home, maestro, mail, maventa, severa_invoices, severa_maestro, severa_maventa, tools

if TYPE_CHECKING:
    from sandbox.up import Sandbox

__all__ = ["create_app"]

BLUEPRINTS = (
    home.bp,
    severa_maventa.bp,
    severa_maestro.bp,
    severa_invoices.bp,
    maventa.bp,
    maestro.bp,
    mail.bp,
    tools.bp,
)


def create_app(sandbox: Sandbox, **config: Any) -> Flask:
    """The dashboard of ``sandbox``; ``config`` e.g. ``SANDBOX_ALLOWED_HOSTS`` (set by ``up``
    once the port is bound)."""
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.extensions["sandbox"] = sandbox
    app.secret_key = secrets.token_bytes(32)  # the flash messages' cookie (per process)
    app.config.update(
        SESSION_COOKIE_NAME="severa_sandbox_dashboard",
        SESSION_COOKIE_SAMESITE="Strict",
        MAX_CONTENT_LENGTH=1024 * 1024,
        **config,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    security.install(app)
    filters.install(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        status = exc.code or 500
        return render_template(
            "error.html", status=status, message=exc.description, path=request.path
        ), status

    @app.errorhandler(TimeoutError)
    def busy(exc: TimeoutError) -> tuple[str, int]:
        return render_template("error.html", status=503, message=str(exc), path=request.path), 503

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[str, int]:  # a bug: say so plainly, keep the sandbox running
        app.logger.exception("dashboard error on %s", request.path)
        message = f"Something went wrong in the dashboard ({type(exc).__name__}: {exc})."
        return render_template("error.html", status=500, message=message, path=request.path), 500

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return app.send_static_file("favicon.svg")

    return app
