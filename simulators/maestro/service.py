"""`MaestroSimulator`: a designed REST API (Maestro publishes none) on the simulator kit.

Tenants are Maestro companies (yritykset), each reached with its own API key. The API and its
answers are described by `openapi.yaml`, served at `/openapi.json`; the fake reads its requests
by it (`openapi.py`). Choices where nothing is documented [inferred], and how to change them:

* an invoice whose customer number is not in the customer register is refused (422
  `customer_not_found`): `MaestroSimulator(require_known_customer=False)` books it anyway;
* a repeated Severa GUID answers 200 with the stored invoice and `duplicate: true` (the first
  import wins, nothing new is created, no log entry is written);
* rows are matched only against *active* products; the fallback product (`A/0` unless the
  integration settings name another) takes the rest, one `warning` log entry per row.
"""

from __future__ import annotations

from typing import Any

from simulators.kit import Alias, SimClock, Simulator
from simulators.kit.serde import from_json, to_json

from . import actors, errors, presets, routes, views
from .auth import API_KEY_HEADER, company_for_key
from .backend import CompanyBackend, MaestroBackend
from .models import FALLBACK_PRODUCT_CODE


class MaestroSimulator(Simulator, service="maestro", routes=routes, actors=actors, errors=errors):
    """Fake Maestro ERP: products, customers, sales-invoice import, import log, Severa settings."""

    backend: MaestroBackend
    companies = Alias[dict[str, CompanyBackend]]("backend", "companies")  # by company id

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
        super().__init__(preset, seed, clock=clock, **options)

    # ------------------------------------------------------------------ state
    def build_state(self, preset: str, seed: int) -> None:
        self._use(presets.build(preset, seed))

    def _use(self, companies: dict[str, CompanyBackend]) -> None:
        self.backend = MaestroBackend(
            companies, now=self.clock.now, require_known_customer=self.require_known_customer
        )

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
        self._use(companies)

    # ------------------------------------------------------------------ kit hooks
    def tenant_of(self, req: Any) -> str | None:
        backend = company_for_key(self.companies.values(), (req.headers.get(API_KEY_HEADER) or "").strip())
        return backend.company.company_id if backend else None

    def credentials(self) -> dict[str, Any]:
        return {
            "header": API_KEY_HEADER,
            "companies": [
                {**views.company(b.company), "api_key": b.company.api_key} for b in self.companies.values()
            ],
        }

    def secret_values(self) -> list[str]:
        return [b.company.api_key for b in self.companies.values()]

    def describe(self) -> dict[str, Any]:
        return {"companies": [views.company(b.company) for b in self.companies.values()]}
