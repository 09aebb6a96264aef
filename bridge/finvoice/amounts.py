"""Numbers as Finvoice writes them: comma decimals, fixed rounding, no binary noise.

Rounding (documented, and the same everywhere in the builder):

* Severa sends doubles; each is read through its shortest ``repr`` (``0.1`` stays ``0.1``).
* Quantities keep at most 6 decimals; unit prices at most 5 (the Finvoice unit-amount limit);
  both are rounded half away from zero (``ROUND_HALF_UP``) to that precision first, and the
  row arithmetic uses the rounded values that appear in the document.
* Row VAT-excluded amount = quantity x unit price, rounded to cents; row VAT = that amount x
  rate / 100, rounded to cents; row amount = the two added. Rounding is half away from zero,
  so a credit note is the exact mirror image of its invoice.
* Invoice totals and the per-rate VAT breakdown are plain sums of the rounded row amounts, so
  the totals always equal the sum of the rows (no separate roundoff amount).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
UNIT_PRICE_STEP = Decimal("0.00001")
QUANTITY_STEP = Decimal("0.000001")
PERCENT_STEP = Decimal("0.001")
HUNDRED = Decimal(100)


def to_decimal(value: object) -> Decimal | None:
    """A Severa number (int, float, numeric string) as a Decimal; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def round_to(value: Decimal, step: Decimal) -> Decimal:
    """Round half away from zero to ``step`` (e.g. :data:`CENT`)."""
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _comma(text: str) -> str:
    return text.replace(".", ",")


def format_amount(value: Decimal) -> str:
    """A money amount with exactly two decimals and a comma: ``-1234,50``."""
    text = _comma(f"{round_to(value, CENT):f}")
    return "0,00" if text == "-0,00" else text


def format_unit_price(value: Decimal) -> str:
    """A unit price with 2-5 decimals: ``95,00``, ``0,12345``."""
    whole, _, decimals = f"{round_to(value, UNIT_PRICE_STEP):f}".partition(".")
    text = f"{whole},{decimals.rstrip('0').ljust(2, '0')}"
    return "0,00" if text == "-0,00" else text


def format_quantity(value: Decimal) -> str:
    """A quantity with only the decimals it needs: ``7,5``, ``-2``, ``0,333333``."""
    text = f"{round_to(value, QUANTITY_STEP):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return _comma(text)


def format_percent(value: Decimal) -> str:
    """A percentage as Finvoice's pattern wants it: ``25,5``, ``14``, ``0``, ``13,125``."""
    text = f"{round_to(value, PERCENT_STEP):f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return _comma(text or "0")


def format_money_for_humans(value: Decimal, currency: str) -> str:
    """``1 255,00 EUR``: for error messages that support staff read."""
    text = f"{round_to(value, CENT):,.2f}".replace(",", " ").replace(".", ",")
    return f"{text} {currency}"
