"""Actors on Severa's control plane: a Severa user working in the UI (module-level blueprint,
mounted under ``/_sim`` by the kit; every view runs under the simulator's lock).

* `POST /_sim/severa/invoices` `{"organization": "main", "customer": guid|number|name,
  "status": name|guid, "rows": [{"kind": "hours"|"fee"|"travel", "ref": code|guid,
  "quantity": n, ...}], "your_reference": ...}` -> 201 the invoice as the API shows it;
* `POST /_sim/severa/invoices/<guid>/status` `{"status": name|guid, "organization": ...}`;
* `POST /_sim/severa/statuses` `{"organization", "name", "is_sent": true, ...}` -> 201.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from simulators.kit import CONTROL_PREFIX, ControlError, current_backend, json_body, locked

from . import views
from .backend import OrganizationBackend, SeveraBackend
from .errors import SeveraError

bp = Blueprint("severa_actors", __name__, url_prefix=CONTROL_PREFIX)


def _organisation(body: dict[str, Any]) -> OrganizationBackend:
    try:
        return current_backend(SeveraBackend).tenant(str(body.get("organization", "main")))
    except KeyError as exc:
        raise ControlError(str(exc.args[0]), 404, "not_found") from exc


def _created(payload: dict[str, Any]) -> Response:
    resp = jsonify(payload)
    resp.status_code = 201
    return resp


@bp.post("/severa/invoices")
@locked
def ui_create_invoice() -> Response:
    body = json_body(required=True)
    b = _organisation(body)
    extra = {k: v for k, v in body.items() if k not in ("organization", "customer", "status", "rows")}
    rows = body.get("rows") or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ControlError("rows: expected a list of objects")
    try:
        cust = b.find_customer(body.get("customer") or next(iter(b.org.customers)))
        inv = b.create_invoice(cust.guid, status=body.get("status"), rows=rows, **extra)
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        raise ControlError(f"cannot create the invoice: {exc}") from exc
    except SeveraError as exc:
        raise ControlError(exc.message) from exc
    return _created(views.invoice(b, inv))


@bp.post("/severa/invoices/<guid>/status")
@locked
def ui_set_status(guid: str) -> Response:
    body = json_body(required=True)
    b = _organisation(body)
    if not isinstance(body.get("status"), str):
        raise ControlError("status: expected a status name or guid")
    try:
        inv = b.set_status(guid, body["status"])
    except SeveraError as exc:
        raise ControlError(exc.message, 404 if exc.status == 404 else 400) from exc
    return jsonify(views.invoice(b, inv))


@bp.post("/severa/statuses")
@locked
def ui_add_status() -> Response:
    body = json_body(required=True)
    b = _organisation(body)
    flags = {k: v for k, v in body.items() if k not in ("organization", "name")}
    if not isinstance(body.get("name"), str) or not all(isinstance(v, bool) for v in flags.values()):
        raise ControlError("expected {'name': str, <flag>: bool, ...}")
    try:
        st = b.add_status(body["name"], **flags)
    except (TypeError, SeveraError) as exc:
        raise ControlError(str(exc)) from exc
    return _created(views.status(b, st))
