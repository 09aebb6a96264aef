"""Severa → Maestro: what a customer card and an invoice become in Maestro's API (MA-1, MA-2).

Both read the typed Severa model (``bridge.severa.model``) and produce the JSON bodies of
Maestro's OpenAPI document (``CustomerInput``, ``SalesInvoiceImport``), or a ``MappingError``
that says, in words support staff can act on, which Severa field to fix.

Choices (documented, not in the help article):

* The Maestro customer number (asiakasnumero) is Severa's customer number; a customer without
  one cannot be transferred.
* Severa keeps the Y-tunnus or the VAT number in one field (``vatNumber``): a Finnish one gives
  Maestro both ``business_id`` (``1234567-8``) and ``vat_number`` (``FI12345678``), checked
  with their check digit; a foreign VAT number gives only ``vat_number``.
* The billing address is the customer's headquarter address (``headquarterAddress``, the one
  Severa prints on its invoices); an incomplete one is left out rather than sent half.
* Invoice rows keep Severa's codes in order (``code[]``) and their kind (product, work type,
  travel expense); Maestro matches them to its products. Amounts are Severa's: each row's
  net = quantity x unit price and VAT rounded half away from zero to cents, the totals Severa's
  own (an invoice whose rows do not add up to them is refused before it is sent).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bridge.finvoice.address import country_code_of
from bridge.finvoice.identifiers import (
    is_finnish_vat_or_business_id,
    looks_like_foreign_vat,
    parse_business_id,
)
from bridge.severa.model import CustomerCard, RowKind, SeveraInvoice

__all__ = ["KIND_WORDS", "MappingError", "customer_body", "customer_number", "invoice_body"]

_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
_COMPACT = re.compile(r"^[A-Za-z0-9]{2,35}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FOREIGN_VAT = re.compile(r"^[A-Z]{2}[0-9A-Za-z+*.]{2,13}$")
MAX_ROWS = 500

#: How the transfer log names a row's source (Finnish UI term / English).
KIND_WORDS: dict[RowKind, str] = {
    RowKind.PRODUCT: "tuote / product",
    RowKind.WORK_TYPE: "työlaji / work type",
    RowKind.TRAVEL_EXPENSE: "matkakulu / travel expense",
}


class MappingError(Exception):
    """The Severa data cannot become a valid Maestro record; ``str()`` says what to fix where."""


def customer_number(card: CustomerCard) -> str:
    number = "" if card.number is None else str(card.number)
    if not _NUMBER.match(number):
        raise MappingError(
            f"Customer '{card.name or card.guid}' has no customer number (asiakasnumero) Maestro can use "
            f"(got {number or 'none'}); give the customer a number in Severa"
        )
    return number


def customer_body(card: CustomerCard) -> dict[str, Any]:
    """``CustomerInput`` of Maestro for a Severa customer card (MA-2); raises ``MappingError``."""
    who = f"Customer '{card.name or card.guid}'"
    customer_number(card)
    problems: list[str] = []
    name = " ".join(card.name.split())[:100]
    if not name:
        problems.append("it has no name (asiakkaan nimi)")
    business_id = vat_number = None
    raw = "".join(card.vat_number.split()).upper()
    if raw:
        if is_finnish_vat_or_business_id(raw):
            try:
                parsed = parse_business_id(raw)
            except ValueError as exc:
                problems.append(f"its business ID (Y-tunnus) is not valid: {exc}")
            else:
                business_id, vat_number = parsed.ytunnus, parsed.vat_number
        elif looks_like_foreign_vat(raw) and _FOREIGN_VAT.match(raw):
            vat_number = raw
        else:
            problems.append(
                f"its VAT number {card.vat_number!r} is neither a Finnish business ID nor a VAT number"
            )
    eia = "".join(card.e_invoice_address.split())
    operator = "".join(card.e_invoice_operator.split())
    if eia and not _COMPACT.match(eia):
        problems.append(f"its e-invoice address (verkkolaskuosoite) {card.e_invoice_address!r} is not valid")
    if operator and not _COMPACT.match(operator):
        problems.append(f"its e-invoice operator (välittäjätunnus) {card.e_invoice_operator!r} is not valid")
    email = card.email.strip()
    if email and (not _EMAIL.match(email) or len(email) > 254):
        problems.append(f"its e-mail address {email!r} is not valid")
    if problems:
        raise MappingError(f"{who}: " + "; ".join(problems) + ". Correct the customer card in Severa.")
    return {
        "name": name,
        "business_id": business_id,
        "vat_number": vat_number,
        "einvoice_address": eia or None,
        "einvoice_operator": operator or None,
        "email": email or None,
        "billing_address": _billing_address(card),
        "severa_customer_guid": card.guid.lower() or None,
    }


def _billing_address(card: CustomerCard) -> dict[str, str] | None:
    address = card.address
    if address is None:
        return None
    street = " ".join(address.street.split())[:100]
    post_code = address.post_code.strip()[:10]
    city = address.city.strip()[:50]
    if not (street and post_code and city):
        return None
    code, _ = country_code_of(address.country)
    return {"street": street, "postal_code": post_code, "city": city, "country_code": code or "FI"}


def _amount(value: Decimal) -> float:
    return float(value)


@dataclass(frozen=True)
class InvoiceBody:
    body: dict[str, Any]
    customer: CustomerCard


def invoice_body(invoice: SeveraInvoice) -> InvoiceBody:
    """``SalesInvoiceImport`` of Maestro for a Severa invoice with its lines and customer (MA-1)."""
    problems: list[str] = []
    label = invoice.label
    card = invoice.customer_card
    if card is None:
        raise MappingError(f"{label}: its customer is not in Severa (deleted?); nothing can be transferred")
    number = customer_number(card)
    if not invoice.number:
        problems.append("it has no invoice number (laskunumero) yet; move it to a status that assigns one")
    elif len(invoice.number) > 20:
        problems.append(f"its invoice number {invoice.number!r} is longer than 20 characters")
    if invoice.date is None:
        problems.append("it has no invoice date")
    due = invoice.due_date
    if due is None and invoice.date is not None and invoice.payment_term is not None:
        due = invoice.date + timedelta(days=invoice.payment_term)
    if due is None:
        problems.append("it has no due date (eräpäivä) and no payment term")
    lines = invoice.lines or ()
    if not lines:
        problems.append("it has no rows (laskurivit)")
    if len(lines) > MAX_ROWS:
        problems.append(f"it has {len(lines)} rows; Maestro takes at most {MAX_ROWS}")
    rows = []
    for line in lines:
        net, vat = line.net, line.vat
        if (
            net is None
            or vat is None
            or line.quantity is None
            or line.unit_price is None
            or line.vat_rate is None
        ):
            problems.append(f"row {line.position} has no quantity, unit price or VAT rate")
            continue
        rows.append(
            {
                "source_kind": line.kind.value,
                "codes": [c[:70] for c in line.codes[:20]],
                "description": " ".join(line.description.split())[:500],
                "quantity": float(line.quantity),
                "unit": line.unit[:10],
                "unit_price": float(line.unit_price),
                "vat_rate": float(line.vat_rate),
                "net_amount": _amount(net),
                "vat_amount": _amount(vat),
                "gross_amount": _amount(net + vat),
            }
        )
    problems += [message.removeprefix(f"{label}: ") for _, message in invoice.totals_problems()]
    if problems:
        raise MappingError(f"{label}: " + "; ".join(problems))
    row_net, row_vat = invoice.row_sums()
    totals = invoice.totals
    excl = totals.excluding_vat if totals.excluding_vat is not None else row_net
    vat_total = totals.vat if totals.vat is not None else row_vat
    incl = totals.including_vat if totals.including_vat is not None else excl + vat_total
    assert invoice.date is not None and due is not None
    body: dict[str, Any] = {
        "severa_invoice_guid": invoice.guid.lower(),
        "invoice_number": invoice.number,
        "invoice_date": invoice.date.isoformat(),
        "due_date": due.isoformat(),
        "customer_number": number,
        "currency": invoice.currency,
        "reference_number": invoice.reference_number[:25] or None,
        "total_excluding_vat": _amount(excl),
        "total_vat": _amount(vat_total),
        "total_including_vat": _amount(incl),
        "rows": rows,
    }
    return InvoiceBody(body, card)
