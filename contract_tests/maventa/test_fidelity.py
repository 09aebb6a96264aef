"""Fidelity defects found in review (issue 13), each pinned here:

* a Finnish IBAN whose national check digit is wrong is refused, as a bank would (mod-97 alone
  let 9 in 10 random Finnish-looking accounts through);
* a ``uuid`` sent again with *another* invoice is refused (409), while the same invoice sent
  again – even with a new transmission time stamp, as a client's retry has – is the replay;
* every documented ``return_format`` of ``GET /v1/invoices/{id}`` is answered;
* the invoice's ``sender`` is the Finvoice's seller, not the sending account's company;
* the journal shows an uploaded file's real size.
"""

from __future__ import annotations

import pytest
from lxml import etree
from stdnum import iban, luhn

from contract_tests.maventa.conftest import MaventaTarget
from tests.maventa.finvoice_factory import FinvoiceSpec, build_finvoice, build_tree

ACCOUNT = "1234560000078"  # the first 13 digits of a Finnish account number (machine form)


def _finnish_iban(bban: str) -> str:
    return "FI" + iban.calc_check_digits("FI00" + bban) + bban


VALID_IBAN = _finnish_iban(ACCOUNT + luhn.calc_check_digit(ACCOUNT))
# mod-97 holds (the IBAN's own check digits are computed for it) but the account's does not
WRONG_NATIONAL = _finnish_iban(ACCOUNT + str((int(luhn.calc_check_digit(ACCOUNT)) + 1) % 10))


def _send(maventa: MaventaTarget, h: dict[str, str], xml: bytes, **data: str) -> object:
    return maventa.http.post("/v1/invoices", headers=h, files={"file": ("lasku.xml", xml)}, data=data)


def _with_seller_account(account: str) -> bytes:
    """A Finvoice whose SellerInformationDetails name the seller's account (SellerAccountID)."""
    root = build_tree(FinvoiceSpec())
    info = etree.Element("SellerInformationDetails")
    details = etree.SubElement(info, "SellerAccountDetails")
    etree.SubElement(details, "SellerAccountID", IdentificationSchemeName="IBAN").text = account
    etree.SubElement(details, "SellerBic", IdentificationSchemeName="BIC").text = "NDEAFIHH"
    root.find("SellerOrganisationUnitNumber").addnext(info)  # type: ignore[union-attr]
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# --------------------------------------------------------------------------- IBANs
def test_the_accounts_used_here_are_what_they_claim() -> None:
    assert iban.is_valid(VALID_IBAN) and iban.is_valid(WRONG_NATIONAL)
    assert luhn.is_valid(VALID_IBAN[4:]) and not luhn.is_valid(WRONG_NATIONAL[4:])


@pytest.mark.parametrize("where", ["EpiAccountID", "SellerAccountID"])
def test_a_finnish_iban_with_a_wrong_national_check_digit_is_refused(
    maventa: MaventaTarget, h: dict[str, str], where: str
) -> None:
    good = (
        build_finvoice(seller_iban=VALID_IBAN)
        if where == "EpiAccountID"
        else _with_seller_account(VALID_IBAN)
    )
    bad = (
        build_finvoice(seller_iban=WRONG_NATIONAL)
        if where == "EpiAccountID"
        else _with_seller_account(WRONG_NATIONAL)
    )
    assert _send(maventa, h, good).status_code == 201  # type: ignore[attr-defined]
    r = _send(maventa, h, bad)
    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["code"] == "validation_failed"
    assert any(where in d and WRONG_NATIONAL in d for d in body["details"]), body["details"]


# --------------------------------------------------------------------------- a uuid used again
UID = "7a3f2c1e-5b4d-4e6f-8a9b-0c1d2e3f4a5b"


def test_a_uuid_sent_again_with_another_invoice_is_refused(maventa: MaventaTarget, h: dict[str, str]) -> None:
    first = _send(maventa, h, build_finvoice(number="5001"), uuid=UID)
    assert first.status_code == 201  # type: ignore[attr-defined]
    other = _send(maventa, h, build_finvoice(number="5002"), uuid=UID)
    assert other.status_code == 409, other.text  # type: ignore[attr-defined]
    assert other.json()["code"] == "uuid_already_used"  # type: ignore[attr-defined]
    listed = maventa.http.get("/v1/invoices", headers=h, params={"direction": "SENT"}).json()
    assert [(i["id"], i["number"]) for i in listed] == [(UID, "5001")]


def test_the_same_invoice_sent_again_with_a_new_time_stamp_is_the_replay(
    maventa: MaventaTarget, h: dict[str, str]
) -> None:
    """A client's retry builds the Finvoice again: a new MessageTimeStamp (and message id)."""
    spec = FinvoiceSpec(number="5003", to_eia="003730402940", to_operator="003721291126")
    first = build_tree(spec)
    again = build_tree(spec)
    again.find("MessageTransmissionDetails/MessageDetails/MessageTimeStamp").text = "2026-11-21T09:15:00"  # type: ignore[union-attr]
    again.find("MessageTransmissionDetails/MessageDetails/MessageIdentifier").text = "MSG-5003-retry"  # type: ignore[union-attr]
    answers = [
        _send(
            maventa,
            h,
            etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=pretty),
            uuid=UID,
        )
        for tree, pretty in ((first, False), (again, True))
    ]
    assert [a.status_code for a in answers] == [201, 201]  # type: ignore[attr-defined]
    assert answers[1].headers.get("X-Sim-Idempotent-Replay") == "true"  # type: ignore[attr-defined]
    assert answers[0].json()["id"] == answers[1].json()["id"] == UID  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- return formats
XML_ROOTS = {
    "FINVOICE30": "Finvoice",
    "PEPPOLBIS30": "Invoice",
    "SIUBL20": "Invoice",
    "OIOUBL21": "Invoice",
    "VISMAUBL30": "Invoice",
    "XRECHNUNG23UBL": "Invoice",
    "XRECHNUNG23EXTUBL": "Invoice",
    "XRECHNUNG30UBL": "Invoice",
    "XRECHNUNG30EXTUBL": "Invoice",
    "XRECHNUNG23CII": "CrossIndustryInvoice",
    "XRECHNUNG23EXTCII": "CrossIndustryInvoice",
    "XRECHNUNG30CII": "CrossIndustryInvoice",
    "XRECHNUNG30EXTCII": "CrossIndustryInvoice",
    "TEAPPS30": "INVOICE_CENTER",
    "VISMAXML60": "Invoice",
    "FATTURAPA12": "FatturaElettronica",
}
PDFS = ("ORIGINAL_IMAGE", "GENERATED_IMAGE", "ORIGINAL_OR_GENERATED_IMAGE")


def test_every_documented_return_format_is_answered(maventa: MaventaTarget, h: dict[str, str]) -> None:
    sent = maventa.http.post(
        "/v1/invoices",
        headers=h,
        files={"file": ("5004.xml", build_finvoice(number="5004"))},
    ).json()
    path = f"/v1/invoices/{sent['id']}"
    for fmt, root in XML_ROOTS.items():
        r = maventa.http.get(path, headers=h, params={"return_format": fmt})
        assert r.status_code == 200, (fmt, r.text)
        assert r.headers["content-type"].startswith("application/xml"), fmt
        doc = etree.fromstring(r.content)
        assert etree.QName(doc).localname == root, fmt
        assert b"5004" in r.content, fmt  # the invoice number travels into every format
    for fmt in ("GENERATED_IMAGE", "ORIGINAL_OR_GENERATED_IMAGE"):
        r = maventa.http.get(path, headers=h, params={"return_format": fmt})
        assert r.status_code == 200 and r.content.startswith(b"%PDF"), fmt
    assert maventa.http.get(path, headers=h, params={"return_format": "ORIGINAL_IMAGE"}).status_code == 404
    details = maventa.http.get(path, headers=h, params={"return_format": "EXTENDED_DETAILS"})
    assert details.status_code == 200 and details.json()["id"] == sent["id"]
    assert len(XML_ROOTS) + len(PDFS) + 1 == 20


# --------------------------------------------------------------------------- the sender
def test_the_sender_is_the_finvoice_seller_not_the_account(maventa: MaventaTarget, h: dict[str, str]) -> None:
    account = maventa.http.get("/oauth2/current", headers=h).json()["company"]
    spec = FinvoiceSpec(seller_name="Myyjä Konsultit Oy", seller_bid="2077474-0")
    assert (spec.seller_name, spec.seller_bid) != (account["name"], account["bid"])
    r = maventa.http.post("/v1/invoices", headers=h, files={"file": ("l.xml", build_finvoice(spec))})
    assert r.status_code == 201, r.text
    assert r.json()["sender"] == {
        "eia": "003720774740",
        "bid": "2077474-0",
        "name": "Myyjä Konsultit Oy",
        "country": "FI",
    }


# --------------------------------------------------------------------------- the journal
def test_the_journal_shows_an_uploaded_file_s_real_size(maventa: MaventaTarget, h: dict[str, str]) -> None:
    maventa.target.require_control()
    xml = build_finvoice(number="5005")
    assert maventa.http.post("/v1/invoices", headers=h, files={"file": ("5005.xml", xml)}).status_code == 201
    journal = maventa.control("GET", "/journal", params={"method": "POST", "path": "/v1/invoices"}).json()
    body = journal["entries"][-1]["request_body"]
    assert f"<file '5005.xml' application/xml {len(xml)} bytes>" in body, body
