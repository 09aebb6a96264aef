"""The whole world's state saved and loaded (``up --state``, bundles): nothing lost, the bridge goes on."""

from __future__ import annotations

import json

from scenarios.world import MAESTRO_SOURCE, TO_TRANSFER, World, setup_company


def test_a_saved_world_loads_into_a_new_one_and_the_bridge_carries_on() -> None:
    first = World.build(seed=0)
    setup_company(first)
    first.run_pass()
    waiting = first.create_invoice(status=TO_TRANSFER)
    state = json.loads(json.dumps(first.export_state()))  # as it would be on disk
    first.close()

    second = World.build(seed=1)  # another seed: everything must come from the state
    second.import_state(state)
    companies = second.store.companies.all()
    assert [(c.name, c.active, c.registration_state.value) for c in companies] == [
        ("Ranta Oy", True, "REGISTERED")
    ]
    assert {e.invoice_number for e in second.store.ledger.in_state()} >= {"10001", "10002", "10003"}
    assert any("Synchronisation switched on" in e.message for e in second.store.log.entries(limit=None))
    report = second.run_pass()
    assert not report.problems, report.problems
    assert second.severa_status(waiting) != TO_TRANSFER  # picked up and sent by the loaded bridge
    assert second.invoice_guids_in(MAESTRO_SOURCE, unit=None) == []  # Maestro's ran too
    second.close()
