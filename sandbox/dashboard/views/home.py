"""The start page: the demo path through the screens, the services' URLs and sandbox credentials,
and what the bridge worker did lately."""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from . import back, notice, sb

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    sandbox = sb()
    return render_template(
        "home.html",
        endpoints=sandbox.endpoints(),
        history=list(reversed(sandbox.worker.history[-10:])) if sandbox.worker else [],
    )


@bp.post("/siirto")
def run_pass() -> Response:
    """Aja siirto nyt / one pass of every connector now (the only way with ``up --no-worker``)."""
    record = sb().run_pass()
    sb().record(f"Siirto ajettu / a pass was run: {record.line}", service="bridge")
    problems = record.error or (record.report is not None and record.report.problems)
    notice(f"Siirto / pass: {record.line}.", "warning" if problems else "ok")
    return back("home.index", _anchor="worker-card")
