"""Routing, print service, lifecycle, error notifications, send parameters and lookups of the AX fake.

Each test starts from the demo world (fixture ``h``: the verified company Hämäläinen ry Oy).
``send`` uploads an invoice, ``settle`` moves the simulated clock past the delivery delay and
reads the invoice back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contract_tests.maventa.conftest import MaventaTarget
from contract_tests.maventa.helpers import NO_EINVOICE_BUYER, invoice_zip, register_verified_company
from simulators.maventa.routing import NO_ROUTE, PRINT_ADDRESS_INCOMPLETE, PRINT_NOT_ENABLED
from tests.maventa.finvoice_factory import build_finvoice

SALO = {"buyer_name": "Salo Oy", "buyer_bid": "3040294-0"}  # in the registry via Maventa (003721291126)


def send(
    maventa: MaventaTarget, h: dict[str, str], xml_or_zip: bytes, name: str = "a.xml", **data: Any
) -> Any:
    r = maventa.http.post("/v1/invoices", headers=h, data=data, files={"file": (name, xml_or_zip)})
    assert r.status_code == 201, r.text
    return r.json()


def settle(maventa: MaventaTarget, h: dict[str, str], invoice_id: str) -> Any:
    maventa.control("POST", "/clock", json={"advance": 120})
    return maventa.http.get(f"/v1/invoices/{invoice_id}", headers=h).json()


def outbox(maventa: MaventaTarget, **params: str) -> list[dict[str, Any]]:
    return list(maventa.control("GET", "/outbox", params=params).json()["messages"])


def settings(maventa: MaventaTarget, h: dict[str, str], body: dict[str, Any]) -> None:
    assert maventa.http.patch("/v1/company/settings", headers=h, json=body).status_code == 204


def errors_of(inv: dict[str, Any]) -> list[str]:
    return [a["message"] for a in inv["actions"] if a["type"] == "ERROR"]


# --------------------------------------------------------------------------- routing
def test_disabled_routes_and_recipient_email(maventa: MaventaTarget, h: dict[str, str]) -> None:
    xml = build_finvoice(number="201", buyer_email="laskut@salo.fi", **SALO)
    assert settle(maventa, h, send(maventa, h, xml)["id"])["destination"] == "EINVOICE"
    inv = settle(maventa, h, send(maventa, h, xml, **{"disabled_routes[]": "einvoice"})["id"])
    assert (inv["status"], inv["destination"]) == ("DELIVERED", "EMAIL")
    assert outbox(maventa, invoice_id=inv["id"])[0]["to"] == ["laskut@salo.fi"]
    # forcing e-mail to another address: disabled_routes einvoice+print and recipient_email
    forced = send(
        maventa, h, xml, **{"disabled_routes[]": ["einvoice", "print"], "recipient_email": "ostot@salo.fi"}
    )
    inv = settle(maventa, h, forced["id"])
    assert inv["destination"] == "EMAIL" and outbox(maventa, invoice_id=inv["id"])[0]["to"] == [
        "ostot@salo.fi"
    ]
    # every route closed: FAILED with a message, nothing sent
    no_print = settle(maventa, h, send(maventa, h, xml, **{"disabled_routes[]": "einvoice,email"})["id"])
    assert no_print["status"] == "FAILED" and errors_of(no_print) == [PRINT_NOT_ENABLED]
    closed = settle(maventa, h, send(maventa, h, xml, **{"disabled_routes[]": "einvoice,email,print"})["id"])
    assert closed["status"] == "FAILED" and errors_of(closed) == [NO_ROUTE]
    assert [m["purpose"] for m in outbox(maventa, invoice_id=closed["id"])] == ["send_error"]


def test_registry_lookup_needs_name_and_business_id_to_match(
    maventa: MaventaTarget, h: dict[str, str]
) -> None:
    mail = {"buyer_email": "ap@example.fi"}
    by_bid = settle(maventa, h, send(maventa, h, build_finvoice(number="211", **SALO, **mail))["id"])
    assert (by_bid["destination"], by_bid["recipient"]["operator"]) == ("EINVOICE", "003721291126")
    wrong_name = build_finvoice(number="212", buyer_name="Salon Sähkö Oy", buyer_bid="3040294-0", **mail)
    inv = settle(maventa, h, send(maventa, h, wrong_name)["id"])
    assert inv["destination"] == "EMAIL"  # the registry entry is not this buyer: not e-invoiced
    assert any("did not both match" in a["message"] for a in inv["actions"])
    # only an EIA (BuyerOrganisationUnitNumber): looked up, name must match too
    only_eia = build_finvoice(number="213", to_eia="003730402940", **SALO, **mail)
    inv = settle(maventa, h, send(maventa, h, only_eia)["id"])
    assert (inv["destination"], inv["recipient"]["eia"]) == ("EINVOICE", "003730402940")
    eia_other_name = build_finvoice(
        number="214", to_eia="003730402940", buyer_name="Joku Muu Oy", buyer_bid="3040294-0", **mail
    )
    assert settle(maventa, h, send(maventa, h, eia_other_name)["id"])["destination"] == "EMAIL"
    # a business ID with two addresses: the Maventa one wins when both match
    two = build_finvoice(number="215", buyer_name="Kaksiosoite Oy", buyer_bid="0112038-9")
    inv = settle(maventa, h, send(maventa, h, two)["id"])
    assert (inv["recipient"]["eia"], inv["recipient"]["operator"]) == ("003701120389", "003721291126")


def test_explicit_pair_in_the_xml_has_no_fallback(maventa: MaventaTarget, h: dict[str, str]) -> None:
    xml = build_finvoice(
        number="221", to_eia="003730402940", to_operator="BAWCFI22", buyer_email="a@salo.fi", **SALO
    )
    inv = settle(maventa, h, send(maventa, h, xml)["id"])
    assert inv["status"] == "FAILED" and "not served by operator" in errors_of(inv)[0]
    bank = build_finvoice(
        number="222", to_eia="FI4950009420028730", to_operator="OKOYFIHH", buyer_email="a@b.fi"
    )
    inv = settle(maventa, h, send(maventa, h, bank)["id"])
    assert inv["status"] == "FAILED" and "pankkiverkkoyhteys" in errors_of(inv)[0]
    forced_email = send(
        maventa, h, build_finvoice(number="223", buyer_email="a@b.fi", **SALO), recipient_eia="EMAIL"
    )
    assert settle(maventa, h, forced_email["id"])["destination"] == "EMAIL"


def test_print_needs_the_service_and_a_full_address(maventa: MaventaTarget, h: dict[str, str]) -> None:
    settings(maventa, h, {"send_invoice_email": {"enabled": False}})
    xml = build_finvoice(number="231", **NO_EINVOICE_BUYER | {"buyer_email": "a@b.fi"})
    inv = settle(maventa, h, send(maventa, h, xml)["id"])
    assert inv["status"] == "FAILED" and errors_of(inv) == [PRINT_NOT_ENABLED]  # e-mail off: not e-mailed
    settings(maventa, h, {"send_invoice_print": {"enabled": True}})
    no_country = build_finvoice(number="232", buyer_country=None, **NO_EINVOICE_BUYER)
    inv = settle(maventa, h, send(maventa, h, no_country)["id"])
    assert inv["status"] == "FAILED" and errors_of(inv) == [PRINT_ADDRESS_INCOMPLETE]
    no_street = build_finvoice(number="233", buyer_street=None, **NO_EINVOICE_BUYER)
    assert settle(maventa, h, send(maventa, h, no_street)["id"])["status"] == "FAILED"
    full = settle(maventa, h, send(maventa, h, build_finvoice(number="234", **NO_EINVOICE_BUYER))["id"])
    assert (full["status"], full["destination"]) == ("DELIVERED", "PRINT")


# --------------------------------------------------------------------------- print service (MV-7)
def test_print_without_own_pdf_uses_maventas_rendering(maventa: MaventaTarget, h: dict[str, str]) -> None:
    settings(maventa, h, {"send_invoice_email": {"enabled": False}, "send_invoice_print": {"enabled": True}})
    zipped = invoice_zip("241", pdf_pages=3, **NO_EINVOICE_BUYER)
    inv = settle(maventa, h, send(maventa, h, zipped, "241.zip")["id"])  # use_own_pdf is off
    [job] = outbox(maventa, kind="print", invoice_id=inv["id"])
    assert job["print_job"]["cover_page"] is False and job["print_job"]["own_image"] is False
    assert [a["type"] for a in job["attachments"]] == ["GENERATED_IMAGE"]
    assert job["print_job"]["pages"] == job["attachments"][0]["pages"] == 1
    # the per-invoice override prints the own PDF, with the cover page
    own = send(
        maventa,
        h,
        invoice_zip("242", pdf_pages=3, **NO_EINVOICE_BUYER),
        "242.zip",
        **{"print_settings[print_own_image]": "true"},
    )
    [job] = outbox(maventa, kind="print", invoice_id=settle(maventa, h, own["id"])["id"])
    assert [a["type"] for a in job["attachments"]] == ["COVER_PAGE", "INVOICE_IMAGE"]
    assert [a["pages"] for a in job["attachments"]] == [1, 3]
    assert job["print_job"]["pages"] == 4 and job["print_job"]["sheets"] == 2 and job["print_job"]["duplex"]
    pdf = maventa.control("GET", f"/outbox/{job['id']}/attachments/0")
    assert pdf.content.startswith(b"%PDF") and b"Maventa print service - cover page" in _pdf_text(pdf.content)


def _pdf_text(pdf: bytes) -> bytes:
    import io

    from pypdf import PdfReader

    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).encode()


def test_every_page_is_billed_colour_on_all_pages(maventa: MaventaTarget, h: dict[str, str]) -> None:
    settings(
        maventa,
        h,
        {
            "send_invoice_email": {"enabled": False},
            "send_invoice_print": {"enabled": True, "use_own_pdf": True, "color_scheme": "COLORED"},
        },
    )
    inv = send(maventa, h, invoice_zip("251", pdf_pages=1, **NO_EINVOICE_BUYER), "251.zip")
    [job] = outbox(maventa, kind="print", invoice_id=settle(maventa, h, inv["id"])["id"])
    pj = job["print_job"]
    assert pj["pages"] == 2 and pj["cover_page"]  # a one-page PDF still costs two pages
    charge = pj["charge"]
    assert charge["pages_billed"] == charge["colour_pages_billed"] == 2
    expected = (
        Decimal(charge["letter"])
        + 2 * Decimal(charge["page_price"])
        + 2 * Decimal(charge["colour_page_price"])
    )
    assert Decimal(charge["total"]) == expected and Decimal(charge["colour_page_price"]) > 0
    # per invoice: black and white, priority letter
    inv = send(
        maventa,
        h,
        invoice_zip("252", pdf_pages=2, **NO_EINVOICE_BUYER),
        "252.zip",
        **{"print_settings[color]": "false", "print_settings[letter_class]": "PRIORITY"},
    )
    [job] = outbox(maventa, kind="print", invoice_id=settle(maventa, h, inv["id"])["id"])
    pj = job["print_job"]
    assert (pj["pages"], pj["letter_class"], pj["charge"]["colour_pages_billed"]) == (3, "PRIORITY", 0)
    assert Decimal(pj["charge"]["letter"]) > Decimal(charge["letter"])


# --------------------------------------------------------------------------- lifecycle and notifications
def test_actions_and_keys_through_the_lifecycle(maventa: MaventaTarget, h: dict[str, str]) -> None:
    inv = send(maventa, h, build_finvoice(number="261", **NO_EINVOICE_BUYER | {"buyer_email": "a@b.fi"}))
    assert inv["status"] == "PENDING" and [(a["type"], a.get("key")) for a in inv["actions"]] == [
        ("CREATED", "action_created")
    ]
    done = settle(maventa, h, inv["id"])
    assert [(a["type"], a.get("channel"), a.get("key")) for a in done["actions"]] == [
        ("CREATED", None, "action_created"),
        ("SENT", "EMAIL", "action_sent_email"),
        ("DELIVERED", "EMAIL", "action_delivered"),
    ]
    failed = settle(maventa, h, send(maventa, h, build_finvoice(number="262", **NO_EINVOICE_BUYER))["id"])
    assert [(a["type"], a.get("key")) for a in failed["actions"]][-1] == ("ERROR", "action_route_failed")
    only_errors = maventa.http.get(
        f"/v1/invoices/{failed['id']}/actions", headers=h, params={"type[]": "ERROR"}
    )
    assert [a["message"] for a in only_errors.json()] == [PRINT_NOT_ENABLED]
    # the recipient's network fails a PENDING invoice: SENT then ERROR (action_delivery_failed)
    pending = send(maventa, h, build_finvoice(number="263", **SALO))
    r = maventa.control(
        "POST", f"/invoices/{pending['id']}/fail", json={"message": "Recipient unknown at operator"}
    )
    assert r.status_code == 200
    assert [(a["type"], a.get("key")) for a in r.json()["actions"]][-2:] == [
        ("SENT", None),
        ("ERROR", "action_delivery_failed"),
    ]
    assert maventa.control("POST", f"/invoices/{pending['id']}/deliver").status_code == 409


def test_send_errors_go_to_the_on_send_errors_addresses(maventa: MaventaTarget, h: dict[str, str]) -> None:
    settings(
        maventa,
        h,
        {
            "invoice_notifications": {
                "on_send_errors": {"to_user": False, "to_emails": ["ops@ranta.fi", "cfo@ranta.fi"]}
            }
        },
    )
    failed = settle(maventa, h, send(maventa, h, build_finvoice(number="271", **NO_EINVOICE_BUYER))["id"])
    assert failed["status"] == "FAILED"
    [mail] = outbox(maventa, purpose="send_error", invoice_id=failed["id"])
    assert mail["to"] == ["ops@ranta.fi", "cfo@ranta.fi"] and mail["kind"] == "email"
    assert "271" in mail["subject"] and PRINT_NOT_ENABLED in mail["body"] and "Liukkonen Oy" in mail["body"]
    settings(
        maventa,
        h,
        {"invoice_notifications": {"on_send_errors": {"to_user": True, "to_emails": ["ops@ranta.fi"]}}},
    )
    failed = settle(maventa, h, send(maventa, h, build_finvoice(number="272", **NO_EINVOICE_BUYER))["id"])
    [mail] = outbox(maventa, purpose="send_error", invoice_id=failed["id"])
    assert mail["to"] == ["taru.moilanen@ranta.fi", "ops@ranta.fi"]  # to_user = the user whose key sent it
    settings(maventa, h, {"invoice_notifications": {"on_send_errors": {"to_user": False, "to_emails": []}}})
    failed = settle(maventa, h, send(maventa, h, build_finvoice(number="273", **NO_EINVOICE_BUYER))["id"])
    assert outbox(maventa, purpose="send_error", invoice_id=failed["id"]) == []


# --------------------------------------------------------------------------- parameters, listing, lookups
def test_send_parameters_are_checked(maventa: MaventaTarget, h: dict[str, str]) -> None:
    http, xml = maventa.http, build_finvoice(number="281")

    def post(data: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
        return http.post("/v1/invoices", headers=h, data=data, files=files or {"file": ("a.xml", xml)})

    for data, code in (
        ({"lang": "XX"}, "invalid_parameters"),
        ({"format": "NOTAFORMAT"}, "invalid_parameters"),
        ({"format": "PEPPOLBIS30"}, "format_not_supported"),
        ({"disabled_routes[]": "fax"}, "invalid_parameters"),
        ({"print_settings[letter_class]": "FIRST"}, "invalid_parameters"),
        ({"print_settings[color]": "maybe"}, "invalid_parameters"),
    ):
        r = post(data)
        assert (r.status_code, r.json()["code"]) == (400, code), (data, r.text)
    assert post({}, {"other": ("a.xml", xml)}).status_code == 400  # no `file`
    two_xml = _zip({"a.xml": xml, "b.xml": xml})
    r = post({}, {"file": ("two.zip", two_xml)})
    assert r.status_code == 400 and r.json()["code"] == "invalid_file"
    for lang in ("FI", "EN", "se"):
        assert post({"lang": lang, "format": "FINVOICE30"}).status_code == 201
    assert http.get("/v1/invoices", headers=h, params={"direction": "SENT"}).headers["X-Total"] == "3"


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_invoice_list_pages_and_filters(maventa: MaventaTarget, h: dict[str, str]) -> None:
    ids = [
        send(maventa, h, build_finvoice(number=str(300 + i), buyer_email="a@b.fi"))["id"] for i in range(3)
    ]
    page1 = maventa.http.get("/v1/invoices", headers=h, params={"direction": "SENT", "per_page": 2})
    assert page1.headers["X-Total"] == "3" and page1.headers["X-Total-Pages"] == "2"
    assert page1.headers["X-Next-Page"] == "2" and len(page1.json()) == 2
    page2 = maventa.http.get(
        "/v1/invoices", headers=h, params={"direction": "SENT", "per_page": 2, "page": 2}
    )
    assert "X-Next-Page" not in page2.headers
    assert {i["id"] for i in page1.json() + page2.json()} == set(ids)
    pending = maventa.http.get("/v1/invoices", headers=h, params={"direction": "SENT", "status": "PENDING"})
    assert len(pending.json()) == 3
    settle(maventa, h, ids[0])
    delivered = maventa.http.get(
        "/v1/invoices", headers=h, params={"direction": "SENT", "status": "DELIVERED"}
    )
    assert len(delivered.json()) == 3  # listing settles what is due, too
    assert maventa.http.get("/v1/invoices", headers=h, params={"direction": "RECEIVED"}).json() == []
    assert maventa.http.get("/v1/invoices", headers=h, params={"per_page": 101}).status_code == 400


def test_invoice_list_by_a_batch_of_ids(maventa: MaventaTarget, h: dict[str, str]) -> None:
    """`ids` is `style: form, explode: false` (comma-separated), "Maximum of 100 per query"."""
    ids = [send(maventa, h, build_finvoice(number=str(400 + i)))["id"] for i in range(3)]
    unknown = "00000000-0000-4000-8000-00000000dead"
    params = {"direction": "SENT", "per_page": 100, "ids": f"{ids[0]},{ids[2]},{unknown}"}
    r = maventa.http.get("/v1/invoices", headers=h, params=params)
    assert r.status_code == 200, r.text
    assert sorted(i["id"] for i in r.json()) == sorted([ids[0], ids[2]])  # the unknown id is absent
    hundred = ",".join([ids[1]] + [f"00000000-0000-4000-8000-{n:012d}" for n in range(99)])
    r = maventa.http.get("/v1/invoices", headers=h, params={**params, "ids": hundred})
    assert r.status_code == 200 and [i["id"] for i in r.json()] == [ids[1]]
    r = maventa.http.get("/v1/invoices", headers=h, params={**params, "ids": hundred + "," + unknown})
    assert r.status_code == 400 and r.json()["code"] == "invalid_parameters", r.text
    assert "101" in " ".join(r.json()["details"])


def test_lookups_know_maventa_companies_and_operators(maventa: MaventaTarget, h: dict[str, str]) -> None:
    http = maventa.http
    own = http.get("/v1/lookup/receivers", headers=h, params={"bid": "1916215-7"}).json()
    assert [(r["operator"], r["network"], r["participant"]["name"]) for r in own] == [
        ("003721291126", "INTERNAL", "Hämäläinen ry Oy")
    ]
    by_name = http.get("/v1/lookup/receivers", headers=h, params={"name": "koivisto saarinen"}).json()
    assert [r["operator"] for r in by_name] == ["003708599126"]
    peppol = http.get(
        "/v1/lookup/receivers", headers=h, params={"bid": "2321469-3", "network": "PEPPOL"}
    ).json()
    assert len(peppol) == 1 and peppol[0]["identifier"]["scheme"] == "iso6523-actorid-upis"
    assert http.get("/v1/lookup/receivers", headers=h).status_code == 400
    # a newly verified company becomes an internal receiver
    before = http.get("/v1/lookup/endpoints", headers=h, params={"business_ids": "2077474-0"}).json()
    register_verified_company(maventa, "Uusi Maventa Oy", "2077474-0", "uusi@maventa-asiakas.fi")
    after = http.get("/v1/lookup/endpoints", headers=h, params={"business_ids": "2077474-0"}).json()
    assert (before[0]["sending"], after[0]["sending"]) == ([], ["EINVOICE"])
    assert (
        http.get("/v1/lookup/endpoints", headers=h, params={"business_ids": ",".join(["1"] * 11)}).status_code
        == 400
    )


def test_authorisation_cancel_and_resend(maventa: MaventaTarget, h: dict[str, str]) -> None:
    company_id, _, auth = register_verified_company(
        maventa, "Peruva Oy", "2077474-0", "peruva@yritys.fi", sign=False
    )
    r = maventa.control("POST", f"/companies/{company_id}/authorization/cancel")
    assert r.json() == {
        "auth_state": "CANCELED",
        "auth_email": "peruva@yritys.fi",
        "company_state": "UNVERIFIED",
    }
    assert maventa.control("POST", f"/companies/{company_id}/authorization/sign").status_code == 409
    refused = maventa.http.post("/v1/invoices", headers=auth, files={"file": ("a.xml", build_finvoice())})
    assert refused.status_code == 403 and refused.json()["code"] == "company_unverified"
    again = maventa.http.post(
        "/v1/company/authorization", headers=auth, json={"auth_email": "toimari@yritys.fi", "locale": "SE"}
    )
    assert again.json()["status"] == "SENT"
    invitations = outbox(maventa, purpose="authorization_invitation", company_id=company_id)
    assert [m["to"] for m in invitations] == [["peruva@yritys.fi"], ["toimari@yritys.fi"]]
    assert invitations[1]["subject"].startswith("Signeringsbegäran")
    assert maventa.control("POST", f"/companies/{company_id}/authorization/sign").status_code == 200
    status = maventa.http.get(f"/v1/companies/{company_id}/status", headers=auth).json()
    assert (status["auth_state"], status["company_state"]) == ("SIGNED", "VERIFIED")
    done = maventa.http.post(
        "/v1/company/authorization", headers=auth, json={"auth_email": "x@y.fi", "locale": "FI"}
    )
    assert done.json()["status"] == "ALREADY_AUTHORIZED"
    bad = maventa.http.post(
        "/v1/company/authorization", headers=auth, json={"auth_email": "nope", "locale": "XX"}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_parameters"


def test_email_carries_the_own_pdf_or_maventas_rendering(maventa: MaventaTarget, h: dict[str, str]) -> None:
    buyer = NO_EINVOICE_BUYER | {"buyer_email": "ap@liukkonen.fi"}
    own = settle(maventa, h, send(maventa, h, invoice_zip("291", pdf_pages=2, **buyer), "291.zip")["id"])
    [mail] = outbox(maventa, invoice_id=own["id"])
    assert [(a["type"], a["filename"]) for a in mail["attachments"]] == [
        ("INVOICE_IMAGE", "291.pdf"),
        ("ATTACHMENT", "liite_tuntierittely.txt"),
    ]
    assert mail["attachments"][0]["pages"] == 2 and mail["from"] == "noreply@mail.maventa.com"
    data_only = settle(maventa, h, send(maventa, h, build_finvoice(number="292", **buyer))["id"])
    [mail] = outbox(maventa, invoice_id=data_only["id"])
    assert [a["type"] for a in mail["attachments"]] == ["GENERATED_IMAGE"]
    settings(maventa, h, {"send_invoice_email": {"how_to_send": "WITH_LINK"}})
    linked = settle(maventa, h, send(maventa, h, build_finvoice(number="293", **buyer))["id"])
    [mail] = outbox(maventa, invoice_id=linked["id"])
    assert mail["attachments"] == [] and "https://invoice.maventa.com/" in mail["body"]
