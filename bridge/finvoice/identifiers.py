"""Finnish identifiers, checked with python-stdnum where it has them.

* Business ID (Y-tunnus, ``NNNNNNN-C``): :mod:`stdnum.fi.ytunnus`. The VAT number
  (ALV-numero) is ``FI`` + the 8 digits: :mod:`stdnum.fi.alv`.
* IBAN (tilinumero IBAN-muodossa): :mod:`stdnum.iban`; BIC: :mod:`stdnum.bic`.
* E-invoice address (verkkolaskuosoite, EIA) and operator (välittäjä): treated as a pair; only
  the shape is checked (2-35 characters), plus the embedded Y-tunnus check digit when the
  address is an OVT code (``0037`` + 8 digits + an optional suffix of up to 5 characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError
from stdnum.fi import alv, ytunnus

#: Maventa's operator code in the Finnish operator network (välittäjätunnus).
MAVENTA_OPERATOR = "003721291126"

_FI_VAT = re.compile(r"^FI\d{8}$")
_YTUNNUS = re.compile(r"^\d{6,7}-\d$")
_FOREIGN_VAT = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,33}$")


@dataclass(frozen=True)
class BusinessId:
    """A Finnish business ID in both written forms."""

    ytunnus: str  # 2077474-0
    vat_number: str  # FI20774740

    @property
    def ovt(self) -> str:
        """The OVT code without a suffix: ``0037`` + the 8 digits."""
        return "0037" + self.ytunnus.replace("-", "")


def parse_business_id(value: str) -> BusinessId:
    """Read a Y-tunnus (``2077474-0``, ``0112038-9``) or a Finnish VAT number (``FI20774740``).

    Raises ``ValueError`` with a human-readable reason.
    """
    text = "".join(value.split()).upper()
    if _FI_VAT.match(text):
        try:
            digits = alv.validate(text)
        except ValidationError as exc:
            raise ValueError(f"{value!r} is not a valid Finnish VAT number ({exc})") from exc
        digits = digits.removeprefix("FI")
    elif _YTUNNUS.match(text) or text.isdigit():
        try:
            digits = ytunnus.validate(text)
        except ValidationError as exc:
            raise ValueError(f"{value!r} is not a valid business ID (Y-tunnus): {exc}") from exc
    else:
        raise ValueError(f"{value!r} is not a Finnish business ID (Y-tunnus, e.g. 1234567-8)")
    return BusinessId(ytunnus=str(ytunnus.format(digits)), vat_number="FI" + digits)


def is_finnish_vat_or_business_id(value: str) -> bool:
    """True when ``value`` looks like a Finnish business ID or VAT number (checked or not)."""
    text = "".join(value.split()).upper()
    return bool(_FI_VAT.match(text) or _YTUNNUS.match(text) or re.fullmatch(r"\d{8}", text))


def looks_like_foreign_vat(value: str) -> bool:
    """True for a VAT number with a two-letter non-Finnish country prefix (``SE556677889901``)."""
    text = "".join(value.split()).upper()
    return bool(_FOREIGN_VAT.match(text)) and not text.startswith("FI")


def compact_iban(value: str) -> str:
    """The IBAN without spaces, upper case, after checking its check digits; ``ValueError`` if wrong."""
    try:
        return str(stdnum_iban.validate(value))
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid IBAN ({exc})") from exc


def compact_bic(value: str) -> str:
    """The BIC (8 or 11 characters) after checking its shape; ``ValueError`` if wrong."""
    try:
        return str(stdnum_bic.validate(value))
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid BIC ({exc})") from exc


def check_e_invoice_address(value: str) -> str:
    """An e-invoice address (EIA) in compact form; ``ValueError`` when it cannot be one.

    OVT codes (``0037`` + Y-tunnus digits + up to 5 suffix characters) get their Y-tunnus check
    digit verified; other shapes (IBAN-style bank addresses, operator-specific codes) are only
    checked for length.
    """
    text = "".join(value.split())
    if not 2 <= len(text) <= 35:
        raise ValueError(f"the e-invoice address {value!r} must be 2-35 characters long")
    if text.startswith("0037") and text[4:12].isdigit() and 12 <= len(text) <= 17:
        try:
            ytunnus.validate(text[4:12])
        except ValidationError as exc:
            raise ValueError(
                f"the e-invoice address {value!r} looks like an OVT code but its business ID part "
                f"{text[4:11]}-{text[11]} has a wrong check digit"
            ) from exc
    return text


def check_operator(value: str) -> str:
    """An e-invoice operator code (välittäjätunnus: an OVT-style code or a bank BIC)."""
    text = "".join(value.split())
    if not 2 <= len(text) <= 35:
        raise ValueError(f"the e-invoice operator {value!r} must be 2-35 characters long")
    return text
