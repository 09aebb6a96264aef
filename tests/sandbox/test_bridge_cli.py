"""`severa-sandbox bridge ...` against the Severa, Maventa and mailbox simulators served over HTTP.

Each test gets fresh simulators on threaded servers, a TOML file in tmp_path pointing at them (secrets
from environment variables) and a store file, and runs the real command line
(`sandbox.cli.main([...])`), reading what it prints.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bridge.http import RetryPolicy
from sandbox import bridge_cli
from sandbox.cli import main
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


@dataclass
class Sandbox:
    severa: SeveraSimulator
    maventa: MaventaSimulator
    mailbox: MailboxSimulator
    severa_url: str
    maventa_url: str
    smtp_port: int
    tmp: Path
    run: Callable[..., Result]

    def write_config(
        self, name: str = "bridge.toml", *, maventa_url: str | None = None, store: str = "bridge.sqlite3"
    ) -> Path:
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


@pytest.fixture
def sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Sandbox]:
    severa, maventa, mailbox = SeveraSimulator(seed=0), MaventaSimulator(seed=0), MailboxSimulator()
    servers = [severa.serve(), maventa.serve(), mailbox.serve()]
    assert mailbox.smtp_port is not None
    monkeypatch.setenv("TEST_SEVERA_SECRET", severa.credentials()["clients"][0]["client_secret"])
    monkeypatch.setenv("TEST_MAVENTA_VENDOR_KEY", maventa.credentials()["vendor_api_keys"][0])
    monkeypatch.delenv(bridge_cli.CONFIG_ENV, raising=False)
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
        mailbox,
        servers[0].url,
        servers[1].url,
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


def _ok(r: Result) -> Result:
    assert r.code == 0, f"exit {r.code}: {r.err or r.out}"
    return r


def _registrant(box: Sandbox) -> str:
    """A Severa user of the demo organisation with an e-mail address."""
    org = box.severa.main.org
    return next(u.email for u in org.users.values() if u.email)


def _register_and_sign(box: Sandbox) -> str:
    r = _ok(box.run("maventa", "register", "--unit", UNIT, "--registrant", _registrant(box)))
    match = re.search(r"company UUID: ([0-9a-f-]{36})", r.out)
    assert match, r.out
    uuid = match.group(1)
    _ok(box.run("maventa", "auth-request", "--unit", UNIT, "--approver", APPROVER))
    box.sign(uuid)
    return uuid


def _configure(box: Sandbox) -> None:
    _ok(
        box.run(
            "maventa", "settings", "--unit", UNIT, "--email", "--notify", NOTIFY,
            "--transfer-status", WAITING, "--after-transfer", TRANSFERRED, "--after-error", ERROR_STATUS,
        )
    )  # fmt: skip


def _status_rows(out: str) -> dict[str, str]:
    rows = {}
    for line in out.splitlines():
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        if len(parts) == 2:
            rows[parts[0]] = parts[1].strip()
    return rows


# ------------------------------------------------------------------------------ the happy path
def test_register_authenticate_configure_activate_sync_and_read_the_log(sandbox: Sandbox) -> None:
    box = sandbox
    status = _ok(box.run("maventa", "status"))
    assert UNIT in status.out
    assert "Konsultointi" in status.out  # listed as a unit without a business ID (MV-5)
    assert _status_rows(status.out)["registration"] == "NOT_REGISTERED"

    r = _ok(box.run("maventa", "register", "--unit", UNIT, "--registrant", _registrant(box)))
    assert "registered to Maventa" in r.out
    uuid = re.search(r"company UUID: ([0-9a-f-]{36})", r.out)
    assert uuid
    company_uuid = uuid.group(1)

    # before the approver has signed, no setting can be saved (MV-3)
    early = box.run("maventa", "settings", "--unit", UNIT, "--transfer-status", WAITING)
    assert early.code == 2
    assert early.err.startswith(
        "severa-sandbox bridge maventa settings: error: Ranta Oy is not authenticated"
    )

    r = _ok(box.run("maventa", "auth-request", "--unit", UNIT, "--approver", APPROVER, "--language", "fi"))
    assert APPROVER in r.out
    invitations = box.maventa.outbox_messages(purpose="authorization_invitation")
    assert any(APPROVER in m["to"] for m in invitations)

    box.sign(company_uuid)
    rows = _status_rows(_ok(box.run("maventa", "status", "--unit", UNIT)).out)
    assert rows["Maventa company UUID"] == company_uuid
    assert rows["user API key"] == "set"
    assert rows["authentication"] == "SIGNED"
    assert rows["company state"] == "VERIFIED"
    assert rows["synchronisation"] == "off"

    _configure(box)
    _ok(box.run("maventa", "settings", "--unit", UNIT, "--send-pdf"))  # one change keeps the others
    rows = _status_rows(_ok(box.run("maventa", "settings", "--unit", UNIT)).out)
    assert rows["send original PDF"] == "yes"
    assert rows["send by e-mail"] == "yes"
    assert rows["notification address"] == NOTIFY
    assert rows["status to transfer"] == WAITING
    assert rows["status after error"] == ERROR_STATUS

    r = _ok(box.run("maventa", "activate", "--unit", UNIT))
    assert "switched on" in r.out

    r = _ok(box.run("sync", "--once"))
    sent = int(re.search(r"sent (\d+)", r.out).group(1))  # type: ignore[union-attr]
    assert sent >= 3
    box.move_maventa_clock()
    r = _ok(box.run("sync", "--once"))
    assert re.search(r"delivered [1-9]", r.out)
    assert re.search(r"notified 1\b", r.out)

    log = _ok(box.run("maventa", "log", "--unit", UNIT, "--limit", "100")).out
    for number in ("10001", "10002", "10003"):
        assert number in log
    assert "delivered by Maventa" in log
    errors = _ok(box.run("maventa", "log", "--level", "error")).out
    assert "10003" in errors and "Print service is not enabled" in errors
    assert "10001" not in errors

    # the sending error reached the notification address over SMTP (MV-9)
    mails = box.mailbox.find(to=NOTIFY)
    assert len(mails) == 1 and "10003" in mails[0].subject

    # nothing left to do: a further pass moves nothing
    r = _ok(box.run("sync"))
    assert "picked up 0, sent 0" in r.out

    r = _ok(box.run("maventa", "deactivate", "--unit", UNIT))
    assert "switched off" in r.out
    assert (
        _status_rows(_ok(box.run("maventa", "status", "--unit", UNIT, "--no-refresh")).out)["synchronisation"]
        == "off"
    )


def test_connect_an_existing_account_with_the_key_from_the_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox
    company_uuid = _register_and_sign(box)
    company = next(c for c in box.maventa.credentials()["companies"] if c["id"] == company_uuid)
    key = company["users"][0]["user_api_key"]
    monkeypatch.setenv("RANTA_MAVENTA_KEY", key)
    other = box.write_config("other.toml", store="other.sqlite3")  # a fresh bridge, same services

    r = _ok(
        box.run(
            "maventa", "connect", "--unit", UNIT, "--api-key-env", "RANTA_MAVENTA_KEY",
            "--company-uuid", company_uuid, config=other,
        )
    )  # fmt: skip
    assert f"connected to Maventa company {company_uuid}" in r.out
    assert "VERIFIED" in r.out
    status = _ok(box.run("maventa", "status", "--unit", UNIT, config=other))
    assert _status_rows(status.out)["user API key"] == "set"
    for text in (r.out, r.err, status.out, status.err):
        assert key not in text

    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))  # the other way to hand over the key
    again = _ok(box.run("maventa", "connect", "--unit", UNIT, "--api-key-stdin", config=other))
    assert key not in again.out + again.err

    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-key\n"))
    refused = box.run(
        "maventa", "connect", "--unit", UNIT, "--api-key-stdin", "--company-uuid", company_uuid, config=other
    )
    assert "Maventa did not accept the user API key" in _one_error_line(refused, "maventa connect")

    missing = box.run("maventa", "connect", "--unit", UNIT, "--api-key-env", "NOT_SET_ANYWHERE", config=other)
    assert missing.code == 2
    assert "environment variable NOT_SET_ANYWHERE is not set" in missing.err


def test_run_polls_the_given_number_of_passes(sandbox: Sandbox) -> None:
    box = sandbox
    _register_and_sign(box)
    _configure(box)
    _ok(box.run("maventa", "activate", "--unit", UNIT))
    r = _ok(box.run("run", "--passes", "3", "--interval", "0"))
    assert [line.split(":")[0] for line in r.out.splitlines()] == ["pass 1", "pass 2", "pass 3"]


# ------------------------------------------------------------------------------ error lines
def _one_error_line(r: Result, command: str) -> str:
    assert r.code == 2, (r.code, r.out, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    prefix = f"severa-sandbox bridge {command}: error: "
    assert lines[0].startswith(prefix), lines[0]
    assert "Traceback" not in r.err
    return lines[0].removeprefix(prefix)


def test_missing_config_file(sandbox: Sandbox) -> None:
    r = sandbox.run("maventa", "status", config=sandbox.tmp / "nowhere.toml")
    message = _one_error_line(r, "maventa status")
    assert "nowhere.toml: configuration file not found" in message


def test_unknown_key_in_the_config_names_the_line(sandbox: Sandbox) -> None:
    path = sandbox.tmp / "bad.toml"
    path.write_text('[severa]\nclient_id = "x"\n\n[maventa]\nvendor_key_env = "X"\n', encoding="utf-8")
    message = _one_error_line(sandbox.run("sync", "--once", config=path), "sync")
    assert message.startswith(f"{path}:5: [maventa] vendor_key_env: unknown key")
    assert "did you mean 'vendor_api_key_env'" in message


def test_missing_secret_is_a_config_error(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    path = sandbox.tmp / "nosecret.toml"
    path.write_text(
        f'[severa]\nclient_id = "x"\nbase_url = "{sandbox.severa_url}/rest-api"\n', encoding="utf-8"
    )
    monkeypatch.delenv("SEVERA_CLIENT_SECRET", raising=False)
    message = _one_error_line(sandbox.run("maventa", "status", config=path), "maventa status")
    assert "[severa] client_secret is not set" in message


def test_unknown_unit(sandbox: Sandbox) -> None:
    message = _one_error_line(sandbox.run("maventa", "status", "--unit", "Nobody Oy"), "maventa status")
    assert message.startswith("No business unit 'Nobody Oy' in Severa; known units:")
    assert UNIT in message


def test_unit_without_business_id_is_refused(sandbox: Sandbox) -> None:
    r = sandbox.run("maventa", "register", "--unit", "Konsultointi", "--registrant", _registrant(sandbox))
    assert "has no business ID (Y-tunnus)" in _one_error_line(r, "maventa register")


def test_activation_refused_when_the_transfer_status_is_flagged_sent(sandbox: Sandbox) -> None:
    box = sandbox
    _register_and_sign(box)
    _configure(box)
    backend = box.severa.main
    with box.severa.lock:
        backend.update_status_flags(backend.status_by_name(WAITING), {"is_sent": True})
    message = _one_error_line(box.run("maventa", "activate", "--unit", UNIT), "maventa activate")
    assert message == "Status of invoices to be transferred can not be sent"  # MV-14, verbatim
    with box.severa.lock:
        backend.update_status_flags(backend.status_by_name(WAITING), {"is_sent": False})
    _ok(box.run("maventa", "activate", "--unit", UNIT))


def test_maventa_unreachable(sandbox: Sandbox) -> None:
    box = sandbox
    probe = MaventaSimulator().serve()  # a port that surely had a server, now closed
    dead_url = probe.url
    probe.stop()
    path = box.write_config("dead.toml", maventa_url=dead_url)
    r = box.run("maventa", "register", "--unit", UNIT, "--registrant", _registrant(box), config=path)
    message = _one_error_line(r, "maventa register")
    assert "no answer from Maventa" in message
    assert box.maventa.credentials()["vendor_api_keys"][0] not in r.err


def test_sync_with_problems_warns_and_exits_2(sandbox: Sandbox) -> None:
    box = sandbox
    _register_and_sign(box)
    _configure(box)
    _ok(box.run("maventa", "activate", "--unit", UNIT))
    probe = MaventaSimulator().serve()
    dead_url = probe.url
    probe.stop()
    r = box.run("sync", "--once", config=box.write_config("dead.toml", maventa_url=dead_url))
    assert r.code == 2
    assert "warning:" in r.err
    assert r.err.strip().splitlines()[-1].startswith("severa-sandbox bridge sync: error: the pass reported")


def test_bad_arguments_are_usage_errors(sandbox: Sandbox) -> None:
    with pytest.raises(SystemExit) as exc:
        sandbox.run("maventa", "log", "--limit", "-1")
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        sandbox.run("maventa", "register", "--unit", UNIT)  # no --registrant
    assert exc.value.code == 2


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    unit=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
        lambda u: u.strip() and not u.startswith("-")
    )
)
def test_any_unknown_unit_name_is_one_error_line(sandbox: Sandbox, unit: str) -> None:
    assume(unit.strip().lower() not in {"ranta oy", "hämäläinen ry oy", "konsultointi"})
    r = sandbox.run("maventa", "settings", "--unit", unit)
    assert "No business unit" in _one_error_line(r, "maventa settings")


def test_without_credentials_the_local_sandbox_lends_its_own(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config with only the base URLs of local simulators: the Severa client and the vendor key
    come from their `GET /_sim/credentials`, and the command says so on stderr."""
    for var in ("SEVERA_CLIENT_ID", "SEVERA_CLIENT_SECRET", "MAVENTA_VENDOR_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    config = sandbox.tmp / "bare.toml"
    config.write_text(
        f'[severa]\nbase_url = "{sandbox.severa_url}/rest-api"\n\n[maventa]\nbase_url = "{sandbox.maventa_url}"\n',
        encoding="utf-8",
    )
    result = sandbox.run("maventa", "status", "--unit", UNIT, config=config)
    assert result.code == 0, result.err
    assert "business ID (Y-tunnus)" in result.out and "2615835-9" in result.out
    assert f"note: using the sandbox credentials of {sandbox.severa_url}" in result.err
    assert f"note: using the sandbox credentials of {sandbox.maventa_url}" in result.err


def test_a_service_elsewhere_is_never_asked_for_sandbox_credentials() -> None:
    from bridge.config import Config, MaventaConfig, SeveraConfig

    config = Config(
        severa=SeveraConfig(base_url="https://api.severa.visma.com/rest-api"),
        maventa=MaventaConfig(base_url="https://ax.maventa.com"),
    )
    assert bridge_cli.with_sandbox_credentials(config) == config


def test_an_unreachable_local_sandbox_leaves_the_setting_missing(sandbox: Sandbox) -> None:
    config = sandbox.tmp / "nothing-there.toml"
    config.write_text('[severa]\nbase_url = "http://127.0.0.1:9/rest-api"\n', encoding="utf-8")
    result = sandbox.run("maventa", "status", config=config)
    assert result.code == 2
    assert "client_id is not set" in result.err


def test_names_from_severa_are_shown_as_text_never_as_markup() -> None:
    from rich.console import Console

    from bridge.store import Store

    with Store(":memory:") as store:
        company = store.companies.upsert("unit-1", name="Oy [/] Ab [bold]x[/bold]", business_id="1234567-1")
        console = Console(record=True, width=120)
        console.print(bridge_cli._company_table(company))
        text = console.export_text()
    assert "Oy [/] Ab [bold]x[/bold]" in text


@pytest.mark.parametrize("interval", ["1e300", "inf", "nan", "-1"])
def test_an_absurd_interval_is_a_usage_error(
    sandbox: Sandbox, interval: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.write_config()
    with pytest.raises(SystemExit) as exc:
        sandbox.run("run", "--interval", interval)
    assert exc.value.code == 2
    assert "seconds from 0 to 86400" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["1e300", "inf"])
def test_an_absurd_poll_interval_in_the_config_is_one_clear_line(sandbox: Sandbox, value: str) -> None:
    config = sandbox.write_config()
    config.write_text(
        config.read_text(encoding="utf-8").replace("poll_interval = 0.01", f"poll_interval = {value}")
    )
    result = sandbox.run("run", "--passes", "1", config=config)
    assert result.code == 2
    assert "poll_interval: expected a number of seconds greater than 0 and at most 86400" in result.err
