"""The status-driven transfer of invoices from Severa to Maventa, exactly once (MV-6 ... MV-12).

One pass (``severa-sandbox bridge sync --once``) does, for every *active* sending company:

1. **pick up**: every invoice in the company's transfer status (siirrettävien laskujen tila) gets a
   ledger row (PREPARED) with a send uuid derived from its GUID; an invoice the user put back into
   the transfer status after it had settled starts a new generation (new uuid);
2. **advance** every unfinished ledger row one or more steps (see ``bridge.store.ledger``):
   PREPARED → build the Finvoice (+ the Severa PDF in a ZIP when MV-6 is on) → SENDING → POST with
   the uuid → SENT → PATCH Severa to the after-transfer status → STATUS_PATCHED → follow Maventa's
   delivery → DELIVERED; or on any refusal or failed delivery → FAILED (transfer-log line with the
   service's own message) → PATCH to the after-error status → ERROR_PATCHED → notification e-mail
   by SMTP (MV-9) → NOTIFIED.

A row found in SENDING (a crash, a timeout whose request did reach Maventa, a reset) is first
looked up at Maventa by its uuid; only when Maventa does not have it is it sent again, with the
same uuid. Every outside effect is preceded by a ledger write, so a crash between any two steps
is finished by the next pass without a second send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.connectors.maventa.client import MaventaClient
from bridge.connectors.maventa.integration import MaventaIntegration, normalize_business_id
from bridge.errors import BridgeError, MaventaError, ServiceError, SeveraError, TransportFailure
from bridge.finvoice import (
    BankAccount,
    FinvoiceBuildError,
    SellerParty,
    build_finvoice,
    finvoice_base_name,
    package_invoice,
    validate_against_xsd,
)
from bridge.notify import Notifier, SendingError
from bridge.store import (
    REQUEUEABLE_STATES,
    LedgerEntry,
    LedgerState,
    LogDraft,
    LogLevel,
    SendingCompany,
    TransitionConflict,
)

S = LedgerState
log = logging.getLogger(__name__)

Json = dict[str, Any]


@dataclass
class PassReport:
    """What one pass did (counts of ledger moves), for the CLI and the benchmarks."""

    picked_up: int = 0
    sent: int = 0
    status_patched: int = 0
    delivered: int = 0
    failed: int = 0
    error_patched: int = 0
    notified: int = 0
    pending: int = 0
    retries_deferred: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return (
            self.picked_up
            + self.sent
            + self.status_patched
            + self.delivered
            + self.failed
            + self.error_patched
            + self.notified
        )


class TransferEngine:
    """Runs passes of the Severa → Maventa transfer for one Severa organisation."""

    def __init__(
        self,
        integration: MaventaIntegration,
        *,
        notifier: Notifier | None = None,
        xsd_path: Path | None = None,
        max_send_attempts: int = 8,
        max_notify_attempts: int = 5,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.integration = integration
        self.severa = integration.severa
        self.store = integration.store
        self.notifier = notifier
        self.xsd_path = xsd_path
        self.max_send_attempts = max_send_attempts
        self.max_notify_attempts = max_notify_attempts
        self.now = now
        self._sellers: dict[int, SellerParty] = {}
        self._customers: dict[str, Json] = {}  # within one pass: the document and the routing share it
        self._clients: dict[int, MaventaClient] = {}
        self._notify_attempts: dict[tuple[str, int], int] = {}

    # ------------------------------------------------------------------ a pass
    def run_once(self) -> PassReport:
        report = PassReport()
        self._sellers.clear()
        self._customers.clear()
        self._clients.clear()  # credentials may have changed since the last pass (`maventa connect`)
        companies = {
            c.id: c
            for c in self.store.companies.all(active=True, severa_organization=self.integration.organization)
        }
        for company in companies.values():
            try:
                self._pick_up(company, companies, report)
            except (ServiceError, TransportFailure) as exc:
                report.problems.append(f"{company.name}: could not list invoices: {exc}")
        for company_id, company in companies.items():
            for entry in self.store.ledger.unfinished(company_id=company_id):
                try:
                    self._advance(company, entry, report)
                except TransitionConflict as exc:  # another worker moved it: its business now
                    report.problems.append(str(exc))
                except (ServiceError, TransportFailure) as exc:
                    report.retries_deferred += 1
                    report.problems.append(f"invoice {entry.invoice_number or entry.invoice_guid}: {exc}")
        return report

    def _pick_up(
        self, company: SendingCompany, companies: dict[int, SendingCompany], report: PassReport
    ) -> None:
        status = company.settings.status_to_transfer
        if status is None:
            return
        for invoice in self.severa.iter_invoices([status.guid]):
            if self._issuer(invoice, companies) != company.id:
                continue
            guid = str(invoice["guid"])
            number = None if invoice.get("number") is None else str(invoice["number"])
            entry = self.store.ledger.get(guid, company.id)
            if entry is None:
                self.store.ledger.prepare(guid, company.id, invoice_number=number)
                report.picked_up += 1
            elif entry.state in REQUEUEABLE_STATES:
                # the user put it back into the transfer status (e.g. after fixing an error): a new send
                self.store.ledger.requeue(guid, company.id, expected_generation=entry.generation)
                self.store.log.add(
                    "Invoice put back into the transfer status; it will be sent again",
                    company_id=company.id,
                    invoice_guid=guid,
                    invoice_number=number,
                )
                report.picked_up += 1

    def _issuer(self, invoice: Json, companies: dict[int, SendingCompany]) -> int | None:
        """The sending company of an invoice: the business unit that issued it (MV-5)."""
        unit = str(invoice.get("invoiceNumberBusinessUnitGuid") or "").lower()
        for c in companies.values():
            if unit and c.business_unit_guid == unit:
                return c.id
        bid = normalize_business_id(invoice.get("senderVatNumber"))
        matches = [c.id for c in companies.values() if bid and c.business_id == bid]
        return matches[0] if len(matches) == 1 else None

    # ------------------------------------------------------------------ the ledger state machine
    def _advance(self, company: SendingCompany, entry: LedgerEntry, report: PassReport) -> None:
        for _ in range(8):  # a row may take several steps in one pass; each step is its own commit
            before = entry.state
            entry = self._step(company, entry, report)
            if entry.state == before or entry.state in (S.DELIVERED, S.NOTIFIED):
                return

    def _step(self, company: SendingCompany, entry: LedgerEntry, report: PassReport) -> LedgerEntry:
        handler = {
            S.PREPARED: self._prepared,
            S.SENDING: self._sending,
            S.SENT: self._sent,
            S.STATUS_PATCHED: self._follow_delivery,
            S.FAILED: self._failed,
            S.ERROR_PATCHED: self._notify,
        }[entry.state]
        return handler(company, entry, report)

    def _client(self, company: SendingCompany) -> MaventaClient:
        if company.id not in self._clients:
            self._clients[company.id] = self.integration.client_for(company)
        return self._clients[company.id]

    def _fail(self, entry: LedgerEntry, message: str, report: PassReport) -> LedgerEntry:
        report.failed += 1
        label = f"Invoice {entry.invoice_number}" if entry.invoice_number else f"Invoice {entry.invoice_guid}"
        return self.store.ledger.transition(
            entry.invoice_guid,
            entry.company_id,
            entry.state,
            S.FAILED,
            last_error=message,
            log=LogDraft(LogLevel.ERROR, f"{label}: sending to Maventa failed: {message}"),
        )

    def _prepared(self, company: SendingCompany, entry: LedgerEntry, report: PassReport) -> LedgerEntry:
        try:
            invoice = self.severa.get_invoice(entry.invoice_guid)
        except SeveraError as exc:
            if exc.status != 404:
                raise
            self.store.ledger.discard(entry.invoice_guid, entry.company_id)  # deleted before it was sent
            self.store.log.add(
                f"Invoice {entry.invoice_number or entry.invoice_guid} was deleted in Severa before it was sent",
                level=LogLevel.WARNING,
                company_id=company.id,
                invoice_guid=entry.invoice_guid,
                invoice_number=entry.invoice_number,
            )
            return entry
        wanted = company.settings.status_to_transfer
        if wanted is None or str(invoice["status"]["guid"]).lower() != wanted.guid.lower():
            self.store.ledger.discard(
                entry.invoice_guid, entry.company_id
            )  # moved away before anything was sent
            return entry
        try:
            upload = self._document(company, entry, invoice)
        except FinvoiceBuildError as exc:
            return self._fail(entry, str(exc), report)
        entry = self.store.ledger.transition(
            entry.invoice_guid,
            entry.company_id,
            S.PREPARED,
            S.SENDING,
            count_attempt=True,
            invoice_number=None if invoice.get("number") is None else str(invoice["number"]),
        )
        return self._send(company, entry, invoice, upload, report)

    def _sending(self, company: SendingCompany, entry: LedgerEntry, report: PassReport) -> LedgerEntry:
        existing = self._client(company).find_invoice_by_uuid(entry.send_uuid)
        if existing is not None:  # it did arrive: never send twice
            return self._arrived(entry, existing, report)
        if entry.attempts >= self.max_send_attempts:
            return self._fail(
                entry,
                f"Maventa could not be reached after {entry.attempts} attempts: {entry.last_error}",
                report,
            )
        invoice = self.severa.get_invoice(entry.invoice_guid)
        try:
            upload = self._document(company, entry, invoice)
        except FinvoiceBuildError as exc:
            return self._fail(entry, str(exc), report)
        entry = self.store.ledger.transition(
            entry.invoice_guid, entry.company_id, S.SENDING, S.SENDING, count_attempt=True
        )
        return self._send(company, entry, invoice, upload, report)

    def _send(
        self, company: SendingCompany, entry: LedgerEntry, invoice: Json, upload: Any, report: PassReport
    ) -> LedgerEntry:
        customer = self._customer(invoice)
        e_address, operator = customer.get("eInvoiceAddress"), customer.get("eInvoiceOperator")
        email = customer.get("email")
        routes: list[str] = []
        if not company.settings.send_by_email:
            routes.append("email")  # MV-8 off: customers without an e-invoice address go to print
        try:
            answer = self._client(company).send_invoice(
                upload.filename,
                upload.content,
                uuid=entry.send_uuid,
                recipient_eia=e_address if e_address and operator else None,
                recipient_operator=operator if e_address and operator else None,
                recipient_email=email if company.settings.send_by_email and email else None,
                disabled_routes=routes,
                lang=_lang(invoice),
            )
        except MaventaError as exc:
            if exc.retryable:
                return self._defer(entry, str(exc), report)
            if exc.earlier_maybe_delivered:
                # an earlier try of this very POST may have reached Maventa before its answer was lost;
                # the refusal may only be Maventa's answer to the repeated uuid: ask before failing
                try:
                    existing = self._client(company).find_invoice_by_uuid(entry.send_uuid)
                except (TransportFailure, ServiceError) as lookup:
                    return self._defer(
                        entry, f"{_maventa_message(exc)}; the lookup by uuid failed: {lookup}", report
                    )
                if existing is not None:
                    return self._arrived(entry, existing, report)
            return self._fail(entry, _maventa_message(exc), report)
        except (TransportFailure, ServiceError) as exc:
            return self._defer(entry, str(exc), report)
        return self._arrived(entry, answer, report)

    def _defer(self, entry: LedgerEntry, message: str, report: PassReport) -> LedgerEntry:
        """Maybe sent, maybe not: keep SENDING; the next pass asks Maventa by uuid first."""
        report.retries_deferred += 1
        return self.store.ledger.transition(
            entry.invoice_guid, entry.company_id, S.SENDING, S.SENDING, last_error=message[:500]
        )

    def _arrived(self, entry: LedgerEntry, answer: Json, report: PassReport) -> LedgerEntry:
        report.sent += 1
        entry = self.store.ledger.transition(
            entry.invoice_guid,
            entry.company_id,
            S.SENDING,
            S.SENT,
            maventa_invoice_id=str(answer.get("id") or entry.send_uuid),
            delivery_state=str(answer.get("status") or "PENDING"),
            last_error=None,  # an earlier try's transport error is history now
            log=LogDraft(
                LogLevel.INFO, f"Invoice {entry.invoice_number or entry.invoice_guid} sent to Maventa"
            ),
        )
        return entry

    def _sent(self, company: SendingCompany, entry: LedgerEntry, report: PassReport) -> LedgerEntry:
        if entry.delivery_state == "FAILED":
            invoice = self._client(company).get_invoice(entry.maventa_invoice_id or entry.send_uuid)
            return self._fail(entry, _delivery_error(invoice), report)
        after = company.settings.status_after_transfer
        if after is not None:
            self._set_status(company, entry, after.guid)
        report.status_patched += 1
        return self.store.ledger.transition(entry.invoice_guid, entry.company_id, S.SENT, S.STATUS_PATCHED)

    def _follow_delivery(
        self, company: SendingCompany, entry: LedgerEntry, report: PassReport
    ) -> LedgerEntry:
        invoice = self._client(company).get_invoice(entry.maventa_invoice_id or entry.send_uuid)
        status = str(invoice.get("status") or "PENDING")
        channel = _channel(invoice)
        if status == "DELIVERED":
            report.delivered += 1
            return self.store.ledger.transition(
                entry.invoice_guid,
                entry.company_id,
                S.STATUS_PATCHED,
                S.DELIVERED,
                delivery_state=status,
                channel=channel,
                log=LogDraft(
                    LogLevel.INFO,
                    f"Invoice {entry.invoice_number} delivered by Maventa ({channel or 'unknown channel'})",
                ),
            )
        if status == "FAILED":
            return self._fail(entry, _delivery_error(invoice), report)
        report.pending += 1
        if status != entry.delivery_state:
            return self.store.ledger.transition(
                entry.invoice_guid,
                entry.company_id,
                S.STATUS_PATCHED,
                S.STATUS_PATCHED,
                delivery_state=status,
            )
        return entry

    def _failed(self, company: SendingCompany, entry: LedgerEntry, report: PassReport) -> LedgerEntry:
        after = company.settings.status_after_error
        if after is not None:
            self._set_status(company, entry, after.guid)
        report.error_patched += 1
        return self.store.ledger.transition(entry.invoice_guid, entry.company_id, S.FAILED, S.ERROR_PATCHED)

    def _set_status(self, company: SendingCompany, entry: LedgerEntry, status_guid: str) -> None:
        """PATCH the invoice's Severa status; an invoice deleted in Severa meanwhile has no status to
        set: say so in the transfer log and go on (the Maventa side is still followed)."""
        try:
            self.severa.set_invoice_status(entry.invoice_guid, status_guid)
        except SeveraError as exc:
            if exc.status != 404:
                raise
            self.store.log.add(
                f"Invoice {entry.invoice_number or entry.invoice_guid} is no longer in Severa; its status "
                "could not be changed",
                level=LogLevel.WARNING,
                company_id=company.id,
                invoice_guid=entry.invoice_guid,
                invoice_number=entry.invoice_number,
            )

    def _notify(self, company: SendingCompany, entry: LedgerEntry, report: PassReport) -> LedgerEntry:
        address = company.settings.notification_email
        if address and self.notifier is not None:
            key = (entry.send_uuid, entry.company_id)
            result = self.notifier.notify_sending_error(
                address,
                SendingError(
                    invoice_guid=entry.invoice_guid,
                    invoice_number=entry.invoice_number,
                    company_name=company.name,
                    customer_name=self._customer_name(entry.invoice_guid),
                    error=entry.last_error or "unknown error",
                    occurred_at=entry.updated_at,
                    send_uuid=entry.send_uuid,
                    status_after_error=company.settings.status_after_error.name
                    if company.settings.status_after_error
                    else None,
                ),
            )
            if not result.ok:
                self._notify_attempts[key] = self._notify_attempts.get(key, 0) + 1
                problem = f"Invoice {entry.invoice_number}: the notification to {address} could not be sent: {result.error}"
                report.problems.append(problem)  # `sync --once` exits non-zero: a scheduler notices
                if self._notify_attempts[key] < self.max_notify_attempts:
                    report.retries_deferred += 1
                    return entry
                note = f"the notification to {address} could not be sent: {result.error}"
            else:
                note = f"notification sent to {address}"
        elif address:
            note = f"no notification was sent to {address}: e-mail (SMTP) is not configured for the bridge"
        else:
            note = "no notification address is set"
        report.notified += 1
        return self.store.ledger.transition(
            entry.invoice_guid,
            entry.company_id,
            S.ERROR_PATCHED,
            S.NOTIFIED,
            log=LogDraft(LogLevel.INFO, f"Invoice {entry.invoice_number}: {note}"),
        )

    def _customer_name(self, invoice_guid: str) -> str | None:
        """The invoice's customer (asiakas) as Severa names it, for the notification; None when Severa
        cannot answer now (the mail goes out without it rather than not at all)."""
        try:
            invoice = self.severa.get_invoice(invoice_guid)
        except BridgeError:
            return None
        ref = invoice.get("billingCustomer") or invoice.get("customer") or {}
        name = ref.get("name") if isinstance(ref, dict) else None
        return str(name) if name else None

    # ------------------------------------------------------------------ the document
    def _customer(self, invoice: Json) -> Json:
        ref = invoice.get("billingCustomer") or invoice.get("customer") or {}
        guid = str(ref["guid"])
        if guid not in self._customers:
            self._customers[guid] = self.severa.get_customer(guid)
        return self._customers[guid]

    def _document(self, company: SendingCompany, entry: LedgerEntry, invoice: Json) -> Any:
        rows = list(self.severa.iter_invoice_rows(entry.invoice_guid))
        customer = self._customer(invoice)
        addresses = self.severa.list_customer_addresses(str(customer["guid"]))
        billing = next(
            (a for a in addresses if a.get("isBillingAddress")), addresses[0] if addresses else None
        )
        xml = build_finvoice(
            invoice,
            rows,
            customer,
            billing,
            self._seller(company, invoice),
            message_id=entry.send_uuid,
            timestamp=self.now(),
            include_buyer_email=company.settings.send_by_email,
        )
        if self.xsd_path is not None and self.xsd_path.is_file():
            problems = validate_against_xsd(xml, self.xsd_path)
            if problems:
                raise FinvoiceBuildError([_xsd_field(p) for p in problems])
        pdf = self.severa.get_invoice_pdf(entry.invoice_guid) if company.settings.send_original_pdf else None
        return package_invoice(xml, finvoice_base_name(invoice), pdf)

    def _seller(self, company: SendingCompany, invoice: Json) -> SellerParty:
        if company.id in self._sellers:
            return self._sellers[company.id]
        details = self.severa.get_organization_details()
        unit = self.severa.get_business_unit(company.business_unit_guid)
        sender = invoice.get("senderAddress") or {}
        accounts = [
            a
            for a in self.severa.list_bank_accounts()
            if a.get("isActive", True) is not False
            and (
                (a.get("businessUnit") or {}).get("guid", "").lower() == company.business_unit_guid
                or (
                    not a.get("businessUnit")
                    and (a.get("company") or {}).get("guid") == unit.get("companyGuid")
                )
            )
        ]
        seller = SellerParty(
            name=str(invoice.get("senderName") or unit.get("companyName") or company.name),
            business_id=company.business_id or "",
            street=str(sender.get("addressline") or details.get("address") or ""),
            post_code=str(sender.get("postalCode") or details.get("postalCode") or ""),
            town=str(sender.get("city") or details.get("city") or ""),
            bank_accounts=tuple(
                BankAccount(
                    iban=str(a.get("accountNumber") or ""),
                    bic=str(a.get("bic") or ""),
                    name=a.get("bankName"),
                )
                for a in accounts
            ),
            phone=details.get("phone"),
        )
        self._sellers[company.id] = seller
        return seller


def _xsd_field(problem: str) -> Any:
    from bridge.finvoice import FieldError

    return FieldError("finvoice", problem)


def _lang(invoice: Json) -> str | None:
    code = str(((invoice.get("language") or {}).get("code")) or "").upper()[:2]
    return code if code in {"FI", "SE", "NO", "DK", "NL", "EN"} else None


def _channel(invoice: Json) -> str | None:
    for action in reversed(invoice.get("actions") or []):
        if action.get("channel"):
            return str(action["channel"])
    return None


def _delivery_error(invoice: Json) -> str:
    for action in reversed(invoice.get("actions") or []):
        if action.get("type") == "ERROR" and action.get("message"):
            return str(action["message"])
    return f"Maventa reports the invoice as {invoice.get('status')}"


def _maventa_message(exc: MaventaError) -> str:
    details = exc.details if isinstance(exc.details, list) else []
    text = exc.message
    extra = [str(d) for d in details if d and str(d) not in text]
    return text + (": " + "; ".join(extra) if extra else "")
