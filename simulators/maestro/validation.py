"""Domain checks that a JSON schema cannot express: identifiers and invoice totals.

* Y-tunnus (business ID) and Finnish ALV-tunnus (VAT number) are checked with their check
  digits (python-stdnum); a VAT number `FI12345678` must belong to the same company as the
  business ID `1234567-8` when both are given.
* Invoice totals (laskun summat): each row's net + VAT must equal its gross, and the invoice's
  totals must equal the sums of its rows, each within one cent (`TOLERANCE`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import alv, ytunnus

from .errors import detail
from .models import money

TOLERANCE = Decimal("0.01")


def business_id_problem(value: str) -> str | None:
    """None when `value` is a valid Y-tunnus, else what is wrong with it."""
    try:
        ytunnus.validate(value)
    except StdnumError as exc:
        return f"{value!r} is not a valid business ID (Y-tunnus): {exc}"
    return None


def normalise_business_id(value: str) -> str:
    return str(ytunnus.format(value))


def check_customer_identifiers(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Details for a bad business ID or Finnish VAT number (none when fine)."""
    problems = []
    business_id = data.get("business_id")
    if business_id:
        problem = business_id_problem(business_id)
        if problem:
            problems.append(detail("business_id", problem))
            business_id = None
    vat = data.get("vat_number")
    if vat and vat.upper().startswith("FI"):
        try:
            alv.validate(vat)
        except StdnumError as exc:
            problems.append(
                detail("vat_number", f"{vat!r} is not a valid Finnish VAT number (ALV-tunnus): {exc}")
            )
        else:
            if business_id and alv.compact(vat) != ytunnus.compact(business_id):
                problems.append(
                    detail(
                        "vat_number",
                        f"{vat!r} does not belong to business ID {normalise_business_id(business_id)}",
                    )
                )
    return problems


def _off(expected: Decimal, got: Decimal) -> bool:
    return abs(expected - got) > TOLERANCE


def check_totals(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """Details for every amount that does not add up (none when the invoice is consistent)."""
    problems = []
    sums = {"net_amount": Decimal(0), "vat_amount": Decimal(0), "gross_amount": Decimal(0)}
    for i, row in enumerate(invoice["rows"]):
        net, vat, gross = money(row["net_amount"]), money(row["vat_amount"]), money(row["gross_amount"])
        if _off(net + vat, gross):
            problems.append(
                detail(
                    f"rows[{i}].gross_amount",
                    f"is {gross} but net_amount + vat_amount of the row is {net + vat}",
                )
            )
        for key in sums:
            sums[key] += money(row[key])
    for total, key in (
        ("total_excluding_vat", "net_amount"),
        ("total_vat", "vat_amount"),
        ("total_including_vat", "gross_amount"),
    ):
        got = money(invoice[total])
        if _off(sums[key], got):
            problems.append(detail(total, f"is {got} but the rows' {key} add up to {sums[key]}"))
    excl, vat_total, incl = (
        money(invoice[k]) for k in ("total_excluding_vat", "total_vat", "total_including_vat")
    )
    if _off(excl + vat_total, incl):
        problems.append(
            detail(
                "total_including_vat", f"is {incl} but total_excluding_vat + total_vat is {excl + vat_total}"
            )
        )
    return problems
