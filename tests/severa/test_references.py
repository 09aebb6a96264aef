"""Finnish identifiers: viitenumero, RF reference, Y-tunnus, OVT, IBAN (property tests)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iban, iso11649
from stdnum.fi import ytunnus

from simulators.severa.references import (
    finnish_iban,
    finnish_reference,
    is_valid_finnish_iban,
    is_valid_finnish_reference,
    ovt,
    random_ytunnus,
    rf_reference,
    vat_form,
)


@given(st.integers(min_value=1, max_value=10**18))
def test_reference_is_valid_and_keeps_the_base(base: int) -> None:
    ref = finnish_reference(base)
    assert is_valid_finnish_reference(ref)
    assert ref[:-1].lstrip("0") == str(base) and 4 <= len(ref) <= 20


@given(st.integers(min_value=1, max_value=10**18), st.data())
def test_any_single_digit_error_is_detected(base: int, data: st.DataObject) -> None:
    ref = finnish_reference(base)
    pos = data.draw(st.integers(min_value=0, max_value=len(ref) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != ref[pos]]))
    assert not is_valid_finnish_reference(ref[:pos] + digit + ref[pos + 1 :])


@pytest.mark.parametrize("base,expected", [(123456, "1234561"), (10001, "100010"), (100, "1009")])
def test_known_reference_numbers(base: int, expected: str) -> None:
    assert finnish_reference(base) == expected


@given(st.integers(min_value=1, max_value=10**15))
def test_rf_form_is_a_valid_iso11649_reference(base: int) -> None:
    rf = rf_reference(finnish_reference(base))
    assert iso11649.is_valid(rf) and rf.endswith(finnish_reference(base))


@given(st.integers(min_value=0, max_value=2**32))
def test_generated_business_ids_ovt_and_iban_are_valid(seed: int) -> None:
    rng = random.Random(seed)
    bid = random_ytunnus(rng)
    assert ytunnus.is_valid(bid)
    assert vat_form(bid) == "FI" + bid.replace("-", "")
    assert ovt(bid) == "0037" + bid.replace("-", "") and len(ovt(bid)) == 12
    acct = finnish_iban(rng, "1")
    assert iban.is_valid(acct) and acct.startswith("FI") and len(acct) == 18


@pytest.mark.parametrize("bad", ["", "12a", "-5"])
def test_reference_refuses_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        finnish_reference(bad)


def test_demo_bank_accounts_pass_the_finnish_national_check_digit() -> None:
    """Every demo IBAN is one a Finnish bank accepts: mod-97 *and* the account number's Luhn digit
    (mod-97 alone let about 9 in 10 generated accounts through)."""
    from stdnum import luhn

    from simulators.severa import SeveraSimulator

    accounts = [
        a.account_number
        for seed in range(25)
        for a in SeveraSimulator(seed=seed).main.org.bank_accounts.values()
    ]
    assert len(accounts) == 50
    for account in accounts:
        assert iban.is_valid(account) and account.startswith("FI") and len(account) == 18, account
        assert luhn.is_valid(account[4:]), f"{account}: the national check digit is wrong"
        assert is_valid_finnish_iban(account)


def test_finnish_iban_check() -> None:
    assert is_valid_finnish_iban("FI2112345600000785")
    assert not is_valid_finnish_iban("FI4812345600000784")  # mod-97 holds, the account's digit does not
    assert not is_valid_finnish_iban("FI2112345600000786")  # neither holds
