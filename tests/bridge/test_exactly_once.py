"""Exactly once, the Hypothesis acceptance test (issue 5, item 8).

A rule-based state machine interleaves what happens around the bridge: invoices created in Severa
in the transfer status (siirrettävien laskujen tila), users moving invoices to other statuses,
fault rules on every endpoint of both services (refused, or the answer lost after the service
acted), the bridge process crashing at any step (before or after the call ran), clocks moving
(tokens expire, Maventa deliveries settle), Maventa deliveries failing, and sync passes.

At the end the faults stop and passes run until nothing is left (bounded). Then, for every
invoice: delivered once and in the after-transfer status, or in the error status with one
transfer-log line and one notification per failed send; no invoice at Maventa that the ledger did
not send, at most one per send, none lost (``world.exactly_once_problems``). The only repeat
allowed is the one the ledger documents: the process dying after the SMTP server took the
notification and before the ledger recorded it (the repeat has the same Message-ID).

The number of examples run is printed (``pytest -s``) and recorded with ``hypothesis.event``.
"""

from __future__ import annotations

import atexit
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule, run_state_machine_as_test

from bridge.store import LedgerState
from simulators.mailbox import MailboxSimulator

from .machine import WorldMachine
from .world import (
    AFTER_ERROR,
    CRASH_POINTS,
    CUSTOMER_KINDS,
    DRAFT,
    TO_TRANSFER,
    World,
    duplicate_mails,
    exactly_once_problems,
    setup_company,
)

ENDPOINTS: dict[str, list[dict[str, str]]] = {
    "maventa": [
        {"method": "POST", "path": "/v1/invoices"},
        {"method": "GET", "path": "/v1/invoices/*"},
        {"method": "GET", "path": "/v1/invoices"},
        {"method": "POST", "path": "/oauth2/token"},
    ],
    "severa": [
        {"method": "GET", "path": "/rest-api/v1/invoices"},
        {"method": "GET", "path": "/rest-api/v1/invoices/*"},
        {"method": "PATCH", "path": "/rest-api/v1/invoices/*"},
        {"method": "GET", "path": "/rest-api/v1/*"},
        {"method": "POST", "path": "/rest-api/v1/token"},
    ],
}
EFFECTS: list[dict[str, Any]] = [
    {"type": "status", "status": 503},
    {"type": "status", "status": 500},
    {"type": "status", "status": 502},
    {"type": "hang", "seconds": 1},
    {"type": "reset"},
    {"type": "malformed"},
    {"type": "rate_limit", "retry_after": 1},
    # a plain refusal; never "after processing" (a service that acts and then answers 400 would be
    # lying): on a retry after a lost answer it plays a service refusing the repeated uuid
    {"type": "status", "status": 400},
]
MOVES = [DRAFT, TO_TRANSFER, AFTER_ERROR]

_MAILBOX: MailboxSimulator | None = None
EXAMPLES = {"run": 0}


def mailbox() -> MailboxSimulator:
    """One SMTP catcher per test process (cleared by every ``World.build``)."""
    global _MAILBOX
    if _MAILBOX is None:
        _MAILBOX = MailboxSimulator()
        _MAILBOX.start_smtp()
        atexit.register(_MAILBOX.stop_smtp)
    return _MAILBOX


class ExactlyOnce(WorldMachine):
    ENDPOINTS = ENDPOINTS
    EFFECTS = EFFECTS
    CRASH_POINTS = CRASH_POINTS

    def __init__(self) -> None:
        super().__init__()
        EXAMPLES["run"] += 1
        self.w = World.build(mailbox=mailbox(), reuse=True)
        setup_company(self.w)
        self.known: list[str] = list(self.w.invoice_guids_in(TO_TRANSFER))
        self.tracked: set[str] = set(self.known)  # last put into the transfer status by the user
        self.user_moved: set[str] = set()  # moved elsewhere by the user afterwards
        self.crashers = []
        self.crashes = 0

    @initialize()
    def first_pass(self) -> None:
        self.sync(1)

    # ------------------------------------------------------------------ what users do
    @rule(kind=st.sampled_from(CUSTOMER_KINDS))
    def create_invoice(self, kind: str) -> None:
        guid = self.w.create_invoice(kind)
        self.known.append(guid)
        self.tracked.add(guid)

    @rule(data=st.data(), status=st.sampled_from(MOVES))
    def move_invoice(self, data: st.DataObject, status: str) -> None:
        guid = data.draw(st.sampled_from(self.known), label="invoice")
        self.w.set_status(guid, status)
        if status == TO_TRANSFER:
            self.tracked.add(guid)
            self.user_moved.discard(guid)
        else:
            self.tracked.discard(guid)
            self.user_moved.add(guid)

    # ------------------------------------------------------------------ the end
    def teardown(self) -> None:
        w = self.w
        self.stop_the_trouble()
        w.settle(max_passes=15)
        problems = exactly_once_problems(w, self.tracked, user_moved=self.user_moved)
        assert not problems, "\n".join(problems)
        repeats = duplicate_mails(w)
        # the documented window: the SMTP server took the mail and the process died before the
        # ledger recorded NOTIFIED (after the notifier call, or just before that transition)
        notify_crash = any(
            (c.target == "notifier" and c.after and c.struck)
            or (
                c.target == "ledger" and c.method == "transition" and c.struck[2:3] == (LedgerState.NOTIFIED,)
            )
            for c in self.crashers
        )
        assert not repeats or notify_crash, f"notifications sent twice: {repeats}"
        event(f"crashes: {self.crashes}")


def run(cfg: settings) -> int:
    before = EXAMPLES["run"]
    run_state_machine_as_test(ExactlyOnce, settings=cfg)
    ran = EXAMPLES["run"] - before
    print(f"\nexactly-once state machine: {ran} examples, up to {cfg.stateful_step_count} steps each")
    return ran


def test_exactly_once_under_faults_and_crashes() -> None:
    ran = run(settings(stateful_step_count=15, deadline=None))
    assert ran >= settings().max_examples


@pytest.mark.slow
def test_exactly_once_under_faults_and_crashes_thorough() -> None:
    ran = run(settings(max_examples=300, stateful_step_count=30, deadline=None))
    assert ran >= 300
