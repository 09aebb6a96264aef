"""The Finvoice builder on hand-made Severa invoices: valid documents, mapping, per-field errors."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.finvoice import (
    BankAccount,
    FinvoiceBuildError,
    build_finvoice,
    finvoice_base_name,
    validate_against_xsd,
)
from bridge.severa.model import parse_invoice
from tests.bridge.test_finvoice_fixtures import STAMP, Case, amount, make_case, parse, texts, xsd_path


@pytest.fixture(scope="module")
def xsd(request: pytest.FixtureRequest) -> Path:
    return xsd_path(request.config)


def build(case: Case, **options: object) -> bytes:
    return build_finvoice(*case.build_args(), timestamp=STAMP, **options)  # type: ignore[arg-type]


def errors_of(case: Case, **options: object) -> dict[str, str]:
    with pytest.raises(FinvoiceBuildError) as caught:
        build(case, **options)
    return {error.field: error.message for error in caught.value.errors}


@pytest.mark.parametrize("seed", range(12))
def test_faker_invoices_validate_against_the_official_xsd(seed: int, xsd: Path) -> None:
    xml = build(make_case(seed))
    assert validate_against_xsd(xml, xsd) == []


def test_document_carries_the_severa_data_where_finvoice_wants_it() -> None:
    case = make_case(101, n_rows=3)
    root = parse(build(case))
    inv, cust, seller = case.invoice, case.customer, case.seller
    assert root.get("Version") == "3.0"
    assert texts(root, "MessageTransmissionDetails/MessageReceiverDetails/ToIdentifier") == [
        cust["eInvoiceAddress"]
    ]
    assert texts(root, "MessageTransmissionDetails/MessageReceiverDetails/ToIntermediator") == [
        "003721291126"
    ]
    assert texts(root, "MessageTransmissionDetails/MessageDetails/MessageIdentifier") == [inv["guid"]]
    assert texts(root, "BuyerOrganisationUnitNumber") == [cust["eInvoiceAddress"]]
    # no e-invoice data inside BuyerPartyDetails
    assert root.find("BuyerPartyDetails/BuyerOrganisationUnitNumber") is None
    ytunnus = cust["vatNumber"][2:9] + "-" + cust["vatNumber"][9]
    assert texts(root, "BuyerPartyDetails/BuyerPartyIdentifier") == [ytunnus]
    assert texts(root, "BuyerPartyDetails/BuyerOrganisationTaxCode") == [cust["vatNumber"]]
    assert texts(root, "BuyerPartyDetails/BuyerPostalAddressDetails/BuyerTownName") == [case.address["city"]]
    assert texts(root, "BuyerPartyDetails/BuyerPostalAddressDetails/CountryCode") == ["FI"]
    assert texts(root, "InvoiceRecipientCommunicationDetails/InvoiceRecipientEmailaddressIdentifier") == [
        cust["email"]
    ]
    assert texts(root, "SellerPartyDetails/SellerPartyIdentifier") == [seller.business_id]
    assert texts(root, "SellerPartyDetails/SellerOrganisationTaxCode") == [
        "FI" + seller.business_id.replace("-", "")
    ]
    assert texts(root, "SellerInformationDetails/SellerAccountDetails/SellerAccountID") == [
        seller.bank_accounts[0].iban.replace(" ", "")
    ]
    details = root.find("InvoiceDetails")
    assert details is not None
    assert texts(details, "InvoiceTypeCode") == ["INV01"]
    assert texts(details, "InvoiceNumber") == [str(inv["number"])]
    assert texts(details, "InvoiceDate") == [inv["date"].replace("-", "")]
    assert details.find("InvoiceDate").get("Format") == "CCYYMMDD"  # type: ignore[union-attr]
    assert texts(details, "OrderIdentifier") == [inv["orderNumber"]]
    assert texts(details, "BuyerReferenceIdentifier") == [inv["yourReference"]]
    assert texts(details, "PaymentTermsDetails/InvoiceDueDate") == [inv["dueDate"].replace("-", "")]
    rows = root.findall("InvoiceRow")
    assert [r.findtext("ArticleIdentifier") for r in rows] == [r["code"][0] for r in case.rows]
    assert [r.findtext("ArticleName") for r in rows] == [r["description"] for r in case.rows]
    epi = root.find("EpiDetails")
    assert epi is not None
    assert texts(epi, "EpiIdentificationDetails/EpiReference") == [inv["referenceNumber"]]
    remittance = epi.find("EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    assert remittance is not None and remittance.text == inv["referenceNumber"]
    assert remittance.get("IdentificationSchemeName") == "SPY"
    assert texts(epi, "EpiPaymentInstructionDetails/EpiDateOptionDate") == [inv["dueDate"].replace("-", "")]
    assert texts(epi, "EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier") == ["NDEAFIHH"]
    assert texts(epi, "EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiBei") == [seller.business_id]
    assert amount(epi.find("EpiPaymentInstructionDetails/EpiInstructedAmount")) == Decimal(
        repr(inv["totalIncludingTax"]["amount"])
    )


def test_totals_equal_the_sum_of_the_rows_and_the_vat_breakdown() -> None:
    for seed in range(20):
        root = parse(build(make_case(seed)))
        rows = root.findall("InvoiceRow")
        excluded = sum((amount(r.find("RowVatExcludedAmount")) for r in rows), Decimal(0))
        vat = sum((amount(r.find("RowVatAmount")) for r in rows), Decimal(0))
        for r in rows:
            assert amount(r.find("RowAmount")) == amount(r.find("RowVatExcludedAmount")) + amount(
                r.find("RowVatAmount")
            )
        details = root.find("InvoiceDetails")
        assert amount(details.find("InvoiceTotalVatExcludedAmount")) == excluded  # type: ignore[union-attr]
        assert amount(details.find("InvoiceTotalVatAmount")) == vat  # type: ignore[union-attr]
        assert amount(details.find("InvoiceTotalVatIncludedAmount")) == excluded + vat  # type: ignore[union-attr]
        specs = details.findall("VatSpecificationDetails")  # type: ignore[union-attr]
        assert sum((amount(s.find("VatBaseAmount")) for s in specs), Decimal(0)) == excluded
        assert sum((amount(s.find("VatRateAmount")) for s in specs), Decimal(0)) == vat
        assert len({s.findtext("VatRatePercent") for s in specs}) == len(specs)


def test_rounding_is_per_row_half_away_from_zero() -> None:
    case = make_case(7, n_rows=1)
    case.rows[0].update(quantity=1, unitPrice={"amount": 0.1, "currencyCode": "EUR"}, vatRate=25.5)
    case.invoice["totalExcludingTax"] = case.invoice["totalIncludingTax"] = case.invoice["totalTax"] = None
    row = parse(build(case)).find("InvoiceRow")
    assert row is not None
    # 0.10 * 25.5 % = 0.0255 -> 0.03 (half up), never 0.02
    assert row.findtext("RowVatAmount") == "0,03"
    assert row.findtext("RowAmount") == "0,13"
    assert row.findtext("RowVatRatePercent") == "25,5"


def test_credit_note_is_inv02_with_negative_quantities_and_positive_prices(xsd: Path) -> None:
    case = make_case(3, n_rows=2, isCreditNote=True, reimburseInvoice={"guid": "x", "number": 4242})
    for row in case.rows:
        row["unitPrice"]["amount"] = -row["unitPrice"]["amount"]
    from tests.bridge.test_finvoice_fixtures import severa_totals

    excl, tax, incl = severa_totals(case.rows)
    case.invoice["totalExcludingTax"]["amount"], case.invoice["totalIncludingTax"]["amount"] = excl, incl
    case.invoice["totalTax"]["amount"] = tax
    xml = build(case)
    assert validate_against_xsd(xml, xsd) == []
    root = parse(xml)
    assert texts(root, "InvoiceDetails/InvoiceTypeCode") == ["INV02"]
    assert texts(root, "InvoiceDetails/InvoiceTypeCodeUN") == ["381"]
    assert texts(root, "InvoiceDetails/InvoiceTypeText") == ["HYVITYSLASKU"]
    assert texts(root, "InvoiceDetails/OriginalInvoiceNumber") == ["4242"]
    for row in root.findall("InvoiceRow"):
        assert amount(row.find("DeliveredQuantity")) < 0
        assert amount(row.find("UnitPriceAmount")) > 0
        assert amount(row.find("RowAmount")) <= 0
    assert amount(root.find("EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount")) == Decimal(
        repr(incl)
    )


def test_without_an_operator_there_is_no_routing_frame_but_the_address_is_kept(xsd: Path) -> None:
    case = make_case(5)
    case.customer["eInvoiceOperator"] = None
    xml = build(case)
    assert validate_against_xsd(xml, xsd) == []
    root = parse(xml)
    assert root.find("MessageTransmissionDetails") is None
    assert texts(root, "BuyerOrganisationUnitNumber") == [case.customer["eInvoiceAddress"]]


def test_e_mail_only_customer_and_the_mv8_switch(xsd: Path) -> None:
    case = make_case(6)
    case.customer.update(eInvoiceAddress=None, eInvoiceOperator=None)
    root = parse(build(case))
    assert root.find("MessageTransmissionDetails") is None
    assert texts(root, "BuyerCommunicationDetails/BuyerEmailaddressIdentifier") == [case.customer["email"]]
    off = build(case, include_email=False)
    assert validate_against_xsd(off, xsd) == []
    assert b"EmailaddressIdentifier>" + case.customer["email"].encode() not in off
    case.customer["email"] = None
    root = parse(build(case))
    # falls back to the invoice's contact e-mail
    assert texts(root, "InvoiceRecipientCommunicationDetails/InvoiceRecipientEmailaddressIdentifier") == [
        case.invoice["receiverContactEmail"]
    ]


def test_seller_e_invoice_address_is_used_when_configured() -> None:
    case = make_case(8)
    case.seller = replace(case.seller, e_invoice_address="003701120389", e_invoice_operator="003721291126")
    root = parse(build(case))
    assert texts(root, "MessageTransmissionDetails/MessageSenderDetails/FromIdentifier") == ["003701120389"]
    assert texts(root, "SellerOrganisationUnitNumber") == ["003701120389"]


def test_seller_routing_defaults_to_ovt_from_business_id_at_maventa() -> None:
    case = make_case(9)
    root = parse(build(case))
    assert texts(root, "MessageTransmissionDetails/MessageSenderDetails/FromIdentifier") == [
        "0037" + case.seller.business_id.replace("-", "")
    ]
    assert texts(root, "MessageTransmissionDetails/MessageSenderDetails/FromIntermediator") == [
        "003721291126"
    ]


def test_long_texts_follow_the_documented_length_policy(xsd: Path) -> None:
    case = make_case(10, n_rows=3)
    medium = "Konsultointi " * 20  # 260 characters
    long = "Määrittely ja toteutus, " * 40  # ~960 characters
    case.rows[0]["description"] = medium
    case.rows[1]["description"] = long
    case.customer["name"] = "Pitkänimisen Asiakasyrityksen Kansainvälinen Tytäryhtiö " * 3
    xml = build(case)
    assert validate_against_xsd(xml, xsd) == []
    root = parse(xml)
    first, second, _ = root.findall("InvoiceRow")
    assert len(first.findtext("ArticleName") or "") <= 100
    assert (first.findtext("ArticleName") or "").endswith("…")
    assert first.findtext("ArticleDescription") == medium.strip()
    assert "".join(texts(second, "RowFreeText")) == " ".join(long.split())
    names = texts(root, "BuyerPartyDetails/BuyerOrganisationName")
    assert len(names) == 3 and all(2 <= len(n) <= 70 for n in names)
    assert " ".join(names) == " ".join(case.customer["name"].split())


def test_characters_xml_cannot_carry_are_dropped(xsd: Path) -> None:
    case = make_case(11, n_rows=1)
    case.rows[0]["description"] = "Työ\x00 ja\x1b matka\ufffe"
    case.customer["name"] = "Ääkkös\x07 Oy\n(Åland)"
    xml = build(case)
    assert validate_against_xsd(xml, xsd) == []
    root = parse(xml)
    assert root.findtext("InvoiceRow/ArticleName") == "Työ ja matka"
    assert texts(root, "BuyerPartyDetails/BuyerOrganisationName") == ["Ääkkös Oy (Åland)"]


def test_foreign_buyer_and_rf_reference_and_swedish_language(xsd: Path) -> None:
    case = make_case(12, referenceNumber="RF18 5390 0754 7034", language={"code": "sv"})
    case.customer.update(vatNumber="SE556677889901", eInvoiceAddress=None, eInvoiceOperator=None)
    case.address = {
        "addressline": "Drottninggatan 1",
        "postalCode": "111 51",
        "city": "Stockholm",
        "country": "Sverige",
    }
    xml = build(case)
    assert validate_against_xsd(xml, xsd) == []
    root = parse(xml)
    assert root.find("BuyerPartyDetails/BuyerPartyIdentifier") is None
    assert texts(root, "BuyerPartyDetails/BuyerOrganisationTaxCode") == ["SE556677889901"]
    assert texts(root, "BuyerPartyDetails/BuyerPostalAddressDetails/CountryCode") == ["SE"]
    assert texts(root, "InvoiceDetails/InvoiceTypeText") == ["FAKTURA"]
    remittance = root.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    assert remittance is not None and remittance.text == "RF18539007547034"
    assert remittance.get("IdentificationSchemeName") == "ISO"


def test_receiver_address_on_the_invoice_comes_first_then_the_customer_card() -> None:
    case = make_case(13)
    case.address = None
    root = parse(build(case))
    assert texts(root, "BuyerPartyDetails/BuyerPostalAddressDetails/BuyerStreetName") == [
        case.invoice["receiverAddress"]["addressline"]
    ]
    # an invoice without a receiver address: the customer card's headquarter address
    case.invoice["receiverAddress"] = None
    case.customer["headquarterAddress"] = {
        "addressline": "Satamakatu 7",
        "postalCode": "00160",
        "city": "Helsinki",
    }
    root = parse(build(case))
    assert texts(root, "BuyerPartyDetails/BuyerPostalAddressDetails/BuyerStreetName") == ["Satamakatu 7"]


def test_due_date_from_payment_term_when_severa_has_none() -> None:
    case = make_case(14, date="2026-11-10", dueDate=None, paymentTerm=21)
    root = parse(build(case))
    assert texts(root, "EpiDetails/EpiPaymentInstructionDetails/EpiDateOptionDate") == ["20261201"]


def test_same_input_same_bytes() -> None:
    assert build(make_case(15)) == build(make_case(15))
    assert build(make_case(15)) != build(make_case(16))


def test_base_name_is_safe_for_maventa() -> None:
    assert finvoice_base_name(parse_invoice({"number": 10023, "guid": "g"})) == "invoice_10023"
    assert finvoice_base_name(parse_invoice({"number": None, "guid": "AB-12"})) == "invoice_ab_12"


# --- errors: everything wrong is reported at once, per field, in words ------------------------


def test_missing_customer_billing_address_names_the_customer_and_the_finnish_term() -> None:
    case = make_case(20)
    case.address = None
    case.invoice["receiverAddress"] = None
    errors = errors_of(case)
    assert list(errors) == ["invoice.receiverAddress"]
    assert (
        f"Customer '{case.customer['name']}' has no billing address (laskutusosoite)"
        in errors["invoice.receiverAddress"]
    )


def test_missing_seller_bank_account() -> None:
    case = make_case(21)
    case.seller = replace(case.seller, bank_accounts=())
    errors = errors_of(case)
    assert list(errors) == ["seller.bank_accounts"]
    assert errors["seller.bank_accounts"].startswith("Seller must have at least one bank account")
    assert case.seller.name in errors["seller.bank_accounts"]


def test_invalid_seller_iban_and_bic() -> None:
    case = make_case(22)
    case.seller = replace(case.seller, bank_accounts=(BankAccount("FI21 1234 5600 0007 86", "NDEA"),))
    errors = errors_of(case)
    assert set(errors) == {"seller.bank_accounts[0].iban", "seller.bank_accounts[0].bic"}
    assert "IBAN" in errors["seller.bank_accounts[0].iban"]


@pytest.mark.parametrize("bad", ["FI12345678", "1234567-2", "Y-tunnus puuttuu"])
def test_bad_customer_business_id(bad: str) -> None:
    case = make_case(23)
    case.customer["vatNumber"] = bad
    errors = errors_of(case)
    assert list(errors) == ["customer.vatNumber"]
    assert case.customer["name"] in errors["customer.vatNumber"]
    assert "customer card" in errors["customer.vatNumber"]


def test_bad_seller_business_id_and_mismatching_vat_number() -> None:
    case = make_case(24)
    case.seller = replace(case.seller, business_id="1234567-2")
    assert "Y-tunnus" in errors_of(case)["seller.business_id"]
    case = make_case(24)
    case.seller = replace(case.seller, vat_number="FI20774740")
    assert "does not belong" in errors_of(case)["seller.vat_number"]


def test_no_rows() -> None:
    case = make_case(25)
    case.rows = []
    case.invoice["totalExcludingTax"] = case.invoice["totalIncludingTax"] = case.invoice["totalTax"] = None
    errors = errors_of(case)
    assert list(errors) == ["rows"]
    assert "no rows (laskurivit)" in errors["rows"]


def test_all_problems_are_reported_together() -> None:
    case = make_case(26, number=None, referenceNumber="12345")
    case.address = None
    case.invoice["receiverAddress"] = None
    case.seller = replace(case.seller, bank_accounts=(), business_id="")
    case.customer["vatNumber"] = "FI12345678"
    case.rows[0]["vatRate"] = None
    with pytest.raises(FinvoiceBuildError) as caught:
        build(case)
    fields = set(caught.value.fields)
    assert {
        "invoice.number",
        "invoice.referenceNumber",
        "invoice.receiverAddress",
        "seller.bank_accounts",
        "seller.business_id",
        "customer.vatNumber",
        "rows[1].vatRate",
    } <= fields
    assert len(caught.value.summary().splitlines()) == len(caught.value.errors)


def test_wrong_reference_check_digit() -> None:
    case = make_case(27, referenceNumber="1234")
    message = errors_of(case)["invoice.referenceNumber"]
    assert "check digit" in message and "viitenumero" in message


def test_rows_that_do_not_add_up_to_severas_total() -> None:
    case = make_case(28)
    case.invoice["totalIncludingTax"]["amount"] += 10
    message = errors_of(case)["invoice.totalIncludingTax"]
    assert "recalculate" in message and "EUR" in message


def test_incomplete_address_and_row_fields() -> None:
    case = make_case(29, n_rows=2)
    case.address = {"addressline": "", "postalCode": "", "city": "X", "country": {"name": "Suomi"}}
    case.rows[0]["quantity"] = None
    case.rows[1].update(description="", code=[])
    errors = errors_of(case)
    assert {
        "invoice.receiverAddress.addressline",
        "invoice.receiverAddress.city",
        "invoice.receiverAddress.postalCode",
        "rows[1].quantity",
        "rows[2].description",
    } <= set(errors)
    assert "postitoimipaikka" in errors["invoice.receiverAddress.city"]


def test_address_too_long_for_three_lines_is_an_error_not_a_truncation() -> None:
    case = make_case(30)
    case.address["addressline"] = "\n".join(["Pitkäkatu 1 A 12"] * 4)  # type: ignore[index]
    assert "three lines" in errors_of(case)["invoice.receiverAddress.addressline"]
