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
from datetime import UTC, datetime
from decimal import Decimal

FALLBACK_PRODUCT_CODE = "A/0"
DEFAULT_SOURCE_STATUS = "Odottaa siirtoa Maestroon"
DEFAULT_TRANSFERRED_STATUS = "Siirretty Maestroon"
CENT = Decimal("0.01")
# preset data and new companies are stamped with this fixed anchor (never the clock): same seed, same state
ANCHOR = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)

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


@dataclass
class Product:
    """Tuote."""

    code: str
    name: str
    unit: str
    vat_rate: float
    active: bool
    updated_at: datetime


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


@dataclass
class IntegrationSettings:
    """Severa-liittymän asetukset."""

    source_status_name: str
    transferred_status_name: str
    fallback_product_code: str
    updated_at: datetime
