"""The Maestro connector of the transfer engine: sales invoices and customers to Maestro (MA-1 ... MA-8).

What the engine asks and how Maestro answers it:

* **accounts**: the one Maestro company the API key belongs to, once its preflight passed
  (MA-4, MA-8: see ``preflight``) and with the statuses *Maestro's* settings name (MA-3: the
  source status, e.g. "Odottaa siirtoa Maestroon", and the transferred status, e.g. "Siirretty
  Maestroon"). Every pass first brings the customer register up to date (MA-2, ``customers``).
  Bridge-side options (not Maestro's): an after-error status and a notification address, both
  off by default (Maestro's settings have neither).
* **idempotency key**: the Severa invoice GUID: Maestro's import is idempotent on it (the first
  import wins), so a repeated import never makes a second invoice. A re-queued invoice (the user
  put it back into the source status) is imported again under the same key: Maestro answers with
  the invoice it already has, and the transfer log says so (to correct an invoice in Maestro,
  credit it in Severa).
* **what to send**: the invoice's customer is made sure of first, then ``SalesInvoiceImport``
  with each row's source kind and code(s) (MA-5 ... MA-7); rows Maestro books on its fallback
  product (``A/0``) are written to the transfer log with the row, its code and its kind, and
  counted in the pass summary.
* **follow**: nothing: the import is synchronous; the invoice is done when Severa shows the
  transferred status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.connectors.maestro.client import MaestroClient
from bridge.connectors.maestro.customers import CONNECTOR, CustomerSync
from bridge.connectors.maestro.mapping import KIND_WORDS, MappingError, invoice_body
from bridge.connectors.maestro.preflight import Preflight, run_preflight
from bridge.errors import MaestroError, ServiceError, TransportFailure
from bridge.severa.model import RowKind, SeveraInvoice
from bridge.severa.source import SeveraSource
from bridge.store import LedgerEntry, LogDraft, LogLevel, Store
from bridge.transfer import (
    Account,
    ConnectorUnavailable,
    Deferred,
    PassReport,
    PrepareError,
    Refused,
    RemoteOutcome,
    Sent,
)

__all__ = ["AFTER_ERROR_KEY", "NOTIFY_KEY", "MaestroConnector", "maestro_message"]

AFTER_ERROR_KEY = "status_after_error"  # bridge-side option: Severa status for failed imports
NOTIFY_KEY = "notification_email"  # bridge-side option: where failed imports are mailed


def maestro_message(exc: MaestroError) -> str:
    """Maestro's own words: the message and each detail (``field: message``)."""
    parts = []
    for d in exc.details:
        if isinstance(d, dict):
            text = f"{d.get('field')}: {d.get('message')}" if d.get("field") else str(d.get("message") or "")
        else:
            text = str(d)
        if text and text not in exc.message:
            parts.append(text)
    return exc.message + (" (" + "; ".join(parts) + ")" if parts else "")


class MaestroConnector:
    """Imports the invoices in Maestro's source status into the Maestro company of the API key."""

    name = CONNECTOR
    title = "Maestro"
    follows_remote = False

    def __init__(self, client: MaestroClient, store: Store) -> None:
        self.client = client
        self.store = store
        self.preflight: Preflight | None = None  # the last preflight (passes run it until it passes)
        self.account: Account | None = None
        self.customers: CustomerSync | None = None

    # ------------------------------------------------------------------ accounts
    def check(self, source: SeveraSource) -> Preflight:
        """Run the preflight now (MA-4, MA-8)."""
        self.preflight = run_preflight(source, self.client)
        return self.preflight

    def begin_pass(self, source: SeveraSource, report: PassReport) -> list[Account]:
        if self.preflight is None or not self.preflight.ok:
            preflight = self.check(source)
            if not preflight.ok:
                raise ConnectorUnavailable(preflight.message())
        else:  # the settings may have changed in Maestro since: read them every pass
            settings = self.client.get_settings()
            for key in ("source_status_name", "transferred_status_name"):
                assert self.preflight.settings is not None
                if settings.get(key) != self.preflight.settings.get(key):
                    preflight = self.check(source)
                    if not preflight.ok:
                        raise ConnectorUnavailable(preflight.message())
                    break
        current = self.preflight
        assert current is not None and current.company is not None
        preflight = current
        company: dict[str, Any] = current.company
        assert preflight.source_status is not None and preflight.transferred_status is not None
        key = str(company.get("company_id") or "maestro")
        options = self.store.state.all(CONNECTOR, key)
        wanted_error = options.get(AFTER_ERROR_KEY) or ""
        after_error = source.status(wanted_error) if wanted_error else None
        if wanted_error and after_error is None:
            report.problems.append(
                f"Maestro: the status after error {wanted_error!r} no longer exists in Severa; "
                "failed imports stay in the source status (bridge maestro settings --after-error)"
            )
        self.account = Account(
            connector=self.name,
            key=key,
            name=str(company.get("name") or key),
            transfer_status=preflight.source_status,
            after_transfer=preflight.transferred_status,
            after_error=after_error,
            notification_email=options.get(NOTIFY_KEY) or None,
        )
        self.customers = CustomerSync(self.store, self.client, key)
        try:
            result = self.customers.run(source)
        except (ServiceError, TransportFailure) as exc:
            report.problems.append(f"Maestro: the customer register could not be synchronised now: {exc}")
        else:
            report.add(self.name, "customers_synced", len(result.synced))
            report.add(self.name, "customers_failed", len(result.failed))
        return [self.account]

    def account_of(self, invoice: SeveraInvoice, accounts: Sequence[Account]) -> Account | None:
        return accounts[0] if accounts else None  # one Severa organisation, one Maestro company

    def idempotency_key(self, account: Account, invoice_guid: str, generation: int) -> str:
        return invoice_guid.strip().strip("{}").lower()

    # ------------------------------------------------------------------ what to send
    def prepare(
        self, account: Account, entry: LedgerEntry, invoice: SeveraInvoice, source: SeveraSource
    ) -> dict[str, Any]:
        try:
            mapped = invoice_body(invoice)
        except MappingError as exc:
            raise PrepareError(str(exc)) from exc
        assert self.customers is not None
        try:
            self.customers.ensure(mapped.customer)  # the customer register first (MA-2)
        except MappingError as exc:
            raise PrepareError(
                f"{invoice.label}: its customer cannot be transferred to Maestro: {exc}"
            ) from exc
        return mapped.body

    def send(self, account: Account, entry: LedgerEntry, payload: dict[str, Any]) -> Sent:
        try:
            result = self.client.import_sales_invoice(payload)
        except MaestroError as exc:
            if exc.retryable or exc.is_auth:
                raise Deferred(maestro_message(exc)) from exc
            if exc.code == "customer_not_found" and self.customers is not None:
                # the register says it was copied, Maestro says not: copy it again next pass
                self._forget_customer(payload)
                raise Deferred(maestro_message(exc)) from exc
            raise Refused(maestro_message(exc)) from exc
        return self._sent(entry, result, first=not bool(result.get("duplicate")) or entry.generation == 0)

    def _forget_customer(self, payload: dict[str, Any]) -> None:
        assert self.customers is not None
        for record in self.store.records.all(CONNECTOR, self.customers.account, "customer"):
            if record.remote_id == payload.get("customer_number"):
                self.store.records.put(
                    CONNECTOR,
                    self.customers.account,
                    "customer",
                    record.source_guid,
                    remote_id=None,
                    name=record.name,
                    source_version=None,
                    error="Maestro did not have the customer",
                )

    def lookup(self, account: Account, entry: LedgerEntry) -> Sent | None:
        found = self.client.find_sales_invoice(entry.idempotency_key)
        if found is None:
            return None
        return self._sent(entry, {"duplicate": True, "invoice": found}, first=entry.generation == 0)

    def _sent(self, entry: LedgerEntry, result: dict[str, Any], *, first: bool) -> Sent:
        """``first``: this send created the invoice (or is the lost answer of the send that did);
        otherwise Maestro already had it from an earlier generation."""
        invoice = result.get("invoice") or {}
        invoice_id = str(invoice.get("invoice_id") or "")
        rows = [r for r in invoice.get("rows") or [] if isinstance(r, dict)]
        fallback = [r for r in rows if r.get("booking") == "fallback"]
        number = entry.invoice_number or invoice.get("invoice_number") or entry.invoice_guid
        detail = f"{len(fallback)} row(s) on {fallback[0].get('product_code')}" if fallback else None
        if not first:
            return Sent(
                remote_id=invoice_id,
                remote_state="imported",
                remote_detail=detail,
                message=(
                    f"Invoice {number} was already in Maestro as sales invoice {invoice_id} (imported "
                    f"{invoice.get('imported_at')}); Maestro keeps the first import, so it was not imported "
                    "again. To correct it in Maestro, credit the invoice in Severa."
                ),
            )
        notes = tuple(
            LogDraft(
                LogLevel.WARNING,
                f"Invoice {number}, row {r.get('row_number')} ({KIND_WORDS.get(_kind(r), r.get('source_kind'))} "
                f"{_code_text(r)}): Maestro has no active product with that code; the row was booked on "
                f"{r.get('product_code')}. Give the {_kind_noun(r)} in Severa the code of a Maestro product "
                "(or add the product to Maestro).",
            )
            for r in fallback
        )
        return Sent(
            remote_id=invoice_id,
            remote_state="imported",
            remote_detail=detail,
            message=(
                f"Invoice {number} imported into Maestro as sales invoice {invoice_id} ({len(rows)} row(s)"
                + (f", {len(fallback)} booked on {fallback[0].get('product_code')})" if fallback else ")")
            ),
            notes=notes,
            fallback_rows=len(fallback),
        )

    def follow(self, account: Account, entries: Sequence[LedgerEntry]) -> dict[str, RemoteOutcome]:
        return {}  # the import is synchronous: nothing to follow


def _kind(row: dict[str, Any]) -> RowKind:
    try:
        return RowKind(str(row.get("source_kind")))
    except ValueError:
        return RowKind.PRODUCT


def _kind_noun(row: dict[str, Any]) -> str:
    return {
        RowKind.PRODUCT: "product (Tuotteet)",
        RowKind.WORK_TYPE: "work type (Työlajit)",
        RowKind.TRAVEL_EXPENSE: "travel expense (Matkakulut)",
    }[_kind(row)]


def _code_text(row: dict[str, Any]) -> str:
    codes = [str(c) for c in row.get("codes") or [] if str(c).strip()]
    return f"code {', '.join(repr(c) for c in codes)}" if codes else "no code"
