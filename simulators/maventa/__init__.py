"""The Maventa (Visma AutoInvoice) AutoXChange API fake, on the simulator kit.

Routes live at the server root like the real host (``/oauth2/token``, ``/v1/...``); errors use
Maventa's ``{"code", "message", "details"}``. Actors on the control plane:

* ``POST /_sim/companies/<id>/authorization/sign`` / ``.../cancel`` – the approver
  (hyväksyjä) signs or declines the agreement after strong identification;
* ``POST /_sim/invoices/<id>/deliver`` / ``.../fail`` ``{"message": ...}`` – the recipient's
  network delivers or fails an invoice;
* ``GET|DELETE /_sim/outbox`` (filters ``kind``, ``purpose``, ``to``, ``invoice_id``) and
  ``GET /_sim/outbox/<id>/attachments/<n>`` – the e-mails and print jobs "sent".

Finvoice validation is structural always, plus the official XSD when found (constructor
``xsd_path``, ``$SEVERA_SANDBOX_SPECS``, ``../shared/specs``, or the user cache filled by
``sandbox.specs.fetch_finvoice_xsd``); ``describe()`` reports which (``finvoice_xsd``).
See ``state.py`` for the documented answers where Maventa's behaviour is not public.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from simulators.kit import ControlError, SimClock, Simulator, json_body
from simulators.kit.serde import from_json, to_json

from . import api, finvoice, outbox, presets
from .errors import error_body
from .models import ID_NAMESPACE, MaventaState
from .state import Backend, Options

__all__ = ["MaventaSimulator"]


class MaventaSimulator(Simulator):
    service = "maventa"
    state_version = 1
    id_namespace = ID_NAMESPACE  # ids as they always were: uuid5(ID_NAMESPACE, "seed:kind:counter")

    def __init__(
        self,
        preset: str | None = None,
        seed: int = 0,
        *,
        polls_to_deliver: int = 1,
        delivery_seconds: float = 60.0,
        xsd_path: str | os.PathLike[str] | None = None,
        verify_xsd_hash: bool = True,
        require_vendor_key: bool = False,
        print_prices: dict[str, Any] | None = None,
        max_upload_expanded: int = api.MAX_UPLOAD_EXPANDED,
        max_company_storage: int = api.MAX_COMPANY_STORAGE,
        clock: SimClock | None = None,
        **kwargs: Any,
    ) -> None:
        if polls_to_deliver < 0 or delivery_seconds < 0:
            raise ValueError("polls_to_deliver and delivery_seconds must be >= 0")
        self.options = Options(
            polls_to_deliver=polls_to_deliver,
            delivery_seconds=delivery_seconds,
            require_vendor_key=require_vendor_key,
            print_prices=print_prices,
        )
        self.xsd = finvoice.find_xsd(xsd_path, verify_hash=verify_xsd_hash)
        self.max_upload_expanded = max_upload_expanded
        self.max_company_storage = max_company_storage
        super().__init__(preset, seed, clock=clock, **kwargs)

    # ------------------------------------------------------------------ kit hooks
    def build_state(self, preset: str, seed: int) -> None:
        self.data: MaventaState = presets.build(preset, seed, self.ids)
        self.backend = Backend(self.data, self.options)

    def export_data(self) -> dict[str, Any]:
        return to_json(self.data)

    def import_data(self, data: dict[str, Any]) -> None:
        state = from_json(MaventaState, data)
        if not isinstance(state, MaventaState):
            raise ValueError("expected the Maventa state object")
        state._ids = self.ids
        self.data = state
        self.backend = Backend(state, self.options)

    def legacy_id_counter(self, data: dict[str, Any]) -> int:
        counter = data.get("counter", 0)  # older snapshots kept the sequence in the data
        return counter if isinstance(counter, int) and not isinstance(counter, bool) else 0

    def xsd_schema(self) -> Any:
        return finvoice.load_schema(self.xsd.path) if self.xsd.status == "ok" and self.xsd.path else None

    def register_routes(self, app: Flask) -> None:
        api.register(app, self)

    def error_response(
        self, status: int, message: str, *, code: str | None = None, details: Any = None
    ) -> Response:
        default = {
            401: "auth_unauthorized",
            404: "not_found",
            405: "method_not_allowed",
            413: "file_too_large",
            429: "rate_limited",
        }.get(status, "internal_error" if status >= 500 else "invalid_parameters")
        resp = jsonify(error_body(code or default, message, details))
        resp.status_code = status
        return resp

    def tenant_of(self, req: Any) -> str | None:
        auth = req.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            tok = self.data.tokens.get(auth[7:].strip())
            return tok.company_id if tok else None
        return req.form.get("client_id") if req.method == "POST" and req.path == "/oauth2/token" else None

    def credentials(self) -> dict[str, Any]:
        companies = []
        for c in self.data.companies.values():
            users = [u for u in self.data.users.values() if c.id in u.company_ids]
            companies.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "bid": c.bid,
                    "company_state": c.company_state,
                    "auth_state": c.auth_state,
                    "users": [{"email": u.email, "user_api_key": u.api_key} for u in users],
                }
            )
        return {
            "vendor_api_keys": list(self.data.vendor_keys),
            "companies": companies,
            "users": [
                {"id": u.id, "email": u.email, "user_api_key": u.api_key, "company_ids": u.company_ids}
                for u in self.data.users.values()
            ],
            "token_request": {
                "client_id": "<company id>",
                "client_secret": "<user_api_key>",
                "vendor_api_key": "<vendor api key>",
                "grant_type": "client_credentials",
            },
        }

    def secret_values(self) -> list[str]:
        keys = list(self.data.vendor_keys) + [u.api_key for u in self.data.users.values()]
        return keys + list(self.data.tokens)

    def describe(self) -> dict[str, Any]:
        return {
            "finvoice_xsd": {
                "status": self.xsd.status,
                "path": self.xsd.path,
                "reason": self.xsd.reason,
                "validation": "structural+xsd" if self.xsd.status == "ok" else "structural only",
            },
            "polls_to_deliver": self.options.polls_to_deliver,
            "delivery_seconds": self.options.delivery_seconds,
            "companies": len(self.data.companies),
            "invoices": len(self.data.invoices),
            "outbox": len(self.data.outbox),
        }

    def on_clock_moved(self) -> None:
        with self.lock:
            self.backend.progress_all(self.clock.now())

    # ------------------------------------------------------------------ Python API for actors
    def sign_authorization(self, company_id: str) -> None:
        with self.lock:
            self.backend.sign(self.backend.company_of(company_id))

    def outbox_messages(self, **filters: Any) -> list[dict[str, Any]]:
        with self.lock:
            return [outbox.message_json(m) for m in outbox.filter_messages(self.data.outbox, **filters)]

    def register_actors(self, control: Blueprint) -> None:
        sim = self

        def company(company_id: str) -> Any:
            c = sim.data.companies.get(company_id)
            if c is None:
                raise ControlError(f"no company with id {company_id}", 404, "not_found")
            return c

        def invoice(invoice_id: str) -> Any:
            inv = sim.data.invoices.get(invoice_id)
            if inv is None:
                raise ControlError(f"no invoice with id {invoice_id}", 404, "not_found")
            return inv

        @control.post("/companies/<company_id>/authorization/sign")
        def sign(company_id: str) -> Response:
            with sim.lock:
                c = company(company_id)
                try:
                    sim.backend.sign(c)
                except ValueError as exc:
                    raise ControlError(str(exc), 409, "conflict") from exc
                return jsonify(
                    {"auth_state": c.auth_state, "auth_email": c.auth_email, "company_state": c.company_state}
                )

        @control.post("/companies/<company_id>/authorization/cancel")
        def cancel(company_id: str) -> Response:
            with sim.lock:
                c = company(company_id)
                try:
                    sim.backend.cancel(c)
                except ValueError as exc:
                    raise ControlError(str(exc), 409, "conflict") from exc
                return jsonify(
                    {"auth_state": c.auth_state, "auth_email": c.auth_email, "company_state": c.company_state}
                )

        @control.post("/invoices/<invoice_id>/deliver")
        def deliver(invoice_id: str) -> Response:
            with sim.lock:
                inv = invoice(invoice_id)
                if inv.status != "PENDING":
                    raise ControlError(f"the invoice is {inv.status}, not PENDING", 409, "conflict")
                sim.backend.settle(inv, sim.clock.now())
                return jsonify(api.invoice_json(inv, request.host_url.rstrip("/")))

        @control.post("/invoices/<invoice_id>/fail")
        def fail(invoice_id: str) -> Response:
            body = json_body()
            message = body.get("message", "The recipient's operator rejected the invoice")
            if not isinstance(message, str) or not message.strip():
                raise ControlError("message: expected a non-empty string")
            with sim.lock:
                inv = invoice(invoice_id)
                try:
                    sim.backend.fail(inv, message, sim.clock.now())
                except ValueError as exc:
                    raise ControlError(str(exc), 409, "conflict") from exc
                return jsonify(api.invoice_json(inv, request.host_url.rstrip("/")))

        @control.get("/outbox")
        def get_outbox() -> Response:
            a = request.args
            with sim.lock:
                msgs = outbox.filter_messages(
                    sim.data.outbox,
                    kind=a.get("kind"),
                    purpose=a.get("purpose"),
                    to=a.get("to"),
                    invoice_id=a.get("invoice_id"),
                    company_id=a.get("company_id"),
                )
                root = request.host_url.rstrip("/")
                return jsonify({"messages": [outbox.message_json(m, root) for m in msgs]})

        @control.delete("/outbox")
        def clear_outbox() -> Response:
            with sim.lock:
                sim.data.outbox.clear()
            return Response(status=204)

        @control.get("/outbox/<message_id>/attachments/<int:index>")
        def outbox_attachment(message_id: str, index: int) -> Response:
            with sim.lock:
                m = next((x for x in sim.data.outbox if x.id == message_id), None)
                if m is None or not 0 <= index < len(m.attachments):
                    raise ControlError("no such outbox attachment", 404, "not_found")
                a = m.attachments[index]
                return Response(a.content, mimetype=a.mimetype)
