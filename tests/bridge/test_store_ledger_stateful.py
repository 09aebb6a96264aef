"""Hypothesis state machine over the transfer ledger: no lost rows, no illegal moves, CAS holds."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bridge.store import (
    ALLOWED_TRANSITIONS,
    REQUEUEABLE_STATES,
    IllegalTransition,
    LedgerState,
    LogDraft,
    LogLevel,
    Store,
    TransitionConflict,
    send_uuid,
)

GUIDS = [f"0000000{i}-AAAA-4BBB-8CCC-DDDDDDDDDDD{i}" for i in range(4)]
UNITS = ["unit-a", "unit-b"]
STATES = list(LedgerState)


@dataclass
class Row:
    state: LedgerState
    generation: int = 0
    attempts: int = 0
    maventa_invoice_id: str | None = None


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = Store(":memory:")
        self.company_ids = [self.store.companies.upsert(u, name=u, business_id="1234567-8").id for u in UNITS]
        self.model: dict[tuple[str, int], Row] = {}
        self.log_lines = 0

    def teardown(self) -> None:
        self.store.close()

    @rule(guid=st.sampled_from(GUIDS), c=st.integers(0, len(UNITS) - 1))
    def prepare(self, guid: str, c: int) -> None:
        cid = self.company_ids[c]
        entry = self.store.ledger.prepare(guid, cid)
        self.model.setdefault((guid.lower(), cid), Row(LedgerState.PREPARED))
        assert entry.state is self.model[(guid.lower(), cid)].state

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
        mv_id = data.draw(st.sampled_from([None, "mv-1", "mv-2"]))
        fields = {"maventa_invoice_id": mv_id} if mv_id else {}
        log = LogDraft(LogLevel.ERROR, f"{src}->{to_state}") if with_log else None
        try:
            entry = self.store.ledger.transition(
                key[0], key[1], src, to_state, count_attempt=count, log=log, **fields
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
        if mv_id:
            row.maventa_invoice_id = mv_id
        self.log_lines += int(with_log)
        assert entry.state is to_state and entry.attempts == row.attempts

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), off_by=st.sampled_from([0, 0, 1]))
    def requeue(self, data: st.DataObject, off_by: int) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        row = self.model[key]
        try:
            entry = self.store.ledger.requeue(key[0], key[1], expected_generation=row.generation + off_by)
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
                self.store.ledger.transition(key[0], key[1], row.state, to_state, count_attempt=True)
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

    @invariant()
    def store_matches_model(self) -> None:
        entries = self.store.ledger.in_state()
        assert len(entries) == len(self.model)  # nothing lost, nothing invented
        for e in entries:
            row = self.model[(e.invoice_guid, e.company_id)]
            assert (e.state, e.generation, e.attempts, e.maventa_invoice_id) == (
                row.state,
                row.generation,
                row.attempts,
                row.maventa_invoice_id,
            )
            unit = UNITS[self.company_ids.index(e.company_id)]
            assert e.send_uuid == send_uuid(e.invoice_guid, unit, e.generation)
        assert sum(self.store.ledger.counts().values()) == len(self.model)
        assert len(self.store.log.entries(limit=None)) == self.log_lines


LedgerMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
