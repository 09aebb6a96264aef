"""The bridge's SQLite store: sending companies, the transfer ledger, the transfer log."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import stat
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from bridge.config import Secret
from bridge.connectors.maventa.connector import send_uuid
from bridge.store import (
    FINAL_STATES,
    SCHEMA_VERSION,
    AuthState,
    CompanySettings,
    CompanyState,
    IllegalTransition,
    LedgerEntry,
    LedgerState,
    LogDraft,
    LogLevel,
    MissingBusinessIdError,
    RegistrationState,
    SendingCompany,
    StatusRef,
    Store,
    StoreError,
    TransitionConflict,
    UnknownCompanyError,
)
from bridge.store.models import LedgerRef

S = LedgerState
UNIT = "5D6A1E1C-0000-4000-8000-00000000A001"
API_KEY = "mv-user-key-0123456789abcdef"


class FakeClock:
    def __init__(self) -> None:
        self.t = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t

    def tick(self, seconds: float = 1) -> None:
        self.t += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Iterator[Store]:
    with Store(":memory:", now=clock) as s:
        yield s


@pytest.fixture
def company(store: Store) -> SendingCompany:
    return store.companies.upsert(UNIT, name="Demo Oy", business_id="1234567-8")


def R(guid: str, company: SendingCompany) -> LedgerRef:
    """The ledger key of an invoice sent through a Maventa sending company."""
    return LedgerRef("maventa", str(company.id), guid)


def key(guid: str, company: SendingCompany, generation: int = 0) -> str:
    return send_uuid(guid, company.business_unit_guid, generation, company.severa_organization)


def prep(store: Store, guid: str, company: SendingCompany, **fields: Any) -> LedgerEntry:
    return store.ledger.prepare(R(guid, company), key(guid, company), **fields)


def requeue(store: Store, guid: str, company: SendingCompany, generation: int) -> LedgerEntry:
    return store.ledger.requeue(
        R(guid, company),
        expected_generation=generation,
        idempotency_key=key(guid, company, generation + 1),
        source_version=None,
    )


# ----------------------------------------------------------------------------- companies
def test_upsert_creates_once_and_updates_name_and_business_id(store: Store, clock: FakeClock) -> None:
    first = store.companies.upsert(UNIT, name="Demo Oy", business_id="1234567-8")
    clock.tick(5)
    again = store.companies.upsert(UNIT.lower(), name="Demo Oyj", business_id="7654321-0")
    assert again.id == first.id
    assert (again.name, again.business_id) == ("Demo Oyj", "7654321-0")
    assert again.created_at == first.created_at and again.updated_at == clock()
    assert store.companies.find(UNIT) == again
    assert store.companies.find("{" + UNIT + "}") == again  # braces and case do not matter
    assert store.companies.all() == [again]


def test_business_units_of_different_organisations_are_separate_companies(store: Store) -> None:
    a = store.companies.upsert(UNIT, name="A", business_id="1234567-8", severa_organization="org-a")
    b = store.companies.upsert(UNIT, name="B", business_id="1234567-8", severa_organization="org-b")
    assert a.id != b.id
    assert store.companies.all(severa_organization="org-b") == [b]


@pytest.mark.parametrize("business_id", [None, "", "   "])
def test_a_unit_without_business_id_is_refused_with_a_clear_message(
    store: Store, business_id: str | None
) -> None:
    with pytest.raises(MissingBusinessIdError, match=r"'Konsultointi' has no business ID \(Y-tunnus\)"):
        store.companies.upsert(UNIT, name="Konsultointi", business_id=business_id)
    assert store.companies.all() == []


def test_credentials_are_stored_and_the_key_never_shows(store: Store, company: SendingCompany) -> None:
    updated = store.companies.set_credentials(
        company.id,
        company_uuid="c0ffee00-1111-4222-8333-444455556666",
        api_key=API_KEY,
        registration_state=RegistrationState.REGISTERED,
    )
    assert updated.maventa_api_key == Secret(API_KEY)
    assert updated.maventa_api_key is not None and updated.maventa_api_key.reveal() == API_KEY
    assert updated.has_credentials
    for text in (repr(updated), str(updated), f"{updated}", repr(store.companies.all()), repr(store)):
        assert API_KEY not in text
    assert store.companies.find_by_maventa_uuid("C0FFEE00-1111-4222-8333-444455556666") == updated


def test_mv2_uuid_without_key(store: Store, company: SendingCompany) -> None:
    updated = store.companies.set_credentials(
        company.id, company_uuid="uuid-1", api_key=None, registration_state=RegistrationState.KEY_MISSING
    )
    assert updated.maventa_company_uuid == "uuid-1"
    assert updated.maventa_api_key is None
    assert not updated.has_credentials
    assert updated.registration_state is RegistrationState.KEY_MISSING


def test_authorization_state_and_email_are_kept(store: Store, company: SendingCompany) -> None:
    sent = store.companies.set_authorization(
        company.id,
        auth_state=AuthState.SENT,
        company_state=CompanyState.UNVERIFIED,
        auth_email="signer@demo.fi",
    )
    assert (sent.auth_state, sent.company_state, sent.auth_email) == (
        AuthState.SENT,
        CompanyState.UNVERIFIED,
        "signer@demo.fi",
    )
    assert not sent.verified
    signed = store.companies.set_authorization(
        company.id, auth_state=AuthState.SIGNED, company_state=CompanyState.VERIFIED
    )
    assert signed.verified and signed.auth_email == "signer@demo.fi"  # not given: kept


def test_settings_round_trip(store: Store, company: SendingCompany) -> None:
    settings = CompanySettings(
        send_original_pdf=True,
        send_by_email=True,
        notification_email="laskutus@demo.fi",
        status_to_transfer=StatusRef("AAAA-1", "Odottaa siirtoa"),
        status_after_transfer=StatusRef("aaaa-2", "Siirretty"),
        status_after_error=StatusRef("aaaa-3", "Virhe"),
    )
    saved = store.companies.save_settings(company.id, settings)
    assert saved.settings == CompanySettings(
        True,
        True,
        "laskutus@demo.fi",
        StatusRef("aaaa-1", "Odottaa siirtoa"),
        StatusRef("aaaa-2", "Siirretty"),
        StatusRef("aaaa-3", "Virhe"),
    )
    cleared = store.companies.save_settings(company.id, CompanySettings(notification_email="  "))
    assert cleared.settings == CompanySettings()


def test_activation_toggle_and_filter(store: Store, company: SendingCompany) -> None:
    other = store.companies.upsert("unit-2", name="Toinen Oy", business_id="2345678-9")
    store.companies.set_active(company.id, True)
    assert [c.id for c in store.companies.all(active=True)] == [company.id]
    assert [c.id for c in store.companies.all(active=False)] == [other.id]
    assert not store.companies.set_active(company.id, False).active


def test_unknown_company(store: Store) -> None:
    with pytest.raises(UnknownCompanyError, match="no sending company with id 42"):
        store.companies.get(42)
    with pytest.raises(UnknownCompanyError):
        store.companies.set_active(42, True)
    assert store.companies.find("nope") is None
    with pytest.raises(StoreError, match="connector, account and idempotency key"):
        store.ledger.prepare(LedgerRef("maventa", "", "inv-1"), "k")


# ----------------------------------------------------------------------------- ledger
def test_send_uuid_is_deterministic_and_distinguishes_what_it_should() -> None:
    base = send_uuid("INV-1", UNIT, 0)
    assert base == send_uuid("inv-1", UNIT.lower(), 0) == send_uuid("{inv-1}", UNIT)
    variants = {
        send_uuid("inv-2", UNIT, 0),
        send_uuid("inv-1", "other-unit", 0),
        send_uuid("inv-1", UNIT, 1),
        send_uuid("inv-1", UNIT, 0, "other-org"),
    }
    assert base not in variants and len(variants) == 4
    assert uuid.UUID(base).version == 5 and str(uuid.UUID(base)) == base
    with pytest.raises(ValueError):
        send_uuid("inv-1", UNIT, -1)


def test_prepare_is_idempotent(store: Store, company: SendingCompany) -> None:
    first = prep(store, "INV-1", company, invoice_number="1001")
    store.ledger.transition(R("inv-1", company), S.PREPARED, S.SENDING, count_attempt=True)
    again = prep(store, "inv-1", company, invoice_number="ignored")
    assert (
        again.state is S.SENDING
        and again.idempotency_key == first.idempotency_key
        and again.invoice_number == "1001"
    )
    assert first.idempotency_key == send_uuid("inv-1", UNIT, 0)
    assert store.ledger.find_by_key("maventa", first.idempotency_key.upper()) == again


def test_happy_path_to_delivered(store: Store, company: SendingCompany, clock: FakeClock) -> None:
    prep(store, "inv-1", company, invoice_number="1001")
    store.ledger.transition(R("inv-1", company), S.PREPARED, S.SENDING, count_attempt=True)
    store.ledger.transition(
        R("inv-1", company), S.SENDING, S.SENT, remote_id="mv-9", remote_detail="EINVOICE"
    )
    clock.tick()
    patched = store.ledger.transition(
        R("inv-1", company),
        S.SENT,
        S.STATUS_PATCHED,
        remote_state="PENDING",
        log=LogDraft(LogLevel.INFO, "Lasku 1001 siirretty Maventaan"),
    )
    assert (patched.remote_id, patched.remote_detail, patched.attempts) == ("mv-9", "EINVOICE", 1)
    assert patched.updated_at == clock()
    done = store.ledger.transition(
        R("inv-1", company), S.STATUS_PATCHED, S.DELIVERED, remote_state="DELIVERED"
    )
    assert done.state in FINAL_STATES
    [line] = store.log.entries()
    assert (line.level, line.message, line.invoice_number, line.connector, line.account) == (
        LogLevel.INFO,
        "Lasku 1001 siirretty Maventaan",
        "1001",
        "maventa",
        str(company.id),
    )


def test_cas_refuses_a_stale_from_state_and_writes_nothing(store: Store, company: SendingCompany) -> None:
    prep(store, "inv-1", company)
    store.ledger.transition(R("inv-1", company), S.PREPARED, S.SENDING)
    with pytest.raises(TransitionConflict, match="expected in PREPARED but it is in SENDING") as exc:
        store.ledger.transition(
            R("inv-1", company), S.PREPARED, S.FAILED, last_error="x", log=LogDraft(LogLevel.ERROR, "x")
        )
    assert exc.value.actual is S.SENDING
    entry = store.ledger.get(R("inv-1", company))
    assert entry is not None and entry.state is S.SENDING and entry.last_error is None
    assert store.log.entries() == []
    with pytest.raises(TransitionConflict, match="no ledger entry") as missing:
        store.ledger.transition(R("inv-404", company), S.PREPARED, S.SENDING)
    assert missing.value.actual is None


def test_from_state_may_be_several(store: Store, company: SendingCompany) -> None:
    prep(store, "inv-1", company)
    moved = store.ledger.transition(R("inv-1", company), {S.PREPARED, S.SENDING}, S.FAILED, last_error="boom")
    assert moved.state is S.FAILED


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (S.PREPARED, S.SENT),
        (S.SENDING, S.STATUS_PATCHED),
        (S.DELIVERED, S.FAILED),
        (S.NOTIFIED, S.PREPARED),
        (S.FAILED, S.SENT),
        (S.SENT, S.DELIVERED),
        (S.ERROR_PATCHED, S.FAILED),
    ],
)
def test_illegal_moves_are_refused(
    store: Store, company: SendingCompany, src: LedgerState, dst: LedgerState
) -> None:
    prep(store, "inv-1", company)
    with pytest.raises(IllegalTransition, match=f"from {src.value} to {dst.value}"):
        store.ledger.transition(R("inv-1", company), src, dst)


def test_only_known_fields_can_be_set(store: Store, company: SendingCompany) -> None:
    prep(store, "inv-1", company)
    with pytest.raises(TypeError, match="send_uuid"):
        store.ledger.transition(R("inv-1", company), S.PREPARED, S.SENDING, send_uuid="x")


def test_error_path_and_requeue_as_a_new_generation(store: Store, company: SendingCompany) -> None:
    first = prep(store, "inv-1", company, invoice_number="1001")
    store.ledger.transition(R("inv-1", company), S.PREPARED, S.SENDING, count_attempt=True)
    with pytest.raises(IllegalTransition, match="still in transfer"):
        requeue(store, "inv-1", company, 0)
    store.ledger.transition(
        R("inv-1", company),
        S.SENDING,
        S.FAILED,
        last_error="Recipient not found",
        log=LogDraft(LogLevel.ERROR, "Recipient not found"),
    )
    store.ledger.transition(R("inv-1", company), S.FAILED, S.ERROR_PATCHED)
    store.ledger.transition(R("inv-1", company), S.ERROR_PATCHED, S.NOTIFIED)
    with pytest.raises(TransitionConflict, match="expected generation 5"):
        requeue(store, "inv-1", company, 5)
    again = requeue(store, "inv-1", company, 0)
    assert (again.generation, again.state, again.attempts, again.last_error) == (1, S.PREPARED, 0, None)
    assert again.idempotency_key == send_uuid("inv-1", UNIT, 1) != first.idempotency_key
    assert again.invoice_number == "1001"
    assert [e.message for e in store.log.entries(invoice_guid="INV-1")] == ["Recipient not found"]


def test_discard_forgets_only_unsent_rows(store: Store, company: SendingCompany) -> None:
    prep(store, "inv-1", company)
    prep(store, "inv-2", company)
    store.ledger.transition(R("inv-2", company), S.PREPARED, S.SENDING)
    assert store.ledger.discard(R("inv-1", company)) is True
    assert store.ledger.discard(R("inv-2", company)) is False
    assert store.ledger.get(R("inv-1", company)) is None
    assert store.ledger.get(R("inv-2", company)) is not None


def test_discarding_a_requeued_row_restores_the_send_it_replaced(
    store: Store, company: SendingCompany
) -> None:
    """Delivered, put back into the transfer status, taken out again before the new send: the
    ledger still knows the first send (uuid, Maventa id, channel); nothing is forgotten."""
    first = prep(store, "inv-1", company, invoice_number="1001")
    store.ledger.transition(R("inv-1", company), S.PREPARED, S.SENDING, count_attempt=True)
    store.ledger.transition(R("inv-1", company), S.SENDING, S.SENT, remote_id=first.idempotency_key)
    store.ledger.transition(R("inv-1", company), S.SENT, S.STATUS_PATCHED)
    settled = store.ledger.transition(
        R("inv-1", company), S.STATUS_PATCHED, S.DELIVERED, remote_state="DELIVERED", remote_detail="EINVOICE"
    )
    again = requeue(store, "inv-1", company, 0)
    assert (again.generation, again.state, again.remote_id) == (1, S.PREPARED, None)
    assert store.ledger.discard(R("inv-1", company)) is True
    back = store.ledger.get(R("inv-1", company))
    assert back is not None
    assert (
        back.generation,
        back.idempotency_key,
        back.state,
        back.remote_id,
        back.remote_detail,
        back.attempts,
    ) == (
        0,
        first.idempotency_key,
        S.DELIVERED,
        first.idempotency_key,
        "EINVOICE",
        settled.attempts,
    )
    assert store.ledger.discard(R("inv-1", company)) is False  # settled rows are never discarded
    # and a later put-back starts generation 1 again, with the same uuid as before
    assert requeue(store, "inv-1", company, 0).idempotency_key == again.idempotency_key


def test_a_store_of_schema_version_1_is_migrated(tmp_path: Path) -> None:
    from bridge.store.db import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    conn.commit()
    conn.close()
    with Store(path) as s:
        assert s.schema_version() == SCHEMA_VERSION
        c = s.companies.upsert(UNIT, name="Demo Oy", business_id="1234567-8")
        prep(s, "inv-1", c)
        s.ledger.transition(R("inv-1", c), S.PREPARED, S.FAILED, last_error="x")
        s.ledger.transition(R("inv-1", c), S.FAILED, S.ERROR_PATCHED)
        s.ledger.transition(R("inv-1", c), S.ERROR_PATCHED, S.NOTIFIED)
        assert requeue(s, "inv-1", c, 0).generation == 1


def test_a_store_written_by_the_landed_bridge_schema_2_migrates_with_nothing_lost(tmp_path: Path) -> None:
    """Issue 8: a bridge.sqlite3 of the Maventa-only bridge (schema 2: ledger keyed by company,
    maventa_invoice_id / delivery_state / channel columns, `previous` JSON of a re-queued row)
    opens with the generic ledger and keeps every ledger row and every log line."""
    from bridge.store.db import MIGRATIONS

    path = tmp_path / "landed.sqlite3"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:  # exactly what the landed code created
        conn.executescript(script)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version (version) VALUES (2)")
    at = "2026-11-20T08:00:00.000000+00:00"
    conn.execute(
        """INSERT INTO companies (id, severa_organization, business_unit_guid, name, business_id,
           maventa_company_uuid, maventa_api_key, registration_state, active, created_at, updated_at)
           VALUES (7, '', ?, 'Demo Oy', '1234567-8', 'mv-company', 'key-1', 'REGISTERED', 1, ?, ?)""",
        (UNIT.lower(), at, at),
    )
    previous = json.dumps(
        {
            "generation": 0,
            "send_uuid": "uuid-gen-0",
            "state": "DELIVERED",
            "maventa_invoice_id": "mv-0",
            "delivery_state": "DELIVERED",
            "channel": "EMAIL",
            "attempts": 1,
            "last_error": None,
        }
    )
    rows = [
        ("inv-a", 0, "uuid-a", "DELIVERED", "1001", "mv-a", "DELIVERED", "EINVOICE", 1, None, None),
        ("inv-b", 0, "uuid-b", "SENDING", "1002", None, None, None, 3, "timeout", None),
        ("inv-c", 0, "uuid-c", "NOTIFIED", "1003", None, None, None, 1, "Recipient not found", None),
        ("inv-d", 1, "uuid-gen-1", "PREPARED", "1004", None, None, None, 0, None, previous),
    ]
    for guid, gen, uid, state, number, mv, delivery, channel, attempts, error, prev in rows:
        conn.execute(
            """INSERT INTO ledger (invoice_guid, company_id, generation, send_uuid, state, invoice_number,
               maventa_invoice_id, delivery_state, channel, attempts, last_error, created_at, updated_at, previous)
               VALUES (?, 7, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (guid, gen, uid, state, number, mv, delivery, channel, attempts, error, at, at, prev),
        )
    for i, (level, message, company, guid) in enumerate(
        [
            ("INFO", "Settings saved", 7, None),
            ("ERROR", "Recipient not found", 7, "inv-c"),
            ("INFO", "x", None, None),
        ],
        start=1,
    ):
        conn.execute(
            """INSERT INTO transfer_log (id, at, company_id, level, message, invoice_guid, invoice_number)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (i * 10, at, company, level, message, guid, None),
        )
    conn.commit()
    conn.close()

    with Store(path) as s:
        assert s.schema_version() == SCHEMA_VERSION
        company = s.companies.get(7)
        assert company.active and company.maventa_api_key is not None
        entries = {e.invoice_guid: e for e in s.ledger.in_state()}
        assert set(entries) == {"inv-a", "inv-b", "inv-c", "inv-d"}
        a = entries["inv-a"]
        assert (a.connector, a.account, a.idempotency_key, a.state) == ("maventa", "7", "uuid-a", S.DELIVERED)
        assert (a.remote_id, a.remote_state, a.remote_detail, a.invoice_number) == (
            "mv-a",
            "DELIVERED",
            "EINVOICE",
            "1001",
        )
        b = entries["inv-b"]
        assert (b.state, b.attempts, b.last_error) == (S.SENDING, 3, "timeout")
        assert s.ledger.find_by_key("maventa", "uuid-c") == entries["inv-c"]
        # the re-queued row still goes back to the send it replaced (the `previous` JSON migrated)
        assert s.ledger.discard(LedgerRef("maventa", "7", "inv-d")) is True
        d = s.ledger.get(LedgerRef("maventa", "7", "inv-d"))
        assert d is not None
        assert (d.generation, d.idempotency_key, d.state, d.remote_id, d.remote_detail) == (
            0,
            "uuid-gen-0",
            S.DELIVERED,
            "mv-0",
            "EMAIL",
        )
        lines = s.log.entries(limit=None, newest_first=False)
        assert [(e.id, e.connector, e.account, e.message) for e in lines] == [
            (10, "maventa", "7", "Settings saved"),
            (20, "maventa", "7", "Recipient not found"),
            (30, None, None, "x"),
        ]
        assert s.log.entries(invoice_guid="inv-c")[0].message == "Recipient not found"
        new = s.log.add("after", connector="maventa", account="7")
        assert new.id == 31  # ids continue after the migrated ones


def test_queries_by_state_company_and_counts(store: Store, company: SendingCompany, clock: FakeClock) -> None:
    other = store.companies.upsert("unit-2", name="Toinen Oy", business_id="2345678-9")
    for i in range(4):
        clock.tick()
        prep(store, f"inv-{i}", company)
    prep(store, "inv-x", other)
    clock.tick()
    store.ledger.transition(R("inv-0", company), S.PREPARED, S.SENDING)
    store.ledger.transition(R("inv-1", company), S.PREPARED, S.FAILED, last_error="bad")
    store.ledger.transition(R("inv-1", company), S.FAILED, S.ERROR_PATCHED)
    store.ledger.transition(R("inv-1", company), S.ERROR_PATCHED, S.NOTIFIED)
    assert [e.invoice_guid for e in store.ledger.in_state(S.PREPARED, account=str(company.id))] == [
        "inv-2",
        "inv-3",
    ]
    assert [e.invoice_guid for e in store.ledger.in_state(S.PREPARED, limit=1)] == ["inv-2"]
    assert {e.invoice_guid for e in store.ledger.unfinished()} == {"inv-0", "inv-2", "inv-3", "inv-x"}
    assert {e.invoice_guid for e in store.ledger.unfinished(account=str(other.id))} == {"inv-x"}
    counts = store.ledger.counts(account=str(company.id))
    assert counts[S.PREPARED] == 2 and counts[S.SENDING] == 1 and counts[S.NOTIFIED] == 1
    assert sum(counts.values()) == 4 and sum(store.ledger.counts().values()) == 5


# ----------------------------------------------------------------------------- transfer log
def test_transfer_log_filters_limits_and_order(
    store: Store, company: SendingCompany, clock: FakeClock
) -> None:
    fake = Faker("fi_FI")
    fake.seed_instance(3)
    start = clock()
    messages = []
    for i in range(6):
        clock.tick(60)
        level = [LogLevel.INFO, LogLevel.WARNING, LogLevel.ERROR][i % 3]
        text = f"{fake.sentence()} #{i}"
        messages.append(text)
        store.log.add(
            text,
            level=level,
            connector="maventa" if i < 5 else None,
            account=str(company.id) if i < 5 else None,
            invoice_guid=f"INV-{i % 2}",
            invoice_number=str(1000 + i),
        )
    assert [e.message for e in store.log.entries()] == messages[::-1]
    assert [e.message for e in store.log.entries(newest_first=False, limit=2)] == messages[:2]
    assert [e.message for e in store.log.entries(level=LogLevel.ERROR)] == [messages[5], messages[2]]
    assert len(store.log.entries(min_level=LogLevel.WARNING)) == 4
    assert len(store.log.entries(account=str(company.id))) == 5
    assert [e.invoice_number for e in store.log.entries(invoice_guid="inv-1", newest_first=False)] == [
        "1001",
        "1003",
        "1005",
    ]
    assert len(store.log.entries(since=start + timedelta(seconds=240))) == 3
    assert [e.message for e in store.log.entries(contains="#4")] == [messages[4]]
    assert len(store.log.entries(limit=None)) == 6
    assert store.log.entries()[0].at == clock()
    assert store.log.prune(start + timedelta(seconds=150)) == 2
    assert len(store.log.entries(limit=None)) == 4


# ----------------------------------------------------------------------------- the file
def test_file_store_is_wal_private_persistent_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "bridge.sqlite3"
    with Store(path) as s:
        c = s.companies.upsert(UNIT, name="Demo Oy", business_id="1234567-8")
        s.companies.set_credentials(
            c.id, company_uuid="u", api_key=API_KEY, registration_state=RegistrationState.CONNECTED
        )
        prep(s, "inv-1", c)
        assert s.schema_version() == SCHEMA_VERSION
        assert s.db._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with Store(path) as s:
        [c2] = s.companies.all()
        assert c2.maventa_api_key == Secret(API_KEY)
        assert s.ledger.get(R("inv-1", c2)) is not None


def test_a_database_from_a_newer_bridge_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this bridge"):
        Store(path)


def test_closed_store_says_so() -> None:
    s = Store()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.companies.all()


def test_cas_holds_across_store_instances_racing_on_one_file(tmp_path: Path) -> None:
    path = tmp_path / "race.sqlite3"
    with Store(path) as setup:
        cid = setup.companies.upsert(UNIT, name="Demo Oy", business_id="1234567-8").id
        for i in range(40):
            setup.ledger.prepare(LedgerRef("maventa", str(cid), f"inv-{i}"), f"key-{i}")
    stores = [Store(path) for _ in range(4)]  # separate locks: only SQLite arbitrates
    wins: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(stores))

    def worker(s: Store) -> None:
        barrier.wait()
        for i in range(40):
            try:
                s.ledger.transition(
                    LedgerRef("maventa", str(cid), f"inv-{i}"), S.PREPARED, S.SENDING, count_attempt=True
                )
            except TransitionConflict:
                continue
            with lock:
                wins.append(f"inv-{i}")

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert sorted(wins) == sorted(f"inv-{i}" for i in range(40))
    with Store(path) as check:
        assert {e.attempts for e in check.ledger.in_state()} == {1}


def _claim_all(path: str, cid: int, n: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    won = []
    with Store(path) as s:
        for i in range(n):
            try:
                s.ledger.transition(LedgerRef("maventa", str(cid), f"inv-{i}"), S.PREPARED, S.SENDING)
            except TransitionConflict:
                continue
            won.append(i)
    out.put(won)


def test_cas_holds_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "procs.sqlite3")
    with Store(path) as setup:
        cid = setup.companies.upsert(UNIT, name="Demo Oy", business_id="1234567-8").id
        for i in range(30):
            setup.ledger.prepare(LedgerRef("maventa", str(cid), f"inv-{i}"), f"key-{i}")
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(path, cid, 30, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert sorted(results[0] + results[1]) == list(range(30))
