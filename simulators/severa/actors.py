"""Actors on Severa's control plane: a Severa user working in the UI (module-level blueprint,
mounted under ``/_sim`` by the kit; every view runs under the simulator's lock).

* `POST /_sim/severa/invoices` `{"organization": "main", "customer": guid|number|name,
  "status": name|guid, "rows": [{"kind": "hours"|"fee"|"travel", "ref": code|guid,
  "quantity": n, ...}], "your_reference": ...}` -> 201 the invoice as the API shows it;
* `POST /_sim/severa/invoices/<guid>/status` `{"status": name|guid, "organization": ...}`;
* `POST /_sim/severa/statuses` `{"organization", "name", "isSent": true, ...}` -> 201 (flags by
  their API names or in snake_case, ``is_sent``);
* `PATCH /_sim/severa/statuses/<guid|name>` `{"isSent": false, "name": ...}` -> 200: change the
  flags or the name of an existing status.
"""

from __future__ import annotations

import difflib
from typing import Any

from flask import Blueprint, Response, jsonify

from simulators.kit import CONTROL_PREFIX, ControlError, current_backend, json_body, locked

from . import patching, views
from .backend import OrganizationBackend, SeveraBackend
from .errors import SeveraError
from .models import InvoiceStatus

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
    """A Severa user creates an invoice (Laskut) for a customer with rows of work hours, project fees and travel expenses.

    Body: {"organization"?: "main", "customer"?: guid|number|name, "status"?: name|guid, "rows": [{"kind": "hours"|"fee"|"travel", "ref": code|guid, "quantity": n, ...}], "your_reference"?: str, ...}
    """
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
    """A Severa user moves an invoice to another status (Laskun tila), with Severa's numbering rules.

    Body: {"status": name|guid, "organization"?: "main"}
    """
    body = json_body(required=True)
    b = _organisation(body)
    if not isinstance(body.get("status"), str):
        raise ControlError("status: expected a status name or guid")
    try:
        inv = b.set_status(guid, body["status"])
    except SeveraError as exc:
        raise ControlError(exc.message, 404 if exc.status == 404 else 400) from exc
    return jsonify(views.invoice(b, inv))


def _status_flags(body: dict[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    """A body's status flags by their API names (``isSent``), any case, or in snake_case
    (``is_sent``), as the backend's attribute names; an unknown flag lists the valid ones."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in skip:
            continue
        attr = patching.STATUS_FIELDS.get(key.replace("_", "").lower())
        if attr is None:
            near = difflib.get_close_matches(key, InvoiceStatus.FLAGS, n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ControlError(
                f"{key[:60]!r} is not an invoice status flag{hint}; the flags are "
                f"{', '.join(InvoiceStatus.FLAGS)} (snake_case such as is_sent works too), "
                f"besides {', '.join(skip)}"
            )
        if not isinstance(value, bool):
            raise ControlError(f"{key}: expected true or false, got {str(value)[:40]!r}")
        out[attr] = value
    return out


def _find_status(b: OrganizationBackend, guid_or_name: str) -> InvoiceStatus:
    try:
        return b.resolve_status(guid_or_name)
    except KeyError as exc:
        known = ", ".join(repr(st.name) for st in b.org.invoice_statuses.values())
        raise ControlError(
            f"no invoice status {guid_or_name[:80]!r} in {b.name}; the statuses are {known}", 404, "not_found"
        ) from exc


@bp.post("/severa/statuses")
@locked
def ui_add_status() -> Response:
    """A Severa user adds an invoice status (Asetukset › Laskun tilat); flags by their API names (isSent) or in snake_case (is_sent).

    Body: {"name": str, "organization"?: "main", "isSent"?: bool, "isReadOnly"?: bool, "hasInvoiceNumber"?: bool, "isDefault"?: bool, "isActive"?: bool, ...}
    """
    body = json_body(required=True)
    b = _organisation(body)
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise ControlError("name: expected the status name, a non-empty string")
    flags = _status_flags(body, ("organization", "name"))
    try:
        st = b.add_status(body["name"], when=b.now(), **flags)
    except SeveraError as exc:
        raise ControlError(exc.message) from exc
    return _created(views.status(b, st))


@bp.patch("/severa/statuses/<path:status>")
@locked
def ui_change_status(status: str) -> Response:
    """A Severa user changes the flags (or the name) of an existing invoice status, found by guid or name (Laskun tilat › Muokkaa).

    Body: {"organization"?: "main", "name"?: new name, "isSent"?: bool, "isReadOnly"?: bool, "hasInvoiceNumber"?: bool, ...}
    """
    body = json_body(required=True)
    b = _organisation(body)
    st = _find_status(b, status)
    changes = _status_flags(body, ("organization", "name"))
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise ControlError("name: expected the new status name, a non-empty string")
        changes["name"] = name
    if not changes:
        raise ControlError(f"nothing to change: give a new name or flags ({', '.join(InvoiceStatus.FLAGS)})")
    return jsonify(views.status(b, b.update_status_flags(st, changes)))
