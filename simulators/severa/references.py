"""Finnish business identifiers: viitenumero (reference number), Y-tunnus, OVT, IBAN.

* Viitenumero (kotimainen viite): base digits + a check digit computed with the repeating
  weights 7, 3, 1 from the right; (10 - sum mod 10) mod 10. 4-20 digits in total.
  python-stdnum has no Finnish reference number module; the RF creditor reference
  (`rf_reference`) is built on `stdnum.iso11649`.
* Y-tunnus (business ID) `1234567-8`: validated with `stdnum.fi.ytunnus`; Severa's
  `vatNumber` field carries it in the VAT form `FI12345678` (see severa-api.md §6).
* OVT (e-invoice address) = `0037` + the 8 Y-tunnus digits (+ optional suffix).
* IBAN: a Finnish one (18 characters) has two check digits of its own (mod-97, `stdnum.iban`)
  and the account number's national check digit, the last digit of the 14-digit machine form
  of the account number (the BBAN), computed with Luhn (`stdnum.luhn`). Banks check both.
"""

from __future__ import annotations

import random

from stdnum import iban as _iban
from stdnum import iso11649, luhn
from stdnum.fi import ytunnus

_WEIGHTS = (7, 3, 1)


def reference_check_digit(base: str) -> int:
    if not base.isdigit():
        raise ValueError(f"reference base must be digits, got {base!r}")
    total = sum(int(d) * _WEIGHTS[i % 3] for i, d in enumerate(reversed(base)))
    return (10 - total % 10) % 10


def finnish_reference(base: int | str) -> str:
    """The viitenumero for `base` (e.g. an invoice number): base + check digit, at least 4 digits."""
    digits = str(base)
    if not digits.isdigit():
        raise ValueError(f"reference base must be a non-negative integer, got {base!r}")
    digits = digits.lstrip("0") or "0"
    if len(digits) < 3:
        digits = digits.zfill(3)
    if len(digits) > 19:
        raise ValueError("reference base is too long (max 19 digits)")
    return digits + str(reference_check_digit(digits))


def is_valid_finnish_reference(ref: str) -> bool:
    ref = ref.replace(" ", "")
    if not ref.isdigit() or not 4 <= len(ref) <= 20:
        return False
    return reference_check_digit(ref[:-1]) == int(ref[-1])


def rf_reference(ref: str) -> str:
    """The international RF form (ISO 11649) of a Finnish reference number."""
    body = ref.replace(" ", "")
    check = 98 - int("".join(str(int(c, 36)) for c in body + "RF00")) % 97
    out = f"RF{check:02d}{body}"
    return iso11649.validate(out)


def ytunnus_check_digit(base7: str) -> int | None:
    weights = (7, 9, 10, 5, 8, 4, 2)
    rem = sum(int(d) * w for d, w in zip(base7, weights, strict=True)) % 11
    if rem == 1:
        return None
    return 0 if rem == 0 else 11 - rem


def random_ytunnus(rng: random.Random) -> str:
    """A valid Y-tunnus `1234567-8` drawn from `rng`."""
    while True:
        base = f"{rng.randint(1000000, 3299999):07d}"
        check = ytunnus_check_digit(base)
        if check is not None:
            out = f"{base}-{check}"
            ytunnus.validate(out)
            return out


def vat_form(business_id: str) -> str:
    """`1234567-8` -> `FI12345678` (the form Severa's `vatNumber` fields carry)."""
    return "FI" + ytunnus.compact(business_id).replace("-", "")


def ovt(business_id: str, suffix: str = "") -> str:
    return "0037" + ytunnus.compact(business_id).replace("-", "") + suffix


def finnish_iban(rng: random.Random, bank_prefix: str) -> str:
    """A valid Finnish IBAN (18 chars) whose BBAN starts with `bank_prefix`: the account number's
    own check digit (Luhn over its first 13 digits) and the IBAN's mod-97 digits both hold.
    (Drawing all 14 digits and fixing only the mod-97 digits made 9 in 10 accounts a bank
    refuses; the last drawn digit is replaced, so the rng is drawn as often as before.)"""
    drawn = bank_prefix + "".join(str(rng.randint(0, 9)) for _ in range(14 - len(bank_prefix)))
    bban = drawn[:13] + luhn.calc_check_digit(drawn[:13])
    check = _iban.calc_check_digits("FI00" + bban)
    return _iban.validate(f"FI{check}{bban}")


def is_valid_finnish_iban(value: str) -> bool:
    """Mod-97 and, for a Finnish IBAN, the national check digit of the account number."""
    compact = _iban.compact(value)
    if not _iban.is_valid(compact):
        return False
    return not compact.startswith("FI") or (len(compact) == 18 and luhn.is_valid(compact[4:]))
