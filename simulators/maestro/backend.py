"""The Maestro domain: the service's root and one backend per Maestro company (yritys); no HTTP here.

`MaestroBackend` is what the routes reach (`kit.current_backend`): every company, keyed by id
and reached by its API key (`auth.py`), and the options. `CompanyBackend` is one company (one
tenant) – what a snapshot holds of it – with the rules:

* products: `A/0` always exists and can never be deleted or deactivated, nor can the fallback
  product the integration settings name (409 `fallback_product_protected`);
* customers are written whole (PUT), their business ID and VAT number checked (`validation.py`);
* the integration settings need two different statuses and an active fallback product;
* **importing a sales invoice** (myyntilaskujen tuonti), in this order: the duplicate check (a
  Severa GUID imported before answers the stored invoice with `duplicate: true` and creates
  nothing: the first import wins, even if the body differs); totals within a cent (422
  `totals_mismatch`), then the customer (422 `customer_not_found`, unless
  `require_known_customer=False`); a refused import writes an `error` log entry; then each row
  is booked on the first *active* product whose code equals one of the row's codes, else on the
  fallback product with one `warning` log entry per row.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import MaestroError, detail
from .models import (
    ANCHOR,
    DEFAULT_SOURCE_STATUS,
    DEFAULT_TRANSFERRED_STATUS,
    FALLBACK_PRODUCT_CODE,
    SOURCE_KIND_FI,
    BookedRow,
    Company,
    Customer,
    ImportLogEntry,
    IntegrationSettings,
    Product,
    SalesInvoice,
)
from .validation import check_customer_identifiers, check_totals, normalise_business_id

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class ImportOutcome:
    invoice: SalesInvoice
    duplicate: bool
    log_entries: list[ImportLogEntry]


def _not_found(what: str, field_name: str, value: Any, why: str) -> MaestroError:
    return MaestroError(404, "not_found", f"No {what} {value!r}.", [detail(field_name, why)])


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

    # ------------------------------------------------------------------ writes
    def upsert_product(self, code: str, data: dict[str, Any], now: datetime) -> tuple[Product, bool]:
        """Create or replace a product; (the product, whether it is new)."""
        active = data.get("active", True)
        if not active and self.is_protected(code):
            raise MaestroError(
                409,
                "fallback_product_protected",
                f"Product {code} is the fallback product and cannot be deactivated.",
                [detail("active", "the fallback product must stay active")],
            )
        created = code not in self.products
        self.products[code] = Product(
            code, data["name"].strip(), data["unit"].strip(), data["vat_rate"], active, now
        )
        return self.products[code], created

    def product(self, code: str) -> Product:
        product = self.products.get(code)
        if product is None:
            raise _not_found("product with code", "code", code, "unknown product")
        return product

    def delete_product(self, code: str) -> None:
        self.product(code)
        if self.is_protected(code):
            what = (
                "A/0 always exists"
                if code == FALLBACK_PRODUCT_CODE
                else "it is the fallback product in the settings"
            )
            raise MaestroError(
                409,
                "fallback_product_protected",
                f"Product {code} cannot be deleted: {what}.",
                [detail("code", "protected product")],
            )
        del self.products[code]

    def customer(self, number: str) -> Customer:
        customer = self.customers.get(number)
        if customer is None:
            raise _not_found("customer with number", "customer_number", number, "unknown customer")
        return customer

    def upsert_customer(self, number: str, data: dict[str, Any], now: datetime) -> tuple[Customer, bool]:
        """Create or replace a customer (asiakas); (the customer, whether it is new)."""
        problems = check_customer_identifiers(data)
        if problems:
            fields = ", ".join(str(p["field"]) for p in problems)
            raise MaestroError(
                422, "validation_failed", f"The customer is not valid: check {fields}.", problems
            )
        old = self.customers.get(number)
        address = data.get("billing_address")
        if address is not None:
            address = {**address, "country_code": address.get("country_code", "FI")}
        guid = data.get("severa_customer_guid")
        self.customers[number] = Customer(
            customer_number=number,
            name=data["name"].strip(),
            business_id=normalise_business_id(data["business_id"]) if data.get("business_id") else None,
            vat_number=data["vat_number"].upper() if data.get("vat_number") else None,
            einvoice_address=data.get("einvoice_address") or None,
            einvoice_operator=data.get("einvoice_operator") or None,
            email=data.get("email") or None,
            billing_address=address,
            severa_customer_guid=guid.lower() if guid else None,
            created_at=old.created_at if old else now,
            updated_at=now,
        )
        return self.customers[number], old is None

    def invoice(self, invoice_id: int) -> SalesInvoice:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise MaestroError(
                404,
                "not_found",
                f"No sales invoice with id {invoice_id}.",
                [detail("invoice_id", "unknown invoice")],
            )
        return invoice

    def update_settings(self, data: dict[str, Any], now: datetime) -> IntegrationSettings:
        """The Severa integration settings (Severa-liittymän asetukset), checked as a whole."""
        source, transferred = data["source_status_name"].strip(), data["transferred_status_name"].strip()
        fallback = data.get("fallback_product_code", FALLBACK_PRODUCT_CODE)
        problems = []
        if source.casefold() == transferred.casefold():
            problems.append(detail("transferred_status_name", "must differ from source_status_name"))
        product = self.products.get(fallback)
        if product is None or not product.active:
            problems.append(detail("fallback_product_code", f"no active product with code {fallback!r}"))
        if problems:
            fields = ", ".join(str(p["field"]) for p in problems)
            raise MaestroError(
                422, "validation_failed", f"The settings are not valid: check {fields}.", problems
            )
        s = self.settings
        s.source_status_name, s.transferred_status_name, s.fallback_product_code = (
            source,
            transferred,
            fallback,
        )
        s.updated_at = now
        return s

    # ------------------------------------------------------------------ reads with filters
    def products_where(self, active: bool | None, code: str | None) -> list[Product]:
        return [
            p
            for _, p in sorted(self.products.items())
            if (active is None or p.active == active) and (code is None or p.code == code)
        ]

    def customers_where(self, since: datetime | None, business_id: str | None) -> list[Customer]:
        return [
            c
            for _, c in sorted(self.customers.items())
            if (since is None or c.updated_at >= since)
            and (business_id is None or c.business_id == business_id)
        ]

    def invoices_where(self, guid: str | None, customer: str | None) -> list[SalesInvoice]:
        guid = (guid or "").lower()
        return [
            inv
            for _, inv in sorted(self.invoices.items())
            if (not guid or inv.severa_invoice_guid.lower() == guid)
            and (customer is None or inv.customer_number == customer)
        ]

    def log_where(self, args: dict[str, Any], since: datetime | None) -> list[ImportLogEntry]:
        """The import log (tuontiloki) filtered by the documented query parameters."""
        checks: list[Callable[[ImportLogEntry], bool]] = []
        if since is not None:
            checks.append(lambda e: e.logged_at >= since)
        wanted: list[tuple[str, Any]] = [
            (k, args[k]) for k in ("invoice_number", "invoice_id", "level") if k in args
        ]
        if "severa_invoice_guid" in args:
            wanted.append(("severa_invoice_guid", args["severa_invoice_guid"].lower()))
        if "invoice" in args:  # deprecated: one value, read by the documented precedence
            key = self._invoice_key(args["invoice"])
            if key is None:
                return []
            wanted.append(key)
        checks.extend(functools.partial(_has_value, name=name, value=value) for name, value in wanted)
        return [e for e in self.import_log if all(check(e) for check in checks)]

    def _invoice_key(self, value: str) -> tuple[str, Any] | None:
        """What the deprecated `invoice` parameter means, by the documented precedence: a Severa GUID,
        else a Severa invoice number some entry has, else a Maestro invoice id; None = no invoice."""
        if _GUID.fullmatch(value):
            return "severa_invoice_guid", value.lower()
        if any(e.invoice_number == value for e in self.import_log):
            return "invoice_number", value
        if re.fullmatch(r"[0-9]{1,18}", value):
            return "invoice_id", int(value)
        return None

    # ------------------------------------------------------------------ importing sales invoices
    def import_sales_invoice(
        self, data: dict[str, Any], now: datetime, *, require_known_customer: bool = True
    ) -> ImportOutcome:
        """Myyntilaskujen tuonti: import `data` (already valid against `SalesInvoiceImport`) or raise
        MaestroError (the order of the checks: see the module docstring)."""
        data = {**data, "severa_invoice_guid": str(data["severa_invoice_guid"]).lower()}
        existing = self.find_invoice_by_guid(data["severa_invoice_guid"])
        if existing is not None:
            return ImportOutcome(existing, True, [])

        problems = check_totals(data)
        if problems:
            fields = ", ".join(str(p["field"]) for p in problems)
            raise self._reject(
                now,
                data,
                "totals_mismatch",
                f"Invoice totals do not match its rows: {fields}.",
                problems,
            )
        customer_number = data["customer_number"]
        if require_known_customer and customer_number not in self.customers:
            raise self._reject(
                now,
                data,
                "customer_not_found",
                f"Customer {customer_number} is not in the customer register (asiakasrekisteri); "
                "transfer the customer before its invoices.",
                [detail("customer_number", f"no customer with number {customer_number!r}")],
            )

        invoice_id = self.next_invoice_id
        self.next_invoice_id += 1
        rows: list[BookedRow] = []
        for number, row in enumerate(data["rows"], start=1):
            codes = [str(c) for c in row["codes"]]
            product_code, booking, reason, matched = self.match_row(codes)
            rows.append(
                BookedRow(
                    row_number=number,
                    source_kind=row["source_kind"],
                    codes=codes,
                    description=row["description"],
                    quantity=row["quantity"],
                    unit=row["unit"],
                    unit_price=row["unit_price"],
                    vat_rate=row["vat_rate"],
                    net_amount=row["net_amount"],
                    vat_amount=row["vat_amount"],
                    gross_amount=row["gross_amount"],
                    product_code=product_code,
                    booking=booking,
                    reason=reason,
                    matched_code=matched,
                )
            )
        invoice = SalesInvoice(
            invoice_id=invoice_id,
            severa_invoice_guid=data["severa_invoice_guid"],
            invoice_number=data["invoice_number"],
            invoice_date=data["invoice_date"],
            due_date=data["due_date"],
            customer_number=customer_number,
            currency=data.get("currency", "EUR"),
            reference_number=data.get("reference_number"),
            total_excluding_vat=data["total_excluding_vat"],
            total_vat=data["total_vat"],
            total_including_vat=data["total_including_vat"],
            imported_at=now,
            rows=rows,
        )
        self.invoices[invoice_id] = invoice
        fallback_rows = [r for r in rows if r.booking == "fallback"]
        entries = [
            self.log(
                now,
                "info",
                "invoice_imported",
                f"Lasku {data['invoice_number']} tuotu myyntilaskuksi {invoice_id} ({len(rows)} riviä, "
                f"{len(fallback_rows)} kohdistamatonta).",
                invoice_number=data["invoice_number"],
                severa_invoice_guid=data["severa_invoice_guid"],
                invoice_id=invoice_id,
            )
        ]
        for r in fallback_rows:
            unknown = next((c for c in r.codes if c.strip()), "")
            kind_fi = SOURCE_KIND_FI[r.source_kind]
            why = {
                "empty_code": f"rivillä ei ole koodia ({kind_fi})",
                "unknown_code": f"tuotetta {unknown!r} ei löydy ({kind_fi})",
                "inactive_product": f"tuote {unknown!r} ei ole aktiivinen ({kind_fi})",
            }[r.reason]
            entries.append(
                self.log(
                    now,
                    "warning",
                    "product_not_matched",
                    f"Lasku {data['invoice_number']}, rivi {r.row_number}: {why}; "
                    f"rivi kirjattiin tuotteelle {r.product_code}.",
                    invoice_number=data["invoice_number"],
                    severa_invoice_guid=data["severa_invoice_guid"],
                    invoice_id=invoice_id,
                    row_number=r.row_number,
                    source_kind=r.source_kind,
                    source_code=unknown,
                    source_codes=list(r.codes),
                    product_code=r.product_code,
                )
            )
        return ImportOutcome(invoice, False, entries)

    def _reject(
        self,
        now: datetime,
        data: dict[str, Any],
        code: str,
        message: str,
        details: list[dict[str, Any]],
    ) -> MaestroError:
        self.log(
            now,
            "error",
            "invoice_rejected",
            f"Laskua {data['invoice_number']} ei tuotu: {message}",
            invoice_number=data["invoice_number"],
            severa_invoice_guid=data["severa_invoice_guid"],
        )
        return MaestroError(422, code, message, details)


def _has_value(entry: ImportLogEntry, *, name: str, value: Any) -> bool:
    got = getattr(entry, name)
    return bool((got.lower() if name == "severa_invoice_guid" and got else got) == value)


def new_company_backend(company: Company, at: datetime = ANCHOR) -> CompanyBackend:
    """A new Maestro company: default integration settings and the fallback product `A/0`."""
    settings = IntegrationSettings(
        DEFAULT_SOURCE_STATUS, DEFAULT_TRANSFERRED_STATUS, FALLBACK_PRODUCT_CODE, at
    )
    backend = CompanyBackend(company=company, settings=settings)
    backend.ensure_fallback_product(at)
    return backend


class MaestroBackend:
    """Every Maestro company (keyed by company id) and the options the routes need."""

    def __init__(
        self,
        companies: dict[str, CompanyBackend],
        *,
        now: Callable[[], datetime],
        require_known_customer: bool = True,
    ) -> None:
        self.companies, self.now, self.require_known_customer = companies, now, require_known_customer

    def next_company_id(self) -> str:
        """The id a new company gets: the next after the highest (1001 in an empty world)."""
        return str(max((int(c) for c in self.companies if c.isdigit()), default=1000) + 1)

    def add_company(self, company_id: str, name: str, business_id: str, api_key: str) -> CompanyBackend:
        """A new company with its own API key (e.g. to reproduce a customer's setup)."""
        backend = new_company_backend(Company(company_id, name, business_id, api_key))
        self.companies[company_id] = backend
        return backend
