"""Actors on Maventa's control plane (module-level blueprint, mounted under ``/_sim`` by the kit;
every view runs under the simulator's lock):

* ``POST /_sim/companies/<id>/authorization/sign`` / ``.../cancel`` – the approver
  (hyväksyjä) signs or declines the agreement after strong identification;
* ``POST /_sim/invoices/<id>/deliver`` / ``.../fail`` ``{"message": ...}`` – the recipient's
  network delivers or fails an invoice;
* ``GET|DELETE /_sim/outbox`` (filters ``kind``, ``purpose``, ``to``, ``invoice_id``,
  ``company_id``) and ``GET /_sim/outbox/<id>/attachments/<n>`` – the e-mails and print jobs
  the fake "sent".
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from simulators.kit import CONTROL_PREFIX, ControlError, current_backend, found, json_body, locked

from . import views
from .backend import OUTBOX_FILTERS, MaventaBackend
from .models import Company, Invoice

bp = Blueprint("maventa_actors", __name__, url_prefix=CONTROL_PREFIX)


def _mv() -> MaventaBackend:
    return current_backend(MaventaBackend)


def _company(company_id: str) -> Company:
    return found(_mv().state.companies.get(company_id), f"company with id {company_id}")


def _invoice(invoice_id: str) -> Invoice:
    return found(_mv().state.invoices.get(invoice_id), f"invoice with id {invoice_id}")


def _conflict(step: Callable[[], object]) -> None:
    """Run a step whose ValueError means "not now" (409)."""
    try:
        step()
    except ValueError as exc:
        raise ControlError(str(exc), 409, "conflict") from exc


@bp.post("/companies/<company_id>/authorization/sign")
@locked
def sign(company_id: str) -> Response:
    """The approver (hyväksyjä) signs the agreement after strong identification: the company's authorisation becomes active.

    Body: none
    """
    c = _company(company_id)
    _conflict(lambda: _mv().sign(c))
    return jsonify(views.auth_status(c))


@bp.post("/companies/<company_id>/authorization/cancel")
@locked
def cancel(company_id: str) -> Response:
    """The approver declines (or cancels) the agreement.

    Body: none
    """
    c = _company(company_id)
    _conflict(lambda: _mv().cancel(c))
    return jsonify(views.auth_status(c))


@bp.post("/invoices/<invoice_id>/deliver")
@locked
def deliver(invoice_id: str) -> Response:
    """The recipient's network delivers a PENDING invoice.

    Body: none
    """
    inv, mv = _invoice(invoice_id), _mv()
    if inv.status != "PENDING":
        raise ControlError(f"the invoice is {inv.status}, not PENDING", 409, "conflict")
    mv.settle(inv, mv.now())
    return jsonify(views.invoice_json(inv, request.host_url.rstrip("/")))


@bp.post("/invoices/<invoice_id>/fail")
@locked
def fail(invoice_id: str) -> Response:
    """The recipient's network fails an invoice's delivery with a message.

    Body: {"message"?: str}
    """
    message = json_body().get("message", "The recipient's operator rejected the invoice")
    if not isinstance(message, str) or not message.strip():
        raise ControlError("message: expected a non-empty string")
    inv, mv = _invoice(invoice_id), _mv()
    _conflict(lambda: mv.fail(inv, message, mv.now()))
    return jsonify(views.invoice_json(inv, request.host_url.rstrip("/")))


@bp.get("/outbox")
@locked
def get_outbox() -> Response:
    """The e-mails and print jobs the fake sent; filters kind, purpose, to, invoice_id, company_id.

    Body: none
    """
    msgs = _mv().outbox_messages(**{name: request.args.get(name) for name in OUTBOX_FILTERS})
    root = request.host_url.rstrip("/")
    return jsonify({"messages": [views.message_json(m, root) for m in msgs]})


@bp.delete("/outbox")
@locked
def clear_outbox() -> Response:
    """Empty the outbox.

    Body: none
    """
    _mv().state.outbox.clear()
    return Response(status=204)


@bp.get("/outbox/<message_id>/attachments/<int:index>")
@locked
def outbox_attachment(message_id: str, index: int) -> Response:
    """One attachment of an outbox message (e.g. the invoice PDF).

    Body: none
    """
    m = next((x for x in _mv().state.outbox if x.id == message_id), None)
    if m is None or not 0 <= index < len(m.attachments):
        raise ControlError("no such outbox attachment", 404, "not_found")
    a = m.attachments[index]
    return Response(a.content, mimetype=a.mimetype)
