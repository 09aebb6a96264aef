"""The dashboard's screens, one blueprint per module, and what they share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app, flash, redirect, url_for
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from sandbox.up import Sandbox

__all__ = ["back", "notice", "sb", "wake_worker"]


def sb() -> Sandbox:
    """The sandbox this dashboard belongs to."""
    sandbox: Sandbox = current_app.extensions["sandbox"]
    return sandbox


def notice(message: str, kind: str = "ok") -> None:
    """A message shown at the top of the next page (``ok``, ``warning`` or ``error``)."""
    flash(message, kind)


def back(endpoint: str, **values: Any) -> Response:
    """After a change: redirect (POST, redirect, GET), so a reload never repeats it."""
    return redirect(url_for(endpoint, **{k: v for k, v in values.items() if v is not None}), code=303)


def wake_worker() -> None:
    """Something changed that the bridge acts on: the worker's next pass runs now."""
    worker = sb().worker
    if worker is not None:
        worker.wake()
