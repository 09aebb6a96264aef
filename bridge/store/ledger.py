"""The transfer ledger: exactly-once bookkeeping of every invoice the bridge sends to Maventa.

One row per (Severa invoice GUID, sending company). The row is written *before* each outside
effect, so after a crash between any two steps the next pass knows what may already have
happened and asks the service instead of repeating it::

    PREPARED ──> SENDING ──> SENT ──> STATUS_PATCHED ──> DELIVERED (final)
       │            │ ↺         │           │
       └────────────┴───────────┴───────────┴──> FAILED ──> ERROR_PATCHED ──> NOTIFIED (final)

* PREPARED: the invoice was seen in the transfer status; its send uuid is fixed.
* SENDING: written just before the POST to Maventa. Found after a crash (or a timeout, a reset),
  it means "maybe sent": look the invoice up at Maventa by `send_uuid`; if Maventa has it go to
  SENT, else send again (SENDING → SENDING with `count_attempt=True`) with the *same* uuid.
* SENT: Maventa has it (`maventa_invoice_id`); the Severa status PATCH is next (idempotent).
* STATUS_PATCHED: Severa shows the after-transfer status; Maventa's delivery is followed until
  DELIVERED, or FAILED when the delivery fails later.
* FAILED: the error is known (`last_error` = the service's exact text); write the transfer-log
  line in the same transaction (`log=LogDraft(...)`); then PATCH Severa to the error status →
  ERROR_PATCHED; then e-mail the notification → NOTIFIED. A notification is sent only from
  ERROR_PATCHED and marked right after, so at most a crash inside that one SMTP exchange can
  repeat it (use `bridge.notify.notification_message_id(send_uuid)` so repeats are recognisable).
* Any non-final state may "transition" to itself to update fields (delivery state, attempts).
* `requeue()` starts a new *generation* (a new send uuid) for an invoice the user deliberately
  put back into the transfer status after it settled; `discard()` forgets a PREPARED row
  (a re-queued one goes back to the settled send it replaced).

Every change is a compare-and-set in one SQLite transaction: `transition()` fails with
`TransitionConflict` when the row is not in the expected state (another worker got there first)
and with `IllegalTransition` when the move is not in the table above.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Collection
from typing import Any, Final

from .companies import UnknownCompanyError, normalize_guid
from .db import Database, StoreError, from_text, to_text
from .models import LedgerEntry, LedgerState, LogDraft
from .transfer_log import insert_log

S = LedgerState

SEND_UUID_NAMESPACE: Final = uuid.UUID("ffbcc12f-f0b9-53a7-9b68-0540479ba7c8")

FINAL_STATES: Final = frozenset({S.DELIVERED, S.NOTIFIED})
# what a re-queue replaces and a discard of the re-queued row restores
_SETTLED_FIELDS: Final = (
    "generation",
    "send_uuid",
    "state",
    "maventa_invoice_id",
    "delivery_state",
    "channel",
    "attempts",
    "last_error",
)
REQUEUEABLE_STATES: Final = frozenset({S.STATUS_PATCHED, S.DELIVERED, S.ERROR_PATCHED, S.NOTIFIED})
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
    {"invoice_number", "maventa_invoice_id", "delivery_state", "channel", "last_error"}
)


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


class TransitionConflict(StoreError):
    """Compare-and-set failed: the row is missing or in another state than expected."""

    def __init__(self, message: str, actual: LedgerState | None) -> None:
        super().__init__(message)
        self.actual = actual


class IllegalTransition(StoreError):
    """The requested move is not allowed by the ledger's state machine."""


class Ledger:
    def __init__(self, db: Database) -> None:
        self._db = db

    def prepare(
        self, invoice_guid: str, company_id: int, *, invoice_number: str | None = None
    ) -> LedgerEntry:
        """The ledger row of this invoice, created in PREPARED if there is none (idempotent)."""
        guid = normalize_guid(invoice_guid)
        if not guid:
            raise StoreError("a ledger entry needs the Severa invoice GUID")
        now = to_text(self._db.now())
        with self._db.write() as conn:
            row = _select(conn, guid, company_id)
            if row is None:
                company = conn.execute(
                    "SELECT severa_organization, business_unit_guid FROM companies WHERE id = ?",
                    (company_id,),
                ).fetchone()
                if company is None:
                    raise UnknownCompanyError(f"no sending company with id {company_id}")
                uid = send_uuid(guid, company["business_unit_guid"], 0, company["severa_organization"])
                conn.execute(
                    """INSERT INTO ledger (invoice_guid, company_id, generation, send_uuid, state, invoice_number,
                                           created_at, updated_at)
                       VALUES (?, ?, 0, ?, ?, ?, ?, ?)""",
                    (guid, company_id, uid, S.PREPARED.value, invoice_number, now, now),
                )
                row = _select(conn, guid, company_id)
        return _entry(row)

    def get(self, invoice_guid: str, company_id: int) -> LedgerEntry | None:
        with self._db.read() as conn:
            row = _select(conn, normalize_guid(invoice_guid), company_id)
        return None if row is None else _entry(row)

    def find_by_send_uuid(self, uid: str) -> LedgerEntry | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM ledger WHERE send_uuid = ?", (uid.strip().lower(),)).fetchone()
        return None if row is None else _entry(row)

    def transition(
        self,
        invoice_guid: str,
        company_id: int,
        from_state: LedgerState | Collection[LedgerState],
        to_state: LedgerState,
        *,
        count_attempt: bool = False,
        log: LogDraft | None = None,
        **fields: Any,
    ) -> LedgerEntry:
        """Move the row from `from_state` (or any of several) to `to_state`, atomically.

        `fields` may set invoice_number, maventa_invoice_id, delivery_state, channel, last_error.
        `count_attempt` adds one to `attempts`. `log` is written to the transfer log in the same
        transaction, so a log line exists exactly when the transition happened.
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
        guid = normalize_guid(invoice_guid)
        now_dt = self._db.now()
        now = to_text(now_dt)
        cols = {**fields, "state": to_state.value, "updated_at": now}
        assignments = ", ".join(f"{k} = ?" for k in cols)
        if count_attempt:
            assignments += ", attempts = attempts + 1"
        states = sorted(s.value for s in expected)
        with self._db.write() as conn:
            cur = conn.execute(
                f"UPDATE ledger SET {assignments} WHERE invoice_guid = ? AND company_id = ? "
                f"AND state IN ({', '.join('?' * len(states))})",
                [*cols.values(), guid, company_id, *states],
            )
            row = _select(conn, guid, company_id)
            if cur.rowcount == 0 or row is None:
                actual = None if row is None else LedgerState(row["state"])
                what = "there is no ledger entry" if actual is None else f"it is in {actual.value}"
                raise TransitionConflict(
                    f"invoice {guid} (company {company_id}) was expected in {' or '.join(states)} but {what}",
                    actual,
                )
            if log is not None:
                insert_log(conn, now_dt, company_id, log.level, log.message, guid, row["invoice_number"])
        return _entry(row)

    def requeue(self, invoice_guid: str, company_id: int, *, expected_generation: int) -> LedgerEntry:
        """Start a new send (new generation, new uuid) of an invoice whose last send has settled."""
        guid = normalize_guid(invoice_guid)
        now = to_text(self._db.now())
        with self._db.write() as conn:
            row = _select(conn, guid, company_id)
            if row is None or row["generation"] != expected_generation:
                actual = None if row is None else LedgerState(row["state"])
                raise TransitionConflict(
                    f"invoice {guid} (company {company_id}): expected generation {expected_generation}, "
                    f"found {'no entry' if row is None else row['generation']}",
                    actual,
                )
            state = LedgerState(row["state"])
            if state not in REQUEUEABLE_STATES:
                raise IllegalTransition(
                    f"invoice {guid} is still in transfer ({state.value}); it cannot be re-queued"
                )
            company = conn.execute(
                "SELECT severa_organization, business_unit_guid FROM companies WHERE id = ?", (company_id,)
            ).fetchone()
            generation = row["generation"] + 1
            uid = send_uuid(guid, company["business_unit_guid"], generation, company["severa_organization"])
            previous = json.dumps({k: row[k] for k in _SETTLED_FIELDS})
            conn.execute(
                """UPDATE ledger SET generation = ?, send_uuid = ?, state = ?, maventa_invoice_id = NULL,
                          delivery_state = NULL, channel = NULL, attempts = 0, last_error = NULL, updated_at = ?,
                          previous = ?
                   WHERE invoice_guid = ? AND company_id = ?""",
                (generation, uid, S.PREPARED.value, now, previous, guid, company_id),
            )
            row = _select(conn, guid, company_id)
        return _entry(row)

    def discard(self, invoice_guid: str, company_id: int) -> bool:
        """Forget a PREPARED row (nothing was sent yet); False when there was none in PREPARED.

        A re-queued row (generation > 0) goes back to the settled send it replaced, so the record
        that the invoice was already sent once (its uuid, Maventa id, state) is never lost."""
        guid = normalize_guid(invoice_guid)
        now = to_text(self._db.now())
        with self._db.write() as conn:
            row = _select(conn, guid, company_id)
            if row is None or row["state"] != S.PREPARED.value:
                return False
            if row["generation"] == 0 or not row["previous"]:
                conn.execute(
                    "DELETE FROM ledger WHERE invoice_guid = ? AND company_id = ?", (guid, company_id)
                )
                return True
            previous = json.loads(row["previous"])
            assignments = ", ".join(f"{k} = ?" for k in _SETTLED_FIELDS)
            conn.execute(
                f"UPDATE ledger SET {assignments}, previous = NULL, updated_at = ? WHERE invoice_guid = ? AND company_id = ?",
                (*(previous[k] for k in _SETTLED_FIELDS), now, guid, company_id),
            )
        return True

    def in_state(
        self, *states: LedgerState, company_id: int | None = None, limit: int | None = None
    ) -> list[LedgerEntry]:
        """Rows in any of `states` (all rows when none given), oldest change first."""
        sql = "SELECT * FROM ledger WHERE 1 = 1"
        args: list[object] = []
        if states:
            sql += f" AND state IN ({', '.join('?' * len(states))})"
            args += [s.value for s in states]
        if company_id is not None:
            sql += " AND company_id = ?"
            args.append(company_id)
        sql += " ORDER BY updated_at, invoice_guid"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._db.read() as conn:
            return [_entry(r) for r in conn.execute(sql, args).fetchall()]

    def unfinished(self, company_id: int | None = None, limit: int | None = None) -> list[LedgerEntry]:
        """The work of the next pass: every row not in a final state."""
        return self.in_state(
            *(s for s in LedgerState if s not in FINAL_STATES), company_id=company_id, limit=limit
        )

    def counts(self, company_id: int | None = None) -> dict[LedgerState, int]:
        sql = "SELECT state, count(*) FROM ledger"
        args: list[object] = []
        if company_id is not None:
            sql += " WHERE company_id = ?"
            args.append(company_id)
        with self._db.read() as conn:
            found = {LedgerState(s): n for s, n in conn.execute(sql + " GROUP BY state", args).fetchall()}
        return {s: found.get(s, 0) for s in LedgerState}


def _select(conn: sqlite3.Connection, guid: str, company_id: int) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM ledger WHERE invoice_guid = ? AND company_id = ?", (guid, company_id)
    ).fetchone()
    return row


def _entry(row: sqlite3.Row | None) -> LedgerEntry:
    assert row is not None
    return LedgerEntry(
        invoice_guid=row["invoice_guid"],
        company_id=row["company_id"],
        generation=row["generation"],
        send_uuid=row["send_uuid"],
        state=LedgerState(row["state"]),
        invoice_number=row["invoice_number"],
        maventa_invoice_id=row["maventa_invoice_id"],
        delivery_state=row["delivery_state"],
        channel=row["channel"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
    )
