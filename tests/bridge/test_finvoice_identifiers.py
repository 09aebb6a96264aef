"""Finnish identifiers and Finvoice number formats used by the builder."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649

from bridge.finvoice import make_viitenumero, parse_business_id, parse_reference
from bridge.finvoice.amounts import format_amount, format_percent, format_quantity, format_unit_price
from bridge.finvoice.identifiers import check_e_invoice_address
from bridge.finvoice.reference import format_viitenumero, is_valid_viitenumero, rf_from_viitenumero

# Patterns copied from the data-type rules in the research notes (finvoice-maestro.md §1.7).
AMOUNT = re.compile(r"-?[0-9]{1,15}(,[0-9]{2,5})?")
EPI_AMOUNT = re.compile(r"-?[0-9]{1,15},[0-9]{2}")
PERCENT = re.compile(r"[1-9]?[0-9]{1,2}(,[0-9]{1,3})?")


@pytest.mark.parametrize(
    ("base", "reference"),
    [("123", "1232"), ("494", "4941"), ("1000014", "10000142"), ("9190100001", "91901000011")],
)
def test_viitenumero_vectors(base: str, reference: str) -> None:
    assert make_viitenumero(base) == reference
    assert is_valid_viitenumero(reference)
    assert parse_reference(format_viitenumero(reference)).value == reference


@pytest.mark.parametrize(
    ("national", "rf"),
    [("539007547034", "RF18539007547034"), ("10000141", "RF6210000141"), ("12342", "RF6212342")],
)
def test_rf_vectors(national: str, rf: str) -> None:
    assert rf_from_viitenumero(national) == rf
    assert parse_reference(rf).scheme == "ISO"


@given(st.integers(min_value=100, max_value=10**19 - 1), st.integers(0, 19), st.integers(1, 9))
def test_any_single_digit_change_breaks_the_check_digit(base: int, position: int, delta: int) -> None:
    reference = make_viitenumero(base)
    assert parse_reference(reference).scheme == "SPY"
    assert iso11649.is_valid(rf_from_viitenumero(reference))
    position %= len(reference)
    digits = list(reference)
    digits[position] = str((int(digits[position]) + delta) % 10)
    changed = "".join(digits)
    if changed.lstrip("0") != reference and len(changed.lstrip("0")) >= 4:
        assert not is_valid_viitenumero(changed)
        with pytest.raises(ValueError):
            parse_reference(changed)


@pytest.mark.parametrize("bad", ["12", "1234 5", "RF19539007547034", "ABC123", "1" * 21])
def test_bad_references_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_reference(bad)


@pytest.mark.parametrize("value", ["2077474-0", "0112038-9", "FI20774740", "fi 2077 4740", "20774740"])
def test_business_id_forms(value: str) -> None:
    parsed = parse_business_id(value)
    assert parsed.vat_number[2:] == parsed.ytunnus.replace("-", "")
    assert parsed.ovt == "0037" + parsed.ytunnus.replace("-", "")


@pytest.mark.parametrize("value", ["2077474-1", "FI20774741", "SE556677889901", "", "abc"])
def test_bad_business_ids(value: str) -> None:
    with pytest.raises(ValueError):
        parse_business_id(value)


def test_e_invoice_addresses() -> None:
    assert check_e_invoice_address("0037 2077 4740") == "003720774740"
    assert check_e_invoice_address("00372077474000001") == "00372077474000001"
    assert check_e_invoice_address("FI2112345600000785") == "FI2112345600000785"  # bank-style
    with pytest.raises(ValueError, match="check digit"):
        check_e_invoice_address("003720774741")
    with pytest.raises(ValueError, match="2-35"):
        check_e_invoice_address("X")


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=6))
def test_number_formats_match_the_schema_patterns(value: Decimal) -> None:
    assert EPI_AMOUNT.fullmatch(format_amount(value))
    assert AMOUNT.fullmatch(format_unit_price(value))
    assert Decimal(format_amount(value).replace(",", ".")) == value.quantize(Decimal("0.01"), "ROUND_HALF_UP")


@given(st.decimals(min_value=Decimal(0), max_value=Decimal("99.999"), places=3))
def test_percentages_match_the_schema_pattern(value: Decimal) -> None:
    assert PERCENT.fullmatch(format_percent(value))
    assert Decimal(format_percent(value).replace(",", ".")) == value


def test_formats() -> None:
    assert format_amount(Decimal("1234.5")) == "1234,50"
    assert format_amount(Decimal("-0.004")) == "0,00"
    assert format_amount(Decimal("2.675")) == "2,68"
    assert format_amount(Decimal("-2.675")) == "-2,68"
    assert format_unit_price(Decimal("0.123456")) == "0,12346"
    assert format_quantity(Decimal("7.50")) == "7,5"
    assert format_quantity(Decimal("-2")) == "-2"
    assert format_percent(Decimal("25.5")) == "25,5"
    assert format_percent(Decimal("14.0")) == "14"
