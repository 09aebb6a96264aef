"""The transfer log (siirtoloki): what the integration screens show users about each transfer.

Every line names its connector (``maventa``, ``maestro``) and account when it is about one.

Error lines carry the service's exact error text, so support staff can search for it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from .companies import normalize_guid
from .db import Database, from_text, to_text
from .models import LogEntry, LogLevel


def insert_log(
    conn: sqlite3.Connection,
    at: datetime,
    connector: str | None,
    account: str | None,
    level: LogLevel,
    message: str,
    invoice_guid: str | None,
    invoice_number: str | None,
) -> int:
    cur = conn.execute(
        """INSERT INTO transfer_log (at, connector, account, level, message, invoice_guid, invoice_number)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (
            to_text(at),
            connector,
            account,
            LogLevel(level).value,
            message,
            normalize_guid(invoice_guid) if invoice_guid else None,
            invoice_number,
        ),
    )
    return int(cur.lastrowid or 0)


class TransferLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        message: str,
        *,
        level: LogLevel = LogLevel.INFO,
        connector: str | None = None,
        account: str | None = None,
        invoice_guid: str | None = None,
        invoice_number: str | None = None,
    ) -> LogEntry:
        at = self._db.now()
        with self._db.write() as conn:
            new_id = insert_log(conn, at, connector, account, level, message, invoice_guid, invoice_number)
            row = conn.execute("SELECT * FROM transfer_log WHERE id = ?", (new_id,)).fetchone()
        return _log_entry(row)

    def add_unless_repeated(
        self,
        message: str,
        *,
        level: LogLevel,
        connector: str | None,
        account: str | None,
        invoice_guid: str | None = None,
        invoice_number: str | None = None,
    ) -> LogEntry | None:
        """Add the line unless the newest line of the same connector, account and invoice says
        the same (a step that fails on every pass is logged once, not once per pass); None when
        it was a repeat."""
        guid = normalize_guid(invoice_guid) if invoice_guid else None
        at = self._db.now()
        with self._db.write() as conn:
            last = conn.execute(
                """SELECT level, message FROM transfer_log
                   WHERE connector IS ? AND account IS ? AND invoice_guid IS ?
                   ORDER BY id DESC LIMIT 1""",
                (connector, account, guid),
            ).fetchone()
            if last is not None and last["message"] == message and last["level"] == LogLevel(level).value:
                return None
            new_id = insert_log(conn, at, connector, account, level, message, guid, invoice_number)
            row = conn.execute("SELECT * FROM transfer_log WHERE id = ?", (new_id,)).fetchone()
        return _log_entry(row)

    def entries(
        self,
        *,
        connector: str | None = None,
        account: str | None = None,
        invoice_guid: str | None = None,
        level: LogLevel | None = None,
        min_level: LogLevel | None = None,
        since: datetime | None = None,
        contains: str | None = None,
        limit: int | None = 100,
        newest_first: bool = True,
    ) -> list[LogEntry]:
        """Log lines matching every filter given; `limit=None` for all."""
        sql = "SELECT * FROM transfer_log WHERE 1 = 1"
        args: list[object] = []
        if connector is not None:
            sql += " AND connector = ?"
            args.append(connector)
        if account is not None:
            sql += " AND account = ?"
            args.append(account)
        if invoice_guid is not None:
            sql += " AND invoice_guid = ?"
            args.append(normalize_guid(invoice_guid))
        if level is not None:
            sql += " AND level = ?"
            args.append(LogLevel(level).value)
        if min_level is not None:
            order = list(LogLevel)
            wanted = order[order.index(LogLevel(min_level)) :]
            sql += f" AND level IN ({', '.join('?' * len(wanted))})"
            args += [w.value for w in wanted]
        if since is not None:
            sql += " AND at >= ?"
            args.append(to_text(since))
        if contains:
            sql += " AND instr(lower(message), ?) > 0"
            args.append(contains.lower())
        sql += " ORDER BY id DESC" if newest_first else " ORDER BY id"
        if limit is not None:
            if limit < 0:
                raise ValueError("limit must be >= 0")
            sql += " LIMIT ?"
            args.append(limit)
        with self._db.read() as conn:
            return [_log_entry(r) for r in conn.execute(sql, args).fetchall()]

    def prune(self, older_than: datetime) -> int:
        """Delete lines older than `older_than`; returns how many went."""
        with self._db.write() as conn:
            cur = conn.execute("DELETE FROM transfer_log WHERE at < ?", (to_text(older_than),))
        return cur.rowcount


def _log_entry(row: sqlite3.Row) -> LogEntry:
    at = from_text(row["at"])
    assert at is not None
    return LogEntry(
        id=row["id"],
        at=at,
        connector=row["connector"],
        account=row["account"],
        level=LogLevel(row["level"]),
        message=row["message"],
        invoice_guid=row["invoice_guid"],
        invoice_number=row["invoice_number"],
    )
