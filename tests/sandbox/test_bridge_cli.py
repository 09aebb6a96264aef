"""`severa-sandbox bridge ...` (the Maventa side, sync and run) against the fakes served over HTTP.

The `sandbox` fixture (tests/sandbox/conftest.py) serves fresh simulators on threaded servers, writes
a TOML file pointing at them and runs the real command line, reading what it prints.
"""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sandbox import bridge_cli
from tests.sandbox.conftest import (
    APPROVER,
    ERROR_STATUS,
    NOTIFY,
    UNIT,
    WAITING,
    Sandbox,
    configure,
    dead_url,
    ok,
    one_error_line,
    register_and_sign,
    registrant,
)


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
    status = ok(box.run("maventa", "status"))
    assert UNIT in status.out
    assert "Konsultointi" in status.out  # listed as a unit without a business ID (MV-5)
    assert _status_rows(status.out)["registration"] == "NOT_REGISTERED"

    r = ok(box.run("maventa", "register", "--unit", UNIT, "--registrant", registrant(box)))
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

    r = ok(box.run("maventa", "auth-request", "--unit", UNIT, "--approver", APPROVER, "--language", "fi"))
    assert APPROVER in r.out
    invitations = box.maventa.outbox_messages(purpose="authorization_invitation")
    assert any(APPROVER in m["to"] for m in invitations)

    box.sign(company_uuid)
    rows = _status_rows(ok(box.run("maventa", "status", "--unit", UNIT)).out)
    assert rows["Maventa company UUID"] == company_uuid
    assert rows["user API key"] == "set"
    assert rows["authentication"] == "SIGNED"
    assert rows["company state"] == "VERIFIED"
    assert rows["synchronisation"] == "off"

    configure(box)
    ok(box.run("maventa", "settings", "--unit", UNIT, "--send-pdf"))  # one change keeps the others
    rows = _status_rows(ok(box.run("maventa", "settings", "--unit", UNIT)).out)
    assert rows["send original PDF"] == "yes"
    assert rows["send by e-mail"] == "yes"
    assert rows["notification address"] == NOTIFY
    assert rows["status to transfer"] == WAITING
    assert rows["status after error"] == ERROR_STATUS

    r = ok(box.run("maventa", "activate", "--unit", UNIT))
    assert "switched on" in r.out

    r = ok(box.run("sync", "--once"))
    sent = int(re.search(r"sent (\d+)", r.out).group(1))  # type: ignore[union-attr]
    assert sent >= 3
    box.move_maventa_clock()
    r = ok(box.run("sync", "--once"))
    assert re.search(r"delivered [1-9]", r.out)
    assert re.search(r"notified 1\b", r.out)

    log = ok(box.run("maventa", "log", "--unit", UNIT, "--limit", "100")).out
    for number in ("10001", "10002", "10003"):
        assert number in log
    assert "delivered by Maventa" in log
    errors = ok(box.run("maventa", "log", "--level", "error")).out
    assert "10003" in errors and "Print service is not enabled" in errors
    assert "10001" not in errors

    # the sending error reached the notification address over SMTP (MV-9)
    mails = box.mailbox.find(to=NOTIFY)
    assert len(mails) == 1 and "10003" in mails[0].subject

    # nothing left to do: a further pass moves nothing (reported per connector)
    r = ok(box.run("sync"))
    assert "Maventa: nothing to do" in r.out.splitlines()

    r = ok(box.run("maventa", "deactivate", "--unit", UNIT))
    assert "switched off" in r.out
    assert (
        _status_rows(ok(box.run("maventa", "status", "--unit", UNIT, "--no-refresh")).out)["synchronisation"]
        == "off"
    )


def test_connect_an_existing_account_with_the_key_from_the_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox
    company_uuid = register_and_sign(box)
    company = next(c for c in box.maventa.credentials()["companies"] if c["id"] == company_uuid)
    key = company["users"][0]["user_api_key"]
    monkeypatch.setenv("RANTA_MAVENTA_KEY", key)
    other = box.write_config("other.toml", store="other.sqlite3")  # a fresh bridge, same services

    r = ok(
        box.run(
            "maventa", "connect", "--unit", UNIT, "--api-key-env", "RANTA_MAVENTA_KEY",
            "--company-uuid", company_uuid, config=other,
        )
    )  # fmt: skip
    assert f"connected to Maventa company {company_uuid}" in r.out
    assert "VERIFIED" in r.out
    status = ok(box.run("maventa", "status", "--unit", UNIT, config=other))
    assert _status_rows(status.out)["user API key"] == "set"
    for text in (r.out, r.err, status.out, status.err):
        assert key not in text

    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))  # the other way to hand over the key
    again = ok(box.run("maventa", "connect", "--unit", UNIT, "--api-key-stdin", config=other))
    assert key not in again.out + again.err

    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-key\n"))
    refused = box.run(
        "maventa", "connect", "--unit", UNIT, "--api-key-stdin", "--company-uuid", company_uuid, config=other
    )
    assert "Maventa did not accept the user API key" in one_error_line(refused, "maventa connect")

    missing = box.run("maventa", "connect", "--unit", UNIT, "--api-key-env", "NOT_SET_ANYWHERE", config=other)
    assert missing.code == 2
    assert "environment variable NOT_SET_ANYWHERE is not set" in missing.err


def test_run_polls_the_given_number_of_passes(sandbox: Sandbox) -> None:
    box = sandbox
    register_and_sign(box)
    configure(box)
    ok(box.run("maventa", "activate", "--unit", UNIT))
    r = ok(box.run("run", "--passes", "3", "--interval", "0"))
    assert [line.split(":")[0] for line in r.out.splitlines()] == [
        "pass 1, Maventa",
        "pass 1, Maestro",
        "pass 2, Maventa",
        "pass 2, Maestro",
        "pass 3, Maventa",
        "pass 3, Maestro",
    ]


# ------------------------------------------------------------------------------ error lines
def test_missing_config_file(sandbox: Sandbox) -> None:
    r = sandbox.run("maventa", "status", config=sandbox.tmp / "nowhere.toml")
    message = one_error_line(r, "maventa status")
    assert "nowhere.toml: configuration file not found" in message


def test_unknown_key_in_the_config_names_the_line(sandbox: Sandbox) -> None:
    path = sandbox.tmp / "bad.toml"
    path.write_text('[severa]\nclient_id = "x"\n\n[maventa]\nvendor_key_env = "X"\n', encoding="utf-8")
    message = one_error_line(sandbox.run("sync", "--once", config=path), "sync")
    assert message.startswith(f"{path}:5: [maventa] vendor_key_env: unknown key")
    assert "did you mean 'vendor_api_key_env'" in message


def test_missing_secret_is_a_config_error(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    path = sandbox.tmp / "nosecret.toml"
    path.write_text(
        f'[severa]\nclient_id = "x"\nbase_url = "{sandbox.severa_url}/rest-api"\n', encoding="utf-8"
    )
    monkeypatch.delenv("SEVERA_CLIENT_SECRET", raising=False)
    message = one_error_line(sandbox.run("maventa", "status", config=path), "maventa status")
    assert "[severa] client_secret is not set" in message


def test_unknown_unit(sandbox: Sandbox) -> None:
    message = one_error_line(sandbox.run("maventa", "status", "--unit", "Nobody Oy"), "maventa status")
    assert message.startswith("No business unit 'Nobody Oy' in Severa; known units:")
    assert UNIT in message


def test_unit_without_business_id_is_refused(sandbox: Sandbox) -> None:
    r = sandbox.run("maventa", "register", "--unit", "Konsultointi", "--registrant", registrant(sandbox))
    assert "has no business ID (Y-tunnus)" in one_error_line(r, "maventa register")


def test_activation_refused_when_the_transfer_status_is_flagged_sent(sandbox: Sandbox) -> None:
    box = sandbox
    register_and_sign(box)
    configure(box)
    backend = box.severa.main
    with box.severa.lock:
        backend.update_status_flags(backend.status_by_name(WAITING), {"is_sent": True})
    r = box.run("maventa", "activate", "--unit", UNIT)
    assert r.code == 2
    # MV-14: Severa's own words on the first line, the fix on the next (as the help article gives it)
    assert r.err.splitlines() == [
        "severa-sandbox bridge maventa activate: error: Status of invoices to be transferred can not be sent",
        f"Fix: in Severa, Asetukset > Laskutus > Laskun tilat, clear the Sent flag (Lähetetty) of the status "
        f"to transfer '{WAITING}' and save; then activate again (or choose another status to transfer with "
        "`bridge maventa settings --transfer-status`).",
    ]
    with box.severa.lock:
        backend.update_status_flags(backend.status_by_name(WAITING), {"is_sent": False})
    ok(box.run("maventa", "activate", "--unit", UNIT))


def test_maventa_unreachable(sandbox: Sandbox) -> None:
    box = sandbox
    url = dead_url()
    path = box.write_config("dead.toml", maventa_url=url)
    r = box.run("maventa", "register", "--unit", UNIT, "--registrant", registrant(box), config=path)
    message = one_error_line(r, "maventa register")
    assert "no answer from Maventa" in message
    # the URL that did not answer and what to do about it
    port = url.rsplit(":", 1)[1]
    assert message.endswith(
        f"Nothing answers at {url}: start the Maventa fake (severa-sandbox serve maventa --port {port}), "
        f"or correct [maventa] base_url in {path}"
    )
    assert box.maventa.credentials()["vendor_api_keys"][0] not in r.err


def test_sync_with_problems_warns_and_exits_2(sandbox: Sandbox) -> None:
    box = sandbox
    register_and_sign(box)
    configure(box)
    ok(box.run("maventa", "activate", "--unit", UNIT))
    r = box.run("sync", "--once", config=box.write_config("dead.toml", maventa_url=dead_url()))
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
def test_any_unknown_unit_name_isone_error_line(sandbox: Sandbox, unit: str) -> None:
    assume(unit.strip().lower() not in {"ranta oy", "hämäläinen ry oy", "konsultointi"})
    r = sandbox.run("maventa", "settings", "--unit", unit)
    assert "No business unit" in one_error_line(r, "maventa settings")


def test_without_credentials_the_local_sandbox_lends_its_own(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config with only the base URLs of local simulators: the Severa client, the vendor key and
    the Maestro API key come from their `GET /_sim/credentials`, and the command says so on stderr."""
    config = sandbox.tmp / "bare.toml"
    config.write_text(
        f'[severa]\nbase_url = "{sandbox.severa_url}/rest-api"\n\n[maventa]\nbase_url = "{sandbox.maventa_url}"\n'
        f'\n[maestro]\nbase_url = "{sandbox.maestro_url}/api"\n',
        encoding="utf-8",
    )
    result = sandbox.run("maventa", "status", "--unit", UNIT, config=config)
    assert result.code == 0, result.err
    assert "business ID (Y-tunnus)" in result.out and "2615835-9" in result.out
    assert (  # one note, not one per fake
        f"note: using the sandbox credentials of {sandbox.severa_url}, {sandbox.maventa_url}, "
        f"{sandbox.maestro_url} (GET /_sim/credentials)"
    ) in result.err.splitlines()
    # the Maestro key is borrowed too (companies[0].api_key): the Maestro commands work
    preflight = sandbox.run("maestro", "preflight", config=config)
    assert preflight.code == 0, preflight.err
    assert preflight.out.startswith("Maestro integration ready")


def test_a_service_elsewhere_is_never_asked_for_sandbox_credentials() -> None:
    from bridge.config import Config, MaestroConfig, MaventaConfig, SeveraConfig

    config = Config(
        severa=SeveraConfig(base_url="https://api.severa.visma.com/rest-api"),
        maventa=MaventaConfig(base_url="https://ax.maventa.com"),
        maestro=MaestroConfig(base_url="https://maestro.example.com/api"),
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
