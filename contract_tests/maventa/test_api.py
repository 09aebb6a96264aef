"""Auth, registration, settings, sending, routing, lookups and security of the AX fake."""

from __future__ import annotations

import base64

import pytest

from contract_tests.maventa.conftest import MaventaTarget
from contract_tests.maventa.helpers import invoice_zip
from tests.maventa.finvoice_factory import FinvoiceSpec, build_finvoice, build_tree


@pytest.fixture
def h(maventa: MaventaTarget) -> dict[str, str]:
    maventa.target.require_control()
    maventa.reset()
    return maventa.demo_headers()


def test_token_variants_and_errors(maventa: MaventaTarget, h: dict[str, str]) -> None:
    c, http = maventa.creds(), maventa.http
    basic = base64.b64encode(f"{c['company_id']}:{c['user_api_key']}".encode()).decode()
    r = http.post(
        "/oauth2/token",
        headers={"Authorization": f"Basic {basic}"},
        files={"grant_type": (None, "client_credentials"), "vendor_api_key": (None, c["vendor"])},
    )
    assert r.status_code == 200 and r.json()["token_type"] == "bearer" and r.json()["expires_in"] == 3600
    assert r.json()["scope"] == "global company"
    bad = http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": c["company_id"],
            "client_secret": "wrong",
            "vendor_api_key": c["vendor"],
        },
    )
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_credentials"
    assert http.get("/v1/company/settings").json()["code"] == "auth_unauthorized"
    assert http.get("/oauth2/current", headers=h).json()["company"]["id"] == c["company_id"]
    assert http.get("/status/authenticated", headers=h).json()["client_id"] == c["company_id"]
    narrow = {"Authorization": "Bearer " + r.json()["access_token"]}
    denied = http.post(
        "/v1/invoices", headers=narrow, files={"file": ("a.xml", build_finvoice(), "application/xml")}
    )
    assert denied.status_code == 403 and denied.json()["code"] == "insufficient_scope"
    maventa.control("POST", "/clock", json={"advance": 3601})
    expired = http.get("/oauth2/current", headers=h)
    assert expired.status_code == 401 and expired.json()["code"] == "auth_unauthorized"


def test_existing_user_gets_no_key_and_partner_lookup(maventa: MaventaTarget, h: dict[str, str]) -> None:
    c, http = maventa.creds(), maventa.http
    r = http.post("/v1/users", json={"vendor_api_key": c["vendor"], "email": "Juhani.Huuskonen@ranta.fi"})
    assert r.status_code == 201 and r.json() == {}
    ph = {
        "Authorization": "Bearer "
        + maventa.token(c["company_id"], c["user_api_key"], c["vendor"], "partner:lookups company")
    }
    r = http.get("/v1/partner/lookups/companies", headers=ph, params={"bids": "1916215-7,2615835-9"})
    assert [x["company_status"] for x in r.json()] == ["RESERVED", "FREE"]


def test_settings_single_block_patch_and_validation(maventa: MaventaTarget, h: dict[str, str]) -> None:
    http = maventa.http
    before = http.get("/v1/company/settings", headers=h).json()
    assert (
        before["send_invoice_print"]["enabled"] is False and before["send_invoice_email"]["enabled"] is True
    )
    assert (
        http.patch(
            "/v1/company/settings",
            headers=h,
            json={"invoice_notifications": {"on_send_errors": {"to_emails": ["ops@ranta.fi"]}}},
        ).status_code
        == 204
    )
    after = http.get("/v1/company/settings", headers=h, params={"fields[]": "invoice_notifications"}).json()
    assert list(after) == ["invoice_notifications"]
    assert after["invoice_notifications"]["on_send_errors"] == {
        "to_user": True,
        "to_emails": ["ops@ranta.fi"],
    }
    bad = http.patch("/v1/company/settings", headers=h, json={"send_invoice_print": {"enabled": "yes"}})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_parameters"


def test_uuid_idempotency_lists_files_and_actions(maventa: MaventaTarget, h: dict[str, str]) -> None:
    http = maventa.http
    files = {
        "file": (
            "1001.zip",
            invoice_zip("1001", buyer_email="reskontra@asiakas.fi", buyer_name="Uusi Asiakas Oy"),
            "application/zip",
        )
    }
    uid = "0c7d7a8e-6f0f-4c55-9d3a-3f6f5d1c0001"
    first = http.post("/v1/invoices", headers=h, data={"uuid": uid}, files=files)
    second = http.post("/v1/invoices", headers=h, data={"uuid": uid}, files=files)
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"] == uid
    assert len(http.get("/v1/invoices", headers=h, params={"direction": "SENT"}).json()) == 1
    inv = first.json()
    types = {f["type"] for f in inv["files"]}
    assert {"INVOICE_XML", "INVOICE_IMAGE", "ATTACHMENT"} <= types
    image = next(f for f in inv["files"] if f["type"] == "INVOICE_IMAGE")
    assert http.get(f"/v1/invoices/{uid}/files/{image['id']}", headers=h).content.startswith(b"%PDF")
    original = http.get(f"/v1/invoices/{uid}", headers=h, params={"return_format": "ORIGINAL_IMAGE"})
    assert original.content.startswith(b"%PDF")
    maventa.control("POST", f"/invoices/{uid}/deliver")
    acts = http.get(f"/v1/invoices/{uid}/actions", headers=h).json()
    assert [a["type"] for a in acts][-2:] == ["SENT", "DELIVERED"] and acts[-2]["key"] == "action_sent_email"
    mails = maventa.control("GET", "/outbox", params={"purpose": "invoice"}).json()["messages"]
    assert mails[0]["to"] == ["reskontra@asiakas.fi"]
    listed = http.get(
        "/v1/invoices",
        headers=h,
        params={"direction": "SENT", "status[]": "DELIVERED", "number": "1001", "per_page": 5},
    ).json()
    assert [i["id"] for i in listed] == [uid]
    assert http.get("/v1/invoices", headers=h, params={"direction": "bogus"}).status_code == 400


def test_einvoice_routing_pair_registry_and_fail_actor(maventa: MaventaTarget, h: dict[str, str]) -> None:
    http = maventa.http
    salo = {"buyer_name": "Salo Oy", "buyer_bid": "3040294-0"}
    r = http.post("/v1/invoices", headers=h, files={"file": ("a.xml", build_finvoice(number="7", **salo))})
    maventa.control("POST", f"/invoices/{r.json()['id']}/deliver")
    inv = http.get(f"/v1/invoices/{r.json()['id']}", headers=h).json()
    assert inv["destination"] == "EINVOICE" and inv["recipient"]["eia"] == "003730402940"
    wrong = http.post(
        "/v1/invoices",
        headers=h,
        data={"recipient_eia": "003730402940", "recipient_operator": "003723327487"},
        files={"file": ("b.xml", build_finvoice(number="8", **salo))},
    ).json()
    maventa.control("POST", f"/invoices/{wrong['id']}/deliver")
    failed = http.get(f"/v1/invoices/{wrong['id']}", headers=h).json()
    assert failed["status"] == "FAILED"  # a given pair has no fallback, even though e-mail would work
    r = http.put(
        f"/v1/invoices/{wrong['id']}/reroute/email", headers=h, json={"recipient_email": "ap@salo.fi"}
    )
    assert r.status_code == 200
    maventa.control("POST", f"/invoices/{wrong['id']}/deliver")
    assert http.get(f"/v1/invoices/{wrong['id']}", headers=h).json()["destination"] == "EMAIL"
    r = maventa.control("POST", f"/invoices/{inv['id']}/fail", json={"message": "Operator rejected"})
    assert r.json()["status"] == "FAILED"
    assert maventa.control("GET", "/outbox", params={"purpose": "send_error"}).json()["messages"]


def test_duplicate_numbers_are_stopped_for_seven_days(maventa: MaventaTarget, h: dict[str, str]) -> None:
    http = maventa.http
    http.patch(
        "/v1/company/settings", headers=h, json={"send_invoice_general": {"stop_duplicate_numbers": True}}
    )
    xml = build_finvoice(number="55", buyer_email="a@b.fi", buyer_name="Uusi Asiakas Oy")
    first = http.post("/v1/invoices", headers=h, files={"file": ("a.xml", xml)}).json()
    dup = http.post("/v1/invoices", headers=h, files={"file": ("a.xml", xml)}).json()
    maventa.control("POST", "/clock", json={"advance": 120})
    assert http.get(f"/v1/invoices/{first['id']}", headers=h).json()["status"] == "DELIVERED"
    assert http.get(f"/v1/invoices/{dup['id']}", headers=h).json()["status"] == "FAILED"
    maventa.control("POST", "/clock", json={"advance": 8 * 86400})
    h = maventa.demo_headers()  # the old token expired meanwhile
    later = http.post("/v1/invoices", headers=h, files={"file": ("a.xml", xml)}).json()
    maventa.control("POST", f"/invoices/{later['id']}/deliver")
    assert http.get(f"/v1/invoices/{later['id']}", headers=h).json()["status"] == "DELIVERED"


def test_validation_and_unsafe_xml(maventa: MaventaTarget, h: dict[str, str]) -> None:
    http = maventa.http
    from lxml import etree

    root = build_tree(FinvoiceSpec())
    root.remove(root.find("EpiDetails"))
    r = http.post("/v1/invoices", headers=h, files={"file": ("x.xml", etree.tostring(root))})
    assert r.status_code == 400 and any("'EpiDetails'" in d for d in r.json()["details"])
    for payload in (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Finvoice>&x;'
        b"</Finvoice>",
        b'<!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><Finvoice>&b;</Finvoice>',
    ):
        r = http.post("/v1/invoices", headers=h, files={"file": ("x.xml", payload)})
        assert 400 <= r.status_code < 500 and "root:" not in r.text and "lollol" not in r.text
    journal = maventa.control("GET", "/journal").text
    assert "root:x:0:0" not in journal
    assert (
        http.post("/v1/invoices", headers=h, files={"file": ("x.xml", b"x" * (11 * 1024 * 1024))}).status_code
        == 413
    )


def test_lookups(maventa: MaventaTarget, h: dict[str, str]) -> None:
    http = maventa.http
    r = http.get("/v1/lookup/receivers", headers=h, params={"bid": "0112038-9"}).json()
    assert {x["operator"] for x in r} == {"003721291126", "003723327487"}
    r = http.get("/v1/lookup/receivers", headers=h, params={"eia": "003723947571"}).json()
    assert r[0]["participant"]["name"] == "Koivisto Saarinen As Oy"
    ends = http.get("/v1/lookup/endpoints", headers=h, params={"business_ids": "3040294-0,3112404-9"}).json()
    assert [e["sending"] for e in ends] == [["EINVOICE"], []]


def test_every_implemented_operation_was_validated(maventa: MaventaTarget) -> None:
    validator = maventa.parity.validator
    if validator is None:
        pytest.skip("vendor spec not found")
    maventa.target.require_control()
    # under xdist the other modules may run on another worker: exercise the flow here too
    from contract_tests.maventa.test_flow import test_register_authorise_and_print

    test_register_authorise_and_print(maventa)
    for name, fn in list(globals().items()):
        if name.startswith("test_") and name != "test_every_implemented_operation_was_validated":
            maventa.reset()
            fn(maventa, maventa.demo_headers())
    routes = maventa.control("GET", "/routes").json()["routes"]
    implemented = {
        (
            m,
            "/"
            + "/".join(
                "{" + p.strip("<>").split(":")[-1] + "}" if p.startswith("<") else p
                for p in r["path"].strip("/").split("/")
            ),
        )
        for r in routes
        for m in r["methods"]
        if m not in ("HEAD", "OPTIONS") and not r["path"].startswith("/_sim")
    }
    in_spec = {
        (m, p.replace("{channel}", c)) for m, p in implemented for c in ("einvoice", "email", "print")
    } & validator.spec_operations()
    in_spec |= implemented & validator.spec_operations()
    missing = in_spec - validator.covered
    assert not missing, f"operations never validated against the vendor spec: {sorted(missing)}"
