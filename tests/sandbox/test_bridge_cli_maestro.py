"""`severa-sandbox bridge maestro ...` and the two-connector `sync`/`run`, against the served fakes.

What a user reads (text) and what a script reads (`--json`), with the exit codes: 0 ready / clean,
1 found by design (preflight problems, codes that fall back to A/0, refused customers), 2 errors.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.sandbox.conftest import Sandbox, dead_url, ok, one_error_line

SOURCE = "Odottaa siirtoa Maestroon"
TRANSFERRED = "Siirretty Maestroon"


def _maestro_api(box: Sandbox, method: str, path: str, **kwargs: object) -> httpx.Response:
    key = box.maestro.credentials()["companies"][0]["api_key"]
    return httpx.request(
        method,
        f"{box.maestro_url}/api/v1{path}",
        headers={"X-Maestro-Api-Key": key},
        **kwargs,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------------------ preflight
def test_preflight_ready_says_so_and_exits_0(sandbox: Sandbox) -> None:
    r = ok(sandbox.run("maestro", "preflight"))
    assert r.out.strip() == (
        "Maestro integration ready: Maestro company Salonen Konsultit Oy (1001); invoices in "
        f"'{SOURCE}' are imported and then set to '{TRANSFERRED}'."
    )
    data = ok(sandbox.run("maestro", "preflight", "--json")).json()
    assert data["ok"] is True and data["problems"] == [] and data["missing_scopes"] == []
    assert data["company"]["company_id"] == "1001"
    assert (data["source_status"], data["transferred_status"]) == (SOURCE, TRANSFERRED)


def test_preflight_names_missing_scopes_and_statuses_and_exits_1(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MA-4 with the fake's second API client (no customers:read, no users:read) and MA-8 with a
    source status Maestro names but Severa does not have."""
    box = sandbox
    assert _maestro_api(
        box,
        "PUT",
        "/integrations/severa/settings",
        json={"source_status_name": "Ei ole olemassa", "transferred_status_name": TRANSFERRED},
    ).is_success
    config = box.write_config("limited.toml")
    limited = box.severa.credentials()["clients"][1]
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            box.severa.credentials()["clients"][0]["client_id"], limited["client_id"]
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("TEST_SEVERA_SECRET", limited["client_secret"])
    r = box.run("maestro", "preflight", config=config)
    assert r.code == 1, r.err
    lines = r.out.strip().splitlines()
    assert lines[0] == "The Severa → Maestro integration is not ready (2 problem(s)):"
    assert "customers (Asiakkaat)" in lines[1] and "users (Käyttäjät)" in lines[1]
    assert "missing scopes: customers:read, users:read" in lines[1]
    assert lines[2].startswith(
        "  - the source status 'Ei ole olemassa' named in Maestro's settings does not exist in Severa; "
        "add it in Asetukset > Laskun tilat (existing: "
    )
    data = box.run("maestro", "preflight", "--json", config=config)
    assert data.code == 1
    body = data.json()
    assert body["ok"] is False and body["missing_scopes"] == ["customers:read", "users:read"]
    assert len(body["problems"]) == 2 and body["source_status"] is None


# ------------------------------------------------------------------------------ settings
def _rows(out: str) -> dict[str, str]:
    rows = {}
    for line in out.splitlines():
        parts = re.split(r"\s{2,}", line.strip())
        if line.startswith("  ") and len(parts) >= 2:
            rows[parts[0]] = parts[1]
    return rows


def test_settings_show_change_and_refuse(sandbox: Sandbox) -> None:
    box = sandbox
    shown = ok(box.run("maestro", "settings"))
    assert shown.out.splitlines() == [
        "Salonen Konsultit Oy (Maestro company 1001)",
        "In Maestro (Severa-liittymän asetukset):",
        f"  source status       {SOURCE}",
        f"  transferred status  {TRANSFERRED}",
        "  fallback product    A/0 (oletustuote)",
        "In the bridge:",
        "  status after error    -  (refused imports stay in the source status)",
        "  notification address  -",
    ]
    assert ok(box.run("maestro", "settings", "--json")).json() == {
        "company": {"company_id": "1001", "name": "Salonen Konsultit Oy", "business_id": "2615835-9"},
        "maestro": {
            "source_status": SOURCE,
            "transferred_status": TRANSFERRED,
            "fallback_product": "A/0",
            "updated_at": "2026-01-02T08:00:00Z",
        },
        "bridge": {"status_after_error": None, "notification_email": None},
    }

    # Maestro's side is changed in Maestro; the bridge's options in the store
    changed = ok(
        box.run(
            "maestro", "settings", "--source-status", "odottaa siirtoa maventaan", "--fallback-product", "KONS",
            "--after-error", "Maventa-virhe", "--notify", "maestro-virheet@ranta.fi",
        )
    )  # fmt: skip
    assert changed.out.splitlines()[0] == "Settings saved."
    assert _rows(changed.out) == {
        "source status": "Odottaa siirtoa Maventaan",  # Severa's own spelling
        "transferred status": TRANSFERRED,
        "fallback product": "KONS (oletustuote)",
        "status after error": "Maventa-virhe",
        "notification address": "maestro-virheet@ranta.fi",
    }
    settings = _maestro_api(box, "GET", "/integrations/severa/settings").json()
    assert (settings["source_status_name"], settings["fallback_product_code"]) == (
        "Odottaa siirtoa Maventaan",
        "KONS",
    )
    cleared = ok(box.run("maestro", "settings", "--no-after-error", "--no-notify", "--json")).json()
    assert cleared["bridge"] == {"status_after_error": None, "notification_email": None}

    unknown = one_error_line(
        box.run("maestro", "settings", "--transferred-status", "Valmis"), "maestro settings"
    )
    assert unknown.startswith(
        "--transferred-status: no invoice status 'Valmis' in Severa; existing statuses: Luonnos, "
    )
    assert unknown.endswith("(add it in Severa: Asetukset > Laskutus > Laskun tilat)")
    same = one_error_line(
        box.run("maestro", "settings", "--transferred-status", "Odottaa siirtoa Maventaan"),
        "maestro settings",
    )
    assert same.startswith("the source status and the transferred status must differ")
    inactive = one_error_line(
        box.run("maestro", "settings", "--fallback-product", "VANHA-01"), "maestro settings"
    )
    assert inactive.startswith("Maestro refused the settings: ")
    assert "the fallback product must be an active Maestro product" in inactive
    bad_mail = one_error_line(box.run("maestro", "settings", "--notify", "ei-osoite"), "maestro settings")
    assert bad_mail == "--notify: 'ei-osoite' is not an e-mail address (like laskutus@example.fi)"
    loop = one_error_line(
        box.run("maestro", "settings", "--after-error", "Odottaa siirtoa Maventaan"), "maestro settings"
    )
    assert loop.startswith("--after-error: it must differ from the source status")


# ------------------------------------------------------------------------------ customers
def test_sync_customers_names_who_was_created_updated_and_refused(sandbox: Sandbox) -> None:
    box = sandbox
    with box.severa.lock:
        broken = next(iter(box.severa.main.org.customers.values()))
        broken.email = "ei-sahkopostia"
    r = box.run("maestro", "sync-customers")
    assert r.code == 1, r.err  # a customer was refused
    lines = r.out.strip().splitlines()
    assert (
        lines[0]
        == "Customer register (asiakasrekisteri) to Maestro company Salonen Konsultit Oy (1001), every customer:"
    )
    created = [line.split(None, 1)[1] for line in lines if line.startswith("  created")]
    assert len(created) == 5 and "Koivisto Saarinen As Oy (customer number 1002)" in created
    refused = [line for line in lines if line.startswith("  refused")]
    assert refused == [
        f"  refused  {broken.name} (customer number {broken.number}): Customer '{broken.name}': its e-mail "
        "address 'ei-sahkopostia' is not valid. Correct the customer card in Severa."
    ]
    assert lines[-2] == "5 created, 0 updated, 1 refused, 0 unchanged."
    assert lines[-1].startswith("Correct the refused customers in Severa (Asiakkaat)")

    # nothing changed since: nothing is sent again
    again = ok(box.run("maestro", "sync-customers", "--json")).json()
    assert (again["created"], again["updated"], again["refused"]) == ([], [], [])
    assert again["changed_since"] is not None

    # a fresh store, Maestro already has them: Maestro's answer says "updated" (200, not 201)
    fresh = box.write_config("fresh.toml", store="fresh.sqlite3")
    data = box.run("maestro", "sync-customers", "--json", config=fresh)
    assert data.code == 1
    body = data.json()
    assert [p["name"] for p in body["updated"]] == [name.rsplit(" (", 1)[0] for name in created]
    assert body["created"] == [] and body["full"] is False and body["changed_since"] is None
    assert body["refused"] == [
        {
            "name": broken.name,
            "number": broken.number,
            "guid": broken.guid,
            "reason": f"Customer '{broken.name}': its e-mail address 'ei-sahkopostia' is not valid. "
            "Correct the customer card in Severa.",
        }
    ]


# ------------------------------------------------------------------------------ audit
def test_audit_codes_names_exactly_the_demo_codes_that_fall_back(sandbox: Sandbox) -> None:
    box = sandbox
    r = box.run("maestro", "audit-codes")
    assert r.code == 1, r.err
    text = "\n".join(" ".join(line.split()) for line in r.out.splitlines())  # one line per row
    assert "Severa codes Maestro cannot match (their rows land on A/0):" in text
    for row in (
        "product (Tuotteet) Ammattilehden vuositilaus LEHTI missing from Maestro",
        "work type (Työlajit) Tukipalvelu TUKI missing from Maestro",
        "travel expense (Matkakulut) Kotimaan päiväraha PVR missing from Maestro",
        "10007 2 product (Tuotteet) LEHTI Ammattilehden vuositilaus",
        "10008 3 travel expense (Matkakulut) PVR Kotimaan päiväraha",
    ):
        assert row in text, row
    data = box.run("maestro", "audit-codes", "--json")
    assert data.code == 1
    body = data.json()
    assert body["clean"] is False and body["fallback_product"] == "A/0"
    assert [(c["kind"], c["code"]) for c in body["codes"]] == [
        ("product", "LEHTI"),
        ("work_type", "TUKI"),
        ("travel_expense", "PVR"),
    ]
    assert [(x["invoice_number"], x["row"], x["kind"], x["codes"]) for x in body["rows"]] == [
        ("10007", 2, "product", ["LEHTI"]),
        ("10008", 3, "travel_expense", ["PVR"]),
    ]

    # the fix: add the three products to Maestro; the audit comes clean (exit 0)
    for code in ("LEHTI", "TUKI", "PVR"):
        put = _maestro_api(
            box,
            "PUT",
            f"/products/{code}",
            json={"name": code, "unit": "kpl", "vat_rate": 25.5, "active": True},
        )
        assert put.is_success, put.text
    clean = ok(box.run("maestro", "audit-codes"))
    assert clean.out.startswith("Nothing would fall back to A/0")
    assert ok(box.run("maestro", "audit-codes", "--json")).json()["clean"] is True


# ------------------------------------------------------------------------------ sync and the log
def test_sync_drives_both_connectors_and_the_maestro_log_tells_what_happened(sandbox: Sandbox) -> None:
    box = sandbox
    r = ok(box.run("sync", "--once"))
    lines = r.out.splitlines()
    assert (
        lines[0]
        == "Maventa: nothing to do (no company has the synchronisation switched on: bridge maventa activate)"
    )
    assert lines[1] == (
        "Maestro: picked up 2, sent 2, status patched 2, delivered 2, fallback rows 2, customers synced 6"
    )
    log = ok(box.run("maestro", "log")).out
    assert "Invoice 10007 imported into Maestro" in log and "Invoice 10008 imported into Maestro" in log
    assert "booked on A/0" in log
    warnings = ok(box.run("maestro", "log", "--level", "warning", "--json")).json()["entries"]
    assert {e["invoice_number"] for e in warnings} == {"10007", "10008"}
    assert all(e["connector"] == "maestro" and e["level"] == "WARNING" for e in warnings)
    nothing = one_error_line(box.run("maventa", "log", "--unit", "Ranta Oy"), "maventa log")
    assert nothing.startswith("--unit: no company 'Ranta Oy' in the store ")  # Maventa never ran here

    again = ok(box.run("sync", "--json")).json()
    assert again["ran"] is True and again["problems"] == []
    assert again["connectors"]["maestro"]["picked_up"] == 0
    assert set(again["connectors"]) == {"maventa", "maestro"}
    assert set(again["totals"]) >= {"picked_up", "sent", "fallback_rows", "customers_synced"}


def test_run_json_prints_one_line_per_pass(sandbox: Sandbox) -> None:
    import json

    r = ok(sandbox.run("run", "--passes", "2", "--interval", "0", "--json"))
    passes = [json.loads(line) for line in r.out.splitlines()]
    assert [p["pass"] for p in passes] == [1, 2]
    assert passes[0]["connectors"]["maestro"]["sent"] == 2 and passes[1]["connectors"]["maestro"]["sent"] == 0


# ------------------------------------------------------------------------------ no key
def test_without_a_maestro_key_the_maestro_commands_say_how_to_give_one(sandbox: Sandbox) -> None:
    box = sandbox
    url = dead_url()
    port = url.rsplit(":", 1)[1]
    config = box.write_config("nokey.toml", maestro=False, maestro_url=url)
    message = one_error_line(box.run("maestro", "preflight", config=config), "maestro preflight")
    assert message == (
        f"[maestro] api_key is not set: nothing answers at {url}/api ([maestro] base_url), so no sandbox "
        f"credentials could be borrowed: start the fake (severa-sandbox serve maestro --port {port}), or set "
        f"[maestro] api_key in {config} for a real service"
    )
    # sync runs without Maestro (and says so); with nothing switched on there is nothing to do
    r = ok(box.run("sync", config=config))
    assert r.out.strip() == (
        "No company has the synchronisation switched on and Maestro is not configured; nothing to do."
    )

    remote = box.write_config("remote.toml", maestro=False, maestro_url="https://maestro.example.com")
    message = one_error_line(box.run("maestro", "audit-codes", config=remote), "maestro audit-codes")
    assert message.startswith(
        f'[maestro] api_key is not set (no key in {remote}, no MAESTRO_API_KEY): give api_key_env = "VAR" '
        f"in the [maestro] table of {remote}"
    )


@pytest.mark.parametrize("command", ["preflight", "settings", "sync-customers", "audit-codes", "log"])
def test_every_maestro_command_documents_its_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sandbox.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["bridge", "maestro", command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text and "  0  done" in text and "  2  usage or environment error" in text
    assert "--json" in text
    if command in ("preflight", "sync-customers", "audit-codes"):
        assert "  1  something found or failed by design" in text
