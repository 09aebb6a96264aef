"""What a target plugs into the transfer engine: the ``Connector`` protocol and its small types.

The engine (``bridge.transfer.engine``) owns the exactly-once state machine, the ledger, the
Severa status changes, the transfer log and the notifications; it knows no target. A connector
answers the target-specific questions:

* ``begin_pass(source, report)``: which accounts are active this pass, with their statuses
  resolved (Maventa: the activated sending companies; Maestro: the Maestro company after its
  preflight and customer sync). Raise ``ConnectorUnavailable`` to skip the connector this pass
  with a message (e.g. a preflight that found missing scopes).
* ``account_of(invoice, accounts)``: which account sends a listed invoice (MV-5: the issuing unit).
* ``idempotency_key(account, invoice_guid, generation)``: deterministic per invoice generation.
* ``prepare(account, entry, invoice, source)``: what to send, for the row's generation
  (``PrepareError`` for bad invoice data).
* ``send(account, entry, payload)`` with the key in ``entry.idempotency_key``: ``Sent``, or
  ``Refused`` (nothing was created; the invoice fails) or ``Deferred`` (maybe sent, or the
  target is unavailable: the next pass looks it up first).
* ``lookup(account, entry)``: the send the target holds under the key, or None.
* ``follow(account, entries)``: the remote outcome of sent invoices (only when
  ``follows_remote``), as many per call as the target allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bridge.severa.model import SeveraInvoice, StatusInfo
from bridge.severa.source import SeveraSource
from bridge.store import LedgerEntry, LogDraft

from .report import PassReport

__all__ = [
    "Account",
    "Connector",
    "ConnectorUnavailable",
    "Deferred",
    "PrepareError",
    "Refused",
    "RemoteOutcome",
    "Sent",
]


@dataclass(frozen=True)
class Account:
    """One account of a connector for one pass: where invoices go and the statuses around it."""

    connector: str
    key: str  # the ledger's account column
    name: str  # shown in the transfer log and notifications
    transfer_status: StatusInfo  # siirrettävien laskujen tila (MV-10 / MA-3 source status)
    after_transfer: StatusInfo | None  # tila siirron jälkeen (MV-11 / MA-3 transferred status)
    after_error: StatusInfo | None = None  # tila virheen jälkeen (MV-12); Maestro has none by default
    notification_email: str | None = None  # ilmoitusosoite (MV-9)
    settings: Any = None  # the connector's own (e.g. the Maventa SendingCompany)


@dataclass(frozen=True)
class Sent:
    """The target has the invoice."""

    remote_id: str
    message: str  # the transfer-log line, e.g. "Invoice 10023 sent to Maventa"
    remote_state: str | None = None  # e.g. Maventa's PENDING
    remote_detail: str | None = None
    notes: tuple[LogDraft, ...] = ()  # further log lines (e.g. Maestro rows booked on A/0)
    fallback_rows: int = 0  # rows the target booked on its fallback product (Maestro's A/0)


@dataclass(frozen=True)
class RemoteOutcome:
    """What the target reports about a sent invoice."""

    state: str  # "DELIVERED" and "FAILED" settle the row; anything else is still pending
    detail: str | None = None  # e.g. the channel it went by
    error: str | None = None  # the target's own words when it failed
    message: str | None = None  # the log line for a delivery


class PrepareError(Exception):
    """The invoice cannot be sent as it is in Severa; ``str()`` says what to fix (all problems)."""


class Refused(Exception):
    """The target refused the send; nothing was created there. ``str()`` is the target's message."""


class Deferred(Exception):
    """Maybe sent, or the target cannot be reached now: the next pass looks it up first."""


class ConnectorUnavailable(Exception):
    """The connector cannot run this pass (e.g. a failed preflight); ``str()`` says why and what to do."""


class Connector(Protocol):
    name: str  # the ledger's connector column: "maventa", "maestro"
    title: str  # for people: "Maventa", "Maestro"
    follows_remote: bool  # True: STATUS_PATCHED rows are followed until the target settles them

    def begin_pass(self, source: SeveraSource, report: PassReport) -> list[Account]: ...

    def account_of(self, invoice: SeveraInvoice, accounts: Sequence[Account]) -> Account | None: ...

    def idempotency_key(self, account: Account, invoice_guid: str, generation: int) -> str: ...

    def prepare(
        self, account: Account, entry: LedgerEntry, invoice: SeveraInvoice, source: SeveraSource
    ) -> Any: ...

    def send(self, account: Account, entry: LedgerEntry, payload: Any) -> Sent: ...

    def lookup(self, account: Account, entry: LedgerEntry) -> Sent | None: ...

    def follow(self, account: Account, entries: Sequence[LedgerEntry]) -> dict[str, RemoteOutcome]: ...
