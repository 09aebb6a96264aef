"""`sandbox`: the four fakes served on threaded servers and the real `severa-sandbox bridge` CLI.

Each test gets fresh Severa, Maventa and Maestro simulators and a mailbox on free ports, a TOML
file in tmp_path pointing at them (secrets from environment variables) and a store file, and runs
the real command line (`sandbox.cli.main([...])`), reading what it prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.http import RetryPolicy
from sandbox import bridge_cli
from sandbox.cli import main
from simulators.maestro import MaestroSimulator
from simulators.mailbox import MailboxSimulator
from simulators.maventa import MaventaSimulator
from simulators.severa import SeveraSimulator

UNIT = "Ranta Oy"
WAITING = "Odottaa siirtoa Maventaan"
TRANSFERRED = "Siirretty Maventaan"
ERROR_STATUS = "Maventa-virhe"
APPROVER = "hyvaksyja@ranta.fi"
NOTIFY = "virheet@ranta.fi"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Sandbox:
    severa: SeveraSimulator
    maventa: MaventaSimulator
    maestro: MaestroSimulator
    mailbox: MailboxSimulator
    severa_url: str
    maventa_url: str
    maestro_url: str
    smtp_port: int
    tmp: Path
    run: Callable[..., Result]

    def write_config(
        self,
        name: str = "bridge.toml",
        *,
        maventa_url: str | None = None,
        maestro_url: str | None = None,
        store: str = "bridge.sqlite3",
        maestro: bool = True,
    ) -> Path:
        maestro_key = 'api_key_env = "TEST_MAESTRO_KEY"' if maestro else ""
        path = self.tmp / name
        path.write_text(
            f"""# the bridge against the sandbox
[severa]
base_url = "{self.severa_url}/rest-api"
client_id = "{self.severa.credentials()["clients"][0]["client_id"]}"
client_secret_env = "TEST_SEVERA_SECRET"

[maventa]
base_url = "{maventa_url or self.maventa_url}"
vendor_api_key_env = "TEST_MAVENTA_VENDOR_KEY"

[maestro]
base_url = "{maestro_url or self.maestro_url}/api"
{maestro_key}

[smtp]
host = "127.0.0.1"
port = {self.smtp_port}
from_address = "severa-bridge@ranta.example"

[store]
path = "{store}"

[sync]
poll_interval = 0.01
""",
            encoding="utf-8",
        )
        return path

    def sign(self, company_uuid: str) -> None:
        """The approver signs in Maventa (the simulator's actor, over HTTP)."""
        resp = httpx.post(f"{self.maventa_url}/_sim/companies/{company_uuid}/authorization/sign", json={})
        assert resp.status_code == 200, resp.text

    def move_maventa_clock(self, seconds: float = 120) -> None:
        resp = httpx.post(f"{self.maventa_url}/_sim/clock", json={"advance": seconds})
        assert resp.status_code == 200, resp.text


def dead_url() -> str:
    """A local URL where surely nothing answers (a port that had a server a moment ago)."""
    probe = MaventaSimulator().serve()
    url = probe.url
    probe.stop()
    return url


@pytest.fixture
def sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Sandbox]:
    severa, maventa, maestro = SeveraSimulator(seed=0), MaventaSimulator(seed=0), MaestroSimulator(seed=0)
    mailbox = MailboxSimulator()
    servers = [severa.serve(), maventa.serve(), maestro.serve(), mailbox.serve()]
    assert mailbox.smtp_port is not None
    monkeypatch.setenv("TEST_SEVERA_SECRET", severa.credentials()["clients"][0]["client_secret"])
    monkeypatch.setenv("TEST_MAVENTA_VENDOR_KEY", maventa.credentials()["vendor_api_keys"][0])
    monkeypatch.setenv("TEST_MAESTRO_KEY", maestro.credentials()["companies"][0]["api_key"])
    for var in ("SEVERA_CLIENT_SECRET", "MAVENTA_VENDOR_API_KEY", "MAESTRO_API_KEY", bridge_cli.CONFIG_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    # nothing sleeps for real: few, instant retries
    monkeypatch.setattr(
        bridge_cli, "RETRY_POLICY", RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0, max_total=5.0)
    )

    def run(*argv: str, config: Path | None = None) -> Result:
        cfg = ["--config", str(config or tmp_path / "bridge.toml")]
        code = main(["bridge", *cfg, "--no-rate-limit", *argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    box = Sandbox(
        severa,
        maventa,
        maestro,
        mailbox,
        servers[0].url,
        servers[1].url,
        servers[2].url,
        mailbox.smtp_port,
        tmp_path,
        run,
    )
    box.write_config()
    try:
        yield box
    finally:
        for server in servers:
            server.stop()


def ok(r: Result) -> Result:
    assert r.code == 0, f"exit {r.code}: {r.err or r.out}"
    return r


def registrant(box: Sandbox) -> str:
    """A Severa user of the demo organisation with an e-mail address."""
    org = box.severa.main.org
    return str(next(u.email for u in org.users.values() if u.email))


def register_and_sign(box: Sandbox) -> str:
    r = ok(box.run("maventa", "register", "--unit", UNIT, "--registrant", registrant(box)))
    match = re.search(r"company UUID: ([0-9a-f-]{36})", r.out)
    assert match, r.out
    uuid = match.group(1)
    ok(box.run("maventa", "auth-request", "--unit", UNIT, "--approver", APPROVER))
    box.sign(uuid)
    return uuid


def configure(box: Sandbox) -> None:
    ok(
        box.run(
            "maventa", "settings", "--unit", UNIT, "--email", "--notify", NOTIFY,
            "--transfer-status", WAITING, "--after-transfer", TRANSFERRED, "--after-error", ERROR_STATUS,
        )
    )  # fmt: skip


def one_error_line(r: Result, command: str) -> str:
    """The command failed with exit 2 and exactly one line on stderr (no traceback): its text."""
    assert r.code == 2, (r.code, r.out, r.err)
    lines = [line for line in r.err.strip().splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1, r.err
    prefix = f"severa-sandbox bridge {command}: error: "
    assert lines[0].startswith(prefix), lines[0]
    assert "Traceback" not in r.err
    return lines[0].removeprefix(prefix)
