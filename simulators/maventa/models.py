"""Maventa's domain state: users, companies (yritys), tokens, invoices, outbox, registry.

Plain dataclasses (snapshots round-trip through ``simulators.kit.serde``); one
``MaventaState`` per simulator – Maventa is one multi-company service, and every company
(tenant) is isolated by its id in every lookup the routes make.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulators.kit.ids import IdFactory

ID_NAMESPACE = uuid.UUID("6f1c1f52-3f0e-4b57-9a57-8d0a6c5e7a01")
MAX_UPLOAD_EXPANDED = 25 * 1024 * 1024  # [inferred] everything one upload unpacks to
MAX_COMPANY_STORAGE = 256 * 1024 * 1024  # [inferred] the uploaded files the fake keeps per company
UUID_REUSE = ("refuse", "replay")


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class MaventaOptions:
    """How the fake behaves where Maventa's behaviour is not public (see `MaventaSimulator`)."""

    polls_to_deliver: int = 1
    delivery_seconds: float = 60.0
    require_vendor_key: bool = False
    print_prices: dict[str, Any] | None = None
    max_upload_expanded: int = MAX_UPLOAD_EXPANDED
    max_company_storage: int = MAX_COMPANY_STORAGE
    uuid_reuse: str = "refuse"  # a uuid sent again with another invoice: refuse (409) | replay (201)
    sender_from: str = "invoice"  # an invoice's sender: the Finvoice seller | the account's company


@dataclass
class User:
    id: str
    email: str
    first_name: str
    last_name: str
    api_key: str
    company_ids: list[str] = field(default_factory=list)


@dataclass
class Company:
    """A Maventa company account (yritystili); ``company_state`` VERIFIED after KYC signing."""

    id: str
    name: str
    bid: str  # Y-tunnus form 1234567-8
    vat: str  # FI12345678
    no_vat: bool
    country: str
    address1: str
    address2: str
    post_code: str
    post_office: str
    city: str
    state: str
    email: str
    vendor_api_key: str
    created_at: datetime
    auth_state: str = "NONE"  # NONE PENDING SENT SIGNED CANCELED
    auth_email: str = ""
    auth_locale: str = ""
    company_state: str = "UNVERIFIED"  # VERIFIED UNVERIFIED
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Token:
    token: str
    company_id: str
    user_id: str
    scopes: list[str]
    granted: str
    expires_at: datetime
    vendor_api_key: str


@dataclass
class InvoiceFile:
    id: str
    filename: str
    type: str  # INVOICE_XML | INVOICE_IMAGE | ATTACHMENT | GENERATED_IMAGE
    mimetype: str
    content: bytes


@dataclass
class Action:
    type: str
    happened_at: datetime
    channel: str | None = None
    message: str = ""
    key: str | None = None


@dataclass
class RoutePlan:
    """The route chosen at intake (lähetystapa): a channel, or the error to report."""

    channel: str | None  # EINVOICE | EMAIL | PRINT
    error: str = ""
    eia: str = ""
    operator: str = ""
    email: str = ""
    address: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Invoice:
    id: str
    company_id: str
    user_id: str
    status: str  # PENDING DELIVERED FAILED
    number: str
    reference: str
    sender: dict[str, str]
    recipient: dict[str, str]
    created_at: datetime
    date: str
    date_due: str | None
    source_format: str
    sum: float
    sum_tax: float
    currency: str
    lang: str
    sender_comment: str
    route: RoutePlan
    settles_at: datetime
    files: list[InvoiceFile] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    print_options: dict[str, Any] = field(default_factory=dict)
    polls: int = 0
    destination: str = ""
    revision: dict[str, Any] = field(default_factory=dict)
    content_digest: str = ""  # what a repeated uuid is compared by (finvoice.content_digest)


@dataclass
class OutboxMessage:
    """What the fake "sent": an e-mail (sähköposti) or a print job (tulostuspalvelu)."""

    id: str
    kind: str  # email | print
    purpose: str  # authorization_invitation | invoice | send_error | print_job
    at: datetime
    company_id: str
    invoice_id: str | None = None
    to: list[str] = field(default_factory=list)
    sender: str = "noreply@mail.maventa.com"
    subject: str = ""
    body: str = ""
    attachments: list[InvoiceFile] = field(default_factory=list)
    print_job: dict[str, Any] = field(default_factory=dict)


@dataclass
class Receiver:
    """An e-invoice address in the registry (verkkolaskuosoitteisto)."""

    eia: str
    operator: str
    name: str
    bid: str
    country: str = "FI"
    network: str = "EXTERNAL"  # INTERNAL (a Maventa company) | EXTERNAL | PEPPOL


@dataclass
class MaventaState:
    vendor_keys: dict[str, str] = field(default_factory=dict)  # key -> vendor name
    users: dict[str, User] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    registry: list[Receiver] = field(default_factory=list)
    # the simulator's seeded id factory (its counter travels in the snapshot's "ids", not here)
    _ids: IdFactory = field(default_factory=lambda: IdFactory(ID_NAMESPACE), repr=False, compare=False)

    def new_id(self, kind: str) -> str:
        """A new id: uuid5(ID_NAMESPACE, "seed:kind:counter"), as Maventa ids always were here."""
        return self._ids.guid(kind, version=5)

    def new_token(self, kind: str, nbytes: int = 48) -> str:
        return self._ids.token(kind, nbytes)

    def user_by_key(self, api_key: str) -> User | None:
        return next((u for u in self.users.values() if u.api_key == api_key), None)

    def user_by_email(self, email: str) -> User | None:
        e = email.strip().casefold()
        return next((u for u in self.users.values() if u.email.casefold() == e), None)

    def company_by_bid(self, bid: str, country: str = "FI") -> Company | None:
        return next((c for c in self.companies.values() if c.bid == bid and c.country == country), None)
