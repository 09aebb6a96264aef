"""Payment references: the Finnish reference number (viitenumero) and the RF creditor reference.

* Finnish reference number (viitenumero, Finvoice scheme ``SPY``): 3-19 base digits plus one
  check digit (4-20 digits in all). The base digits are multiplied from the right by 7, 3, 1,
  7, 3, 1, ...; the check digit is ``(10 - sum % 10) % 10``. Printed in groups of five from the
  right; the machine form has no spaces and no leading zeros. python-stdnum has no module for it,
  so it lives here.
* RF creditor reference (ISO 11649, Finvoice scheme ``ISO``): ``RF`` + 2 check digits + 1-21
  alphanumerics; checked with :mod:`stdnum.iso11649`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stdnum import iso11649
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10

_WEIGHTS = (7, 3, 1)


def viitenumero_check_digit(base: str) -> str:
    """The 7-3-1 check digit of the base digits of a Finnish reference number."""
    if not base.isdigit():
        raise ValueError("a reference number base must contain digits only")
    total = sum(int(digit) * _WEIGHTS[i % 3] for i, digit in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def make_viitenumero(base: str | int) -> str:
    """Append the check digit to ``base`` (3-19 digits): ``make_viitenumero("123") == "1232"``."""
    digits = str(base).lstrip("0")
    if not digits.isdigit() or not 3 <= len(digits) <= 19:
        raise ValueError("a reference number base has 3-19 digits (leading zeros do not count)")
    return digits + viitenumero_check_digit(digits)


def compact(reference: str) -> str:
    """The machine form: spaces removed, upper case, leading zeros of a national reference dropped."""
    value = "".join(reference.split()).upper()
    if value.isdigit():
        value = value.lstrip("0")
    return value


def is_valid_viitenumero(reference: str) -> bool:
    """True when ``reference`` (spaces allowed) is a Finnish reference number with a correct check digit."""
    value = compact(reference)
    return value.isdigit() and 4 <= len(value) <= 20 and viitenumero_check_digit(value[:-1]) == value[-1]


def format_viitenumero(reference: str) -> str:
    """The printed form, in groups of five from the right: ``1234561`` -> ``12 34561``."""
    value = compact(reference)
    groups = []
    while value:
        groups.append(value[-5:])
        value = value[:-5]
    return " ".join(reversed(groups))


def rf_from_viitenumero(reference: str) -> str:
    """The RF creditor reference for a national reference in digits (``10000141`` -> ``RF6210000141``).

    Finnish practice builds the RF form from the national reference including its own check
    digit, with leading zeros dropped.
    """
    value = compact(reference)
    if not value.isdigit() or not 1 <= len(value) <= 21:
        raise ValueError(f"{reference!r} is not a reference number in digits (1-21 digits)")
    return "RF" + mod_97_10.calc_check_digits(value + "RF") + value


@dataclass(frozen=True)
class PaymentReference:
    """A checked payment reference in machine form with its Finvoice scheme (``SPY`` or ``ISO``)."""

    value: str
    scheme: Literal["SPY", "ISO"]


def parse_reference(reference: str) -> PaymentReference:
    """Check a Finnish (``SPY``) or RF (``ISO``) reference; ``ValueError`` says what is wrong."""
    value = compact(reference)
    if value.startswith("RF"):
        try:
            checked = iso11649.validate(value)
        except ValidationError as exc:
            raise ValueError(f"the RF reference {reference!r} is not valid ({exc})") from exc
        return PaymentReference(str(checked), "ISO")
    if not value.isdigit():
        raise ValueError(f"{reference!r} is neither a Finnish reference number (digits) nor an RF reference")
    if not 4 <= len(value) <= 20:
        raise ValueError(f"the reference number {reference!r} must have 4-20 digits")
    if not is_valid_viitenumero(value):
        raise ValueError(
            f"the reference number {reference!r} has a wrong check digit "
            f"(expected {viitenumero_check_digit(value[:-1])} at the end)"
        )
    return PaymentReference(value, "SPY")
