"""What the store keeps: sending companies, ledger entries, transfer-log entries.

Finnish UI terms, for support staff: *lähettävä yritys* (sending company), *liiketoimintayksikkö*
(business unit), *Y-tunnus* (business ID), *siirtotila* (status to transfer), *tila siirron
jälkeen* (status after transfer), *tila virheen jälkeen* (status after error), *ilmoitusosoite*
(notification address), *siirtoloki* (transfer log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bridge.config import Secret


class RegistrationState(StrEnum):
    """How the company got its Maventa account."""

    NOT_REGISTERED = "NOT_REGISTERED"
    REGISTERED = "REGISTERED"  # MV-1: registered by the bridge, UUID and user API key stored
    KEY_MISSING = "KEY_MISSING"  # MV-2: Maventa returned no key; the user must copy it from Maventa
    CONNECTED = "CONNECTED"  # MV-4: an existing account connected with key + UUID
    # MV-1 half done: Maventa created the user (its key is stored) but not the company; registering
    # again reuses the key instead of losing it to a second "user exists" answer (MV-2)
    USER_CREATED = "USER_CREATED"


class AuthState(StrEnum):
    """Maventa's `auth_state` of the company's authentication request (MV-3)."""

    NONE = "NONE"
    PENDING = "PENDING"
    SENT = "SENT"
    SIGNED = "SIGNED"
    CANCELED = "CANCELED"


class CompanyState(StrEnum):
    """Maventa's `company_state`; only a VERIFIED company may change settings or be activated."""

    UNKNOWN = "UNKNOWN"
    UNVERIFIED = "UNVERIFIED"
    VERIFIED = "VERIFIED"


@dataclass(frozen=True)
class StatusRef:
    """A Severa invoice status: its GUID (what the API uses) and its name (what users see)."""

    guid: str
    name: str = ""


@dataclass(frozen=True)
class CompanySettings:
    """The Maventa integration settings of one sending company (MV-6 ... MV-12)."""

    send_original_pdf: bool = False  # MV-6 "Lähetä alkuperäinen laskun PDF"
    send_by_email: bool = False  # MV-8 "Lähetä laskut sähköpostilla"
    notification_email: str | None = None  # MV-9 "Ilmoitusosoite"
    status_to_transfer: StatusRef | None = None  # MV-10 "Siirrettävien laskujen tila"
    status_after_transfer: StatusRef | None = None  # MV-11 "Tila siirron jälkeen"
    status_after_error: StatusRef | None = None  # MV-12 "Tila virheen jälkeen"


@dataclass(frozen=True)
class SendingCompany:
    """A Severa business unit that sends invoices through its own Maventa account (MV-5).

    `maventa_api_key` is a `Secret`: it prints as `***`; call `.reveal()` only where it is sent.
    """

    id: int
    severa_organization: str  # which Severa customer (tenant) this belongs to; "" when only one
    business_unit_guid: str
    name: str
    business_id: str | None  # Y-tunnus; a unit without one cannot be a sending company
    maventa_company_uuid: str | None = None
    maventa_api_key: Secret | None = None
    registration_state: RegistrationState = RegistrationState.NOT_REGISTERED
    auth_state: AuthState = AuthState.NONE
    company_state: CompanyState = CompanyState.UNKNOWN
    auth_email: str | None = None
    settings: CompanySettings = field(default_factory=CompanySettings)
    active: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def verified(self) -> bool:
        return self.company_state is CompanyState.VERIFIED

    @property
    def has_credentials(self) -> bool:
        return bool(self.maventa_company_uuid) and bool(self.maventa_api_key)


class LedgerState(StrEnum):
    """Where one invoice is on its way to a target (siirron tila). See `bridge.store.ledger`."""

    PREPARED = "PREPARED"  # seen in the transfer status; idempotency key fixed; nothing sent yet
    SENDING = "SENDING"  # about to send (or sent, answer unknown): ask the target first
    SENT = "SENT"  # the target has it (remote id known); Severa status not yet changed
    STATUS_PATCHED = "STATUS_PATCHED"  # Severa in the after-transfer status; the remote outcome followed
    DELIVERED = "DELIVERED"  # final: the target reports it done (Maventa delivered; Maestro imported)
    FAILED = "FAILED"  # the send or the delivery failed; error recorded, Severa not yet changed
    ERROR_PATCHED = "ERROR_PATCHED"  # Severa in the after-error status; notification not yet confirmed
    NOTIFIED = "NOTIFIED"  # final: error logged, Severa in the error status, notification sent


@dataclass(frozen=True)
class LedgerRef:
    """The key of a ledger row: one Severa invoice for one account of one connector."""

    connector: str  # "maventa" | "maestro"
    account: str  # Maventa: the sending company's id; Maestro: the Maestro company id
    invoice_guid: str


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the transfer ledger."""

    connector: str
    account: str
    invoice_guid: str
    generation: int  # bumped when the user re-queues the invoice deliberately (a new send)
    idempotency_key: str  # deterministic; what the target knows the send by (Maventa: the uuid)
    state: LedgerState
    invoice_number: str | None = None
    remote_id: str | None = None  # the target's id (Maventa invoice id, Maestro sales-invoice id)
    remote_state: str | None = None  # the target's status (Maventa: PENDING, DELIVERED, FAILED ...)
    remote_detail: str | None = None  # e.g. Maventa's channel (EINVOICE, EMAIL, PRINT)
    source_version: str | None = (
        None  # Severa's lastUpdatedDateTime of the invoice (and "|customer <its customer's>") when taken
    )
    attempts: int = 0
    last_error: str | None = None
    notify_attempts: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    pass_id: str | None = None  # the pass that wrote the row last (see TransferEngine)

    @property
    def ref(self) -> LedgerRef:
        return LedgerRef(self.connector, self.account, self.invoice_guid)

    @property
    def label(self) -> str:
        """``Invoice 10023`` (or the GUID), for messages."""
        return f"Invoice {self.invoice_number}" if self.invoice_number else f"Invoice {self.invoice_guid}"


class LogLevel(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


@dataclass(frozen=True)
class LogEntry:
    """A line of the transfer log (siirtoloki) shown to users."""

    id: int
    at: datetime
    connector: str | None
    account: str | None
    level: LogLevel
    message: str  # for errors: the service's exact error text
    invoice_guid: str | None = None
    invoice_number: str | None = None


@dataclass(frozen=True)
class LogDraft:
    """A log line to write in the same transaction as a ledger transition."""

    level: LogLevel
    message: str
