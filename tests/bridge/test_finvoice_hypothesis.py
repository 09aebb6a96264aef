"""Hypothesis-generated Severa invoices: every one the builder accepts is valid Finvoice 3.0.

Rows vary in number, VAT rate (25.5/14/10/0), quantity, unit price and sign; names and
descriptions are arbitrary Unicode (long ones too); some invoices are credit notes, some have an
RF reference, some no e-invoice address. The document must validate against the official XSD,
and its amounts must follow the documented arithmetic (checked from the document's own numbers).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.finvoice import build_finvoice, make_viitenumero, validate_against_xsd
from bridge.finvoice.reference import rf_from_viitenumero
from tests.bridge.test_finvoice_fixtures import STAMP, amount, make_case, parse, severa_totals

VISIBLE = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
ANY_TEXT = st.characters(blacklist_categories=("Cs",))


def _visible_len(text: str) -> int:
    return len("".join(ch for ch in text if ch.isprintable() and not ch.isspace()))


names = st.text(VISIBLE, min_size=2, max_size=180).filter(lambda s: _visible_len(s) >= 2)
descriptions = st.one_of(st.text(ANY_TEXT, max_size=40), st.text(VISIBLE, min_size=80, max_size=1200))
quantities = st.decimals(min_value=Decimal("-500"), max_value=Decimal("500"), places=2)
prices = st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=2)


@st.composite
def severa_rows(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "rowType": draw(st.sampled_from(["Hours", "ProjectFees", "TravelExpenses", "FlatRate"])),
        "description": draw(descriptions),
        "quantity": float(draw(quantities)),
        "measurementUnit": draw(st.sampled_from(["h", "kpl", "km", "pv", "", "erä", "kappaletta paljon"])),
        "unitPrice": {"amount": float(draw(prices)), "currencyCode": "EUR"},
        "vatRate": draw(st.sampled_from([25.5, 14.0, 10.0, 0.0])),
        "sortOrder": draw(st.integers(0, 50)),
        "code": [draw(st.text(st.characters(categories=("Lu", "Nd")), min_size=1, max_size=12))],
    }


@st.composite
def invoices(draw: st.DrawFn) -> tuple[Any, ...]:
    case = make_case(draw(st.integers(0, 10_000)), n_rows=0)
    case.rows = draw(st.lists(severa_rows(), min_size=1, max_size=12))
    excl, tax, incl = severa_totals(case.rows)
    number = draw(st.integers(1, 10**9))
    reference = make_viitenumero(number + 100)
    invoice_date = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 700)))
    case.invoice.update(
        number=number,
        referenceNumber=draw(st.sampled_from([reference, rf_from_viitenumero(reference), None])),
        isCreditNote=draw(st.booleans()),
        reimburseInvoice={"guid": "g", "number": draw(st.integers(1, 10**6))},
        date=invoice_date.isoformat(),
        dueDate=(invoice_date + timedelta(days=draw(st.integers(0, 90)))).isoformat(),
        overdueInterest=draw(st.sampled_from([None, 0.0, 7.5, 11.5, 16.0])),
        totalExcludingTax={"amount": excl, "currencyCode": "EUR"},
        totalTax={"amount": tax, "currencyCode": "EUR"},
        totalIncludingTax={"amount": incl, "currencyCode": "EUR"},
        yourReference=draw(st.text(VISIBLE, max_size=70)),
        language={"code": draw(st.sampled_from(["fi", "sv", "en", "de"]))},
    )
    case.customer["name"] = draw(names)
    if draw(st.booleans()):
        case.customer.update(eInvoiceAddress=None, eInvoiceOperator=None)
    if draw(st.booleans()):
        case.customer["email"] = None
    return case.build_args()


@pytest.fixture(scope="module")
def xsd(request: pytest.FixtureRequest) -> Path:
    from tests.bridge.test_finvoice_fixtures import xsd_path

    return xsd_path(request.config)


@given(args=invoices())
def test_generated_invoices_validate_and_add_up(xsd: Path, args: tuple[Any, ...]) -> None:
    xml = build_finvoice(*args, timestamp=STAMP)
    assert validate_against_xsd(xml, xsd) == []
    root = parse(xml)
    rows = root.findall("InvoiceRow")
    assert len(rows) == len(args[0].lines)
    total = Decimal(0)
    for row in rows:
        quantity, price = amount(row.find("DeliveredQuantity")), amount(row.find("UnitPriceAmount"))
        rate = amount(row.find("RowVatRatePercent"))
        excluded = (quantity * price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        vat = (excluded * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert price >= 0
        assert amount(row.find("RowVatExcludedAmount")) == excluded
        assert amount(row.find("RowVatAmount")) == vat
        assert amount(row.find("RowAmount")) == excluded + vat
        assert len(row.findtext("ArticleName") or "") <= 100
        total += excluded + vat
    assert amount(root.find("InvoiceDetails/InvoiceTotalVatIncludedAmount")) == total
    assert amount(root.find("EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount")) == total
    assert total == args[0].totals.including_vat  # Severa's total, to the cent
    expected_type = "INV02" if args[0].is_credit_note else "INV01"
    assert root.findtext("InvoiceDetails/InvoiceTypeCode") == expected_type
