"""`severa-sandbox up`: ports checked first, one world, readiness, --state, --import, Ctrl-C."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.ports import LAYOUT, PortInUse, PortPlan, port_holder, suggest_base
from sandbox.up import Sandbox, UpError, UpOptions, endpoint_lines, write_atomically
from scenarios.world import AFTER_ERROR, AFTER_TRANSFER, NOTIFY_TO, setup_company

CLI = [sys.executable, "-m", "sandbox"]


def _below_ephemeral() -> int:
    """The first port the system hands out as a client's source port (Linux: 32768), so a base
    chosen below it is not taken by some outgoing connection between a test's two starts."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return max(low, 22200)


def free_base() -> int:
    """A port base whose six ports are free now, below the ephemeral range (randomised: parallel
    test workers differ)."""
    for _ in range(50):
        base = suggest_base(random.randrange(20000, _below_ephemeral() - 2100, 10))
        if base is not None:
            return base
    raise RuntimeError("no six free consecutive ports")


def bindable(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket listening on some port (the one `up` will find taken)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock
    finally:
        sock.close()


# ---------------------------------------------------------------------- ports
def test_a_taken_port_is_one_line_naming_it_its_holder_and_what_to_do(tmp_path: Path) -> None:
    base = free_base()
    taken = base + 2  # the Maventa fake's port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", taken))
        sock.listen()
        env_file = tmp_path / "endpoints.env"
        done = subprocess.run(
            [*CLI, "up", "--port-base", str(base), "--env-file", str(env_file)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert f"port {taken} (Maventa fake) on 127.0.0.1 is in use by pid {os.getpid()}" in line
    assert "--port-base" in line
    assert done.stdout == ""  # no table: nothing started
    assert not env_file.exists()
    for _, offset, _ in LAYOUT:  # and nothing is left listening
        assert bindable(base + offset), base + offset


def test_the_check_comes_before_anything_starts(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    plan = PortPlan("127.0.0.1", {**PortPlan.any_free().ports, "dashboard": port})
    box = Sandbox(UpOptions(plan=plan))
    with pytest.raises(PortInUse) as caught:
        box.start()
    assert caught.value.port == port and caught.value.name == "dashboard"
    assert box.world is None and box.mailbox is None  # nothing was built
    holder = port_holder(port)
    assert holder is not None and holder.startswith(f"pid {os.getpid()} (")  # this test's own process


def test_a_failure_after_the_start_stops_everything(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port taken between the check and the start: what had started is stopped again."""
    base = free_base()
    plan = PortPlan.from_base(base)
    monkeypatch.setattr("sandbox.up.check_ports", lambda plan: None)  # the race: taken after the check
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", plan.ports["dashboard"]))
        sock.listen()
        with pytest.raises(UpError, match=f"cannot listen on 127.0.0.1:{plan.ports['dashboard']}"):
            Sandbox(UpOptions(plan=plan, env_file=None)).start()
    for name in ("severa", "maventa", "maestro", "mailbox", "smtp"):
        assert bindable(plan.ports[name]), name


# ---------------------------------------------------------------------- a running sandbox
def test_ready_includes_the_worker_and_the_endpoints_are_told(tmp_path: Path) -> None:
    box = Sandbox(UpOptions(plan=PortPlan.any_free(), interval=0.5)).start()
    urls = {s: box.root_url(s) for s in ("dashboard", "severa", "maventa", "maestro", "mailbox")}
    try:
        assert box.worker is not None and box.worker.first_pass.is_set() and box.worker.passes >= 1
        assert box.ready_seconds is not None and box.ready_seconds > 0
        print(
            f"\nup: ready in {box.ready_seconds:.2f} s (worker's first pass {box.worker.history[0].seconds:.2f} s)"
        )
        env = box.env_text()
        severa = box.w.severa_sim.credentials()["clients"][0]
        for expected in (
            f"SEVERA_BASE_URL={box.root_url('severa')}/rest-api",
            f"SEVERA_CLIENT_ID={severa['client_id']}",
            f"SEVERA_CLIENT_SECRET={severa['client_secret']}",
            f"MAVENTA_VENDOR_API_KEY={box.w.maventa_sim.credentials()['vendor_api_keys'][0]}",
            f"MAESTRO_BASE_URL={box.root_url('maestro')}/api",
            f"SMTP_PORT={box.mailbox.smtp_port if box.mailbox else ''}",
            "SANDBOX CREDENTIALS",
        ):
            assert expected in env, expected
        table = "\n".join(endpoint_lines(box))
        assert "SANDBOX CREDENTIALS" in table and box.root_url("dashboard") in table
        # every URL answers
        for service in ("dashboard", "severa", "maventa", "maestro", "mailbox"):
            assert (
                httpx.get(box.root_url(service) + ("/" if service == "dashboard" else "/_sim/")).status_code
                == 200
            )
    finally:
        box.stop()
    for url in urls.values():  # stopped: nothing answers any more
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/", timeout=2)


def _snapshot(box: Sandbox) -> dict[str, Any]:
    w = box.w
    with w.severa_sim.lock:
        statuses = {
            str(i.number): w.severa_sim.main.status_of(i).name
            for i in w.severa_sim.main.org.invoices.values()
        }
    return {
        "companies": [
            (
                c.name,
                c.registration_state,
                c.auth_state,
                c.company_state,
                c.active,
                c.settings,
                c.maventa_company_uuid,
            )
            for c in w.store.companies.all()
        ],
        "statuses": statuses,
        "ledger": [
            (e.connector, e.invoice_number, e.state, e.remote_id, e.remote_detail)
            for e in w.store.ledger.in_state()
        ],
        "log": [(e.level, e.message) for e in w.store.log.entries(limit=None)],
        "mail": [(m.subject, m.rcpt_tos) for m in (w.mailbox.find() if w.mailbox else [])],
        "maventa": sorted((i.number, i.status, i.route.channel) for i in w.maventa_invoices()),
        "maestro": sorted(i.invoice_number for i in w.maestro_invoices()),
        "activity": [a["text"] for a in box.activity],
    }


def test_state_saved_on_stop_comes_back_whole(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    options = UpOptions(plan=PortPlan.any_free(), interval=0.3, state_path=state, delivery_seconds=0.5)
    box = Sandbox(options).start()
    try:
        with box.lock:
            setup_company(box.w)  # registered, signed, configured, active (print off: 10003 fails, MV-9 mail)
        box.record("a user did something")
        wait_for(
            lambda: (
                not box.w.store.ledger.unfinished()
                and len(box.w.store.ledger.in_state(connector="maventa")) == 3
            ),
            what="the first invoices settled",
        )
        wait_for(
            lambda: box.w.mailbox is not None and box.w.mailbox.find(to=NOTIFY_TO),
            what="the notification mail",
        )
        before = _snapshot(box)
    finally:
        box.stop()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600  # it holds the sandbox secrets
    saved = json.loads(state.read_text())
    assert saved["format"] == "severa-sandbox-world" and saved["sandbox"]["activity"]
    assert before["statuses"]["10001"] == AFTER_TRANSFER and before["statuses"]["10003"] == AFTER_ERROR
    assert before["mail"] and before["ledger"] and before["companies"][0][4] is True

    again = Sandbox(
        UpOptions(plan=PortPlan.any_free(), interval=0.3, state_path=state, delivery_seconds=0.5)
    ).start()
    try:
        assert again.loaded_from == str(state)
        assert _snapshot(again) == before
        # the restored bridge still works: a new invoice goes out with the restored credentials
        with again.lock:
            guid = again.w.create_invoice("einvoice-maventa")
        wait_for(
            lambda: again.w.severa_status(guid) == AFTER_TRANSFER,
            what="a new invoice delivered after the restart",
        )
    finally:
        again.stop(save=False)


def test_import_boots_into_a_bundles_last_state(tmp_path: Path) -> None:
    from sandbox.scenario_cli import find_scenario
    from scenarios.bundle import export_bundle
    from scenarios.engine import run_scenario

    result = run_scenario(find_scenario("mv08-email-on"), keep_world=True, snapshots=True)
    assert result.passed and result.world is not None
    bundle = export_bundle(result, tmp_path / "bundle.json")
    result.world.close()
    assert "«secret-" in bundle.read_text()

    box = Sandbox(
        UpOptions(plan=PortPlan.any_free(), interval=0.3, bundle_path=bundle, delivery_seconds=0.5)
    ).start()
    try:
        (company,) = box.w.store.companies.all()
        assert company.name == "Ranta Oy" and company.active
        assert box.w.severa_status_of(10002) == AFTER_TRANSFER
        assert not box.w.clock.frozen  # the bundle's time runs on
        # the bridge was re-wired to credentials the loaded fakes accept: passes work, new invoices go out
        last = box.worker.last if box.worker else None
        assert last is not None and last.error is None and not (last.report and last.report.problems), last
        with box.lock:
            guid = box.w.create_invoice("email")
        wait_for(lambda: box.w.severa_status(guid) == AFTER_TRANSFER, what="a new invoice delivered")
    finally:
        box.stop(save=False)


def test_a_bad_state_or_bundle_file_is_one_clear_line_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UpError, match="not a saved sandbox"):
        Sandbox(UpOptions(plan=PortPlan.any_free(), state_path=bad)).start()
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(UpError, match="not a saved sandbox"):
        Sandbox(UpOptions(plan=PortPlan.any_free(), state_path=other)).start()
    with pytest.raises(UpError, match="no such bundle file"):
        Sandbox(UpOptions(plan=PortPlan.any_free(), bundle_path=tmp_path / "missing.json")).start()


# ---------------------------------------------------------------------- saving
def test_an_interrupted_save_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "s.json"
    target.write_text('{"old": true}')

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, '{"new": true}')
    assert target.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]  # no temporary file left behind


def _start_up(base: int, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            *CLI,
            "up",
            "--port-base",
            str(base),
            "--env-file",
            str(tmp_path / "endpoints.env"),
            "--interval",
            "0.5",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Open http"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(120):
        proc.kill()
        raise AssertionError(
            "up did not become ready:\n" + "".join(lines) + proc.stderr.read() if proc.stderr else ""
        )
    proc.lines = lines  # type: ignore[attr-defined]
    return proc


def _stop(proc: subprocess.Popen[str], signals: int = 1) -> str:
    for _ in range(signals):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
    time.sleep(0.2)
    return "".join(proc.lines)  # type: ignore[attr-defined]


def test_ctrl_c_saves_and_up_again_brings_the_world_back(tmp_path: Path) -> None:
    base = free_base()
    state = tmp_path / "s.json"
    proc = _start_up(base, tmp_path, "--state", str(state))
    try:
        out = "".join(proc.lines)  # type: ignore[attr-defined]
        assert "ready in" in out and "will be saved to" in out
        assert (tmp_path / "endpoints.env").read_text().count("SANDBOX CREDENTIALS") == 1
        dashboard = f"http://127.0.0.1:{base}"
        r = httpx.post(  # a Maestro user adds a product (JSON: no form token needed)
            f"{dashboard}/maestro/products",
            json={"code": "UUSI-1", "name": "Uusi tuote", "unit": "kpl", "vat_rate": "24", "active": True},
        )
        assert r.status_code == 303, r.text
    finally:
        out = _stop(proc)
    assert "World state saved to" in out and "stopped." in out
    for _, offset, _ in LAYOUT:
        assert bindable(base + offset)  # one Ctrl-C stopped everything
    assert "UUSI-1" in state.read_text()

    proc = _start_up(base, tmp_path, "--state", str(state))
    try:
        assert "loaded from" in "".join(proc.lines)  # type: ignore[attr-defined]
        assert "UUSI-1" in httpx.get(f"http://127.0.0.1:{base}/maestro/").text
    finally:
        out = _stop(proc, signals=2)  # a second Ctrl-C while stopping: the save still completes
    saved = json.loads(state.read_text())  # whole, valid JSON
    assert "UUSI-1" in json.dumps(saved)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["endpoints.env", "s.json"]


def test_the_state_is_saved_every_few_minutes_and_on_sigterm(tmp_path: Path) -> None:
    base = free_base()
    state = tmp_path / "s.json"
    proc = _start_up(base, tmp_path, "--state", str(state), "--no-worker", "--save-every", "0.5")
    assert "No bridge worker" in "".join(proc.lines)  # type: ignore[attr-defined]
    wait_for(state.exists, what="the periodic save")  # saved while running, not only at the end
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert json.loads(state.read_text())["format"] == "severa-sandbox-world"


def test_an_unwritable_env_file_is_one_line_and_nothing_stays_up(tmp_path: Path) -> None:
    base = free_base()
    done = subprocess.run(
        [*CLI, "up", "--port-base", str(base), "--env-file", str(tmp_path / "no" / "such" / "dir" / "e.env")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "cannot write" in done.stderr
    for _, offset, _ in LAYOUT:
        assert bindable(base + offset)
