"""The Maventa backend: every state change of the fake, independent of HTTP.

`MaventaBackend` is what the routes reach (`kit.current_backend`): one ``MaventaState`` (Maventa
is one multi-company service; every company – tenant – is isolated by its id in every lookup)
with the options. Delivery on the channels is its base, `delivery.DeliveryBackend`.

Answers chosen where the public material is silent (also in the README):

* **MV-2, e-mail that already has a user:** ``POST /v1/users`` answers ``201 {}`` – the
  ``user_api_key`` field is simply absent (the docs: "for security reasons no API key is
  returned"); the response still validates against ``API_Entities_ApiUser``.
* **Repeated ``uuid`` on ``POST /v1/invoices``:** never creates a second invoice. The same
  invoice again (`finvoice.content_digest`: the Finvoice without its transmission's identifier
  and time stamp) answers ``201`` with the *existing* invoice (same id, current status) and the
  header ``X-Sim-Idempotent-Replay: true``; another invoice under a used uuid answers 409
  ``uuid_already_used`` (``uuid_reuse="replay"``: the existing invoice, unread, as before). A
  uuid used by another company answers 409 ``uuid_conflict``.
* **Unverified company sending:** 403 ``{"code": "company_unverified", "message": "Unauthorized"}``.
* **Sender:** an invoice's ``sender`` is the Finvoice's seller (name, business ID, e-invoice
  address, country), the sending account's company filling what the Finvoice leaves out
  (``sender_from="account"``: always the account's company).
* **Lifecycle:** an invoice is PENDING (action CREATED) until it *settles*: after
  ``polls_to_deliver`` reads of the invoice, after ``delivery_seconds`` of simulated time, or
  when an actor delivers/fails it (`delivery.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import finvoice
from .accounts import AccountsBackend
from .auth import bearer_token, require_scope
from .errors import MaventaError, not_found
from .finvoice import InvoiceData
from .models import (
    Action,
    Company,
    Invoice,
    InvoiceFile,
    MaventaOptions,
    MaventaState,
    OutboxMessage,
    RoutePlan,
    Token,
    User,
    iso,
)
from .routing import duplicate_number_error, plan_reroute, plan_route
from .uploads import SUPPORTED_FORMATS, SendOptions, UploadedFile

UPLOADED_FILE_TYPES = frozenset({"INVOICE_XML", "INVOICE_IMAGE", "ATTACHMENT"})
INVOICE_STATUSES = ("PENDING", "DELIVERED", "FAILED")
# the outbox's filters: name -> does a message match the value
OUTBOX_FILTERS: dict[str, Callable[[OutboxMessage, str], bool]] = {
    "kind": lambda m, v: m.kind == v,
    "purpose": lambda m, v: m.purpose == v,
    "to": lambda m, v: any(v.casefold() == t.casefold() for t in m.to),
    "invoice_id": lambda m, v: m.invoice_id == v,
    "company_id": lambda m, v: m.company_id == v,
}


@dataclass
class Intake:
    """What the fake read from an uploaded Finvoice (outside the lock)."""

    data: InvoiceData
    source_format: str
    digest: str


class MaventaBackend(AccountsBackend):
    """Operations on one ``MaventaState``; the caller holds the simulator lock (but for
    `read_finvoice` and `digest_of`, which touch no state)."""

    def __init__(
        self,
        state: MaventaState,
        options: MaventaOptions,
        *,
        now: Callable[[], datetime],
        xsd_schema: Callable[[], Any] = lambda: None,
    ) -> None:
        super().__init__(state, options)
        self.now = now
        self.xsd_schema = xsd_schema
        self._stored: dict[str, int] = {}  # company id -> bytes of uploaded files (a cache)

    # ------------------------------------------------------------------ tokens and tenants
    def token(self, authorization: str | None, *scopes: str) -> Token:
        """The valid bearer token of a request, holding one of `scopes` (401 / 403)."""
        tok = bearer_token(self.state, authorization, self.now())
        if scopes:
            require_scope(tok, scopes)
        return tok

    def company_of(self, company_id: str) -> Company:
        company = self.state.companies.get(company_id)
        if company is None:
            raise not_found("Company")
        return company

    def own_invoice(self, tok: Token, invoice_id: str) -> Invoice:
        inv = self.state.invoices.get(invoice_id)
        if inv is None or inv.company_id != tok.company_id:
            raise not_found("Invoice")
        return inv

    # ------------------------------------------------------------------ storage
    def reserve_storage(self, company: Company, nbytes: int) -> None:
        """Count `nbytes` of new uploaded files against the company's cap, or refuse (413).

        [inferred] Maventa publishes no quota; the fake keeps every file in memory, so it keeps
        at most ``max_company_storage`` bytes of uploads per company (``MaventaSimulator(...)``)."""
        cap = self.options.max_company_storage
        used = self._stored.get(company.id)
        if used is None:
            used = sum(
                len(f.content)
                for inv in self.state.invoices.values()
                if inv.company_id == company.id
                for f in inv.files
                if f.type in UPLOADED_FILE_TYPES
            )
        if used + nbytes > cap:
            raise MaventaError(
                413,
                "storage_limit_exceeded",
                "The company's stored files would exceed the simulator's limit",
                [
                    f"{used} bytes stored, {nbytes} more sent, at most {cap} bytes per company (reset the simulator)"
                ],
            )
        self._stored[company.id] = used + nbytes

    # ------------------------------------------------------------------ sending (lähetys)
    def sending_company(self, tok: Token) -> Company:
        company = self.company_of(tok.company_id)
        if company.company_state != "VERIFIED":
            raise MaventaError(
                403,
                "company_unverified",
                "Unauthorized",
                [
                    f"Sending is not allowed while company_state is {company.company_state}; "
                    "the company authorisation must be signed first"
                ],
            )
        return company

    def earlier_invoice(self, uid: str, company: Company) -> Invoice | None:
        """The invoice this company sent under `uid` before (409 when another company did)."""
        existing = self.state.invoices.get(uid) if uid else None
        if existing is not None and existing.company_id != company.id:
            raise MaventaError(409, "uuid_conflict", "An invoice with this uuid already exists")
        return existing

    @property
    def replays_unread(self) -> bool:
        """A repeated uuid answers with its invoice without the file being read."""
        return self.options.uuid_reuse == "replay"

    def same_invoice_or_refuse(self, existing: Invoice, digest: str) -> None:
        """Nothing when `digest` is the invoice `existing` was made from (a retry), else 409."""
        if self.replays_unread or not existing.content_digest or existing.content_digest == digest:
            return
        raise MaventaError(
            409,
            "uuid_already_used",
            "An invoice with this uuid already exists with other content",
            [
                f"uuid {existing.id} was used for invoice {existing.number}; send another invoice "
                "under a new uuid (the same invoice again is answered with the invoice it made)"
            ],
        )

    def digest_of(self, upload: UploadedFile) -> str:
        """`finvoice.content_digest` of an upload (of its bytes when it is no Finvoice at all)."""
        try:
            return finvoice.content_digest(finvoice.finvoice_root(finvoice.parse_xml(upload.xml)))
        except finvoice.FinvoiceError:
            return "raw:" + hashlib.sha256(upload.xml).hexdigest()

    def read_finvoice(self, upload: UploadedFile) -> Intake:
        """Parse and validate the upload's Finvoice (400 ``validation_failed`` with the findings)."""
        fmt = upload.declared_format
        try:
            root_el = finvoice.parse_xml(upload.xml)
            detected = finvoice.detect_format(root_el)
            if fmt and fmt not in SUPPORTED_FORMATS:
                raise MaventaError(
                    400,
                    "format_not_supported",
                    f"Format {fmt} is not supported by the simulator",
                    [f"supported: {', '.join(SUPPORTED_FORMATS)}"],
                )
            if detected is None or detected not in SUPPORTED_FORMATS:
                raise MaventaError(
                    400,
                    "invalid_file",
                    "Unable to detect the invoice format",
                    ["the simulator reads Finvoice 3.0 (FINVOICE30)"],
                )
            fv = finvoice.finvoice_root(root_el)
            findings = finvoice.validate(fv, self.xsd_schema())
        except finvoice.FinvoiceError as exc:
            raise MaventaError(
                400,
                exc.code,
                "Invoice validation failed" if exc.code == "validation_failed" else exc.message,
                exc.messages[: finvoice.MAX_FINDINGS],
            ) from exc
        if findings:
            raise MaventaError(400, "validation_failed", "Invoice validation failed", findings)
        return Intake(finvoice.extract(fv), detected, finvoice.content_digest(fv))

    def send_invoice(
        self, tok: Token, company: Company, upload: UploadedFile, how: SendOptions, intake: Intake, uid: str
    ) -> Invoice:
        """Take the invoice in: plan its route (or the error it will fail with) and keep it PENDING."""
        self.reserve_storage(company, upload.size())
        now = self.now()
        dup = duplicate_number_error(self.state, company, intake.data.number, now)
        if how.prevent_routing:
            route = RoutePlan(channel="NONE", notes=["prevent_routing: marked as sent without sending"])
        elif dup:
            route = RoutePlan(channel=None, error=dup)
        else:
            route = plan_route(self.state, company, intake.data, how.overrides)
        files = [
            InvoiceFile(id=self.state.new_id("file"), filename=name, type=kind, mimetype=mime, content=blob)
            for kind, name, mime, blob in upload.blobs()
        ]
        inv = self.new_invoice(
            company=company,
            user=self.user_of(tok),
            data=intake.data,
            source_format=intake.source_format,
            route=route,
            files=files,
            lang=how.lang,
            sender_comment=how.sender_comment,
            print_options=how.print_options,
            now=now,
            invoice_id=uid or None,
        )
        inv.content_digest = intake.digest
        if route.channel == "NONE":
            inv.status = "DELIVERED"
            inv.actions.append(
                Action(type="SENT", happened_at=now, message="Routing prevented (prevent_routing)")
            )
        return inv

    def original_xml(self, inv: Invoice) -> bytes:
        """The invoice XML as it was sent."""
        return next(f.content for f in inv.files if f.type == "INVOICE_XML")

    def invoice_data(self, inv: Invoice) -> InvoiceData:
        """What the fake read from the invoice's Finvoice (read again from the file it keeps)."""
        return finvoice.extract(finvoice.finvoice_root(finvoice.parse_xml(self.original_xml(inv))))

    def sender_of(self, company: Company, data: InvoiceData) -> dict[str, str]:
        """The invoice's ``sender``: the Finvoice's seller, the account's company filling the gaps."""
        own = {
            "eia": "0037" + company.bid.replace("-", "") if company.country == "FI" else "",
            "bid": company.bid,
            "name": company.name,
            "country": company.country,
        }
        if self.options.sender_from == "account":
            return own
        seller = {
            "eia": data.seller.eia,
            "bid": data.seller.bid,
            "name": data.seller.name,
            "country": data.seller.country,
        }
        return {k: seller[k] or own[k] for k in own}

    # ------------------------------------------------------------------ invoices
    def new_invoice(
        self,
        *,
        company: Company,
        user: User,
        data: InvoiceData,
        source_format: str,
        route: RoutePlan,
        files: list[InvoiceFile],
        lang: str,
        sender_comment: str,
        print_options: dict[str, Any],
        now: datetime,
        invoice_id: str | None = None,
    ) -> Invoice:
        inv = Invoice(
            id=invoice_id or self.state.new_id("invoice"),
            company_id=company.id,
            user_id=user.id,
            status="PENDING",
            number=data.number,
            reference=data.reference,
            sender=self.sender_of(company, data),
            recipient={
                "eia": route.eia or data.buyer.eia,
                "bid": data.buyer.bid,
                "name": data.buyer.name,
                "country": data.buyer.country or "FI",
                "operator": route.operator or data.buyer.operator,
            },
            created_at=now,
            date=data.date,
            date_due=data.due_date,
            source_format=source_format,
            sum=data.sum,
            sum_tax=data.sum_tax,
            currency=data.currency,
            lang=lang,
            sender_comment=sender_comment,
            route=route,
            settles_at=now + timedelta(seconds=self.options.delivery_seconds),
            files=files,
            print_options=print_options,
        )
        inv.actions.append(
            Action(type="CREATED", happened_at=now, message="Invoice created", key="action_created")
        )
        for note in route.notes:
            inv.actions.append(Action(type="INFO", happened_at=now, message=note))
        self.state.invoices[inv.id] = inv
        return inv

    def progress(self, inv: Invoice, now: datetime, *, poll: bool = False) -> None:
        """Settle a PENDING invoice when its time or poll budget is used up."""
        if inv.status == "PENDING" and (
            now >= inv.settles_at or (poll and inv.polls >= self.options.polls_to_deliver)
        ):
            self.settle(inv, now)
        if poll:
            inv.polls += 1

    def progress_all(self, now: datetime) -> None:
        for inv in list(self.state.invoices.values()):
            self.progress(inv, now)

    def reroute(self, inv: Invoice, channel: str, body: dict[str, Any], now: datetime) -> None:
        """Send a delivered or failed invoice again, on the one route `channel` names."""
        route = plan_reroute(self.state, self.company_of(inv.company_id), channel, body)
        if inv.status == "PENDING":
            raise MaventaError(
                409,
                "invoice_in_invalid_state",
                "Invoice is still being processed",
                ["Only a delivered or failed invoice can be rerouted"],
            )
        inv.route = route
        inv.status = "PENDING"
        inv.polls = 0
        inv.settles_at = now + timedelta(seconds=self.options.delivery_seconds)
        inv.revision = {"rerouted_at": iso(now), "channel": route.channel}
        inv.actions.append(
            Action(
                type="INFO",
                happened_at=now,
                channel=route.channel,
                message=f"Invoice rerouted to {route.channel}",
            )
        )

    # ------------------------------------------------------------------ lists
    def sent_invoices(
        self, tok: Token, *, statuses: set[str], ids: set[str], number: str | None, reference: str | None
    ) -> list[Invoice]:
        """The company's sent invoices (each settled first if due), newest first."""
        now = self.now()
        items = []
        for inv in self.state.invoices.values():
            if inv.company_id != tok.company_id:
                continue
            self.progress(inv, now)
            if (
                (not statuses or inv.status in statuses)
                and (not ids or inv.id in ids)
                and (not number or inv.number == number)
                and (not reference or inv.reference == reference)
            ):
                items.append(inv)
        return sorted(items, key=lambda i: i.created_at, reverse=True)

    def outbox_messages(self, **filters: str | None) -> list[OutboxMessage]:
        """What the fake sent, filtered by `OUTBOX_FILTERS` (``GET /_sim/outbox``); empty filters match all."""
        unknown = sorted(set(filters) - set(OUTBOX_FILTERS))
        if unknown:
            raise TypeError(f"unknown outbox filter(s) {unknown}; known: {', '.join(OUTBOX_FILTERS)}")
        wanted = [(OUTBOX_FILTERS[name], value) for name, value in filters.items() if value]
        return [m for m in self.state.outbox if all(keep(m, value) for keep, value in wanted)]
