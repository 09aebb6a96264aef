"""Hypothesis state machine over the transfer ledger: no lost rows, no illegal moves, CAS holds,
for every connector and account; a notification is claimed by one worker at a time."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bridge.store import (
    ALLOWED_TRANSITIONS,
    REQUEUEABLE_STATES,
    IllegalTransition,
    LedgerRef,
    LedgerState,
    LogDraft,
    LogLevel,
    Store,
    TransitionConflict,
)

GUIDS = [f"0000000{i}-AAAA-4BBB-8CCC-DDDDDDDDDDD{i}" for i in range(4)]
ACCOUNTS = [("maventa", "1"), ("maventa", "2"), ("maestro", "company-1")]
STATES = list(LedgerState)
WORKERS = ["worker-a", "worker-b"]
LEASE = timedelta(minutes=10)


def key_of(ref: LedgerRef, generation: int) -> str:
    """Any deterministic per-generation key will do for the ledger (connectors choose theirs)."""
    return f"{ref.connector}:{ref.account}:{ref.invoice_guid.lower()}:{generation}"


@dataclass
class Row:
    state: LedgerState
    generation: int = 0
    attempts: int = 0
    remote_id: str | None = None
    claim: tuple[str, datetime] | None = None  # (worker, until)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        self.store = Store(":memory:", now=lambda: self.now)
        self.model: dict[tuple[str, str, str], Row] = {}
        self.log_lines = 0

    def teardown(self) -> None:
        self.store.close()

    @staticmethod
    def ref(key: tuple[str, str, str]) -> LedgerRef:
        return LedgerRef(*key)

    @rule(guid=st.sampled_from(GUIDS), a=st.integers(0, len(ACCOUNTS) - 1))
    def prepare(self, guid: str, a: int) -> None:
        connector, account = ACCOUNTS[a]
        ref = LedgerRef(connector, account, guid)
        entry = self.store.ledger.prepare(ref, key_of(ref, 0))
        key = (connector, account, guid.lower())
        self.model.setdefault(key, Row(LedgerState.PREPARED))
        assert entry.state is self.model[key].state

    @precondition(lambda self: bool(self.model))
    @rule(
        data=st.data(),
        to_state=st.sampled_from(STATES),
        guess_right=st.booleans(),
        count=st.booleans(),
        with_log=st.booleans(),
    )
    def transition(
        self, data: st.DataObject, to_state: LedgerState, guess_right: bool, count: bool, with_log: bool
    ) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        row = self.model[key]
        src = row.state if guess_right else data.draw(st.sampled_from(STATES))
        remote = data.draw(st.sampled_from([None, "r-1", "r-2"]))
        fields = {"remote_id": remote} if remote else {}
        log = LogDraft(LogLevel.ERROR, f"{src}->{to_state}") if with_log else None
        try:
            entry = self.store.ledger.transition(
                self.ref(key), src, to_state, count_attempt=count, log=log, **fields
            )
        except IllegalTransition:
            assert to_state not in ALLOWED_TRANSITIONS[src]
            return
        except TransitionConflict as exc:
            assert to_state in ALLOWED_TRANSITIONS[src]
            assert src is not row.state and exc.actual is row.state
            return
        assert src is row.state and to_state in ALLOWED_TRANSITIONS[src]
        row.state = to_state
        row.attempts += int(count)
        if to_state is not LedgerState.ERROR_PATCHED:
            row.claim = None
        if remote:
            row.remote_id = remote
        self.log_lines += int(with_log)
        assert entry.state is to_state and entry.attempts == row.attempts

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), off_by=st.sampled_from([0, 0, 1]))
    def requeue(self, data: st.DataObject, off_by: int) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        row = self.model[key]
        ref = self.ref(key)
        try:
            entry = self.store.ledger.requeue(
                ref,
                expected_generation=row.generation + off_by,
                idempotency_key=key_of(ref, row.generation + 1),
                source_version=None,
            )
        except TransitionConflict:
            assert off_by != 0
            return
        except IllegalTransition:
            assert off_by == 0 and row.state not in REQUEUEABLE_STATES
            return
        assert off_by == 0 and row.state in REQUEUEABLE_STATES
        self.model[key] = Row(LedgerState.PREPARED, row.generation + 1)
        assert entry.generation == row.generation + 1

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), worker=st.sampled_from(WORKERS))
    def claim_notification(self, data: st.DataObject, worker: str) -> None:
        """Only ERROR_PATCHED rows can be claimed, and only by one worker until the lease runs out."""
        key = data.draw(st.sampled_from(sorted(self.model)))
        row = self.model[key]
        got = self.store.ledger.claim_notification(
            self.ref(key), worker, generation=row.generation, lease=LEASE
        )
        free = row.claim is None or row.claim[1] < self.now or row.claim[0] == worker
        assert got == (row.state is LedgerState.ERROR_PATCHED and free)
        if got:
            row.claim = (worker, self.now + LEASE)

    @rule(minutes=st.sampled_from([1, 9, 11]))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), racers=st.integers(2, 4))
    def race(self, data: st.DataObject, racers: int) -> None:
        """Several threads try the same legal move at once: exactly one wins."""
        key = data.draw(st.sampled_from(sorted(self.model)))
        row = self.model[key]
        targets = sorted(ALLOWED_TRANSITIONS[row.state] - {row.state})
        if not targets:
            return
        to_state = data.draw(st.sampled_from(targets))
        barrier = threading.Barrier(racers)
        outcomes: list[str] = []

        def go() -> None:
            barrier.wait()
            try:
                self.store.ledger.transition(self.ref(key), row.state, to_state, count_attempt=True)
                outcomes.append("won")
            except TransitionConflict:
                outcomes.append("lost")

        threads = [threading.Thread(target=go) for _ in range(racers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count("won") == 1
        row.state = to_state
        row.attempts += 1
        if to_state is not LedgerState.ERROR_PATCHED:
            row.claim = None

    @invariant()
    def store_matches_model(self) -> None:
        entries = self.store.ledger.in_state()
        assert len(entries) == len(self.model)  # nothing lost, nothing invented
        for e in entries:
            row = self.model[(e.connector, e.account, e.invoice_guid)]
            assert (e.state, e.generation, e.attempts, e.remote_id) == (
                row.state,
                row.generation,
                row.attempts,
                row.remote_id,
            )
            assert e.idempotency_key == key_of(e.ref, e.generation)
        assert sum(self.store.ledger.counts().values()) == len(self.model)
        per_connector = {c: sum(self.store.ledger.counts(connector=c).values()) for c, _ in ACCOUNTS}
        assert per_connector == {c: sum(1 for k in self.model if k[0] == c) for c, _ in ACCOUNTS}
        assert len(self.store.log.entries(limit=None)) == self.log_lines


LedgerMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
