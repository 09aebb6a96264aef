"""The Maventa connector of the transfer engine: Severa invoices out as Finvoice 3.0 (MV-5 ... MV-12).

What the engine asks and how Maventa answers it:

* **accounts**: every activated sending company (MV-13) with its three statuses (MV-10 ... MV-12),
  notification address (MV-9) and send options (MV-6, MV-8);
* **which account**: the business unit that issued the invoice (MV-5: ``invoiceNumberBusinessUnitGuid``,
  else the unit whose business ID is the invoice's ``senderVatNumber``);
* **idempotency key**: a uuid5 of (organisation, unit, invoice GUID, generation); Maventa keeps it as
  the invoice's ``id``, so a repeated upload is recognised and a lost answer is looked up by it;
* **what to send**: the Finvoice built from the typed invoice (+ the Severa PDF in a ZIP with MV-6),
  validated against the official XSD when it is found; the buyer's routing (e-invoice address,
  operator, e-mail, disabled routes) is decided once and used for the XML and the upload form;
* **follow**: Maventa's delivery (``PENDING`` → ``DELIVERED`` by e-invoice, e-mail or print, or
  ``FAILED``), asked for up to 100 invoices in one ``GET /v1/invoices?ids=...``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bridge.connectors.maventa.client import MaventaClient
from bridge.connectors.maventa.integration import IntegrationError, MaventaIntegration, normalize_business_id
from bridge.errors import MaventaError, ServiceError, TransportFailure
from bridge.finvoice import (
    BankAccount,
    FieldError,
    FinvoiceBuildError,
    Recipient,
    SellerParty,
    UploadFile,
    build_finvoice,
    finvoice_base_name,
    package_invoice,
    recipient_of,
    validate_against_xsd,
)
from bridge.severa.model import SeveraInvoice
from bridge.severa.source import SeveraSource
from bridge.store import LedgerEntry, SendingCompany, normalize_guid
from bridge.transfer import Account, Deferred, PassReport, PrepareError, Refused, RemoteOutcome, Sent

__all__ = ["SEND_UUID_NAMESPACE", "MaventaConnector", "Upload", "send_uuid"]

SEND_UUID_NAMESPACE: Final = uuid.UUID("ffbcc12f-f0b9-53a7-9b68-0540479ba7c8")
LANGS: Final = frozenset({"FI", "SE", "NO", "DK", "NL", "EN"})


def send_uuid(
    invoice_guid: str, business_unit_guid: str, generation: int = 0, severa_organization: str = ""
) -> str:
    """The uuid Maventa knows an invoice by: the same inputs always give the same uuid."""
    if generation < 0:
        raise ValueError("generation must be >= 0")
    name = "|".join(
        (
            severa_organization.strip(),
            normalize_guid(business_unit_guid),
            normalize_guid(invoice_guid),
            str(generation),
        )
    )
    return str(uuid.uuid5(SEND_UUID_NAMESPACE, name))


@dataclass(frozen=True)
class Upload:
    """What goes to ``POST /v1/invoices``: the file and the routing decided with the XML."""

    file: UploadFile
    recipient: Recipient
    disabled_routes: tuple[str, ...]
    lang: str | None


class MaventaConnector:
    """Sends invoices of the activated sending companies through their own Maventa accounts."""

    name = "maventa"
    title = "Maventa"
    follows_remote = True

    def __init__(
        self,
        integration: MaventaIntegration,
        *,
        xsd_path: Path | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.integration = integration
        self.store = integration.store
        self.xsd_path = xsd_path
        self.now = now
        self._clients: dict[str, MaventaClient] = {}
        self._sellers: dict[str, SellerParty] = {}

    # ------------------------------------------------------------------ accounts
    def begin_pass(self, source: SeveraSource, report: PassReport) -> list[Account]:
        """The activated sending companies; credentials and sellers are read afresh every pass."""
        self._clients.clear()  # credentials may have changed since the last pass (`maventa connect`)
        self._sellers.clear()
        companies = self.store.companies.all(active=True, severa_organization=self.integration.organization)
        if not companies:
            return []
        accounts = []
        for company in companies:
            s = company.settings
            wanted = {
                "status to transfer": s.status_to_transfer,
                "status after transfer": s.status_after_transfer,
                "status after error": s.status_after_error,
            }
            found = {label: source.status(ref.guid) if ref else None for label, ref in wanted.items()}
            missing = [
                f"{label} ({ref.name})"
                for label, ref in wanted.items()
                if ref is not None and not found[label]
            ]
            if missing or found["status to transfer"] is None:
                report.problems.append(
                    f"Maventa: {company.name}: {', '.join(missing) or 'the status to transfer'} no longer "
                    "exists in Severa; choose the statuses again (bridge maventa settings)"
                )
                continue
            transfer = found["status to transfer"]
            assert transfer is not None
            accounts.append(
                Account(
                    connector=self.name,
                    key=str(company.id),
                    name=company.name,
                    transfer_status=transfer,
                    after_transfer=found["status after transfer"],
                    after_error=found["status after error"],
                    notification_email=s.notification_email,
                    settings=company,
                )
            )
        return accounts

    def account_of(self, invoice: SeveraInvoice, accounts: Sequence[Account]) -> Account | None:
        """The sending company of an invoice: the business unit that issued it (MV-5)."""
        unit = invoice.business_unit_guid
        for account in accounts:
            if unit and _company(account).business_unit_guid == unit:
                return account
        bid = normalize_business_id(invoice.sender_vat_number)
        matches = [a for a in accounts if bid and _company(a).business_id == bid]
        return matches[0] if len(matches) == 1 else None

    def idempotency_key(self, account: Account, invoice_guid: str, generation: int) -> str:
        company = _company(account)
        return send_uuid(invoice_guid, company.business_unit_guid, generation, company.severa_organization)

    # ------------------------------------------------------------------ what to send
    def prepare(
        self, account: Account, entry: LedgerEntry, invoice: SeveraInvoice, source: SeveraSource
    ) -> Upload:
        company = _company(account)
        settings = company.settings
        recipient = recipient_of(invoice, include_email=settings.send_by_email)
        try:
            xml = build_finvoice(
                invoice,
                self._seller(company, invoice, source),
                recipient=recipient,
                message_id=entry.idempotency_key,
                timestamp=self.now(),
            )
            if self.xsd_path is not None and self.xsd_path.is_file():
                problems = validate_against_xsd(xml, self.xsd_path)
                if problems:
                    raise FinvoiceBuildError([FieldError("finvoice", p) for p in problems])
        except FinvoiceBuildError as exc:
            raise PrepareError(str(exc)) from exc
        pdf = source.pdf(invoice) if settings.send_original_pdf else None
        routes: list[str] = []
        if not settings.send_by_email:
            routes.append("email")  # MV-8 off: customers without an e-invoice address go to print
        language = invoice.language.upper()[:2] or (
            invoice.customer_card.language.upper()[:2] if invoice.customer_card else ""
        )
        return Upload(
            file=package_invoice(xml, finvoice_base_name(invoice), pdf),
            recipient=recipient,
            disabled_routes=tuple(routes),
            lang=language if language in LANGS else None,
        )

    def _seller(self, company: SendingCompany, invoice: SeveraInvoice, source: SeveraSource) -> SellerParty:
        key = str(company.id)
        if key in self._sellers:
            return self._sellers[key]
        details = source.organization()
        unit = source.business_unit(company.business_unit_guid)
        sender = invoice.sender_address
        accounts = [
            a
            for a in source.bank_accounts()
            if a.get("isActive", True) is not False
            and (
                str((a.get("businessUnit") or {}).get("guid", "")).lower() == company.business_unit_guid
                or (
                    not a.get("businessUnit")
                    and (a.get("company") or {}).get("guid") == unit.get("companyGuid")
                )
            )
        ]
        seller = SellerParty(
            name=invoice.sender_name or str(unit.get("companyName") or company.name),
            business_id=company.business_id or "",
            street=(sender.street if sender and sender.street else str(details.get("address") or "")),
            post_code=(
                sender.post_code if sender and sender.post_code else str(details.get("postalCode") or "")
            ),
            town=(sender.city if sender and sender.city else str(details.get("city") or "")),
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
        self._sellers[key] = seller
        return seller

    # ------------------------------------------------------------------ sending
    def _client(self, account: Account) -> MaventaClient:
        if account.key not in self._clients:
            try:
                self._clients[account.key] = self.integration.client_for(_company(account))
            except IntegrationError as exc:
                raise Refused(str(exc)) from exc
        return self._clients[account.key]

    def send(self, account: Account, entry: LedgerEntry, payload: Upload) -> Sent:
        client = self._client(account)
        r = payload.recipient
        try:
            answer = client.send_invoice(
                payload.file.filename,
                payload.file.content,
                uuid=entry.idempotency_key,
                recipient_eia=r.e_invoice_address if r.routed else None,
                recipient_operator=r.operator if r.routed else None,
                recipient_email=r.email,
                disabled_routes=payload.disabled_routes,
                lang=payload.lang,
            )
        except MaventaError as exc:
            if exc.retryable:
                raise Deferred(str(exc)) from exc
            if exc.earlier_maybe_delivered:
                # an earlier try of this very POST may have reached Maventa before its answer was lost;
                # the refusal may only be Maventa's answer to the repeated uuid: ask before failing
                try:
                    existing = client.find_invoice_by_uuid(entry.idempotency_key)
                except (TransportFailure, ServiceError) as lookup:
                    raise Deferred(f"{maventa_message(exc)}; the lookup by uuid failed: {lookup}") from exc
                if existing is not None:
                    return self._sent(entry, existing)
            raise Refused(maventa_message(exc)) from exc
        return self._sent(entry, answer)

    def lookup(self, account: Account, entry: LedgerEntry) -> Sent | None:
        existing = self._client(account).find_invoice_by_uuid(entry.idempotency_key)
        return None if existing is None else self._sent(entry, existing)

    @staticmethod
    def _sent(entry: LedgerEntry, answer: dict[str, Any]) -> Sent:
        return Sent(
            remote_id=str(answer.get("id") or entry.idempotency_key),
            remote_state=str(answer.get("status") or "PENDING"),
            message=f"{entry.label} sent to Maventa",
        )

    def follow(self, account: Account, entries: Sequence[LedgerEntry]) -> dict[str, RemoteOutcome]:
        """Maventa's delivery state of up to 100 invoices per call (``GET /v1/invoices?ids=``)."""
        by_id = {(e.remote_id or e.idempotency_key): e for e in entries}
        found = self._client(account).get_invoices(list(by_id))
        out: dict[str, RemoteOutcome] = {}
        for invoice in found:
            entry = by_id.get(str(invoice.get("id")))
            if entry is None:
                continue
            status = str(invoice.get("status") or "PENDING")
            channel = _channel(invoice)
            out[entry.invoice_guid] = RemoteOutcome(
                state=status,
                detail=channel,
                error=_delivery_error(invoice) if status == "FAILED" else None,
                message=f"{entry.label} delivered by Maventa ({channel or 'unknown channel'})",
            )
        return out


def _company(account: Account) -> SendingCompany:
    company = account.settings
    assert isinstance(company, SendingCompany)
    return company


def _channel(invoice: dict[str, Any]) -> str | None:
    for action in reversed(invoice.get("actions") or []):
        if isinstance(action, dict) and action.get("channel"):
            return str(action["channel"])
    return None


def _delivery_error(invoice: dict[str, Any]) -> str:
    for action in reversed(invoice.get("actions") or []):
        if isinstance(action, dict) and action.get("type") == "ERROR" and action.get("message"):
            return str(action["message"])
    return f"Maventa reports the invoice as {invoice.get('status')}"


def maventa_message(exc: MaventaError) -> str:
    """Maventa's own words: the message and every detail it adds."""
    details = exc.details if isinstance(exc.details, list) else []
    text = exc.message
    extra = [str(d) for d in details if d and str(d) not in text]
    return text + (": " + "; ".join(extra) if extra else "")
