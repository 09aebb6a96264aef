"""The Maestro simulator: a designed REST API (Maestro publishes none) on the simulator kit.

Tenants are Maestro companies (yritykset), each reached with its own API key. The API and its
answers are described by `openapi.yaml`, served at `/openapi.json`; the fake validates requests
against it. Choices where nothing is documented [inferred], and how to change them:

* an invoice whose customer number is not in the customer register is refused (422
  `customer_not_found`): `MaestroSimulator(require_known_customer=False)` books it anyway;
* a repeated Severa GUID answers 200 with the stored invoice and `duplicate: true` (the first
  import wins, nothing new is created, no log entry is written);
* rows are matched only against *active* products; the fallback product (`A/0` unless the
  integration settings name another) takes the rest, one `warning` log entry per row.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from simulators.kit import ControlError, SimClock, Simulator, json_body
from simulators.kit.serde import from_json, to_json

from . import errors, routes
from .auth import API_KEY_HEADER, company_for_key
from .errors import MaestroError
from .models import FALLBACK_PRODUCT_CODE, Company, CompanyBackend
from .presets import build_companies, make_api_key, new_company_backend


class MaestroSimulator(Simulator):
    """Fake Maestro ERP: products, customers, sales-invoice import, import log, Severa settings."""

    service = "maestro"
    state_version = 1
    presets = ("empty", "demo")
    default_preset = "demo"

    def __init__(
        self,
        preset: str | None = None,
        seed: int = 0,
        *,
        clock: SimClock | None = None,
        require_known_customer: bool = True,
        **options: Any,
    ) -> None:
        self.require_known_customer = require_known_customer
        self.companies: dict[str, CompanyBackend] = {}
        super().__init__(preset, seed, clock=clock, **options)

    # ------------------------------------------------------------------ state
    def build_state(self, preset: str, seed: int) -> None:
        self.companies = build_companies(preset, seed)

    def export_data(self) -> dict[str, Any]:
        return {"companies": {cid: to_json(b) for cid, b in self.companies.items()}}

    def import_data(self, data: dict[str, Any]) -> None:
        companies = {str(cid): from_json(CompanyBackend, raw) for cid, raw in data["companies"].items()}
        for cid, backend in companies.items():
            if not isinstance(backend, CompanyBackend) or backend.company.company_id != cid:
                raise ValueError(f"company {cid!r} is malformed")
            # A/0 always exists, and so does the fallback product the settings name (both active)
            for code in {FALLBACK_PRODUCT_CODE, backend.settings.fallback_product_code}:
                product = backend.products.get(code)
                if product is None or not product.active:
                    raise ValueError(f"company {cid!r} has no active fallback product {code!r}")
        self.companies = companies

    # ------------------------------------------------------------------ HTTP
    def register_routes(self, app: Flask) -> None:
        app.register_error_handler(MaestroError, self._maestro_error)
        routes.register(app, self)

    def _maestro_error(self, exc: MaestroError) -> Response:
        return self.error_response(exc.status, exc.message, code=exc.code, details=exc.details)

    def error_response(
        self, status: int, message: str, *, code: str | None = None, details: Any = None
    ) -> Response:
        return errors.error_response(status, message, code=code, details=details)

    def tenant_of(self, req: Any) -> str | None:
        backend = company_for_key(self, (req.headers.get(API_KEY_HEADER) or "").strip())
        return backend.company.company_id if backend else None

    def credentials(self) -> dict[str, Any]:
        return {
            "header": API_KEY_HEADER,
            "companies": [
                {**b.company.to_api(), "api_key": b.company.api_key} for b in self.companies.values()
            ],
        }

    def secret_values(self) -> list[str]:
        return [b.company.api_key for b in self.companies.values()]

    def describe(self) -> dict[str, Any]:
        return {"companies": [b.company.to_api() for b in self.companies.values()]}

    # ------------------------------------------------------------------ actors
    def register_actors(self, control: Blueprint) -> None:
        sim = self

        @control.post("/companies")
        def add_company() -> Response:
            """A new Maestro company with its own API key (e.g. to reproduce a customer's setup)."""
            body = json_body(required=True)
            name, business_id = body.get("name"), body.get("business_id")
            if not isinstance(name, str) or not name.strip():
                raise ControlError("name: expected a non-empty string")
            if not isinstance(business_id, str) or not business_id.strip():
                raise ControlError("business_id: expected a Y-tunnus string")
            with sim.lock:
                company_id = str(max((int(c) for c in sim.companies if c.isdigit()), default=1000) + 1)
                key = body.get("api_key") or make_api_key(sim.ids.random(f"api-key:{company_id}"))
                if not isinstance(key, str) or company_for_key(sim, key) is not None:
                    raise ControlError("api_key: expected a string not used by another company")
                backend = new_company_backend(Company(company_id, name.strip(), business_id.strip(), key))
                sim.companies[company_id] = backend
            resp = jsonify({**backend.company.to_api(), "api_key": key})
            resp.status_code = 201
            return resp
