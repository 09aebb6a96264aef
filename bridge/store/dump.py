"""The whole store as JSON and back: every table, row for row (``severa-sandbox up --state``,
reproduction bundles). ``load`` replaces everything in one transaction, or changes nothing."""

from __future__ import annotations

from typing import Any

from .db import SCHEMA_VERSION, Database, StoreError

TABLES = ("companies", "ledger", "transfer_log", "connector_state", "remote_records")
DUMP_FORMAT = "severa-bridge-store"


def dump(db: Database) -> dict[str, Any]:
    out: dict[str, Any] = {"format": DUMP_FORMAT, "schema_version": SCHEMA_VERSION, "tables": {}}
    with db.read() as conn:
        for table in TABLES:
            rows = conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            out["tables"][table] = [dict(r) for r in rows]
    return out


def load(db: Database, data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != DUMP_FORMAT:
        raise StoreError("not a bridge store dump (format 'severa-bridge-store' expected)")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise StoreError(
            f"the store dump has schema version {data.get('schema_version')!r}; this bridge writes "
            f"{SCHEMA_VERSION}: dump it again with this release"
        )
    tables = data.get("tables")
    if not isinstance(tables, dict):
        raise StoreError("the store dump has no tables")
    with db.write() as conn:
        columns = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})").fetchall()] for t in TABLES}
        for table in reversed(TABLES):
            conn.execute(f"DELETE FROM {table}")
        for table in TABLES:
            rows = tables.get(table) or []
            if not isinstance(rows, list):
                raise StoreError(f"the store dump's {table} is not a list of rows")
            for row in rows:
                if not isinstance(row, dict) or set(row) - set(columns[table]):
                    raise StoreError(
                        f"a row of {table} does not fit this store: {sorted(set(row) - set(columns[table])) if isinstance(row, dict) else row!r}"
                    )
                names = list(row)
                conn.execute(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                    [row[n] for n in names],
                )
