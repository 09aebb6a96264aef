"""Per-connector state that is not a ledger row: settings, watermarks, and what was synced.

* ``ConnectorState``: small named values per (connector, account), e.g. Maestro's customer-sync
  watermark (the ``changedSince`` of the next incremental sync) or its bridge-side settings.
* ``RemoteRecords``: one row per Severa record a connector copied to its target (e.g. a customer
  in Maestro's register, MA-2): the Severa version it copied, the target's id, or the error that
  stopped it, so an unchanged record is not sent again and a refused one is named later.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from .db import Database, from_text, to_text


class ConnectorState:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, connector: str, account: str, key: str) -> str | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT value FROM connector_state WHERE connector = ? AND account = ? AND key = ?",
                (connector, account, key),
            ).fetchone()
        return None if row is None else row["value"]

    def set(self, connector: str, account: str, key: str, value: str | None) -> None:
        now = to_text(self._db.now())
        with self._db.write() as conn:
            conn.execute(
                """INSERT INTO connector_state (connector, account, key, value, updated_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (connector, account, key) DO UPDATE SET value = excluded.value,
                                                                      updated_at = excluded.updated_at""",
                (connector, account, key, value, now),
            )

    def all(self, connector: str, account: str) -> dict[str, str | None]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT key, value FROM connector_state WHERE connector = ? AND account = ?",
                (connector, account),
            ).fetchall()
        return {r["key"]: r["value"] for r in rows}


@dataclass(frozen=True)
class RemoteRecord:
    connector: str
    account: str
    kind: str  # e.g. "customer"
    source_guid: str
    remote_id: str | None
    name: str | None
    source_version: str | None
    error: str | None
    updated_at: datetime | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.remote_id is not None


class RemoteRecords:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, connector: str, account: str, kind: str, source_guid: str) -> RemoteRecord | None:
        with self._db.read() as conn:
            row = conn.execute(
                """SELECT * FROM remote_records
                   WHERE connector = ? AND account = ? AND kind = ? AND source_guid = ?""",
                (connector, account, kind, source_guid.lower()),
            ).fetchone()
        return None if row is None else _record(row)

    def put(
        self,
        connector: str,
        account: str,
        kind: str,
        source_guid: str,
        *,
        remote_id: str | None,
        name: str | None,
        source_version: str | None,
        error: str | None = None,
    ) -> RemoteRecord:
        now = to_text(self._db.now())
        with self._db.write() as conn:
            conn.execute(
                """INSERT INTO remote_records (connector, account, kind, source_guid, remote_id, name,
                                               source_version, error, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (connector, account, kind, source_guid) DO UPDATE SET
                       remote_id = coalesce(excluded.remote_id, remote_records.remote_id), name = excluded.name,
                       source_version = excluded.source_version, error = excluded.error,
                       updated_at = excluded.updated_at""",
                (connector, account, kind, source_guid.lower(), remote_id, name, source_version, error, now),
            )
            row = conn.execute(
                """SELECT * FROM remote_records
                   WHERE connector = ? AND account = ? AND kind = ? AND source_guid = ?""",
                (connector, account, kind, source_guid.lower()),
            ).fetchone()
        return _record(row)

    def all(self, connector: str, account: str, kind: str) -> list[RemoteRecord]:
        with self._db.read() as conn:
            rows = conn.execute(
                """SELECT * FROM remote_records WHERE connector = ? AND account = ? AND kind = ?
                   ORDER BY name, source_guid""",
                (connector, account, kind),
            ).fetchall()
        return [_record(r) for r in rows]


def _record(row: sqlite3.Row) -> RemoteRecord:
    return RemoteRecord(
        connector=row["connector"],
        account=row["account"],
        kind=row["kind"],
        source_guid=row["source_guid"],
        remote_id=row["remote_id"],
        name=row["name"],
        source_version=row["source_version"],
        error=row["error"],
        updated_at=from_text(row["updated_at"]),
    )
