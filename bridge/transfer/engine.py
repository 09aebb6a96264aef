"""The one status-driven transfer engine: Severa invoices to any target, exactly once.

One pass (``severa-sandbox bridge sync --once``) does, for every connector and its active
accounts (see ``bridge.transfer.connector``):

1. **pick up**: the invoices in the accounts' transfer statuses are listed a page (100) at a time
   (the listing carries the whole invoice, so it is not read again; the pass moves invoices out
   of the listed status, so each position is read again until it holds nothing new: see
   ``SeveraSource.invoice_pages``); each gets a ledger row
   (PREPARED) with its idempotency key, and is advanced at once: rows (+ customer) read, the
   payload prepared, SENDING written, sent, SENT, Severa PATCHed to the after-transfer status
   (STATUS_PATCHED). An invoice the user put back into the transfer status after it settled
   starts a new generation (see ``_requeue_reason`` for when).
2. **the rest**: rows this pass has not touched (a send whose answer was lost, a delivery to
   follow, a failure to patch and notify), a batch at a time: the remote outcomes of up to 100
   sent invoices are asked in one call, where the target allows it.

A failure anywhere ends as FAILED (transfer-log line with the service's own words) → after-error
status (ERROR_PATCHED) → notification mailed once (NOTIFIED). A step that cannot be done now
(a service down, a timeout) is retried by the next pass; a send is given up after
``max_send_attempts`` passes that could not tell whether it arrived. Every outside effect is
preceded by a ledger write, so a crash between any two steps is finished by the next pass
without a second send. Two workers on one store never both act on a row: every move is a
compare-and-set, and the loser leaves the row to the winner without calling it a problem.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.errors import BridgeError, ServiceError, SeveraError, TransportFailure
from bridge.notify import Notifier, SendingError
from bridge.severa.client import SeveraClient
from bridge.severa.model import SeveraInvoice
from bridge.severa.source import PAGE, SeveraSource
from bridge.store import (
    REQUEUEABLE_STATES,
    SUCCESS_STATES,
    LedgerEntry,
    LedgerRef,
    LedgerState,
    LogDraft,
    LogLevel,
    Store,
    TransitionConflict,
)

from .connector import Account, Connector, ConnectorUnavailable, Deferred, PrepareError, Refused, Sent
from .report import PassReport

__all__ = ["DEFAULT_MAX_NOTIFY_ATTEMPTS", "DEFAULT_MAX_SEND_ATTEMPTS", "TransferEngine"]

S = LedgerState
_CUSTOMER_VERSION = "|customer "  # joins the invoice's and its customer's versions in source_version
log = logging.getLogger(__name__)

#: Passes that may end without knowing whether a send arrived before the invoice is failed.
DEFAULT_MAX_SEND_ATTEMPTS = 8
#: Passes that may fail to mail a notification before the bridge stops trying (and logs it).
DEFAULT_MAX_NOTIFY_ATTEMPTS = 5
#: A send another worker wrote SENDING for less than this ago may still be on the wire: leave it to
#: that worker (longer than one send with its retries may take; see ``RetryPolicy.max_total``).
SEND_LEASE = timedelta(seconds=90)

Problems = (ServiceError, TransportFailure)


# What the next pass will retry, by where the invoice's ledger row is (None: not taken yet).
_PENDING_STEP: dict[S | None, str] = {
    None: "reading it from Severa",
    S.PREPARED: "sending it to {target}",
    S.SENDING: "asking {target} whether it arrived (and sending it if not)",
    S.SENT: "setting its status after transfer in Severa",
    S.STATUS_PATCHED: "following its delivery in {target}",
    S.FAILED: "setting its status after error in Severa",
    S.ERROR_PATCHED: "mailing the error notification",
}


class TransferEngine:
    """Runs passes of every connector over one Severa organisation and one store."""

    def __init__(
        self,
        severa: SeveraClient,
        store: Store,
        connectors: Sequence[Connector],
        *,
        notifier: Notifier | None = None,
        max_send_attempts: int = DEFAULT_MAX_SEND_ATTEMPTS,
        max_notify_attempts: int = DEFAULT_MAX_NOTIFY_ATTEMPTS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        worker: str | None = None,
    ) -> None:
        self.severa = severa
        self.source = SeveraSource(severa)
        self.store = store
        self.connectors = list(connectors)
        self.notifier = notifier
        self.max_send_attempts = max_send_attempts
        self.max_notify_attempts = max_notify_attempts
        self.now = now
        self.worker = worker or uuid.uuid4().hex  # who holds a notification claim
        self._pass_id = ""

    def connector(self, name: str) -> Connector:
        for c in self.connectors:
            if c.name == name:
                return c
        raise KeyError(name)

    # ------------------------------------------------------------------ a pass
    def run_once(self, only: str | None = None) -> PassReport:
        """One pass of every connector (or only the one named)."""
        report = PassReport()
        self.source.new_pass()
        self._pass_id = f"{self.worker}:{uuid.uuid4().hex[:12]}"
        for connector in self.connectors:
            if only is not None and connector.name != only:
                continue
            try:
                accounts = connector.begin_pass(self.source, report)
            except ConnectorUnavailable as exc:
                report.problems.append(f"{connector.title}: {exc}")
                continue
            except Problems as exc:
                report.problems.append(f"{connector.title}: the pass could not start: {exc}")
                continue
            if not accounts:
                continue
            try:
                self._pick_up(connector, accounts, report)
            except Problems as exc:
                report.problems.append(f"{connector.title}: could not list the invoices to transfer: {exc}")
            self._advance_rest(connector, accounts, report)
        return report

    # ------------------------------------------------------------------ 1. pick up
    def _pick_up(self, connector: Connector, accounts: list[Account], report: PassReport) -> None:
        statuses = list(dict.fromkeys(a.transfer_status.guid for a in accounts))
        for page in self.source.invoice_pages(statuses, consumed=True):
            owned = []
            for invoice in page:
                account = connector.account_of(invoice, accounts)
                if (
                    account is not None
                    and invoice.status.guid.lower() == account.transfer_status.guid.lower()
                ):
                    owned.append((invoice, account))
            self.source.load_customers(inv for inv, _ in owned)  # one call for the page's customers
            for invoice, account in owned:
                try:
                    entry = self._take(connector, account, invoice, report)
                    if entry is not None:
                        self._advance(connector, account, entry, report, invoice)
                except TransitionConflict as exc:  # another worker has it: its business now
                    log.debug("%s", exc)
                except Problems as exc:
                    self._deferred(connector, account, None, invoice.label, str(exc), report, invoice)

    def _take(
        self, connector: Connector, account: Account, invoice: SeveraInvoice, report: PassReport
    ) -> LedgerEntry | None:
        """The invoice's ledger row, created or re-queued as the rules say; None: nothing to do."""
        ref = LedgerRef(connector.name, account.key, invoice.guid)
        entry = self.store.ledger.get(ref)
        if entry is None:
            entry = self.store.ledger.prepare(
                ref,
                connector.idempotency_key(account, invoice.guid, 0),
                invoice_number=invoice.number or None,
                source_version=self._source_version(invoice),
                pass_id=self._pass_id,
            )
            report.add(connector.name, "picked_up")
            return entry
        if entry.state in REQUEUEABLE_STATES:
            # the listing may predate our own status change (another worker's pass, or this one's
            # page read before the PATCH): only Severa as it is now says the user put it back
            try:
                invoice = self.source.invoice(invoice.guid)
            except SeveraError as exc:
                if exc.status == 404:
                    return None
                raise
            if invoice.status.guid.lower() != account.transfer_status.guid.lower():
                return None
            why = self._requeue_reason(account, entry, invoice)
            if why is None:
                return None
            entry = self.store.ledger.requeue(
                ref,
                expected_generation=entry.generation,
                idempotency_key=connector.idempotency_key(account, invoice.guid, entry.generation + 1),
                source_version=self._source_version(invoice),
                pass_id=self._pass_id,
            )
            self.store.log.add(
                f"{invoice.label} {why}; it will be sent to {connector.title} again",
                connector=connector.name,
                account=account.key,
                invoice_guid=invoice.guid,
                invoice_number=invoice.number or None,
            )
            report.add(connector.name, "picked_up")
        return entry

    def _source_version(self, invoice: SeveraInvoice) -> str | None:
        """What the invoice looked like in Severa when taken: its own version and its billing
        customer's (``"<invoice changed>|customer <card changed>#<digest>"``; the customer is read
        already, a page's customers in one call)."""
        if not invoice.changed_at:
            return None
        customer = self.source.customer_of(invoice)
        if customer is None:
            return invoice.changed_at
        return f"{invoice.changed_at}{_CUSTOMER_VERSION}{customer.version}"

    def _requeue_reason(self, account: Account, entry: LedgerEntry, invoice: SeveraInvoice) -> str | None:
        """Why a settled invoice found in the transfer status is a deliberate new send (None: it
        is not; for the transfer log).

        After a success the bridge moved it to the after-transfer status, and after a failure to
        the after-error status: found in the transfer status again, the user put it back. With no
        after-error status (Maestro's settings have none) a failed invoice stays where it was, so
        it is retried only when the user fixed something in Severa since it was taken: the invoice,
        or its customer's card (what "its customer cannot be transferred … Correct the customer
        card in Severa" asks for)."""
        put_back = f"was put back into the transfer status ({account.transfer_status.name})"
        if entry.state in SUCCESS_STATES:
            return put_back if account.after_transfer is not None else None
        if account.after_error is not None:
            return put_back
        now = self._source_version(invoice)
        if not now or not entry.source_version:
            return None
        was_invoice, _, was_customer = entry.source_version.partition(_CUSTOMER_VERSION)
        is_invoice, _, is_customer = now.partition(_CUSTOMER_VERSION)
        if is_invoice != was_invoice:
            return "was changed in Severa after it failed"
        # a row taken before customer versions were kept has only the invoice's
        if was_customer and is_customer != was_customer:
            return "failed, and its customer's card was changed in Severa since"
        return None

    # ------------------------------------------------------------------ 2. the rest
    def _advance_rest(self, connector: Connector, accounts: list[Account], report: PassReport) -> None:
        by_key = {a.key: a for a in accounts}
        for batch in self.store.ledger.batches(
            connector=connector.name, size=PAGE, not_in_pass=self._pass_id
        ):
            to_follow: dict[str, list[LedgerEntry]] = {}
            for entry in batch:
                account = by_key.get(entry.account)
                if account is None:
                    continue  # an account switched off (or not active this pass) waits
                if entry.state is S.STATUS_PATCHED and connector.follows_remote:
                    to_follow.setdefault(account.key, []).append(entry)
                    continue
                self._advance_safely(connector, account, entry, report)
            for key, entries in to_follow.items():
                self._follow(connector, by_key[key], entries, report)

    def _advance_safely(
        self,
        connector: Connector,
        account: Account,
        entry: LedgerEntry,
        report: PassReport,
        invoice: SeveraInvoice | None = None,
    ) -> None:
        try:
            self._advance(connector, account, entry, report, invoice)
        except TransitionConflict as exc:
            log.debug("%s", exc)
        except Problems as exc:
            self._deferred(connector, account, entry, entry.label, str(exc), report)

    def _deferred(
        self,
        connector: Connector,
        account: Account,
        entry: LedgerEntry | None,
        label: str,
        message: str,
        report: PassReport,
        invoice: SeveraInvoice | None = None,
    ) -> None:
        """A step that cannot be done now (a service unreachable, an answer that cannot be read):
        nothing is lost, the next pass tries again. Reported, and written to the transfer log
        (siirtoloki) as a WARNING once per distinct problem, naming the step by where the ledger
        row is now (so the same trouble on every pass reads the same and is not repeated)."""
        report.add(connector.name, "retries_deferred")
        report.problems.append(f"{connector.title}: {label}: {message}")
        guid = entry.invoice_guid if entry else invoice.guid if invoice else None
        state = None
        if guid is not None:
            current = self.store.ledger.get(LedgerRef(connector.name, account.key, guid))
            state = current.state if current is not None else None
        what = _PENDING_STEP.get(state, "asking {target} how the sent invoices are doing").format(
            target=connector.title
        )
        note = f"{label}: {what} could not be done now ({message[:500]}); the bridge tries again on the next pass"
        self.store.log.add_unless_repeated(
            note,
            level=LogLevel.WARNING,
            connector=connector.name,
            account=account.key,
            invoice_guid=guid,
            invoice_number=entry.invoice_number if entry else (invoice.number or None) if invoice else None,
        )

    # ------------------------------------------------------------------ the state machine
    def _advance(
        self,
        connector: Connector,
        account: Account,
        entry: LedgerEntry,
        report: PassReport,
        invoice: SeveraInvoice | None = None,
    ) -> None:
        """Take the row as far as it can go in this pass; each step is its own commit."""
        for _ in range(8):
            before = entry.state
            if entry.state is S.PREPARED:
                entry = self._prepared(connector, account, entry, report, invoice)
            elif entry.state is S.SENDING:
                if self._in_flight_elsewhere(entry):
                    return  # another worker is sending it right now: never two sends at once
                entry = self._sending(connector, account, entry, report, invoice)
            elif entry.state is S.SENT:
                entry = self._sent(connector, account, entry, report)
            elif entry.state is S.STATUS_PATCHED:
                if connector.follows_remote:
                    return  # followed in batches by the next pass (right after a send it is pending)
                entry = self._done(connector, entry, report)
            elif entry.state is S.FAILED:
                entry = self._failed(connector, account, entry, report)
            elif entry.state is S.ERROR_PATCHED:
                entry = self._notify(connector, account, entry, report, invoice)
            if entry.state == before or entry.state in (S.DELIVERED, S.NOTIFIED):
                return

    def _in_flight_elsewhere(self, entry: LedgerEntry) -> bool:
        """Written SENDING by another worker (process) a moment ago: its send may be on the wire."""
        if not entry.pass_id or entry.updated_at is None or entry.pass_id.split(":")[0] == self.worker:
            return False
        return self.store.db.now() - entry.updated_at < SEND_LEASE

    def _move(self, entry: LedgerEntry, to_state: LedgerState, **kwargs: Any) -> LedgerEntry:
        return self.store.ledger.transition(entry.ref, entry.state, to_state, pass_id=self._pass_id, **kwargs)

    def _fail(
        self, connector: Connector, entry: LedgerEntry, message: str, report: PassReport
    ) -> LedgerEntry:
        report.add(connector.name, "failed")
        return self._move(
            entry,
            S.FAILED,
            last_error=message[:2000],
            log=LogDraft(LogLevel.ERROR, f"{entry.label}: sending to {connector.title} failed: {message}"),
        )

    def _current(self, entry: LedgerEntry, invoice: SeveraInvoice | None) -> SeveraInvoice | None:
        """The invoice as Severa has it now (the listed one when given); None when it was deleted."""
        if invoice is not None:
            return invoice
        try:
            return self.source.invoice(entry.invoice_guid)
        except SeveraError as exc:
            if exc.status == 404:
                return None
            raise

    def _prepared(
        self,
        connector: Connector,
        account: Account,
        entry: LedgerEntry,
        report: PassReport,
        invoice: SeveraInvoice | None,
    ) -> LedgerEntry:
        current = self._current(entry, invoice)
        if current is None:
            self.store.ledger.discard(entry.ref)  # deleted before anything was sent
            self._log(
                connector,
                account,
                entry,
                LogLevel.WARNING,
                f"{entry.label} was deleted in Severa before it was sent",
            )
            return entry
        if current.status.guid.lower() != account.transfer_status.guid.lower():
            self.store.ledger.discard(entry.ref)  # moved away before anything was sent
            return entry
        return self._prepare_and_send(connector, account, entry, current, report)

    def _prepare_and_send(
        self,
        connector: Connector,
        account: Account,
        entry: LedgerEntry,
        current: SeveraInvoice,
        report: PassReport,
    ) -> LedgerEntry:
        """Build what to send (a bad invoice fails here), write SENDING, then send."""
        try:
            payload = connector.prepare(account, entry, self.source.with_lines(current), self.source)
        except PrepareError as exc:
            return self._fail(connector, entry, str(exc), report)
        entry = self.store.ledger.transition(
            entry.ref,
            entry.state,
            S.SENDING,
            count_attempt=True,
            invoice_number=current.number or entry.invoice_number,
            pass_id=self._pass_id,
        )
        return self._send(connector, account, entry, payload, report)

    def _sending(
        self,
        connector: Connector,
        account: Account,
        entry: LedgerEntry,
        report: PassReport,
        invoice: SeveraInvoice | None,
    ) -> LedgerEntry:
        found = connector.lookup(account, entry)
        if found is not None:  # it did arrive: never send twice
            return self._arrived(connector, entry, found, report)
        if entry.attempts >= self.max_send_attempts:
            return self._fail(
                connector,
                entry,
                f"{connector.title} could not be reached after {entry.attempts} attempts: {entry.last_error}",
                report,
            )
        current = self._current(entry, invoice)
        if current is None:
            return self._fail(
                connector, entry, "the invoice was deleted in Severa before it was sent", report
            )
        return self._prepare_and_send(connector, account, entry, current, report)

    def _send(
        self, connector: Connector, account: Account, entry: LedgerEntry, payload: Any, report: PassReport
    ) -> LedgerEntry:
        try:
            sent = connector.send(account, entry, payload)
        except Refused as exc:
            return self._fail(connector, entry, str(exc), report)
        except (Deferred, *Problems) as exc:
            report.add(connector.name, "retries_deferred")
            left = self.max_send_attempts - entry.attempts
            message = str(exc)[:500]
            note = (
                f"{entry.label}: {connector.title} could not be reached ({message}); the next pass asks "
                f"{connector.title} whether it arrived and sends it again if not "
                f"(attempt {entry.attempts} of {self.max_send_attempts}"
                + (", the last one)" if left <= 0 else ")")
            )
            report.problems.append(f"{connector.title}: {note}")
            return self.store.ledger.transition(
                entry.ref,
                S.SENDING,
                S.SENDING,
                last_error=message,
                log=LogDraft(LogLevel.WARNING, note),
                pass_id=self._pass_id,
            )
        return self._arrived(connector, entry, sent, report)

    def _arrived(
        self, connector: Connector, entry: LedgerEntry, sent: Sent, report: PassReport
    ) -> LedgerEntry:
        report.add(connector.name, "sent")
        if sent.fallback_rows:
            report.add(connector.name, "fallback_rows", sent.fallback_rows)
        entry = self.store.ledger.transition(
            entry.ref,
            S.SENDING,
            S.SENT,
            remote_id=sent.remote_id,
            remote_state=sent.remote_state,
            remote_detail=sent.remote_detail,
            last_error=None,  # an earlier try's transport error is history now
            log=LogDraft(LogLevel.INFO, sent.message),
            pass_id=self._pass_id,
        )
        for note in sent.notes:
            self._log(connector, None, entry, note.level, note.message)
        return entry

    def _sent(
        self, connector: Connector, account: Account, entry: LedgerEntry, report: PassReport
    ) -> LedgerEntry:
        if entry.remote_state == "FAILED" and connector.follows_remote:
            outcome = connector.follow(account, [entry]).get(entry.invoice_guid)
            error = (outcome.error if outcome else None) or f"{connector.title} reports the invoice as FAILED"
            return self._fail(connector, entry, error, report)
        if account.after_transfer is not None:
            self._set_status(connector, account, entry, account.after_transfer.guid)
        report.add(connector.name, "status_patched")
        return self._move(entry, S.STATUS_PATCHED)

    def _done(self, connector: Connector, entry: LedgerEntry, report: PassReport) -> LedgerEntry:
        report.add(connector.name, "delivered")
        return self._move(entry, S.DELIVERED)

    def _follow(
        self, connector: Connector, account: Account, entries: list[LedgerEntry], report: PassReport
    ) -> None:
        try:
            outcomes = connector.follow(account, entries)
        except Problems as exc:
            self._deferred(
                connector,
                account,
                None,
                f"{len(entries)} sent invoice(s)",
                str(exc),
                report,
            )
            return
        for entry in entries:
            outcome = outcomes.get(entry.invoice_guid)
            try:
                if outcome is None:
                    report.add(connector.name, "pending")
                elif outcome.state == "DELIVERED":
                    report.add(connector.name, "delivered")
                    self._move(
                        entry,
                        S.DELIVERED,
                        remote_state=outcome.state,
                        remote_detail=outcome.detail,
                        log=LogDraft(LogLevel.INFO, outcome.message or f"{entry.label} delivered"),
                    )
                elif outcome.state == "FAILED":
                    failed = self._fail(
                        connector,
                        entry,
                        outcome.error or f"{connector.title} reports the invoice as FAILED",
                        report,
                    )
                    self._advance(connector, account, failed, report)
                else:
                    report.add(connector.name, "pending")
                    if outcome.state != entry.remote_state:
                        self._move(entry, S.STATUS_PATCHED, remote_state=outcome.state)
            except TransitionConflict as exc:
                log.debug("%s", exc)
            except Problems as exc:
                self._deferred(connector, account, entry, entry.label, str(exc), report)

    def _failed(
        self, connector: Connector, account: Account, entry: LedgerEntry, report: PassReport
    ) -> LedgerEntry:
        if account.after_error is not None:
            self._set_status(connector, account, entry, account.after_error.guid)
        report.add(connector.name, "error_patched")
        return self._move(entry, S.ERROR_PATCHED)

    def _set_status(
        self, connector: Connector, account: Account, entry: LedgerEntry, status_guid: str
    ) -> None:
        """PATCH the invoice's Severa status; an invoice deleted in Severa meanwhile has no status to
        set: say so in the transfer log and go on."""
        try:
            self.source.set_status(entry.invoice_guid, status_guid)
        except SeveraError as exc:
            if exc.status != 404:
                raise
            self._log(
                connector,
                account,
                entry,
                LogLevel.WARNING,
                f"{entry.label} is no longer in Severa; its status could not be changed",
            )

    # ------------------------------------------------------------------ notifications (MV-9)
    def _notify(
        self,
        connector: Connector,
        account: Account,
        entry: LedgerEntry,
        report: PassReport,
        invoice: SeveraInvoice | None,
    ) -> LedgerEntry:
        address = account.notification_email
        if not address or self.notifier is None:
            note = (
                f"no notification was sent to {address}: e-mail (SMTP) is not configured for the bridge"
                if address
                else "no notification address is set"
            )
            report.add(connector.name, "notified")
            return self._move(entry, S.NOTIFIED, log=LogDraft(LogLevel.INFO, f"{entry.label}: {note}"))
        if not self.store.ledger.claim_notification(entry.ref, self.worker, generation=entry.generation):
            return entry  # another worker is mailing it (or did): never twice
        result = self.notifier.notify_sending_error(
            address,
            SendingError(
                invoice_guid=entry.invoice_guid,
                invoice_number=entry.invoice_number,
                company_name=account.name,
                customer_name=self._customer_name(entry, invoice),
                error=entry.last_error or "unknown error",
                occurred_at=entry.updated_at,
                send_uuid=entry.idempotency_key,
                status_after_error=account.after_error.name if account.after_error else None,
                target=connector.title,
            ),
        )
        if result.ok:
            note = f"notification sent to {address}"
        else:
            released = self.store.ledger.release_notification(entry.ref, self.worker, failed=True)
            attempts = released.notify_attempts if released else entry.notify_attempts + 1
            problem = f"{entry.label}: the notification to {address} could not be sent: {result.error}"
            report.problems.append(f"{connector.title}: {problem}")  # `sync --once` exits non-zero
            if attempts < self.max_notify_attempts:
                report.add(connector.name, "retries_deferred")
                return released or entry
            note = (
                f"the notification to {address} could not be sent after {attempts} attempts, the bridge "
                f"stops trying: {result.error}"
            )
        report.add(connector.name, "notified")
        return self._move(entry, S.NOTIFIED, log=LogDraft(LogLevel.INFO, f"{entry.label}: {note}"))

    def _customer_name(self, entry: LedgerEntry, invoice: SeveraInvoice | None) -> str | None:
        """The invoice's customer (asiakas) for the notification; None when Severa cannot answer
        now (the mail goes out without it rather than not at all)."""
        try:
            current = self._current(entry, invoice)
        except BridgeError:
            return None
        if current is None:
            return None
        return current.billing_customer.name or current.customer.name or current.receiver_name or None

    def _log(
        self,
        connector: Connector,
        account: Account | None,
        entry: LedgerEntry,
        level: LogLevel,
        message: str,
    ) -> None:
        self.store.log.add(
            message,
            level=level,
            connector=connector.name,
            account=account.key if account else entry.account,
            invoice_guid=entry.invoice_guid,
            invoice_number=entry.invoice_number,
        )
