"""Several `bridge sync --once` processes on one store (issue 11, item 8): every invoice is sent once,
every error is mailed once, and no worker exits non-zero merely because another one was faster.

The fakes are served over HTTP from this process; the workers are real processes of the CLI, each
with the same configuration file and the same SQLite store, started at the same time, several
rounds (Maventa's delivery settles between rounds).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.store import LedgerState
from scenarios.world import (
    AFTER_ERROR,
    AFTER_TRANSFER,
    MAESTRO_SOURCE,
    NOTIFY_TO,
    TO_TRANSFER,
    World,
    setup_company,
)
from simulators.mailbox import MailboxSimulator

WORKERS = 4
ROUNDS = 3


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[World, Path]]:
    box = MailboxSimulator()
    box.start_smtp()
    world = World.build(transport="server", mailbox=box, store_path=str(tmp_path / "bridge.sqlite3"))
    try:
        setup_company(world)
        for _ in range(6):  # more work than the demo's three, for the workers to race on
            world.create_invoice("einvoice-maventa", status=TO_TRANSFER)
        world.store.close()  # the workers own the store from now on
        config = tmp_path / "bridge.toml"
        sev = world.severa_sim.credentials()["clients"][0]
        config.write_text(
            f"""[severa]
base_url = "{world.servers["severa"].url}/rest-api"
client_id = "{sev["client_id"]}"
client_secret = "{sev["client_secret"]}"

[maventa]
base_url = "{world.servers["maventa"].url}"
vendor_api_key = "{world.maventa_sim.credentials()["vendor_api_keys"][0]}"

[maestro]
base_url = "{world.servers["maestro"].url}"
api_key = "{world.maestro_sim.credentials()["companies"][0]["api_key"]}"

[smtp]
port = {box.smtp_port}

[store]
path = "{tmp_path / "bridge.sqlite3"}"
""",
            encoding="utf-8",
        )
        yield world, config
    finally:
        world.close()
        box.stop_smtp()


def _workers(config: Path) -> list[subprocess.CompletedProcess[str]]:
    argv = [
        sys.executable,
        "-m",
        "sandbox",
        "bridge",
        "--config",
        str(config),
        "--no-rate-limit",
        "sync",
        "--once",
    ]
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(WORKERS)
    ]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(argv, p.returncode, out, err))
    return done


def test_concurrent_workers_send_once_mail_once_and_exit_zero(served: tuple[World, Path]) -> None:
    world, config = served
    waiting = set(world.invoice_guids_in(TO_TRANSFER))
    maestro_waiting = set(world.invoice_guids_in(MAESTRO_SOURCE, unit=None))
    for _ in range(ROUNDS):
        for run in _workers(config):
            assert run.returncode == 0, f"a worker exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
            assert "expected in" not in run.stderr  # no CAS losses reported as warnings
        world.advance(120)
    from bridge.store import Store

    with Store(config.parent / "bridge.sqlite3") as store:
        rows = {e.invoice_guid: e for e in store.ledger.in_state(connector="maventa")}
        maestro_rows = store.ledger.in_state(connector="maestro")
    # every Ranta Oy invoice settled, each at Maventa once (the uuid is Maventa's id)
    assert {g.lower() for g in waiting} == set(rows)
    assert {r.state for r in rows.values()} <= {LedgerState.DELIVERED, LedgerState.NOTIFIED}
    numbers = [i.number for i in world.maventa_invoices()]
    assert len(numbers) == len(set(numbers)) == len(rows)
    for guid in waiting:
        assert world.severa_status(guid) in (AFTER_TRANSFER, AFTER_ERROR)
    # the print-only customer's invoice failed once and was mailed once
    failed = [r for r in rows.values() if r.state is LedgerState.NOTIFIED]
    assert len(failed) == 1
    mails = world.mailbox.find(to=NOTIFY_TO) if world.mailbox else []
    assert [m.message_id for m in mails].count(mails[0].message_id) == 1 and len(mails) == 1
    # Maestro's two invoices once each
    assert len(maestro_rows) == len(maestro_waiting) == len(world.maestro_invoices())
