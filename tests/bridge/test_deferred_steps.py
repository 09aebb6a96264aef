"""A step that cannot be done now is written to the transfer log (siirtoloki) once, and retried.

Support staff read the transfer log, not the pass report: when Severa refuses every status
change for a while, the log says which invoice waits, for what, and that the bridge will try
again; it does not repeat the same line on every pass.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.store import LedgerState, LogLevel
from scenarios.world import MAESTRO_TRANSFERRED, World


@pytest.fixture
def w() -> Iterator[World]:
    world = World.build(reuse=True)
    yield world
    world.close()


def test_a_status_change_severa_refuses_is_logged_once_and_done_when_severa_answers(w: World) -> None:
    rule = w.severa_sim.add_fault(
        {
            "match": {"method": "PATCH", "path": "/rest-api/v1/invoices/*"},
            "effect": {"type": "status", "status": 503},
            "trigger": {"type": "always"},
        }
    )
    for _ in range(3):
        w.run_pass(only="maestro")
    warnings = [
        e
        for e in w.store.log.entries(connector="maestro", level=LogLevel.WARNING, limit=None)
        if "tries again on the next pass" in e.message
    ]
    by_invoice = {e.invoice_number for e in warnings}
    assert by_invoice == {"10007", "10008"}, [e.message for e in warnings]
    assert len(warnings) == 2  # once per invoice, not once per pass
    assert all(
        "setting its status after transfer in Severa could not be done now" in e.message
        and "503" in e.message
        for e in warnings
    )
    assert w.store.ledger.counts("maestro")[LedgerState.SENT] == 2

    w.severa_sim.faults.remove(rule.id)
    w.run_pass(only="maestro")
    assert w.severa_status_of(10007) == MAESTRO_TRANSFERRED
    assert w.severa_status_of(10008) == MAESTRO_TRANSFERRED
