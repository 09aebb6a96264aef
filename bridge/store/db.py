"""The SQLite database under the store: connections, transactions, schema migrations.

* A file database runs in WAL mode (readers never block the writer) with `busy_timeout`, one
  connection per thread, and every write in `BEGIN IMMEDIATE`, so several threads and several
  processes (a `bridge run` worker next to a CLI command) can share one file safely.
* `":memory:"` (tests) is one connection shared by all threads behind a lock.
* The schema is versioned: `schema_version` holds the version; `MIGRATIONS[n]` takes the schema
  from version n to n+1 and runs in the same transaction as the version bump. A database made
  by a newer bridge is refused rather than damaged.
* A new database file is created readable by its owner only: it holds Maventa user API keys.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

MEMORY: Final = ":memory:"

MIGRATIONS: Final[tuple[str, ...]] = (
    # 0 -> 1: companies, the transfer ledger, the transfer log
    """
    CREATE TABLE companies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        severa_organization TEXT NOT NULL DEFAULT '',
        business_unit_guid TEXT NOT NULL,
        name TEXT NOT NULL,
        business_id TEXT,
        maventa_company_uuid TEXT,
        maventa_api_key TEXT,
        registration_state TEXT NOT NULL DEFAULT 'NOT_REGISTERED',
        auth_state TEXT NOT NULL DEFAULT 'NONE',
        company_state TEXT NOT NULL DEFAULT 'UNKNOWN',
        auth_email TEXT,
        send_original_pdf INTEGER NOT NULL DEFAULT 0,
        send_by_email INTEGER NOT NULL DEFAULT 0,
        notification_email TEXT,
        status_to_transfer_guid TEXT,
        status_to_transfer_name TEXT,
        status_after_transfer_guid TEXT,
        status_after_transfer_name TEXT,
        status_after_error_guid TEXT,
        status_after_error_name TEXT,
        active INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (severa_organization, business_unit_guid)
    );
    CREATE TABLE ledger (
        invoice_guid TEXT NOT NULL,
        company_id INTEGER NOT NULL REFERENCES companies(id),
        generation INTEGER NOT NULL DEFAULT 0,
        send_uuid TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        invoice_number TEXT,
        maventa_invoice_id TEXT,
        delivery_state TEXT,
        channel TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (invoice_guid, company_id)
    );
    CREATE INDEX ledger_by_state ON ledger (state, company_id);
    CREATE TABLE transfer_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        company_id INTEGER,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        invoice_guid TEXT,
        invoice_number TEXT
    );
    CREATE INDEX transfer_log_by_company ON transfer_log (company_id, id);
    CREATE INDEX transfer_log_by_invoice ON transfer_log (invoice_guid, id);
    """,
    # 2: a re-queued row remembers the settled send it replaced (JSON), so that an invoice taken
    # out of the transfer status again before the new send keeps the record of the old one
    """
    ALTER TABLE ledger ADD COLUMN previous TEXT;
    """,
    # 3: one ledger and one transfer log for every connector (Maventa, Maestro): rows are keyed by
    # (connector, account, invoice); Maventa's columns become the generic remote_* ones; a failed
    # send's notification is claimed before it is mailed (concurrent workers mail it once) and its
    # attempts are counted in the store; connector_state keeps watermarks and per-account settings,
    # remote_records what was synced (e.g. customers in Maestro). Maventa rows keep their send uuid.
    """
    CREATE TABLE ledger_v3 (
        connector TEXT NOT NULL,
        account TEXT NOT NULL,
        invoice_guid TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 0,
        idempotency_key TEXT NOT NULL,
        state TEXT NOT NULL,
        invoice_number TEXT,
        remote_id TEXT,
        remote_state TEXT,
        remote_detail TEXT,
        source_version TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        notify_attempts INTEGER NOT NULL DEFAULT 0,
        notify_claimed_by TEXT,
        notify_claimed_until TEXT,
        pass_id TEXT,
        previous TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (connector, account, invoice_guid),
        UNIQUE (connector, account, idempotency_key)
    );
    INSERT INTO ledger_v3 (connector, account, invoice_guid, generation, idempotency_key, state,
                           invoice_number, remote_id, remote_state, remote_detail, attempts, last_error,
                           previous, created_at, updated_at)
        SELECT 'maventa', CAST(company_id AS TEXT), invoice_guid, generation, send_uuid, state,
               invoice_number, maventa_invoice_id, delivery_state, channel, attempts, last_error,
               CASE WHEN previous IS NULL THEN NULL ELSE json_object(
                   'generation', json_extract(previous, '$.generation'),
                   'idempotency_key', json_extract(previous, '$.send_uuid'),
                   'state', json_extract(previous, '$.state'),
                   'remote_id', json_extract(previous, '$.maventa_invoice_id'),
                   'remote_state', json_extract(previous, '$.delivery_state'),
                   'remote_detail', json_extract(previous, '$.channel'),
                   'source_version', NULL,
                   'attempts', json_extract(previous, '$.attempts'),
                   'last_error', json_extract(previous, '$.last_error')) END,
               created_at, updated_at
        FROM ledger;
    DROP INDEX ledger_by_state;
    DROP TABLE ledger;
    ALTER TABLE ledger_v3 RENAME TO ledger;
    CREATE INDEX ledger_by_state ON ledger (connector, state, account);
    CREATE TABLE transfer_log_v3 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        connector TEXT,
        account TEXT,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        invoice_guid TEXT,
        invoice_number TEXT
    );
    INSERT INTO transfer_log_v3 (id, at, connector, account, level, message, invoice_guid, invoice_number)
        SELECT id, at, CASE WHEN company_id IS NULL THEN NULL ELSE 'maventa' END,
               CAST(company_id AS TEXT), level, message, invoice_guid, invoice_number
        FROM transfer_log;
    DROP INDEX transfer_log_by_company;
    DROP INDEX transfer_log_by_invoice;
    DROP TABLE transfer_log;
    ALTER TABLE transfer_log_v3 RENAME TO transfer_log;
    CREATE INDEX transfer_log_by_account ON transfer_log (connector, account, id);
    CREATE INDEX transfer_log_by_invoice ON transfer_log (invoice_guid, id);
    CREATE TABLE connector_state (
        connector TEXT NOT NULL,
        account TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (connector, account, key)
    );
    CREATE TABLE remote_records (
        connector TEXT NOT NULL,
        account TEXT NOT NULL,
        kind TEXT NOT NULL,
        source_guid TEXT NOT NULL,
        remote_id TEXT,
        name TEXT,
        source_version TEXT,
        error TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (connector, account, kind, source_guid)
    );
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


class StoreError(Exception):
    """A store problem; the message says what and, where it helps, what to do."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_text(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class Database:
    """Connections and transactions for one SQLite database (a file path or ":memory:")."""

    def __init__(
        self,
        path: str | os.PathLike[str] = MEMORY,
        *,
        now: Callable[[], datetime] = utc_now,
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = str(path)
        self.now = now
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._closed = False
        self._shared: sqlite3.Connection | None = None
        if self.path == MEMORY:
            self._shared = self._connect()
        else:
            self._create_private_file(Path(self.path))
        self.migrate()

    # ------------------------------------------------------------------ connections
    @property
    def in_memory(self) -> bool:
        return self._shared is not None

    @staticmethod
    def _create_private_file(p: Path) -> None:
        if p.exists():
            return
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create the store database {p}: {exc.strerror or exc}") from None

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if self.path != MEMORY:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"the store database {self.path} cannot use WAL mode (got {mode})")
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store database {self.path}: {exc}") from None
        with self._lock:
            self._all.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("the store is closed")
        if self._shared is not None:
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction (BEGIN IMMEDIATE: the write lock is taken up front)."""
        with self._lock:
            conn = self._conn()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"the store database {self.path} is busy: {exc}") from None
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (one snapshot for all its statements)."""
        if self._closed:
            raise StoreError("the store is closed")
        if self._shared is not None:
            with self._lock:
                yield self._shared
            return
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()

    # ------------------------------------------------------------------ schema
    def schema_version(self) -> int:
        with self.read() as conn:
            return _version(conn)

    def migrate(self) -> None:
        with self.write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = _version(conn)
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"the store database {self.path} has schema version {current}, newer than this bridge "
                    f"understands ({SCHEMA_VERSION}); upgrade the bridge or use another store path"
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
            if current == 0 and not conn.execute("SELECT 1 FROM schema_version").fetchone():
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            else:
                conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))


def _version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT our transaction; split the (comment-free, trigger-free) script instead.
    return [s.strip() for s in script.split(";") if s.strip()]
