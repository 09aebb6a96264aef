"""The Maestro domain: one backend per Maestro company (yritys), no HTTP in here.

Entities and their Finnish UI names, for support staff:

* `Product` = tuote (tuotekoodi = product code). The fallback product (oletustuote) takes every
  invoice row whose code matches no active product: the one the integration settings name, `A/0`
  unless changed, and it alone says `fallback: true`. `A/0` always exists and can never be
  deleted or deactivated, even while the settings name another fallback product.
* `Customer` = asiakas (asiakasnumero, Y-tunnus, ALV-tunnus, verkkolaskuosoite, välittäjätunnus).
* `SalesInvoice` / `BookedRow` = myyntilasku / laskurivi, imported from Severa.
* `ImportLogEntry` = tuontilokin rivi.
* `IntegrationSettings` = Severa-liittymän asetukset (the Severa invoice statuses to fetch from
  and to set after the transfer; MA-3 says the latter comes from Maestro).

Row matching (MA-5..MA-7) [inferred where the help article is silent]: a row's codes are tried in
order against *active* products; the first hit books the row on that product. No code, only
unknown codes, or only codes of inactive products book the row on the fallback product and write
one `warning` log entry naming the invoice, the row, the source kind and the code. The import is
idempotent on the Severa invoice GUID: the first import wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

FALLBACK_PRODUCT_CODE = "A/0"
DEFAULT_SOURCE_STATUS = "Odottaa siirtoa Maestroon"
DEFAULT_TRANSFERRED_STATUS = "Siirretty Maestroon"
CENT = Decimal("0.01")

SOURCE_KIND_FI = {"product": "tuote", "work_type": "työlaji", "travel_expense": "matkakulu"}


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def money(value: float | int | Decimal) -> Decimal:
    """An amount as Decimal, via its text form (so 0.1 stays 0.1)."""
    return Decimal(str(value))


@dataclass
class Company:
    """Yritys: one Maestro company and its API key (one tenant)."""

    company_id: str
    name: str
    business_id: str
    api_key: str

    def to_api(self) -> dict[str, Any]:
        return {"company_id": self.company_id, "name": self.name, "business_id": self.business_id}


@dataclass
class Product:
    """Tuote."""

    code: str
    name: str
    unit: str
    vat_rate: float
    active: bool
    updated_at: datetime

    def to_api(self, fallback_code: str) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "unit": self.unit,
            "vat_rate": self.vat_rate,
            "active": self.active,
            # exactly one product is the fallback: the one the settings name (A/0 stays protected)
            "fallback": self.code == fallback_code,
            "updated_at": iso(self.updated_at),
        }


@dataclass
class Customer:
    """Asiakas."""

    customer_number: str
    name: str
    business_id: str | None
    vat_number: str | None
    einvoice_address: str | None
    einvoice_operator: str | None
    email: str | None
    billing_address: dict[str, str] | None
    severa_customer_guid: str | None
    created_at: datetime
    updated_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "customer_number": self.customer_number,
            "name": self.name,
            "business_id": self.business_id,
            "vat_number": self.vat_number,
            "einvoice_address": self.einvoice_address,
            "einvoice_operator": self.einvoice_operator,
            "email": self.email,
            "billing_address": dict(self.billing_address) if self.billing_address is not None else None,
            "severa_customer_guid": self.severa_customer_guid,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass
class BookedRow:
    """Laskurivi as booked: the Severa row plus the product it landed on and why."""

    row_number: int
    source_kind: str
    codes: list[str]
    description: str
    quantity: float
    unit: str
    unit_price: float
    vat_rate: float
    net_amount: float
    vat_amount: float
    gross_amount: float
    product_code: str
    booking: str  # matched | fallback
    reason: str  # code_matched | empty_code | unknown_code | inactive_product
    matched_code: str | None

    def to_api(self) -> dict[str, Any]:
        return {
            "row_number": self.row_number,
            "source_kind": self.source_kind,
            "codes": list(self.codes),
            "description": self.description,
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price": self.unit_price,
            "vat_rate": self.vat_rate,
            "net_amount": self.net_amount,
            "vat_amount": self.vat_amount,
            "gross_amount": self.gross_amount,
            "product_code": self.product_code,
            "booking": self.booking,
            "reason": self.reason,
            "matched_code": self.matched_code,
        }


@dataclass
class SalesInvoice:
    """Myyntilasku imported from Severa."""

    invoice_id: int
    severa_invoice_guid: str
    invoice_number: str
    invoice_date: str
    due_date: str
    customer_number: str
    currency: str
    reference_number: str | None
    total_excluding_vat: float
    total_vat: float
    total_including_vat: float
    imported_at: datetime
    rows: list[BookedRow]
    status: str = "imported"

    def to_api(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "severa_invoice_guid": self.severa_invoice_guid,
            "invoice_number": self.invoice_number,
            "invoice_date": self.invoice_date,
            "due_date": self.due_date,
            "customer_number": self.customer_number,
            "currency": self.currency,
            "reference_number": self.reference_number,
            "total_excluding_vat": self.total_excluding_vat,
            "total_vat": self.total_vat,
            "total_including_vat": self.total_including_vat,
            "status": self.status,
            "imported_at": iso(self.imported_at),
            "fallback_row_count": sum(1 for r in self.rows if r.booking == "fallback"),
            "rows": [r.to_api() for r in self.rows],
        }


@dataclass
class ImportLogEntry:
    """Tuontilokin rivi."""

    id: int
    logged_at: datetime
    level: str  # info | warning | error
    event: str  # invoice_imported | product_not_matched | invoice_rejected
    message: str
    invoice_number: str | None = None
    severa_invoice_guid: str | None = None
    invoice_id: int | None = None
    row_number: int | None = None
    source_kind: str | None = None
    source_code: str | None = None
    source_codes: list[str] = field(default_factory=list)
    product_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "logged_at": iso(self.logged_at),
            "level": self.level,
            "event": self.event,
            "message": self.message,
            "invoice_number": self.invoice_number,
            "severa_invoice_guid": self.severa_invoice_guid,
            "invoice_id": self.invoice_id,
            "row_number": self.row_number,
            "source_kind": self.source_kind,
            "source_code": self.source_code,
            "source_codes": list(self.source_codes),
            "product_code": self.product_code,
        }


@dataclass
class IntegrationSettings:
    """Severa-liittymän asetukset."""

    source_status_name: str
    transferred_status_name: str
    fallback_product_code: str
    updated_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "source_status_name": self.source_status_name,
            "transferred_status_name": self.transferred_status_name,
            "fallback_product_code": self.fallback_product_code,
            "updated_at": iso(self.updated_at),
        }


@dataclass
class CompanyBackend:
    """Everything one Maestro company holds. Reset = build a new one."""

    company: Company
    settings: IntegrationSettings
    products: dict[str, Product] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    invoices: dict[int, SalesInvoice] = field(default_factory=dict)
    import_log: list[ImportLogEntry] = field(default_factory=list)
    next_invoice_id: int = 100001
    next_log_id: int = 1

    # ------------------------------------------------------------------ products
    def ensure_fallback_product(self, now: datetime) -> None:
        """`A/0` always exists (Maestro ships with it)."""
        if FALLBACK_PRODUCT_CODE not in self.products:
            self.products[FALLBACK_PRODUCT_CODE] = Product(
                FALLBACK_PRODUCT_CODE, "Kohdistamattomat rivit", "kpl", 25.5, True, now
            )

    def is_protected(self, code: str) -> bool:
        return code in {FALLBACK_PRODUCT_CODE, self.settings.fallback_product_code}

    def match_row(self, codes: list[str]) -> tuple[str, str, str, str | None]:
        """(product_code, booking, reason, matched_code) for a row with these codes."""
        usable = [c for c in codes if c.strip()]
        if not usable:
            return self.settings.fallback_product_code, "fallback", "empty_code", None
        inactive = False
        for code in usable:
            product = self.products.get(code.strip())
            if product is not None:
                if product.active:
                    return product.code, "matched", "code_matched", code
                inactive = True
        reason = "inactive_product" if inactive else "unknown_code"
        return self.settings.fallback_product_code, "fallback", reason, None

    # ------------------------------------------------------------------ invoices and log
    def find_invoice_by_guid(self, guid: str) -> SalesInvoice | None:
        wanted = guid.lower()
        for inv in self.invoices.values():
            if inv.severa_invoice_guid.lower() == wanted:
                return inv
        return None

    def log(self, now: datetime, level: str, event: str, message: str, **fields: Any) -> ImportLogEntry:
        entry = ImportLogEntry(self.next_log_id, now, level, event, message, **fields)
        self.next_log_id += 1
        self.import_log.append(entry)
        return entry
