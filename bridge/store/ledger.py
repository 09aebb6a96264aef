"""The transfer ledger: exactly-once bookkeeping of every invoice the bridge sends to any target.

One row per (connector, account, Severa invoice GUID). The row is written *before* each outside
effect, so after a crash between any two steps the next pass knows what may already have
happened and asks the target instead of repeating it::

    PREPARED ──> SENDING ──> SENT ──> STATUS_PATCHED ──> DELIVERED (final)
       │            │ ↺         │           │
       └────────────┴───────────┴───────────┴──> FAILED ──> ERROR_PATCHED ──> NOTIFIED (final)

* PREPARED: the invoice was seen in the transfer status; its idempotency key is fixed (the
  connector derives it from the invoice and the generation: Maventa's send uuid, Maestro's
  Severa GUID).
* SENDING: written just before the send. Found after a crash (or a timeout, a reset), it means
  "maybe sent": the connector looks the send up at the target by the key; if it is there go to
  SENT, else send again (SENDING → SENDING with ``count_attempt=True``) with the *same* key.
* SENT: the target has it (``remote_id``); the Severa status PATCH is next (idempotent).
* STATUS_PATCHED: Severa shows the after-transfer status; a target with an outcome of its own
  (Maventa's delivery) is followed until DELIVERED, or FAILED when it fails later.
* FAILED: the error is known (``last_error`` = the service's exact text); the transfer-log line
  is written in the same transaction (``log=LogDraft(...)``); then PATCH Severa to the error
  status → ERROR_PATCHED; then the notification → NOTIFIED.
* Notifications are **claimed first**: ``claim_notification()`` is a compare-and-set that gives
  one worker a lease; only the holder mails, then records NOTIFIED. Two workers never mail the
  same failure; a worker that dies holding the lease is replaced when the lease runs out, so the
  mail is not lost (at most a crash inside that one SMTP exchange repeats it, with the same
  Message-ID). ``notify_attempts`` counts failed mailings across passes and processes.
* Any non-final state may "transition" to itself to update fields (remote state, attempts).
* ``requeue()`` starts a new *generation* for an invoice the user deliberately put back into the
  transfer status after it settled; ``discard()`` forgets a PREPARED row (a re-queued one goes
  back to the settled send it replaced, so the record of an earlier send is never lost).

Every change is a compare-and-set in one SQLite transaction: ``transition()`` fails with
``TransitionConflict`` when the row is not in the expected state (another worker got there first)
and with ``IllegalTransition`` when the move is not in the table above.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator
from datetime import timedelta
from typing import Any, Final

from .companies import normalize_guid
from .db import Database, StoreError, from_text, to_text
from .models import LedgerEntry, LedgerRef, LedgerState, LogDraft
from .transfer_log import insert_log

S = LedgerState

FINAL_STATES: Final = frozenset({S.DELIVERED, S.NOTIFIED})
SUCCESS_STATES: Final = frozenset({S.STATUS_PATCHED, S.DELIVERED})
ERROR_STATES: Final = frozenset({S.NOTIFIED})
# a failure is re-queued only once its notification is done (ERROR_PATCHED finishes first), so the
# notification of every failed send goes out even when the user puts the invoice back at once
REQUEUEABLE_STATES: Final = SUCCESS_STATES | ERROR_STATES
# what a re-queue replaces and a discard of the re-queued row restores
_SETTLED_FIELDS: Final = (
    "generation",
    "idempotency_key",
    "state",
    "remote_id",
    "remote_state",
    "remote_detail",
    "source_version",
    "attempts",
    "last_error",
)
ALLOWED_TRANSITIONS: Final[dict[LedgerState, frozenset[LedgerState]]] = {
    S.PREPARED: frozenset({S.PREPARED, S.SENDING, S.FAILED}),
    S.SENDING: frozenset({S.SENDING, S.SENT, S.FAILED}),
    S.SENT: frozenset({S.SENT, S.STATUS_PATCHED, S.FAILED}),
    S.STATUS_PATCHED: frozenset({S.STATUS_PATCHED, S.DELIVERED, S.FAILED}),
    S.FAILED: frozenset({S.FAILED, S.ERROR_PATCHED}),
    S.ERROR_PATCHED: frozenset({S.ERROR_PATCHED, S.NOTIFIED}),
    S.DELIVERED: frozenset(),
    S.NOTIFIED: frozenset(),
}
UPDATABLE_FIELDS: Final = frozenset(
    {"invoice_number", "remote_id", "remote_state", "remote_detail", "source_version", "last_error"}
)
DEFAULT_NOTIFY_LEASE: Final = timedelta(minutes=10)


class TransitionConflict(StoreError):
    """Compare-and-set failed: the row is missing or in another state than expected."""

    def __init__(self, message: str, actual: LedgerState | None) -> None:
        super().__init__(message)
        self.actual = actual


class IllegalTransition(StoreError):
    """The requested move is not allowed by the ledger's state machine."""


def _key(ref: LedgerRef) -> tuple[str, str, str]:
    return ref.connector, ref.account, normalize_guid(ref.invoice_guid)


class Ledger:
    def __init__(self, db: Database) -> None:
        self._db = db

    def prepare(
        self,
        ref: LedgerRef,
        idempotency_key: str,
        *,
        invoice_number: str | None = None,
        source_version: str | None = None,
        pass_id: str | None = None,
    ) -> LedgerEntry:
        """The ledger row of this invoice, created in PREPARED if there is none (idempotent).

        ``pass_id`` (every write takes it) marks the row as handled by that pass: ``batches`` can
        then leave out what the current pass already did."""
        connector, account, guid = _key(ref)
        if not guid:
            raise StoreError("a ledger entry needs the Severa invoice GUID")
        if not connector or not account or not idempotency_key:
            raise StoreError("a ledger entry needs its connector, account and idempotency key")
        now = to_text(self._db.now())
        with self._db.write() as conn:
            row = _select(conn, connector, account, guid)
            if row is None:
                conn.execute(
                    """INSERT INTO ledger (connector, account, invoice_guid, generation, idempotency_key, state,
                                           invoice_number, source_version, pass_id, created_at, updated_at)
                       VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        connector,
                        account,
                        guid,
                        idempotency_key,
                        S.PREPARED.value,
                        invoice_number,
                        source_version,
                        pass_id,
                        now,
                        now,
                    ),
                )
                row = _select(conn, connector, account, guid)
        return _entry(row)

    def get(self, ref: LedgerRef) -> LedgerEntry | None:
        with self._db.read() as conn:
            row = _select(conn, *_key(ref))
        return None if row is None else _entry(row)

    def find_by_key(self, connector: str, idempotency_key: str) -> LedgerEntry | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT * FROM ledger WHERE connector = ? AND lower(idempotency_key) = ?",
                (connector, idempotency_key.strip().lower()),
            ).fetchone()
        return None if row is None else _entry(row)

    def transition(
        self,
        ref: LedgerRef,
        from_state: LedgerState | Collection[LedgerState],
        to_state: LedgerState,
        *,
        count_attempt: bool = False,
        log: LogDraft | None = None,
        pass_id: str | None = None,
        **fields: Any,
    ) -> LedgerEntry:
        """Move the row from ``from_state`` (or any of several) to ``to_state``, atomically.

        ``fields`` may set invoice_number, remote_id, remote_state, remote_detail, source_version,
        last_error. ``count_attempt`` adds one to ``attempts``. ``log`` is written to the transfer
        log in the same transaction, so a log line exists exactly when the transition happened.
        """
        expected = {from_state} if isinstance(from_state, LedgerState) else set(from_state)
        if not expected:
            raise ValueError("from_state: give at least one state")
        unknown = set(fields) - UPDATABLE_FIELDS
        if unknown:
            raise TypeError(f"transition() got fields it cannot set: {', '.join(sorted(unknown))}")
        for src in expected:
            if to_state not in ALLOWED_TRANSITIONS[src]:
                raise IllegalTransition(f"a ledger entry cannot move from {src.value} to {to_state.value}")
        connector, account, guid = _key(ref)
        now_dt = self._db.now()
        cols = {**fields, "state": to_state.value, "updated_at": to_text(now_dt), "pass_id": pass_id}
        assignments = ", ".join(f"{k} = ?" for k in cols)
        if count_attempt:
            assignments += ", attempts = attempts + 1"
        if to_state is not S.ERROR_PATCHED:
            assignments += ", notify_claimed_by = NULL, notify_claimed_until = NULL"
        states = sorted(s.value for s in expected)
        with self._db.write() as conn:
            cur = conn.execute(
                f"UPDATE ledger SET {assignments} WHERE connector = ? AND account = ? AND invoice_guid = ? "
                f"AND state IN ({', '.join('?' * len(states))})",
                [*cols.values(), connector, account, guid, *states],
            )
            row = _select(conn, connector, account, guid)
            if cur.rowcount == 0 or row is None:
                actual = None if row is None else LedgerState(row["state"])
                what = "there is no ledger entry" if actual is None else f"it is in {actual.value}"
                raise TransitionConflict(
                    f"invoice {guid} ({connector} {account}) was expected in {' or '.join(states)} but {what}",
                    actual,
                )
            if log is not None:
                insert_log(
                    conn, now_dt, connector, account, log.level, log.message, guid, row["invoice_number"]
                )
        return _entry(row)

    def requeue(
        self,
        ref: LedgerRef,
        *,
        expected_generation: int,
        idempotency_key: str,
        source_version: str | None,
        pass_id: str | None = None,
    ) -> LedgerEntry:
        """Start a new send (the next generation, with its key) of an invoice whose last send settled."""
        connector, account, guid = _key(ref)
        now = to_text(self._db.now())
        with self._db.write() as conn:
            row = _select(conn, connector, account, guid)
            if row is None or row["generation"] != expected_generation:
                actual = None if row is None else LedgerState(row["state"])
                raise TransitionConflict(
                    f"invoice {guid} ({connector} {account}): expected generation {expected_generation}, "
                    f"found {'no entry' if row is None else row['generation']}",
                    actual,
                )
            state = LedgerState(row["state"])
            if state not in REQUEUEABLE_STATES:
                raise IllegalTransition(
                    f"invoice {guid} is still in transfer ({state.value}); it cannot be re-queued"
                )
            previous = json.dumps({k: row[k] for k in _SETTLED_FIELDS})
            conn.execute(
                """UPDATE ledger SET generation = ?, idempotency_key = ?, state = ?, remote_id = NULL,
                          remote_state = NULL, remote_detail = NULL, source_version = ?, attempts = 0,
                          last_error = NULL, notify_attempts = 0, notify_claimed_by = NULL,
                          notify_claimed_until = NULL, updated_at = ?, previous = ?, pass_id = ?
                   WHERE connector = ? AND account = ? AND invoice_guid = ?""",
                (
                    row["generation"] + 1,
                    idempotency_key,
                    S.PREPARED.value,
                    source_version,
                    now,
                    previous,
                    pass_id,
                    connector,
                    account,
                    guid,
                ),
            )
            row = _select(conn, connector, account, guid)
        return _entry(row)

    def discard(self, ref: LedgerRef) -> bool:
        """Forget a PREPARED row (nothing was sent yet); False when there was none in PREPARED.

        A re-queued row (generation > 0) goes back to the settled send it replaced, so the record
        that the invoice was already sent once (its key, remote id, state) is never lost."""
        connector, account, guid = _key(ref)
        now = to_text(self._db.now())
        where = "WHERE connector = ? AND account = ? AND invoice_guid = ?"
        with self._db.write() as conn:
            row = _select(conn, connector, account, guid)
            if row is None or row["state"] != S.PREPARED.value:
                return False
            if row["generation"] == 0 or not row["previous"]:
                conn.execute(f"DELETE FROM ledger {where}", (connector, account, guid))
                return True
            previous = json.loads(row["previous"])
            assignments = ", ".join(f"{k} = ?" for k in _SETTLED_FIELDS)
            conn.execute(
                f"UPDATE ledger SET {assignments}, previous = NULL, updated_at = ? {where}",
                (*(previous.get(k) for k in _SETTLED_FIELDS), now, connector, account, guid),
            )
        return True

    # ------------------------------------------------------------------ notifications
    def claim_notification(
        self, ref: LedgerRef, worker: str, *, generation: int, lease: timedelta = DEFAULT_NOTIFY_LEASE
    ) -> bool:
        """Take the right to mail this failure's notification (ERROR_PATCHED only), for ``lease``.

        False when the row moved on or another worker holds an unexpired claim: do not mail then."""
        connector, account, guid = _key(ref)
        now = self._db.now()
        with self._db.write() as conn:
            cur = conn.execute(
                """UPDATE ledger SET notify_claimed_by = ?, notify_claimed_until = ?
                   WHERE connector = ? AND account = ? AND invoice_guid = ? AND state = ? AND generation = ?
                     AND (notify_claimed_until IS NULL OR notify_claimed_until < ? OR notify_claimed_by = ?)""",
                (
                    worker,
                    to_text(now + lease),
                    connector,
                    account,
                    guid,
                    S.ERROR_PATCHED.value,
                    generation,
                    to_text(now),
                    worker,
                ),
            )
        return cur.rowcount == 1

    def release_notification(self, ref: LedgerRef, worker: str, *, failed: bool) -> LedgerEntry | None:
        """Give the claim back (the mail could not be sent); ``failed`` counts the attempt."""
        connector, account, guid = _key(ref)
        with self._db.write() as conn:
            conn.execute(
                """UPDATE ledger SET notify_claimed_by = NULL, notify_claimed_until = NULL,
                          notify_attempts = notify_attempts + ?
                   WHERE connector = ? AND account = ? AND invoice_guid = ? AND notify_claimed_by = ?""",
                (int(failed), connector, account, guid, worker),
            )
            row = _select(conn, connector, account, guid)
        return None if row is None else _entry(row)

    # ------------------------------------------------------------------ queries
    def in_state(
        self,
        *states: LedgerState,
        connector: str | None = None,
        account: str | None = None,
        limit: int | None = None,
    ) -> list[LedgerEntry]:
        """Rows in any of ``states`` (all rows when none given), oldest change first."""
        sql, args = _filter(states, connector, account)
        sql += " ORDER BY updated_at, invoice_guid"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._db.read() as conn:
            return [_entry(r) for r in conn.execute(sql, args).fetchall()]

    def unfinished(
        self, connector: str | None = None, account: str | None = None, limit: int | None = None
    ) -> list[LedgerEntry]:
        """Every row not in a final state (small ledgers and tests; passes use ``batches``)."""
        return self.in_state(*_UNFINISHED, connector=connector, account=account, limit=limit)

    def batches(
        self,
        *states: LedgerState,
        connector: str | None = None,
        account: str | None = None,
        size: int = 100,
        not_in_pass: str | None = None,
    ) -> Iterator[list[LedgerEntry]]:
        """Rows in ``states`` (every unfinished state when none given), ``size`` at a time, in
        insertion order; only one batch is in memory at once. ``not_in_pass`` leaves out rows
        that pass already wrote."""
        sql, args = _filter(states or tuple(_UNFINISHED), connector, account)
        if not_in_pass is not None:
            sql += " AND (pass_id IS NULL OR pass_id != ?)"
            args.append(not_in_pass)
        sql = (
            sql.replace("SELECT *", "SELECT rowid AS _rowid, *", 1) + " AND rowid > ? ORDER BY rowid LIMIT ?"
        )
        last = 0
        while True:
            with self._db.read() as conn:
                rows = conn.execute(sql, [*args, last, size]).fetchall()
            if not rows:
                return
            last = rows[-1]["_rowid"]
            yield [_entry(r) for r in rows]
            if len(rows) < size:
                return

    def counts(self, connector: str | None = None, account: str | None = None) -> dict[LedgerState, int]:
        sql, args = _filter((), connector, account)
        sql = sql.replace("SELECT *", "SELECT state, count(*)", 1) + " GROUP BY state"
        with self._db.read() as conn:
            found = {LedgerState(s): n for s, n in conn.execute(sql, args).fetchall()}
        return {s: found.get(s, 0) for s in LedgerState}


_UNFINISHED: Final = tuple(s for s in LedgerState if s not in FINAL_STATES)


def _filter(
    states: Collection[LedgerState], connector: str | None, account: str | None
) -> tuple[str, list[object]]:
    sql = "SELECT * FROM ledger WHERE 1 = 1"
    args: list[object] = []
    if states:
        sql += f" AND state IN ({', '.join('?' * len(states))})"
        args += [s.value for s in states]
    if connector is not None:
        sql += " AND connector = ?"
        args.append(connector)
    if account is not None:
        sql += " AND account = ?"
        args.append(account)
    return sql, args


def _select(conn: sqlite3.Connection, connector: str, account: str, guid: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM ledger WHERE connector = ? AND account = ? AND invoice_guid = ?",
        (connector, account, guid),
    ).fetchone()
    return row


def _entry(row: sqlite3.Row | None) -> LedgerEntry:
    assert row is not None
    return LedgerEntry(
        connector=row["connector"],
        account=row["account"],
        invoice_guid=row["invoice_guid"],
        generation=row["generation"],
        idempotency_key=row["idempotency_key"],
        state=LedgerState(row["state"]),
        invoice_number=row["invoice_number"],
        remote_id=row["remote_id"],
        remote_state=row["remote_state"],
        remote_detail=row["remote_detail"],
        source_version=row["source_version"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        notify_attempts=row["notify_attempts"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        pass_id=row["pass_id"],
    )
