"""Myyntilaskujen tuonti: importing one Severa sales invoice into a Maestro company.

Order of the checks (documented in the OpenAPI document, `importSalesInvoice`):
1. the body's shape (done by the caller against `SalesInvoiceImport`);
2. the duplicate check: a Severa GUID imported before answers the stored invoice with
   `duplicate: true` and creates nothing (the first import wins, even if the body differs);
3. totals within a cent (422 `totals_mismatch`), then the customer (422 `customer_not_found`);
   a refused import writes an `error` entry to the import log;
4. row matching: each row is booked on the first active product whose code equals one of the
   row's codes, else on the fallback product with a `warning` log entry per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import MaestroError, detail
from .models import SOURCE_KIND_FI, BookedRow, CompanyBackend, ImportLogEntry, SalesInvoice
from .validation import check_totals


@dataclass
class ImportOutcome:
    invoice: SalesInvoice
    duplicate: bool
    log_entries: list[ImportLogEntry]

    def to_api(self) -> dict[str, Any]:
        return {
            "duplicate": self.duplicate,
            "invoice": self.invoice.to_api(),
            "log_entries": [e.to_api() for e in self.log_entries],
        }


def _reject(
    backend: CompanyBackend,
    now: datetime,
    data: dict[str, Any],
    code: str,
    message: str,
    details: list[dict[str, Any]],
) -> MaestroError:
    backend.log(
        now,
        "error",
        "invoice_rejected",
        f"Laskua {data['invoice_number']} ei tuotu: {message}",
        invoice_number=data["invoice_number"],
        severa_invoice_guid=data["severa_invoice_guid"],
    )
    return MaestroError(422, code, message, details)


def import_sales_invoice(
    backend: CompanyBackend, data: dict[str, Any], now: datetime, *, require_known_customer: bool = True
) -> ImportOutcome:
    """Import `data` (already valid against `SalesInvoiceImport`) or raise MaestroError."""
    data = {**data, "severa_invoice_guid": str(data["severa_invoice_guid"]).lower()}
    existing = backend.find_invoice_by_guid(data["severa_invoice_guid"])
    if existing is not None:
        return ImportOutcome(existing, True, [])

    problems = check_totals(data)
    if problems:
        fields = ", ".join(str(p["field"]) for p in problems)
        raise _reject(
            backend,
            now,
            data,
            "totals_mismatch",
            f"Invoice totals do not match its rows: {fields}.",
            problems,
        )
    customer_number = data["customer_number"]
    if require_known_customer and customer_number not in backend.customers:
        raise _reject(
            backend,
            now,
            data,
            "customer_not_found",
            f"Customer {customer_number} is not in the customer register (asiakasrekisteri); "
            "transfer the customer before its invoices.",
            [detail("customer_number", f"no customer with number {customer_number!r}")],
        )

    invoice_id = backend.next_invoice_id
    backend.next_invoice_id += 1
    rows: list[BookedRow] = []
    for number, row in enumerate(data["rows"], start=1):
        codes = [str(c) for c in row["codes"]]
        product_code, booking, reason, matched = backend.match_row(codes)
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
    backend.invoices[invoice_id] = invoice
    fallback_rows = [r for r in rows if r.booking == "fallback"]
    entries = [
        backend.log(
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
            backend.log(
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
