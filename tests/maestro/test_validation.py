"""Identifier and totals rules (validation.py), property-based."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.maestro.validation import business_id_problem, check_customer_identifiers, check_totals

WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def _check_digit(body: str) -> int | None:
    rem = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11
    return None if rem == 1 else (0 if rem == 0 else 11 - rem)


bodies = st.text("0123456789", min_size=7, max_size=7).filter(lambda b: _check_digit(b) is not None)


@given(bodies)
def test_business_ids_with_the_right_check_digit_pass(body: str) -> None:
    assert business_id_problem(f"{body}-{_check_digit(body)}") is None


@given(bodies, st.integers(1, 9))
def test_any_other_check_digit_is_named(body: str, shift: int) -> None:
    wrong = (int(_check_digit(body) or 0) + shift) % 10
    problems = check_customer_identifiers({"business_id": f"{body}-{wrong}"})
    assert [p["field"] for p in problems] == ["business_id"]


def test_vat_number_is_checked_against_the_business_id() -> None:
    assert check_customer_identifiers({"business_id": "0112038-9", "vat_number": "FI01120389"}) == []
    assert [
        p["field"]
        for p in check_customer_identifiers({"business_id": "0112038-9", "vat_number": "FI15728600"})
    ] == ["vat_number"]
    assert [p["field"] for p in check_customer_identifiers({"vat_number": "FI01120388"})] == ["vat_number"]
    assert check_customer_identifiers({"vat_number": "SE556677889901"}) == []  # foreign: not ours to check


cents = st.integers(-10_000_000, 10_000_000)


def _invoice(rows: list[tuple[int, int]]) -> dict[str, Any]:
    """Rows as (net cents, vat cents), totals consistent."""

    def eur(c: int) -> float:
        return float(Decimal(c) / 100)

    out_rows = [{"net_amount": eur(n), "vat_amount": eur(v), "gross_amount": eur(n + v)} for n, v in rows]
    net, vat = sum(n for n, _ in rows), sum(v for _, v in rows)
    return {
        "rows": out_rows,
        "total_excluding_vat": eur(net),
        "total_vat": eur(vat),
        "total_including_vat": eur(net + vat),
    }


@settings(max_examples=60)
@given(st.lists(st.tuples(cents, cents), min_size=1, max_size=30))
def test_consistent_invoices_pass(rows: list[tuple[int, int]]) -> None:
    assert check_totals(_invoice(rows)) == []


@settings(max_examples=60)
@given(
    st.lists(st.tuples(cents, cents), min_size=1, max_size=30),
    st.sampled_from(["total_excluding_vat", "total_vat", "total_including_vat"]),
    st.integers(2, 10_000).flatmap(lambda c: st.sampled_from([c, -c])),
)
def test_a_total_off_by_more_than_a_cent_is_named(rows: list[tuple[int, int]], total: str, off: int) -> None:
    inv = _invoice(rows)
    inv[total] = float(Decimal(str(inv[total])) + Decimal(off) / 100)
    assert total in [p["field"] for p in check_totals(inv)]


@given(st.lists(st.tuples(cents, cents), min_size=1, max_size=5), st.sampled_from([-1, 1]))
def test_one_cent_is_tolerated(rows: list[tuple[int, int]], off: int) -> None:
    inv = _invoice(rows)
    inv["total_vat"] = float(Decimal(str(inv["total_vat"])) + Decimal(off) / 100)
    inv["total_including_vat"] = float(Decimal(str(inv["total_including_vat"])) + Decimal(off) / 100)
    assert check_totals(inv) == []
