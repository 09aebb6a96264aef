"""The typed read model of Severa that every connector uses (one of each: one model, one reader).

Severa's wire JSON (``InvoiceOutputModel``, ``InvoiceRowOutputModel``, ``CustomerModel`` ...) is
read once, here, into frozen dataclasses; the Finvoice builder (Maventa) and the Maestro mapping
both take these objects and never look at raw dicts. Values are kept as Severa sent them, only
made safe to use (text stripped, numbers as ``Decimal`` through their shortest ``repr``); each
consumer applies its own format's rules and reports problems in its own words.

Finnish UI terms, for support staff: *lasku* (invoice), *laskurivi* (invoice row), *asiakas*
(customer), *laskutusosoite* (billing address), *laskun tila* (invoice status), *tuote*
(product), *työlaji* (work type), *matkakulu* (travel expense), *liiketoimintayksikkö*
(business unit).

Money: Severa publishes no row total. A row's amount excluding VAT is quantity x unit price
rounded to cents *half away from zero*, its VAT that amount x rate / 100 rounded the same way,
and the invoice totals are the sums of the rounded rows [inferred from Severa's UI; the simulator
rounds the same way]. ``SeveraInvoice.totals`` are what Severa shows for the invoice; a connector
sends *those* and refuses an invoice whose rows do not add up to them (``totals_problems``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

__all__ = [
    "CENT",
    "Address",
    "CustomerCard",
    "InvoiceLine",
    "PartyRef",
    "RowKind",
    "SeveraInvoice",
    "StatusInfo",
    "Totals",
    "format_money",
    "half_up",
    "parse_customer",
    "parse_decimal",
    "parse_invoice",
    "parse_line",
    "parse_status",
    "text",
]

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
Json = Mapping[str, Any]


def text(value: object) -> str:
    """A wire value as stripped text ("" for None)."""
    return "" if value is None else str(value).strip()


def opt_text(value: object) -> str | None:
    return text(value) or None


def parse_decimal(value: object) -> Decimal | None:
    """A Severa number (int, float, numeric string) as Decimal; None when absent or not finite."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def half_up(value: Decimal, step: Decimal = CENT) -> Decimal:
    """Round half away from zero (``ROUND_HALF_UP`` in Decimal terms) to ``step``."""
    return value.quantize(step, rounding=ROUND_HALF_UP)


def format_money(value: Decimal, currency: str = "EUR") -> str:
    """``1 255,00 EUR``, for messages that people read."""
    digits = f"{half_up(value):,.2f}".replace(",", " ").replace(".", ",")
    return f"{digits} {currency}"


def _money(value: object) -> Decimal | None:
    """A ``MoneyOutputModel`` (``{"amount", "currencyCode"}``) or a bare number."""
    if isinstance(value, Mapping):
        return parse_decimal(value.get("amount"))
    return parse_decimal(value)


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _sub(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


class RowKind(StrEnum):
    """Where an invoice row comes from, i.e. which Severa register its code belongs to."""

    WORK_TYPE = "work_type"  # Hours: työlaji (work type) code
    PRODUCT = "product"  # ProjectFees (and FlatRate): tuote (product) code
    TRAVEL_EXPENSE = "travel_expense"  # TravelExpenses: matkakulu (travel expense type) code


ROW_KINDS: dict[str, RowKind] = {
    "hours": RowKind.WORK_TYPE,
    "projectfees": RowKind.PRODUCT,
    "flatrate": RowKind.PRODUCT,
    "travelexpenses": RowKind.TRAVEL_EXPENSE,
}


@dataclass(frozen=True)
class Address:
    """A postal address as Severa keeps it: free-text street part, post code, city, country."""

    street: str = ""
    post_code: str = ""
    city: str = ""
    country: str = ""  # a name ("Finland") or an ISO code, as Severa sent it

    @property
    def empty(self) -> bool:
        return not (self.street or self.post_code or self.city)

    @classmethod
    def from_wire(cls, value: object) -> Address | None:
        data = _sub(value)
        if not data:
            return None
        country = data.get("country")
        if isinstance(country, Mapping):
            country = country.get("code") or country.get("englishName") or country.get("name")
        address = cls(
            street=str(
                data.get("addressline") or data.get("addressLine") or data.get("street") or ""
            ).strip(),
            post_code=text(data.get("postalCode") or data.get("postCode") or data.get("zipCode")),
            city=text(data.get("city") or data.get("town")),
            country=text(country),
        )
        return None if address.empty and not address.country else address


@dataclass(frozen=True)
class PartyRef:
    """A customer as an invoice refers to it (``InvoiceCustomerSubModel``)."""

    guid: str
    name: str = ""
    number: int | None = None


@dataclass(frozen=True)
class StatusInfo:
    """An invoice status (laskun tila) with the flags the integrations care about."""

    guid: str
    name: str
    is_sent: bool = False  # "Lähetetty": MV-14
    is_read_only: bool = False  # "Ei muokattavissa"
    has_invoice_number: bool = False  # "Laskunumero"
    is_active: bool = True


@dataclass(frozen=True)
class CustomerCard:
    """A customer card (asiakaskortti) as ``GET /v1/customers`` gives it."""

    guid: str
    name: str
    number: int | None = None
    vat_number: str = ""  # Y-tunnus / ALV-numero (Severa keeps either in one field)
    e_invoice_address: str = ""  # verkkolaskuosoite
    e_invoice_operator: str = ""  # välittäjätunnus
    email: str = ""
    language: str = ""  # two-letter code, e.g. "fi"
    address: Address | None = None  # headquarterAddress (the billing address on Severa's invoices)
    is_active: bool = True
    is_internal: bool = False
    changed_at: str = ""  # lastUpdatedDateTime (or createdDateTime), Severa's own clock

    @property
    def version(self) -> str:
        """Severa's change time and a digest of the card: two edits within one second of Severa's
        clock (a fix undone, a fix redone) still give two versions."""
        digest = hashlib.sha256(repr(dataclasses.astuple(self)).encode()).hexdigest()[:16]
        return f"{self.changed_at}#{digest}"


@dataclass(frozen=True)
class Totals:
    """What Severa shows as the invoice's totals (``totalExcludingTax`` ...)."""

    excluding_vat: Decimal | None
    vat: Decimal | None
    including_vat: Decimal | None
    currency: str = "EUR"


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice row (laskurivi), with the register its code comes from."""

    guid: str
    position: int  # 1-based, in Severa's sort order
    row_type: str  # Severa's rowType: Hours | ProjectFees | TravelExpenses | FlatRate
    kind: RowKind
    codes: tuple[str, ...]  # product / work type / travel expense code(s); may be empty
    description: str
    quantity: Decimal | None
    unit: str
    unit_price: Decimal | None
    vat_rate: Decimal | None
    currency: str = "EUR"

    @property
    def code(self) -> str:
        """The first non-empty code ("" when the row has none)."""
        return next((c for c in self.codes if c), "")

    @property
    def net(self) -> Decimal | None:
        """Amount excluding VAT: quantity x unit price, rounded half away from zero to cents."""
        if self.quantity is None or self.unit_price is None:
            return None
        return half_up(self.quantity * self.unit_price)

    @property
    def vat(self) -> Decimal | None:
        net = self.net
        if net is None or self.vat_rate is None:
            return None
        return half_up(net * self.vat_rate / HUNDRED)

    @property
    def gross(self) -> Decimal | None:
        net, vat = self.net, self.vat
        return None if net is None or vat is None else net + vat


@dataclass(frozen=True)
class SeveraInvoice:
    """A Severa invoice (lasku), with its rows and billing customer once they are read."""

    guid: str
    number: str  # "" until the invoice is in a status that assigns numbers
    status: StatusInfo
    date: dt.date | None
    due_date: dt.date | None
    payment_term: int | None
    totals: Totals
    customer: PartyRef
    billing_customer: PartyRef
    business_unit_guid: str = ""  # invoiceNumberBusinessUnitGuid: the issuing unit (MV-5)
    reference_number: str = ""  # viitenumero
    language: str = ""  # two-letter code of the invoice language
    is_credit_note: bool = False
    original_number: str = ""  # reimburseInvoice.number, for a credit note
    our_reference: str = ""
    your_reference: str = ""
    order_number: str = ""
    free_texts: tuple[str, ...] = ()
    overdue_interest: Decimal | None = None
    receiver_name: str = ""
    receiver_address: Address | None = None
    receiver_contact_name: str = ""
    receiver_contact_email: str = ""
    sender_name: str = ""
    sender_vat_number: str = ""
    sender_address: Address | None = None
    sender_contact_name: str = ""
    changed_at: str = ""  # lastUpdatedDateTime, Severa's own clock (a version of the invoice)
    lines: tuple[InvoiceLine, ...] | None = None  # None until the rows are read
    customer_card: CustomerCard | None = None  # the billing customer, once read

    @property
    def label(self) -> str:
        """``Invoice 10023`` (or the GUID before a number is assigned), for messages."""
        return f"Invoice {self.number}" if self.number else f"Invoice {self.guid}"

    @property
    def currency(self) -> str:
        return self.totals.currency

    def with_details(
        self, lines: Sequence[InvoiceLine] | None = None, customer: CustomerCard | None = None
    ) -> SeveraInvoice:
        return replace(
            self,
            lines=tuple(lines) if lines is not None else self.lines,
            customer_card=customer if customer is not None else self.customer_card,
        )

    def row_sums(self) -> tuple[Decimal, Decimal]:
        """(sum of the rows' amounts excluding VAT, sum of their VAT), rows that have amounts."""
        lines = self.lines or ()
        net = sum((ln.net for ln in lines if ln.net is not None), Decimal(0))
        vat = sum((ln.vat for ln in lines if ln.vat is not None), Decimal(0))
        return net, vat

    def totals_problems(self) -> list[tuple[str, str]]:
        """``(field, message)`` for every Severa total the rows do not add up to (to the cent).

        Only meaningful once ``lines`` are read and every row has its amounts.
        """
        if not self.lines:
            return []
        net, vat = self.row_sums()
        out: list[tuple[str, str]] = []
        for key, theirs, ours, what in (
            ("totalExcludingTax", self.totals.excluding_vat, net, "excluding VAT"),
            ("totalTax", self.totals.vat, vat, "of VAT"),
            ("totalIncludingTax", self.totals.including_vat, net + vat, "including VAT"),
        ):
            if theirs is not None and theirs != ours:
                out.append(
                    (
                        f"invoice.{key}",
                        f"{self.label}: the rows add up to {format_money(ours, self.currency)} {what}, but "
                        f"Severa shows {format_money(theirs, self.currency)} for the invoice; recalculate "
                        "the invoice in Severa before transferring it.",
                    )
                )
        return out


# --------------------------------------------------------------------------------- parsing
def parse_status(data: Json) -> StatusInfo:
    return StatusInfo(
        guid=text(data.get("guid")),
        name=text(data.get("name")),
        is_sent=bool(data.get("isSent")),
        is_read_only=bool(data.get("isReadOnly")),
        has_invoice_number=bool(data.get("hasInvoiceNumber")),
        is_active=data.get("isActive", True) is not False,
    )


def _ref(value: object) -> PartyRef:
    data = _sub(value)
    number = data.get("number")
    return PartyRef(
        guid=text(data.get("guid")),
        name=text(data.get("name")),
        number=number if isinstance(number, int) and not isinstance(number, bool) else None,
    )


def _free_text(value: object) -> str:
    if isinstance(value, Mapping):
        value = value.get("plainText") or value.get("text") or value.get("value")
    return text(value)


def parse_invoice(data: Json) -> SeveraInvoice:
    """An ``InvoiceOutputModel`` (as listed or read) into a :class:`SeveraInvoice` (no rows yet)."""
    total_incl = _sub(data.get("totalIncludingTax"))
    currency = text(_sub(data.get("currency")).get("code") or total_incl.get("currencyCode")) or "EUR"
    term = data.get("paymentTerm")
    number = data.get("number")
    language = _sub(data.get("language")).get("code") or _sub(data.get("culture")).get("code")
    billing = data.get("billingCustomer") or data.get("customer")
    return SeveraInvoice(
        guid=text(data.get("guid")),
        number="" if number is None else text(number),
        status=parse_status(_sub(data.get("status"))),
        date=_date(data.get("date")),
        due_date=_date(data.get("dueDate")),
        payment_term=term if isinstance(term, int) and not isinstance(term, bool) else None,
        totals=Totals(
            _money(data.get("totalExcludingTax")),
            _money(data.get("totalTax")),
            _money(data.get("totalIncludingTax")),
            currency.upper(),
        ),
        customer=_ref(data.get("customer")),
        billing_customer=_ref(billing),
        business_unit_guid=text(data.get("invoiceNumberBusinessUnitGuid")).lower(),
        reference_number=text(data.get("referenceNumber")),
        language=text(language)[:2].lower(),
        is_credit_note=bool(data.get("isCreditNote")),
        original_number=text(_sub(data.get("reimburseInvoice")).get("number")),
        our_reference=text(data.get("ourReference")),
        your_reference=text(data.get("yourReference")),
        order_number=text(data.get("orderNumber")),
        free_texts=tuple(t for t in (_free_text(data.get(k)) for k in ("freeText1", "freeText2")) if t),
        overdue_interest=parse_decimal(data.get("overdueInterest")),
        receiver_name=text(data.get("receiverCustomerName")),
        receiver_address=Address.from_wire(data.get("receiverAddress")),
        receiver_contact_name=text(data.get("receiverContactName")),
        receiver_contact_email=text(data.get("receiverContactEmail")),
        sender_name=text(data.get("senderName")),
        sender_vat_number=text(data.get("senderVatNumber")),
        sender_address=Address.from_wire(data.get("senderAddress")),
        sender_contact_name=text(data.get("senderContactName")),
        changed_at=text(data.get("lastUpdatedDateTime") or data.get("createdDateTime")),
    )


def parse_line(data: Json, position: int, currency: str = "EUR") -> InvoiceLine:
    """An ``InvoiceRowOutputModel`` into an :class:`InvoiceLine`."""
    codes = data.get("code") or []
    if isinstance(codes, str):
        codes = [codes]
    row_type = text(data.get("rowType"))
    price = _sub(data.get("unitPrice"))
    return InvoiceLine(
        guid=text(data.get("guid")),
        position=position,
        row_type=row_type,
        kind=ROW_KINDS.get(row_type.lower(), RowKind.PRODUCT),
        codes=tuple(text(c) for c in codes if isinstance(c, str | int) and text(c)),
        description=text(data.get("description")),
        quantity=parse_decimal(data.get("quantity")),
        unit=text(data.get("measurementUnit")),
        unit_price=parse_decimal(price.get("amount")) if price else parse_decimal(data.get("unitPrice")),
        vat_rate=parse_decimal(data.get("vatRate")),
        currency=text(price.get("currencyCode")).upper() or currency,
    )


def parse_lines(rows: Sequence[Json], currency: str = "EUR") -> tuple[InvoiceLine, ...]:
    """Rows in Severa's ``sortOrder`` (ties in the order sent), numbered from 1."""
    ordered = sorted(
        enumerate(rows), key=lambda pair: (parse_decimal(pair[1].get("sortOrder")) or Decimal(0), pair[0])
    )
    return tuple(parse_line(row, n, currency) for n, (_, row) in enumerate(ordered, start=1))


def parse_customer(data: Json) -> CustomerCard:
    number = data.get("number")
    language = _sub(data.get("language")).get("code")
    return CustomerCard(
        guid=text(data.get("guid")),
        name=text(data.get("name")),
        number=number if isinstance(number, int) and not isinstance(number, bool) else None,
        vat_number=text(data.get("vatNumber")),
        e_invoice_address=text(data.get("eInvoiceAddress")),
        e_invoice_operator=text(data.get("eInvoiceOperator")),
        email=text(data.get("email")),
        language=text(language)[:2].lower(),
        address=Address.from_wire(data.get("headquarterAddress")),
        is_active=data.get("isActive", True) is not False,
        is_internal=bool(data.get("isInternal")),
        changed_at=text(data.get("lastUpdatedDateTime") or data.get("createdDateTime")),
    )


@dataclass(frozen=True)
class CatalogueItem:
    """A product, work type or travel expense type with its code (Maestro matches these)."""

    kind: RowKind
    guid: str
    name: str
    code: str
    is_active: bool = True
    billable: bool = True  # a non-productive work type never reaches an invoice
    extra: Mapping[str, Any] = field(default_factory=dict)


def parse_catalogue_item(kind: RowKind, data: Json) -> CatalogueItem:
    productive = data.get("isProductive")
    return CatalogueItem(
        kind=kind,
        guid=text(data.get("guid")),
        name=text(data.get("name")),
        code=text(data.get("code")),
        is_active=data.get("isActive", True) is not False,
        billable=not (kind is RowKind.WORK_TYPE and productive is False),
    )
