"""The code audit: which Severa codes would land on Maestro's fallback product ``A/0``, before it happens.

Neither Severa nor Maestro tells in advance: Maestro books a row whose code matches no active
product on ``A/0`` and says so in its import log *after* the import (MA-5 ... MA-7). The audit
(``severa-sandbox bridge maestro audit-codes``) compares the two registers now:

* every active Severa product (*Tuotteet*), billable work type (*Työlajit*; a non-productive work
  type never reaches an invoice) and travel expense type (*Matkakulut*) whose code is empty, or
  is not the code of an active Maestro product;
* every row of every invoice waiting in the source status that would be booked on ``A/0``
  (invoice number, row, kind, code), matched exactly as Maestro matches: the row's codes in
  order, trimmed, against active products.

Clean means nothing would fall back (exit code 0); anything found is exit code 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.connectors.maestro.client import MaestroClient
from bridge.severa.model import RowKind
from bridge.severa.source import SeveraSource

__all__ = ["AuditReport", "CodeProblem", "FallbackRow", "audit_codes"]


@dataclass(frozen=True)
class CodeProblem:
    kind: RowKind
    name: str
    code: str
    problem: str  # "no code" | "missing from Maestro" | "inactive in Maestro"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "name": self.name, "code": self.code, "problem": self.problem}


@dataclass(frozen=True)
class FallbackRow:
    invoice_number: str
    invoice_guid: str
    row: int
    kind: RowKind
    codes: tuple[str, ...]
    description: str

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice_number": self.invoice_number,
            "invoice_guid": self.invoice_guid,
            "row": self.row,
            "kind": self.kind.value,
            "codes": list(self.codes),
            "description": self.description,
        }


@dataclass
class AuditReport:
    fallback_product: str
    source_status: str | None
    catalogue: list[CodeProblem] = field(default_factory=list)
    rows: list[FallbackRow] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.catalogue and not self.rows

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "fallback_product": self.fallback_product,
            "source_status": self.source_status,
            "codes": [p.to_json() for p in self.catalogue],
            "rows": [r.to_json() for r in self.rows],
        }


def audit_codes(source: SeveraSource, maestro: MaestroClient) -> AuditReport:
    """Compare Severa's codes with Maestro's product register and the waiting invoices' rows."""
    settings = maestro.get_settings()
    products = {str(p.get("code")): bool(p.get("active", True)) for p in maestro.iter_products()}
    active = {code for code, on in products.items() if on}
    report = AuditReport(
        fallback_product=str(settings.get("fallback_product_code") or "A/0"),
        source_status=str(settings.get("source_status_name") or "") or None,
    )
    for item in source.catalogue():
        if not item.is_active or not item.billable:
            continue
        code = item.code.strip()
        if not code:
            report.catalogue.append(CodeProblem(item.kind, item.name, "", "no code"))
        elif code not in active:
            problem = "inactive in Maestro" if code in products else "missing from Maestro"
            report.catalogue.append(CodeProblem(item.kind, item.name, code, problem))
    status = source.status(report.source_status) if report.source_status else None
    if status is not None:
        for page in source.invoice_pages([status.guid]):
            for invoice in page:
                full = source.with_lines(invoice, customer=False)
                for line in full.lines or ():
                    if not any(c.strip() in active for c in line.codes if c.strip()):
                        report.rows.append(
                            FallbackRow(
                                invoice.number or invoice.guid,
                                invoice.guid,
                                line.position,
                                line.kind,
                                line.codes,
                                line.description,
                            )
                        )
    order = {RowKind.PRODUCT: 0, RowKind.WORK_TYPE: 1, RowKind.TRAVEL_EXPENSE: 2}
    report.catalogue.sort(key=lambda p: (order[p.kind], p.code, p.name))
    return report
