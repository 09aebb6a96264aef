"""The bridge's durable store (SQLite): sending companies, the transfer ledger, the transfer log.

    store = Store("bridge.sqlite3")          # or Store(":memory:") in tests
    company = store.companies.upsert(unit_guid, name="Demo Oy", business_id="1234567-8")
    ref = LedgerRef("maventa", str(company.id), invoice_guid)
    entry = store.ledger.prepare(ref, send_uuid, invoice_number="1001")
    store.ledger.transition(ref, LedgerState.PREPARED, LedgerState.SENDING, count_attempt=True)
    store.log.add("Lasku 1001 siirretty", connector="maventa", account=ref.account, invoice_guid=invoice_guid)

See `db` (connections, WAL, migrations), `companies` (Maventa's sending companies), `ledger`
(the exactly-once state machine of every connector), `transfer_log` and `records` (connector
state and synced records). Maventa user API keys are returned as `Secret` values.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from .companies import CompanyStore, MissingBusinessIdError, UnknownCompanyError, normalize_guid
from .db import MEMORY, SCHEMA_VERSION, Database, StoreError, utc_now
from .dump import dump, load
from .ledger import (
    ALLOWED_TRANSITIONS,
    ERROR_STATES,
    FINAL_STATES,
    REQUEUEABLE_STATES,
    SUCCESS_STATES,
    IllegalTransition,
    Ledger,
    TransitionConflict,
)
from .models import (
    AuthState,
    CompanySettings,
    CompanyState,
    LedgerEntry,
    LedgerRef,
    LedgerState,
    LogDraft,
    LogEntry,
    LogLevel,
    RegistrationState,
    SendingCompany,
    StatusRef,
)
from .records import ConnectorState, RemoteRecord, RemoteRecords
from .transfer_log import TransferLog

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ERROR_STATES",
    "FINAL_STATES",
    "MEMORY",
    "REQUEUEABLE_STATES",
    "SCHEMA_VERSION",
    "SUCCESS_STATES",
    "AuthState",
    "CompanySettings",
    "CompanyState",
    "CompanyStore",
    "ConnectorState",
    "IllegalTransition",
    "Ledger",
    "LedgerEntry",
    "LedgerRef",
    "LedgerState",
    "LogDraft",
    "LogEntry",
    "LogLevel",
    "MissingBusinessIdError",
    "RegistrationState",
    "RemoteRecord",
    "RemoteRecords",
    "SendingCompany",
    "StatusRef",
    "Store",
    "StoreError",
    "TransferLog",
    "TransitionConflict",
    "UnknownCompanyError",
    "normalize_guid",
]


class Store:
    """One store database: `.companies`, `.ledger`, `.log`, `.state`, `.records`. Safe to share between threads."""

    def __init__(
        self,
        path: str | os.PathLike[str] = MEMORY,
        *,
        now: Callable[[], datetime] = utc_now,
        busy_timeout: float = 10.0,
    ) -> None:
        self.db = Database(path, now=now, busy_timeout=busy_timeout)
        self.companies = CompanyStore(self.db)
        self.ledger = Ledger(self.db)
        self.log = TransferLog(self.db)
        self.state = ConnectorState(self.db)
        self.records = RemoteRecords(self.db)

    @property
    def path(self) -> str:
        return self.db.path

    def schema_version(self) -> int:
        return self.db.schema_version()

    def dump(self) -> dict[str, Any]:
        """Everything in the store as JSON-able data (secrets included: treat it as secret)."""
        return dump(self.db)

    def load(self, data: Any) -> None:
        """Replace everything with a ``dump()``; all or nothing."""
        load(self.db, data)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.path!r})"
