"""The first hour with the CLI (issue 12): every message that left a user stuck now names the cause,
the URL or file, and the next step; data comes as JSON for scripts; exit codes are in --help;
a store left over from fakes that were restarted is recognised and `bridge reset` starts over."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox import bridge_cli
from sandbox.cli import main
from tests.sandbox.conftest import (
    APPROVER,
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


# ------------------------------------------------------------------------------ nothing running
def test_status_with_no_fake_running_names_the_url_and_how_to_start_it(sandbox: Sandbox) -> None:
    """Was: `[severa] client_id is not set in bridge.toml` (the cause: nothing answers at the URL)."""
    url = dead_url()
    port = url.rsplit(":", 1)[1]
    config = sandbox.tmp / "nothing.toml"
    config.write_text(
        f'[severa]\nbase_url = "{url}/rest-api"\n\n[maventa]\nbase_url = "{url}"\n\n'
        f'[maestro]\nbase_url = "{url}/api"\n',
        encoding="utf-8",
    )
    message = one_error_line(sandbox.run("maventa", "status", config=config), "maventa status")
    assert message == (
        f"[severa] client_id is not set: nothing answers at {url}/rest-api ([severa] base_url), so no sandbox "
        f"credentials could be borrowed: start the fake (severa-sandbox serve severa --port {port}), or set "
        f"[severa] client_id and client_secret in {config} for a real service"
    )


def test_severa_down_with_credentials_set_names_the_url(sandbox: Sandbox) -> None:
    config = sandbox.write_config("severa-down.toml")
    url = dead_url()
    config.write_text(config.read_text(encoding="utf-8").replace(sandbox.severa_url, url), encoding="utf-8")
    message = one_error_line(sandbox.run("maventa", "status", config=config), "maventa status")
    assert message.startswith("no answer from Severa (POST /v1/token)")
    assert message.endswith(
        f"Nothing answers at {url}/rest-api: start the Severa fake (severa-sandbox serve severa --port "
        f"{url.rsplit(':', 1)[1]}), or correct [severa] base_url in {config}"
    )


def test_a_remote_service_that_does_not_answer_is_not_told_to_start_a_fake(sandbox: Sandbox) -> None:
    # 127.0.0.2 is not one of the sandbox's own hosts (127.0.0.1, ::1, localhost): a "real" service here
    remote = dead_url().replace("127.0.0.1", "127.0.0.2")
    config = sandbox.write_config("remote.toml", maventa_url=remote)
    r = sandbox.run("maventa", "register", "--unit", UNIT, "--registrant", registrant(sandbox), config=config)
    message = one_error_line(r, "maventa register")
    assert message.endswith(
        f"Nothing answers at {remote}: check [maventa] base_url in {config} and the network, then try again"
    )
    assert "serve maventa" not in message


def test_wrong_severa_secret_names_the_keys_and_the_file(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SEVERA_SECRET", "not-the-secret")
    message = one_error_line(sandbox.run("maventa", "status"), "maventa status")
    assert message.startswith("Severa answered 401")
    assert message.endswith(
        f"Severa at {sandbox.severa_url}/rest-api refused the credentials: check [severa] client_id and "
        f"client_secret in {sandbox.tmp / 'bridge.toml'} (or the environment)"
    )


# ------------------------------------------------------------------------------ the settings page
def test_an_unknown_registrant_lists_who_could_register(sandbox: Sandbox) -> None:
    """Was: `No Severa user with the e-mail a@b.fi` (the unknown-unit error lists the units)."""
    r = sandbox.run("maventa", "register", "--unit", UNIT, "--registrant", "a@b.fi")
    message = one_error_line(r, "maventa register")
    emails = sorted(u.email for u in sandbox.severa.main.org.users.values() if u.email and u.is_active)
    shown = ", ".join(emails[:8]) + (f" and {len(emails) - 8} more" if len(emails) > 8 else "")
    assert message == f"No Severa user with the e-mail a@b.fi; choose a user with an e-mail address: {shown}"


def test_before_signing_the_cli_names_its_refresh_command(sandbox: Sandbox) -> None:
    """Was: "... Send the authentication request or press Refresh." (the CLI has no Refresh)."""
    ok(sandbox.run("maventa", "register", "--unit", UNIT, "--registrant", registrant(sandbox)))
    message = one_error_line(sandbox.run("maventa", "activate", "--unit", UNIT), "maventa activate")
    assert message == (
        f"{UNIT} is not authenticated at Maventa yet (state NONE); activation can be done only after the "
        "approver has signed. Send the authentication request (bridge maventa auth-request); once the approver "
        f'has signed, refresh the state with `severa-sandbox bridge maventa status --unit "{UNIT}"` (the '
        "Refresh button, Päivitä)."
    )


def test_the_sent_flag_refusal_while_active_gives_the_fix_for_saving(sandbox: Sandbox) -> None:
    box = sandbox
    register_and_sign(box)
    configure(box)
    ok(box.run("maventa", "activate", "--unit", UNIT))
    backend = box.severa.main
    with box.severa.lock:
        backend.update_status_flags(backend.status_by_name(WAITING), {"is_sent": True})
    r = box.run("maventa", "settings", "--unit", UNIT, "--send-pdf")
    assert r.code == 2
    first, fix = r.err.splitlines()
    assert first.endswith("error: Status of invoices to be transferred can not be sent")
    assert fix.startswith(
        f"Fix: in Severa, Asetukset > Laskutus > Laskun tilat, clear the Sent flag (Lähetetty) of the status to transfer '{WAITING}' and save; then save the settings again"
    )


# ------------------------------------------------------------------------------ a world that is gone
def test_a_store_from_restarted_fakes_is_recognised_and_reset_starts_over(sandbox: Sandbox) -> None:
    """Was: "Invalid client credentials", "already registered", and a sync that moved invoices to the
    error status and mailed notices."""
    box = sandbox
    company_uuid = register_and_sign(box)
    configure(box)
    ok(box.run("maventa", "activate", "--unit", UNIT))
    assert httpx.post(f"{box.maventa_url}/_sim/reset", json={}).status_code == 200  # the fakes restart
    config = box.tmp / "bridge.toml"
    expected = (
        f"the store {box.tmp / 'bridge.sqlite3'} belongs to another sandbox world: the Maventa fake at "
        f"{box.maventa_url} does not know {UNIT} (company UUID {company_uuid}) (were the fakes restarted or "
        f"reset?). Start over with `severa-sandbox bridge --config {config} reset --yes` (deletes the store), "
        f"or give another [store] path in {config}"
    )
    backend = box.severa.main

    def statuses() -> list[str]:
        return sorted(backend.status_of(i).name for i in backend.org.invoices.values())

    before = statuses()
    for argv, command in (
        (["maventa", "status"], "maventa status"),
        (["maventa", "register", "--unit", UNIT, "--registrant", registrant(box)], "maventa register"),
        (["sync"], "sync"),
    ):
        assert one_error_line(box.run(*argv), command) == expected
    assert box.mailbox.find() == []  # nothing was mailed
    assert statuses() == before  # and no invoice moved (to the error status or anywhere)

    # the log is local and still readable
    assert ok(box.run("maventa", "log", "--json")).json()["entries"]

    refused = one_error_line(box.run("reset"), "reset")
    assert refused.startswith(f"this deletes the store {box.tmp / 'bridge.sqlite3'} (1 companies, ")
    assert refused.endswith(f"Run `severa-sandbox bridge --config {config} reset --yes` to delete it")
    assert (box.tmp / "bridge.sqlite3").exists()
    done = ok(box.run("reset", "--yes", "--json")).json()
    assert (
        done["deleted"] is True
        and done["companies"] == 1
        and done["store"] == str(box.tmp / "bridge.sqlite3")
    )
    assert not (box.tmp / "bridge.sqlite3").exists()
    again = ok(box.run("reset"))
    assert (
        again.out.strip()
        == f"No store at {box.tmp / 'bridge.sqlite3'} ([store] path in {config}): nothing to delete."
    )
    status = ok(box.run("maventa", "status", "--unit", UNIT, "--json")).json()
    assert status["companies"][0]["registration"] == "NOT_REGISTERED"


# ------------------------------------------------------------------------------ JSON for scripts
def test_register_json_gives_the_company_uuid_without_scraping(sandbox: Sandbox) -> None:
    r = ok(sandbox.run("maventa", "register", "--unit", UNIT, "--registrant", registrant(sandbox), "--json"))
    data = r.json()
    assert data["key_returned"] is True
    company = data["company"]
    assert company["name"] == UNIT and company["registration"] == "REGISTERED"
    assert company["user_api_key_set"] is True
    assert any(c["id"] == company["maventa_company_uuid"] for c in sandbox.maventa.credentials()["companies"])
    for secret in (u["user_api_key"] for u in sandbox.maventa.credentials()["users"]):
        assert secret not in r.out  # the key itself is never printed
    sent = ok(sandbox.run("maventa", "auth-request", "--unit", UNIT, "--approver", APPROVER, "--json")).json()
    assert sent["sent_to"] == [APPROVER] and sent["company"]["authentication"] == "SENT"
    status = ok(sandbox.run("maventa", "status", "--json")).json()
    assert sorted(c["name"] for c in status["companies"]) == ["Hämäläinen ry Oy", UNIT]
    assert status["units_without_business_id"] == ["Konsultointi"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["bridge", "--help"],
        ["bridge", "sync", "--help"],
        ["bridge", "maventa", "status", "--help"],
        ["serve", "--help"],
        ["specs", "where", "--help"],
    ],
)
def test_help_documents_the_exit_codes(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text
    assert "  0  done" in text
    assert "  2  usage or environment error" in text
    assert "  3  unexpected error (a bug" in text


def test_sync_help_names_the_retry_limits(capsys: pytest.CaptureFixture[str]) -> None:
    from bridge.transfer import DEFAULT_MAX_NOTIFY_ATTEMPTS, DEFAULT_MAX_SEND_ATTEMPTS

    with pytest.raises(SystemExit):
        main(["bridge", "sync", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"after {DEFAULT_MAX_SEND_ATTEMPTS} attempts that could not tell whether it arrived" in text
    assert f"A notification is tried at most {DEFAULT_MAX_NOTIFY_ATTEMPTS} times" in text


def test_an_unexpected_error_is_one_line_and_exit_3(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> int:
        raise RuntimeError("something nobody planned for")

    monkeypatch.setitem(bridge_cli.MAESTRO_ACTIONS, "preflight", boom)
    r = sandbox.run("maestro", "preflight")
    assert r.code == 3
    assert r.err.strip().splitlines()[-1] == (
        "severa-sandbox bridge maestro preflight: unexpected error: RuntimeError: something nobody planned "
        "for (a bug: please report it with the command and this output)"
    )


def test_specs_where_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["specs", "where", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"path", "found"}
    assert code == (0 if data["found"] else 1)


def test_a_store_that_cannot_be_opened_names_the_path_and_what_to_do(sandbox: Sandbox) -> None:
    blocker = sandbox.tmp / "not-a-folder"
    blocker.write_text("a file where the store's folder should be", encoding="utf-8")
    config = sandbox.write_config("blocked.toml", store="not-a-folder/bridge.sqlite3")
    message = one_error_line(sandbox.run("maventa", "status", config=config), "maventa status")
    assert message.startswith(
        f"[store] path '{blocker / 'bridge.sqlite3'}' in {config}: cannot open the store ("
    )
    assert message.endswith("check that its folder exists and is writable, or give another [store] path")


def test_the_transfer_log_is_read_from_the_store_without_any_service(sandbox: Sandbox) -> None:
    """The log is the store's: it reads with the fakes stopped and no credentials at all."""
    ok(sandbox.run("maventa", "register", "--unit", UNIT, "--registrant", registrant(sandbox)))
    url = dead_url()
    offline = sandbox.tmp / "offline.toml"
    offline.write_text(
        f'[severa]\nbase_url = "{url}/rest-api"\n[maventa]\nbase_url = "{url}"\n[maestro]\nbase_url = "{url}"\n'
        '[store]\npath = "bridge.sqlite3"\n',
        encoding="utf-8",
    )
    log = ok(sandbox.run("maventa", "log", "--unit", UNIT, "--json", config=offline)).json()["entries"]
    assert [e["company"] for e in log] == [UNIT] and "registered to Maventa" in log[0]["message"]
    assert ok(sandbox.run("maestro", "log", "--json", config=offline)).json() == {"entries": []}
    unknown = one_error_line(
        sandbox.run("maventa", "log", "--unit", "Nobody Oy", config=offline), "maventa log"
    )
    assert unknown == (
        f"--unit: no company 'Nobody Oy' in the store {sandbox.tmp / 'bridge.sqlite3'} (it knows: {UNIT}); "
        "the log holds only what this store's bridge did"
    )
    elsewhere = sandbox.tmp / "elsewhere.toml"
    elsewhere.write_text('[store]\npath = "never-used.sqlite3"\n', encoding="utf-8")
    none = one_error_line(sandbox.run("maestro", "log", config=elsewhere), "maestro log")
    assert none.startswith(
        f"no store at {sandbox.tmp / 'never-used.sqlite3'} ([store] path in {elsewhere}): "
    )
    assert not (sandbox.tmp / "never-used.sqlite3").exists()  # reading a log creates no store
