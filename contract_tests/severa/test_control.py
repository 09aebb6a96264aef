"""Control plane over HTTP: snapshots, faults in Severa's envelope, journal redaction, clock."""

from __future__ import annotations

import json

from .conftest import BASE, SeveraTarget, assert_envelope


def test_export_reset_import_gives_identical_state(severa: SeveraTarget) -> None:
    severa.require_control()
    severa.reset()
    inv = next(i for i in severa.all_pages("/v1/invoices") if i["number"] is None)  # an editable draft
    r = severa.patch(
        f"/v1/invoices/{inv['guid']}", [{"op": "replace", "path": "/notes", "value": "ennen vientiä"}]
    )
    assert r.status_code == 200, r.text
    severa.control("POST", "/clock", json={"advance": 120})
    severa.control(
        "POST", "/faults", json={"match": {"path": "/rest-api/v1/users"}, "effect": {"type": "status"}}
    )
    before = severa.control("GET", "/state")
    assert before.status_code == 200
    snap = before.json()
    assert severa.control("POST", "/reset", json={"preset": "empty"}).status_code == 200
    assert severa.control("GET", "/state").json()["data"] != snap["data"]
    assert_envelope(severa.get(f"/v1/invoices/{inv['guid']}"), 401)  # the reset forgot the tokens too
    put = severa.control("PUT", "/state", json=snap)
    assert put.status_code == 200, put.text
    after = severa.control("GET", "/state").json()
    assert after == snap  # data, tokens, clock, fault rules, preset and seed: all of it
    again = severa.get(f"/v1/invoices/{inv['guid']}")  # the token issued before the export works again
    assert again.status_code == 200 and again.json()["notes"] == "ennen vientiä"
    assert severa.get("/v1/users").status_code == 503  # and so does the fault rule
    severa.reset()


def test_snapshot_of_another_version_is_refused(severa: SeveraTarget) -> None:
    severa.require_control()
    snap = severa.control("GET", "/state").json()
    assert severa.control("PUT", "/state", json={**snap, "version": 99}).status_code == 409
    broken = {**snap, "data": {"state": {"organizations": {}}}}
    assert severa.control("PUT", "/state", json=broken).status_code == 400
    assert severa.get("/v1/invoices", params={"rowCount": 1}).status_code == 200


def test_same_seed_same_data(severa: SeveraTarget) -> None:
    severa.require_control()
    severa.control("POST", "/reset", json={"preset": "demo", "seed": 7})
    a = severa.control("GET", "/state").json()["data"]
    severa.control("POST", "/reset", json={"preset": "demo", "seed": 7})
    b = severa.control("GET", "/state").json()["data"]
    severa.control("POST", "/reset", json={"preset": "demo", "seed": 8})
    c = severa.control("GET", "/state").json()["data"]
    assert a == b and a != c
    severa.reset()


def test_next_two_calls_fault_gives_two_503_envelopes_then_normal(severa: SeveraTarget) -> None:
    severa.require_control()
    severa.reset()
    h = severa.headers()
    severa.control("DELETE", "/journal")
    rule = {
        "match": {"method": "GET", "path": "/rest-api/v1/invoices"},
        "effect": {"type": "status", "status": 503, "message": "Service Unavailable"},
        "trigger": {"type": "next", "count": 2},
    }
    assert severa.control("POST", "/faults", json=rule).status_code == 201
    answers = [
        severa.http.get(f"{BASE}/v1/invoices", headers=h),
        severa.http.get(f"{BASE}/v1.0/invoices", headers=h),
        severa.http.get(f"{BASE}/v1/invoices", headers=h),
    ]
    for r in answers[:2]:
        err = assert_envelope(r, 503)
        assert err["type"] == "InternalSystemError"
    assert answers[2].status_code == 200 and isinstance(answers[2].json(), list)
    for r in answers[:2]:
        assert r.json()["error"]["details"][0]["message"] == "Service Unavailable"
    journal = severa.control("GET", "/journal", params={"path_prefix": "/rest-api"})
    entries = [e for e in journal.json()["entries"] if "invoices" in e["path"]]
    assert [e["status"] for e in entries] == [503, 503, 200]
    assert [bool(e["fault"]) for e in entries] == [True, True, False]
    assert all(e["fault"].startswith("fault #") for e in entries[:2])
    assert json.loads(entries[0]["response_body"])["error"]["httpStatusCode"] == 503
    token = h["Authorization"].removeprefix("Bearer ")
    assert token not in journal.text  # secrets redacted in every entry, faulted or not
    for e in entries:
        auth = next(v for k, v in e["request_headers"].items() if k.lower() == "authorization")
        assert auth.startswith("Bearer ***") and auth.endswith(token[-4:])
    rules = severa.control("GET", "/faults").json()["faults"]
    assert rules[0]["fired"] == 2 and rules[0]["exhausted"] is True
    severa.control("DELETE", "/faults")


def test_journal_redacts_secrets_and_tokens(severa: SeveraTarget) -> None:
    severa.require_control()
    severa.reset()
    severa.control("DELETE", "/journal")
    c = severa.creds()
    tok = severa.http.post(
        f"{BASE}/v1/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]}
    ).json()
    severa.http.get(f"{BASE}/v1/invoicestatuses", headers={"Authorization": f"Bearer {tok['access_token']}"})
    refreshed = severa.http.post(f"{BASE}/v1/refreshtoken", json=tok["refresh_token"]).json()
    journal = severa.control("GET", "/journal").text
    assert len(json.loads(journal)["entries"]) == 3
    for secret in (
        c["client_secret"],
        tok["access_token"],
        tok["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
    ):
        assert secret not in journal
    assert c["client_id"] in journal  # the client id is not a secret: support needs it
    entries = json.loads(journal)["entries"]
    tenants = {e["tenant"] for e in entries if e["path"].endswith("invoicestatuses")}
    assert tenants == {severa.sim.refs["main"]}


def test_clock_advance_expires_tokens_over_http(severa: SeveraTarget) -> None:
    severa.require_control()
    h = severa.headers()
    assert severa.get("/v1/invoicestatuses", headers=h).status_code == 200
    severa.control("POST", "/clock", json={"advance": 3601})
    assert_envelope(severa.get("/v1/invoicestatuses", headers=h), 401, "AuthenticationRequired")
    severa._tokens.clear()
    assert severa.get("/v1/invoicestatuses").status_code == 200


def test_ui_actor_creates_invoice_and_moves_it(severa: SeveraTarget) -> None:
    severa.require_control()
    severa.reset()
    customers = severa.all_pages("/v1/customers")
    r = severa.control(
        "POST",
        "/severa/invoices",
        json={
            "customer": customers[0]["number"],
            "status": "Luonnos",
            "your_reference": "UI",
            "rows": [
                {"kind": "hours", "ref": "KEH", "quantity": 3},
                {"kind": "fee", "ref": "KONS", "quantity": 1},
                {"kind": "travel", "ref": "KM", "quantity": 40},
            ],
        },
    )
    assert r.status_code == 201, r.text
    inv = r.json()
    assert inv["number"] is None and inv["customer"]["guid"] == customers[0]["guid"]
    api_view = severa.get(f"/v1/invoices/{inv['guid']}").json()
    assert api_view["guid"] == inv["guid"] and api_view["yourReference"] == "UI"
    codes = [row["code"] for row in severa.all_pages(f"/v1/invoices/{inv['guid']}/invoicerows")]
    assert codes == [["KEH"], ["KONS"], ["KM"]]
    moved = severa.control(
        "POST", f"/severa/invoices/{inv['guid']}/status", json={"status": "Odottaa siirtoa Maestroon"}
    )
    assert moved.status_code == 200 and moved.json()["number"] is not None
    assert (
        severa.control("POST", "/severa/invoices/nope/status", json={"status": "Luonnos"}).status_code == 404
    )
    bad = severa.control(
        "POST", "/severa/invoices", json={"rows": [{"kind": "hours", "ref": "NOPE", "quantity": 1}]}
    )
    assert bad.status_code == 400
    st = severa.control("POST", "/severa/statuses", json={"name": "Siirretty Netvisoriin", "is_sent": True})
    assert st.status_code == 201 and st.json()["isSent"] is True
    assert severa.control("POST", "/severa/statuses", json={"name": "X", "is_sent": "yes"}).status_code == 400
    second = severa.control("POST", "/severa/invoices", json={"organization": "nope"})
    assert second.status_code == 404
    severa.reset()
