"""`MaventaSimulator`: the Maventa (Visma AutoInvoice) AutoXChange API fake, on the simulator kit.

Routes live at the server root like the real host (``/oauth2/token``, ``/v1/...``); errors use
Maventa's ``{"code", "message", "details"}``. Actors on the control plane (`actors.py`): the
approver signing or declining the authorisation, the recipient's network delivering or failing
an invoice, and the outbox of what the fake "sent".

Finvoice validation is structural always, plus the official XSD when found (constructor
``xsd_path``, ``$SEVERA_SANDBOX_SPECS``, ``../shared/specs``, or the user cache filled by
``sandbox.specs.fetch_finvoice_xsd``); ``describe()`` reports which (``finvoice_xsd``).
See ``backend.py`` and the README for the answers chosen where Maventa's behaviour is not public.
"""

from __future__ import annotations

import os
from typing import Any

from simulators.kit import Alias, SimClock, Simulator
from simulators.kit.serde import from_json, to_json

from . import actors, errors, finvoice, presets, routes, views
from .backend import MaventaBackend
from .models import (
    ID_NAMESPACE,
    MAX_COMPANY_STORAGE,
    MAX_UPLOAD_EXPANDED,
    UUID_REUSE,
    MaventaOptions,
    MaventaState,
)


class MaventaSimulator(Simulator, service="maventa", routes=routes, actors=actors, errors=errors):
    id_namespace = ID_NAMESPACE  # ids as they always were: uuid5(ID_NAMESPACE, "seed:kind:counter")
    backend: MaventaBackend
    max_upload_expanded = Alias[int]("options", "max_upload_expanded")
    max_company_storage = Alias[int]("options", "max_company_storage")

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
        max_upload_expanded: int = MAX_UPLOAD_EXPANDED,
        max_company_storage: int = MAX_COMPANY_STORAGE,
        uuid_reuse: str = "refuse",
        sender_from: str = "invoice",
        clock: SimClock | None = None,
        **kwargs: Any,
    ) -> None:
        if polls_to_deliver < 0 or delivery_seconds < 0:
            raise ValueError("polls_to_deliver and delivery_seconds must be >= 0")
        if uuid_reuse not in UUID_REUSE:
            raise ValueError(f"uuid_reuse must be one of {', '.join(UUID_REUSE)}, not {uuid_reuse!r}")
        if sender_from not in ("invoice", "account"):
            raise ValueError(f"sender_from must be 'invoice' or 'account', not {sender_from!r}")
        self.options = MaventaOptions(
            polls_to_deliver=polls_to_deliver,
            delivery_seconds=delivery_seconds,
            require_vendor_key=require_vendor_key,
            print_prices=print_prices,
            max_upload_expanded=max_upload_expanded,
            max_company_storage=max_company_storage,
            uuid_reuse=uuid_reuse,
            sender_from=sender_from,
        )
        self.xsd = finvoice.find_xsd(xsd_path, verify_hash=verify_xsd_hash)
        super().__init__(preset, seed, clock=clock, **kwargs)

    # ------------------------------------------------------------------ kit hooks
    def build_state(self, preset: str, seed: int) -> None:
        self._use(presets.build(preset, seed, self.ids))

    def _use(self, state: MaventaState) -> None:
        self.data = state
        self.backend = MaventaBackend(state, self.options, now=self.clock.now, xsd_schema=self.xsd_schema)

    def export_data(self) -> dict[str, Any]:
        out: dict[str, Any] = to_json(self.data)
        return out

    def import_data(self, data: dict[str, Any]) -> None:
        state = from_json(MaventaState, data)
        if not isinstance(state, MaventaState):
            raise ValueError("expected the Maventa state object")
        state._ids = self.ids
        self._use(state)

    def legacy_id_counter(self, data: dict[str, Any]) -> int:
        counter = data.get("counter", 0)  # older snapshots kept the sequence in the data
        return counter if isinstance(counter, int) and not isinstance(counter, bool) else 0

    def xsd_schema(self) -> Any:
        return finvoice.load_schema(self.xsd.path) if self.xsd.status == "ok" and self.xsd.path else None

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
            "uuid_reuse": self.options.uuid_reuse,
            "sender_from": self.options.sender_from,
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
            return [views.message_json(m) for m in self.backend.outbox_messages(**filters)]
