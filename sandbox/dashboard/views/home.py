"""The start page: the demo path through the screens, the services' URLs and sandbox credentials,
and what the bridge worker did lately."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import sb

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    sandbox = sb()
    return render_template(
        "home.html",
        endpoints=sandbox.endpoints(),
        history=list(reversed(sandbox.worker.history[-10:])) if sandbox.worker else [],
    )
