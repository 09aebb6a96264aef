"""A pass takes every waiting invoice, however many pages they fill.

The pass moves each invoice out of the transfer status as it goes, and Severa's page token is a
position in the listed (shrinking) list: paging on would skip a page's worth each time (10,000
waiting invoices took eight passes: 5,000 / 2,500 / 1,300 / ...). The pick-up reads a position
again until it holds nothing new, so one pass takes them all for one listing call more."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench._bridge_driver import add_invoices, park
from scenarios.world import (
    AFTER_TRANSFER,
    MAESTRO_SOURCE,
    TO_TRANSFER,
    World,
    setup_company,
)

UNIT = "Ranta Oy"


@pytest.fixture
def w() -> Iterator[World]:
    world = World.build(maestro=False)
    yield world
    world.close()


def _listing_calls(w: World) -> int:
    entries = w.severa_sim.journal.entries(method="GET")
    return len([e for e in entries if e.path.rstrip("/") == "/rest-api/v1/invoices"])


def _waiting(w: World, unit: str, n: int, status: str = TO_TRANSFER) -> None:
    backend = w.severa_sim.main
    with w.severa_sim.lock:
        add_invoices(backend, unit_guid=w.unit_guid(unit), status=status, n=n, when=w.clock.now())


@pytest.mark.parametrize("n", [99, 100, 250])
def test_one_pass_takes_every_waiting_invoice_to_maventa(w: World, n: int) -> None:
    setup_company(w, UNIT)
    with w.severa_sim.lock:
        park(w.severa_sim.main, (TO_TRANSFER, MAESTRO_SOURCE))
    before = len(w.invoice_guids_in(AFTER_TRANSFER, unit=None))
    _waiting(w, UNIT, n)
    w.severa_sim.clear_journal()
    report = w.run_pass()
    assert report.picked_up == n
    assert len(w.invoice_guids_in(AFTER_TRANSFER, unit=None)) - before == n
    pages = -(-n // 100)
    assert _listing_calls(w) <= pages + 1  # plain paging: `pages` calls, and invoices missed


def test_invoices_that_stay_in_the_status_are_stepped_over_and_the_rest_taken(w: World) -> None:
    """Invoices of a unit with no Maventa account stay in the transfer status: the pick-up steps
    over the pages they fill (listed first) and takes the ones behind them in the same pass."""
    setup_company(w, UNIT)
    with w.severa_sim.lock:
        park(w.severa_sim.main, (TO_TRANSFER, MAESTRO_SOURCE))
    before = len(w.invoice_guids_in(AFTER_TRANSFER, unit=None))
    _waiting(w, "Hämäläinen ry Oy", 150)  # no account: they stay
    _waiting(w, UNIT, 120)
    w.severa_sim.clear_journal()
    assert w.run_pass().picked_up == 120
    assert len(w.invoice_guids_in(AFTER_TRANSFER, unit=None)) - before == 120
    assert len(w.invoice_guids_in(TO_TRANSFER, unit=None)) == 150
    # 270 waiting: 3 positions; at most one extra read each, for the pages that emptied
    assert _listing_calls(w) <= 6
    w.severa_sim.clear_journal()
    assert w.run_pass().picked_up == 0
    assert _listing_calls(w) <= 3 + 1  # the unowned pages stepped over (+ the delivery pass's look)
