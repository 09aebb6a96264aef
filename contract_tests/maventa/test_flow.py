"""The acceptance flow over HTTP: register -> token -> refused while unverified -> authorise ->
invitation in the outbox -> sign -> VERIFIED -> print with own PDF (cover page, >= 2 pages
charged) -> print disabled => FAILED with the real message and an error e-mail."""

from __future__ import annotations

from decimal import Decimal

from contract_tests.maventa.conftest import MaventaTarget
from contract_tests.maventa.helpers import NO_EINVOICE_BUYER, invoice_zip
from simulators.maventa.routing import PRINT_NOT_ENABLED


def test_register_authorise_and_print(maventa: MaventaTarget) -> None:
    maventa.target.require_control()
    maventa.reset()
    http = maventa.http
    vendor = maventa.creds()["vendor"]
    r = http.post(
        "/v1/users",
        json={
            "vendor_api_key": vendor,
            "email": "tuomo.hannula@ranta.fi",
            "first_name": "Tuomo",
            "last_name": "Hannula",
        },
    )
    assert r.status_code == 201
    user_key = r.json()["user_api_key"]
    form = {
        "vendor_api_key": vendor,
        "user_api_key": user_key,
        "name": "Ranta Oy",
        "bid": "FI26158359",
        "no_vat": "false",
        "address1": "Haaksibulevardi 64",
        "post_code": "59382",
        "post_office": "KALAJOKI",
        "city": "Kalajoki",
        "country": "FI",
        "email": "tuomo.hannula@ranta.fi",
    }
    r = http.post("/v1/companies", files={k: (None, v) for k, v in form.items()})
    assert r.status_code == 201, r.text
    company_id = r.json()["id"]
    again = http.post("/v1/companies", files={k: (None, v) for k, v in form.items()})
    assert again.status_code == 422 and again.json()["message"] == "BID ALREADY TAKEN"
    auth = {"Authorization": "Bearer " + maventa.token(company_id, user_key, vendor)}
    assert http.get("/v1/companies", headers=auth).json() == [
        {"id": company_id, "name": "Ranta Oy", "bid": "2615835-9"}
    ]
    refused = http.post(
        "/v1/invoices", headers=auth, files={"file": ("1001.zip", invoice_zip(), "application/zip")}
    )
    assert refused.status_code == 403 and refused.json()["message"] == "Unauthorized"
    assert http.get("/v1/company/authorization", headers=auth).json()["auth_state"] == "NONE"
    r = http.post(
        "/v1/company/authorization", headers=auth, json={"auth_email": "signer@ranta.fi", "locale": "FI"}
    )
    assert r.status_code == 200 and r.json()["status"] == "SENT"
    invitation = maventa.control("GET", "/outbox", params={"purpose": "authorization_invitation"}).json()[
        "messages"
    ]
    assert [m["to"] for m in invitation] == [["signer@ranta.fi"]]
    status = http.get(f"/v1/companies/{company_id}/status", headers=auth).json()
    assert status == {"auth_state": "SENT", "auth_email": "signer@ranta.fi", "company_state": "UNVERIFIED"}
    assert maventa.control("POST", f"/companies/{company_id}/authorization/sign").status_code == 200
    status = http.get("/v1/company/authorization", headers=auth).json()
    assert (status["auth_state"], status["company_state"]) == ("SIGNED", "VERIFIED")

    r = http.patch(
        "/v1/company/settings",
        headers=auth,
        json={
            "send_invoice_email": {"enabled": False},
            "send_invoice_print": {"enabled": True, "use_own_pdf": True},
        },
    )
    assert r.status_code == 204
    package = invoice_zip("1001", **NO_EINVOICE_BUYER)  # a valid Finvoice 3.0 + 1001.pdf (own PDF, 1 page)
    r = http.post(
        "/v1/invoices",
        headers=auth,
        data={"format": "FINVOICE30"},
        files={"file": ("1001.zip", package, "application/zip")},
    )
    assert r.status_code == 201, r.text
    inv = r.json()
    assert inv["status"] == "PENDING" and inv["actions"][0]["type"] == "CREATED"
    assert inv["recipient"].get("eia") is None and inv["recipient"]["name"] == "Liukkonen Oy"
    assert maventa.control("POST", "/clock", json={"advance": 120}).status_code == 200
    done = http.get(f"/v1/invoices/{inv['id']}", headers=auth).json()
    assert done["status"] == "DELIVERED" and done["destination"] == "PRINT"
    assert any(a.get("key") == "action_sent_print" for a in done["actions"])
    jobs = maventa.control("GET", "/outbox", params={"kind": "print", "invoice_id": inv["id"]}).json()[
        "messages"
    ]
    assert len(jobs) == 1
    job = jobs[0]["print_job"]
    assert job["cover_page"] and job["own_image"] and job["pages"] >= 2
    assert job["charge"]["pages_billed"] == job["pages"]  # the cover page is billed too
    charge = job["charge"]
    assert Decimal(charge["total"]) == Decimal(charge["letter"]) + job["pages"] * Decimal(
        charge["page_price"]
    )
    parts = jobs[0]["attachments"]
    assert [(p["type"], p["pages"]) for p in parts] == [("COVER_PAGE", 1), ("INVOICE_IMAGE", 1)]
    cover = maventa.control("GET", f"/outbox/{jobs[0]['id']}/attachments/0").content
    assert cover.startswith(b"%PDF")
    printed = maventa.control("GET", f"/outbox/{jobs[0]['id']}/attachments/1").content
    own_pdf = next(f for f in done["files"] if f["type"] == "INVOICE_IMAGE")
    assert printed == http.get(f"/v1/invoices/{inv['id']}/files/{own_pdf['id']}", headers=auth).content

    # the same invoice again with the print service disabled
    http.patch("/v1/company/settings", headers=auth, json={"send_invoice_print": {"enabled": False}})
    r = http.post(
        "/v1/invoices",
        headers=auth,
        data={"format": "FINVOICE30"},
        files={"file": ("1001.zip", package, "application/zip")},
    )
    assert r.status_code == 201, r.text
    failed_id = r.json()["id"]
    assert failed_id != inv["id"]
    http.get(f"/v1/invoices/{failed_id}", headers=auth)  # polls_to_deliver=1: the second read settles it
    failed = http.get(f"/v1/invoices/{failed_id}", headers=auth).json()
    assert failed["status"] == "FAILED"
    assert [a["message"] for a in failed["actions"] if a["type"] == "ERROR"] == [PRINT_NOT_ENABLED]
    assert (
        PRINT_NOT_ENABLED
        == "The invoice could not be sent to the print service. Print service is not enabled"
    )
    errors = maventa.control(
        "GET", "/outbox", params={"purpose": "send_error", "invoice_id": failed_id}
    ).json()
    assert len(errors["messages"]) == 1
    assert errors["messages"][0]["kind"] == "email" and errors["messages"][0]["to"] == [
        "tuomo.hannula@ranta.fi"
    ]
    assert PRINT_NOT_ENABLED in errors["messages"][0]["body"]
    assert maventa.control("GET", "/outbox", params={"kind": "print", "invoice_id": failed_id}).json() == {
        "messages": []
    }
