"""Build a Finvoice 3.0 invoice (verkkolasku) from a Severa invoice of the typed read model.

Input is a :class:`bridge.severa.model.SeveraInvoice` with its ``lines`` and ``customer_card``
read (``SeveraSource.with_lines``), the :class:`~.party.SellerParty` that sends it and, when the
caller has decided it already, the :class:`Recipient` (the routing Maventa also gets in its
upload form: decided once, from the same normalised values). Output is the UTF-8 bytes of one
Finvoice 3.0 document, elements in the schema's order. Field paths in error messages use
Severa's own names (``customer.vatNumber``, ``invoice.receiverAddress.city``), so support staff
know where to fix them.

Mapping (Severa -> Finvoice), the parts worth knowing:

* ``MessageTransmissionDetails`` only when the customer card has both an e-invoice address
  (``eInvoiceAddress``, verkkolaskuosoite) and an operator (``eInvoiceOperator``, välittäjä);
  every sub-element of the frame is mandatory, so without the pair there is no frame and Maventa
  routes by its registry, e-mail or print. ``MessageIdentifier`` defaults to the invoice GUID.
  The buyer's address is also written as ``BuyerOrganisationUnitNumber`` and the seller's (when
  configured) as ``SellerOrganisationUnitNumber``. ``BuyerPartyDetails`` carries no e-invoice data.
* Buyer identifiers: a Finnish ``vatNumber`` (``FI12345678`` or ``1234567-8``) gives
  ``BuyerPartyIdentifier`` (Y-tunnus) and ``BuyerOrganisationTaxCode`` (VAT number); a foreign
  VAT number only the latter; no number means a consumer or a foreign buyer without one.
* Buyer e-mail (for Maventa's e-mail route, MV-8): the customer's ``email``, else the invoice's
  ``receiverContactEmail``; written to ``InvoiceRecipientCommunicationDetails`` (which Maventa
  reads) and ``BuyerCommunicationDetails``. ``include_email=False`` (MV-8 off) leaves it out.
* The buyer's postal address is the invoice's ``receiverAddress`` (the billing address Severa
  prints on the invoice), else the customer card's ``headquarterAddress``.
* ``InvoiceTypeCode`` INV01 / ``InvoiceTypeCodeUN`` 380, or INV02 / 381 when ``isCreditNote``
  (then ``OriginalInvoiceNumber`` is ``reimburseInvoice.number``). Texts follow the invoice
  language (fi/sv/en, Finnish by default).
* ``orderNumber`` -> ``OrderIdentifier``, ``yourReference`` -> ``BuyerReferenceIdentifier``,
  ``ourReference`` -> ``SellerReferenceIdentifier``, ``freeText1``/``freeText2`` ->
  ``InvoiceFreeText``; ``paymentTerm``, ``dueDate`` (or date + ``paymentTerm``) and
  ``overdueInterest`` -> ``PaymentTermsDetails``.
* Rows are taken in ``sortOrder``. ``ArticleIdentifier`` is the row's first ``code``;
  ``ArticleName`` the description (see :mod:`.text` for the length policy);
  ``DeliveredQuantity`` with the unit as ``QuantityUnitCode`` (and the UN/ECE code when the unit
  is a common one); a negative unit price is written as a positive price with a negative
  quantity (Finvoice's convention for credits), which leaves the row amount unchanged.
* Amounts: Severa's. A row's amounts are Severa's rounding of it (quantity x unit price, half
  away from zero to cents; VAT likewise: ``InvoiceLine.net`` / ``.vat``), the totals are
  Severa's ``totalExcludingTax`` / ``totalTax`` / ``totalIncludingTax``, and an invoice whose rows
  do not add up to its totals to the cent is refused (the e-invoice would disagree with the
  invoice the customer sees). Quantities and unit prices are written as :mod:`.amounts` says.
* ``EpiDetails``: ``EpiDate`` = invoice date, ``EpiReference`` and
  ``EpiRemittanceInfoIdentifier`` = ``referenceNumber`` (scheme ``SPY`` for a Finnish reference
  number, ``ISO`` for RF; check digits verified, a wrong one is an error; when Severa has no
  reference number both are left empty/out), BIC and IBAN of the seller's first bank account,
  the seller's business ID as ``EpiBei``, ``EpiInstructedAmount`` = the total including VAT,
  ``EpiCharge`` ``SHA``, ``EpiDateOptionDate`` = the due date, payment means 58 (SEPA transfer).
* The invoice image (MV-6): Maventa takes the PDF from the ZIP when it has the XML's base name
  (see :mod:`.package`); the Finvoice itself needs no reference to it, so nothing is added.

Every missing or invalid input is collected; if there is any, :class:`~.errors.FinvoiceBuildError`
is raised with all of them and nothing is emitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from lxml import etree

from bridge.severa.model import Address, CustomerCard, InvoiceLine, SeveraInvoice

from . import amounts
from .address import PostalAddress, country_code_of, street_lines_of
from .errors import FieldError, FinvoiceBuildError
from .identifiers import (
    MAVENTA_OPERATOR,
    BusinessId,
    check_e_invoice_address,
    check_operator,
    compact_bic,
    compact_iban,
    is_finnish_vat_or_business_id,
    looks_like_foreign_vat,
    parse_business_id,
)
from .party import SellerParty
from .reference import PaymentReference, parse_reference
from .text import chunks, one_line, split_name, truncate

#: Finvoice amounts have at most 15 integer digits; a total beyond this cannot be written.
MAX_AMOUNT = Decimal("1e13")

#: UN/ECE Recommendation 20 codes for the units Severa users typically type.
UNIT_CODES_UN: dict[str, str] = {
    "h": "HUR",
    "tunti": "HUR",
    "tuntia": "HUR",
    "hour": "HUR",
    "hours": "HUR",
    "tim": "HUR",
    "min": "MIN",
    "kpl": "C62",
    "pcs": "C62",
    "pc": "C62",
    "st": "C62",
    "kappale": "C62",
    "pv": "DAY",
    "päivä": "DAY",
    "day": "DAY",
    "days": "DAY",
    "dag": "DAY",
    "kk": "MON",
    "month": "MON",
    "km": "KMT",
    "kg": "KGM",
    "l": "LTR",
    "m": "MTR",
    "m2": "MTK",
    "m3": "MTQ",
}

_TEXTS: dict[str, dict[str, str]] = {
    "FI": {
        "invoice": "LASKU",
        "credit_note": "HYVITYSLASKU",
        "terms": "{days} päivää netto",
        "due_now": "Heti netto",
        "overdue": "Viivästyskorko {percent} %",
    },
    "SV": {
        "invoice": "FAKTURA",
        "credit_note": "KREDITFAKTURA",
        "terms": "{days} dagar netto",
        "due_now": "Netto kontant",
        "overdue": "Dröjsmålsränta {percent} %",
    },
    "EN": {
        "invoice": "INVOICE",
        "credit_note": "CREDIT NOTE",
        "terms": "{days} days net",
        "due_now": "Due immediately",
        "overdue": "Interest on late payment {percent} %",
    },
}


@dataclass
class _Row:
    article_id: str | None
    name: str | None
    description: str | None
    free_texts: list[str]
    quantity: Decimal
    unit: str | None
    unit_un: str | None
    unit_price: Decimal
    vat_rate: Decimal
    vat_excluded: Decimal
    vat: Decimal

    @property
    def amount(self) -> Decimal:
        return self.vat_excluded + self.vat


@dataclass
class _Collected:
    """Everything read and checked from the input; written out only when ``errors`` is empty."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_path: str, message: str) -> None:
        self.errors.append(FieldError(field_path, message))


@dataclass(frozen=True)
class Recipient:
    """How the buyer receives the invoice, decided once for the XML and for Maventa's upload form.

    ``e_invoice_address`` / ``operator`` (verkkolaskuosoite / välittäjätunnus) are compact (no
    spaces) and checked; ``email`` is the address for Maventa's e-mail route (MV-8), None when
    sending by e-mail is off or the customer has none. ``errors`` are the problems found in the
    customer's values (reported with the rest of the invoice's problems).
    """

    e_invoice_address: str | None
    operator: str | None
    email: str | None
    errors: tuple[FieldError, ...] = ()

    @property
    def routed(self) -> bool:
        """True when the buyer has both an e-invoice address and an operator (the routing frame)."""
        return bool(self.e_invoice_address and self.operator)


def recipient_of(invoice: SeveraInvoice, *, include_email: bool = True) -> Recipient:
    """The :class:`Recipient` of an invoice from its billing customer's card (and the invoice)."""
    c = _Collected()
    customer = invoice.customer_card or CustomerCard(guid=invoice.billing_customer.guid, name="")
    who = f"Customer '{_buyer_name(invoice) or customer.guid or '?'}'"
    eia, operator = _buyer_e_invoice(customer, who, c)
    email = _buyer_email(customer, invoice, who, c) if include_email else None
    return Recipient(eia, operator if eia else None, email, tuple(c.errors))


def _buyer_name(invoice: SeveraInvoice) -> str:
    card = invoice.customer_card
    return one_line((card.name if card else "") or invoice.billing_customer.name or invoice.receiver_name)


def build_finvoice(
    invoice: SeveraInvoice,
    seller: SellerParty,
    *,
    recipient: Recipient | None = None,
    message_id: str | None = None,
    timestamp: datetime | None = None,
    include_email: bool = True,
) -> bytes:
    """The Finvoice 3.0 document for one Severa invoice (with its lines and customer), as UTF-8 bytes.

    ``recipient`` is the routing decided by the caller (:func:`recipient_of`; computed here with
    ``include_email`` when not given). ``message_id`` (2-48 characters) defaults to the invoice
    GUID and ``timestamp`` to the current UTC time; pass both to get byte-identical output.
    Raises :class:`FinvoiceBuildError` listing every missing or invalid field.
    """
    c = _Collected()
    if recipient is None:
        recipient = recipient_of(invoice, include_email=include_email)
    c.errors.extend(recipient.errors)
    customer = invoice.customer_card or CustomerCard(guid=invoice.billing_customer.guid, name="")
    number = _invoice_number(invoice, c)
    label = f"Invoice {number}" if number else f"Invoice {invoice.guid or '(no GUID)'}"
    lines = invoice.lines or ()
    currency = _currency(invoice, lines, c)
    language = _language(invoice, customer)
    invoice_date = invoice.date
    if invoice_date is None:
        c.add("invoice.date", f"{label} has no valid invoice date (laskun päivämäärä).")
    due_date = _due_date(invoice, invoice_date, label, c)
    is_credit_note = invoice.is_credit_note

    seller_id, seller_vat = _seller_ids(seller, c)
    seller_address = _seller_address(seller, c)
    accounts = _seller_accounts(seller, c)
    seller_eia = _seller_e_invoice(seller, c)

    buyer_name = _buyer_name(invoice)
    if len(buyer_name) < 2:
        c.add(
            "customer.name", f"{label}: the customer has no name (asiakkaan nimi) of at least 2 characters."
        )
    who = f"Customer '{buyer_name or customer.guid or '?'}'"
    buyer_id, buyer_tax_code = _buyer_ids(customer, who, c)
    buyer_address = _buyer_address(invoice, customer, who, c)
    buyer_eia, buyer_operator = recipient.e_invoice_address, recipient.operator
    buyer_email = recipient.email

    reference = _reference(invoice, label, c)
    row_data = _rows(lines, label, c)
    texts = _TEXTS[language]

    refs: dict[str, str] = {}
    for key, value_raw, element in (
        ("ourReference", invoice.our_reference, "SellerReferenceIdentifier"),
        ("orderNumber", invoice.order_number, "OrderIdentifier"),
        ("yourReference", invoice.your_reference, "BuyerReferenceIdentifier"),
    ):
        value = one_line(value_raw)
        if len(value) > 70:
            c.add(
                f"invoice.{key}",
                f"{label}: '{key}' is {len(value)} characters long; Finvoice allows 70. Shorten it in Severa.",
            )
        elif value:
            refs[element] = value

    msg_id = one_line(message_id if message_id is not None else invoice.guid or number or "")
    if buyer_eia and buyer_operator and not 2 <= len(msg_id) <= 48:
        c.add("message_id", f"{label}: the message identifier must be 2-48 characters (got {msg_id!r}).")

    if row_data:
        for field_path, message in invoice.totals_problems():
            c.add(field_path, message)
        if abs(sum((row.amount for row in row_data), Decimal(0))) >= MAX_AMOUNT:
            c.add("rows", f"{label}: the invoice total is too large for Finvoice.")

    if c.errors:
        raise FinvoiceBuildError(c.errors)
    assert number and invoice_date and due_date and seller_id and seller_address
    assert buyer_address is not None

    root = etree.Element("Finvoice", Version="3.0")
    root.set("{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation", "Finvoice3.0.xsd")

    if buyer_eia and buyer_operator:
        mtd = _sub(root, "MessageTransmissionDetails")
        sender = _sub(mtd, "MessageSenderDetails")
        _sub(sender, "FromIdentifier", seller_eia[0] if seller_eia else seller_id.ovt)
        _sub(sender, "FromIntermediator", seller_eia[1] if seller_eia else MAVENTA_OPERATOR)
        receiver = _sub(mtd, "MessageReceiverDetails")
        _sub(receiver, "ToIdentifier", buyer_eia)
        _sub(receiver, "ToIntermediator", buyer_operator)
        details = _sub(mtd, "MessageDetails")
        _sub(details, "MessageIdentifier", msg_id)
        stamp = timestamp or datetime.now(UTC)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        _sub(details, "MessageTimeStamp", stamp.isoformat(timespec="seconds"))

    # Seller (myyjä)
    party = _sub(root, "SellerPartyDetails")
    _sub(party, "SellerPartyIdentifier", seller_id.ytunnus)
    for piece in split_name(one_line(seller.name)):
        _sub(party, "SellerOrganisationName", piece)
    _sub(party, "SellerOrganisationTaxCode", seller_vat)
    _postal(party, "Seller", seller_address)
    if seller_eia:
        _sub(root, "SellerOrganisationUnitNumber", seller_eia[0])
    contact = one_line(seller.contact_name or invoice.sender_contact_name)
    if contact:
        _sub(root, "SellerContactPersonName", truncate(contact, 70))
    email, phone = one_line(seller.email), one_line(seller.phone)
    if email or phone:
        comm = _sub(root, "SellerCommunicationDetails")
        if phone:
            _sub(comm, "SellerPhoneNumberIdentifier", phone)
        if email:
            _sub(comm, "SellerEmailaddressIdentifier", email)
    info = _sub(root, "SellerInformationDetails")
    home_town = one_line(seller.home_town or seller.town)
    if home_town:
        _sub(info, "SellerHomeTownName", truncate(home_town, 35))
    if phone:
        _sub(info, "SellerPhoneNumber", phone)
    if email:
        _sub(info, "SellerCommonEmailaddressIdentifier", email)
    website = one_line(seller.website)
    if website:
        _sub(info, "SellerWebaddressIdentifier", truncate(website, 70))
    for iban, bic, account_name in accounts:
        acc = _sub(info, "SellerAccountDetails")
        _sub(acc, "SellerAccountID", iban, IdentificationSchemeName="IBAN")
        _sub(acc, "SellerBic", bic, IdentificationSchemeName="BIC")
        if account_name:
            _sub(acc, "SellerAccountName", truncate(account_name, 70))

    # Invoice recipient (the buyer itself; only language and e-mail are written)
    _sub(root, "InvoiceRecipientLanguageCode", language)
    if buyer_email:
        comm = _sub(root, "InvoiceRecipientCommunicationDetails")
        _sub(comm, "InvoiceRecipientEmailaddressIdentifier", buyer_email)

    # Buyer (ostaja)
    party = _sub(root, "BuyerPartyDetails")
    if buyer_id:
        _sub(party, "BuyerPartyIdentifier", buyer_id.ytunnus)
    for piece in split_name(buyer_name):
        _sub(party, "BuyerOrganisationName", piece)
    if buyer_tax_code:
        _sub(party, "BuyerOrganisationTaxCode", buyer_tax_code)
    _postal(party, "Buyer", buyer_address)
    if buyer_eia:
        _sub(root, "BuyerOrganisationUnitNumber", buyer_eia)
    buyer_contact = one_line(invoice.receiver_contact_name)
    if buyer_contact:
        _sub(root, "BuyerContactPersonName", truncate(buyer_contact, 70))
    if buyer_email:
        comm = _sub(root, "BuyerCommunicationDetails")
        _sub(comm, "BuyerEmailaddressIdentifier", buyer_email)

    # Invoice details (laskun tiedot)
    row_net = sum((row.vat_excluded for row in row_data), Decimal(0))
    row_vat = sum((row.vat for row in row_data), Decimal(0))
    excluded = invoice.totals.excluding_vat if invoice.totals.excluding_vat is not None else row_net
    vat_total = invoice.totals.vat if invoice.totals.vat is not None else row_vat
    included = (
        invoice.totals.including_vat if invoice.totals.including_vat is not None else excluded + vat_total
    )
    details = _sub(root, "InvoiceDetails")
    _sub(details, "InvoiceTypeCode", "INV02" if is_credit_note else "INV01")
    _sub(details, "InvoiceTypeCodeUN", "381" if is_credit_note else "380")
    _sub(details, "InvoiceTypeText", texts["credit_note" if is_credit_note else "invoice"])
    _sub(details, "OriginCode", "Original")
    _sub(details, "InvoiceNumber", number)
    _date_el(details, "InvoiceDate", invoice_date)
    original = invoice.original_number if is_credit_note else ""
    if original and 1 <= len(original) <= 20:
        _sub(details, "OriginalInvoiceNumber", original)
    for element in ("SellerReferenceIdentifier", "OrderIdentifier", "BuyerReferenceIdentifier"):
        if element in refs:
            _sub(details, element, refs[element])
    _sub(
        details,
        "RowsTotalVatExcludedAmount",
        amounts.format_amount(row_net),
        AmountCurrencyIdentifier=currency,
    )
    _sub(
        details,
        "InvoiceTotalVatExcludedAmount",
        amounts.format_amount(excluded),
        AmountCurrencyIdentifier=currency,
    )
    _sub(
        details, "InvoiceTotalVatAmount", amounts.format_amount(vat_total), AmountCurrencyIdentifier=currency
    )
    _sub(
        details,
        "InvoiceTotalVatIncludedAmount",
        amounts.format_amount(included),
        AmountCurrencyIdentifier=currency,
    )
    for rate, base, vat in _vat_breakdown(row_data):
        spec = _sub(details, "VatSpecificationDetails")
        _sub(spec, "VatBaseAmount", amounts.format_amount(base), AmountCurrencyIdentifier=currency)
        _sub(spec, "VatRatePercent", amounts.format_percent(rate))
        if rate > 0:
            _sub(spec, "VatCode", "S")
        _sub(spec, "VatRateAmount", amounts.format_amount(vat), AmountCurrencyIdentifier=currency)
    for text in invoice.free_texts:
        for piece in chunks(one_line(text), 512):
            _sub(details, "InvoiceFreeText", piece)
    terms = _sub(details, "PaymentTermsDetails")
    days = (due_date - invoice_date).days
    _sub(terms, "PaymentTermsFreeText", texts["terms"].format(days=days) if days > 0 else texts["due_now"])
    _date_el(terms, "InvoiceDueDate", due_date)
    interest = invoice.overdue_interest
    if interest is not None and 0 <= interest < 1000:
        fine = _sub(terms, "PaymentOverDueFineDetails")
        percent = amounts.format_percent(interest)
        _sub(fine, "PaymentOverDueFineFreeText", texts["overdue"].format(percent=percent))
        _sub(fine, "PaymentOverDueFinePercent", percent)

    # Rows (laskurivit)
    for row in row_data:
        _write_row(root, row, currency)

    # Payment order (EpiDetails, tilisiirto)
    epi = _sub(root, "EpiDetails")
    ident = _sub(epi, "EpiIdentificationDetails")
    _date_el(ident, "EpiDate", invoice_date)
    _sub(ident, "EpiReference", reference.value if reference else "")
    parties = _sub(epi, "EpiPartyDetails")
    bfi = _sub(parties, "EpiBfiPartyDetails")
    _sub(bfi, "EpiBfiIdentifier", accounts[0][1], IdentificationSchemeName="BIC")
    beneficiary = _sub(parties, "EpiBeneficiaryPartyDetails")
    _sub(beneficiary, "EpiNameAddressDetails", truncate(one_line(seller.name), 35))
    _sub(beneficiary, "EpiBei", seller_id.ytunnus)
    _sub(beneficiary, "EpiAccountID", accounts[0][0], IdentificationSchemeName="IBAN")
    payment = _sub(epi, "EpiPaymentInstructionDetails")
    if reference:
        _sub(
            payment, "EpiRemittanceInfoIdentifier", reference.value, IdentificationSchemeName=reference.scheme
        )
    _sub(payment, "EpiInstructedAmount", amounts.format_amount(included), AmountCurrencyIdentifier=currency)
    _sub(payment, "EpiCharge", "SHA", ChargeOption="SHA")
    _date_el(payment, "EpiDateOptionDate", due_date)
    _sub(payment, "EpiPaymentMeansCode", "58")

    body = etree.tostring(root, xml_declaration=False, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(body)


def finvoice_base_name(invoice: SeveraInvoice) -> str:
    """A file base name for the invoice's XML and PDF (Maventa pairs them by base name).

    Only ``[a-z0-9_]``, at most 50 characters: ``invoice_10023``, or the GUID when there is no
    number yet.
    """
    raw = f"invoice_{invoice.number}" if invoice.number else f"invoice_{invoice.guid or 'draft'}"
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in raw.lower())
    return cleaned[:50]


# --- reading and checking -------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _date_el(parent: etree._Element, tag: str, value: date) -> None:
    _sub(parent, tag, f"{value.year:04d}{value.month:02d}{value.day:02d}", Format="CCYYMMDD")


def _postal(parent: etree._Element, prefix: str, address: PostalAddress) -> None:
    details = _sub(parent, f"{prefix}PostalAddressDetails")
    for line in address.street_lines:
        _sub(details, f"{prefix}StreetName", line)
    _sub(details, f"{prefix}TownName", address.town)
    _sub(details, f"{prefix}PostCodeIdentifier", address.post_code)
    if address.country_code:
        _sub(details, "CountryCode", address.country_code)
    if address.country_name:
        _sub(details, "CountryName", truncate(address.country_name, 35))


def _invoice_number(invoice: SeveraInvoice, c: _Collected) -> str | None:
    number = one_line(invoice.number)
    if not number:
        c.add(
            "invoice.number",
            f"Invoice {invoice.guid} has no invoice number (laskunumero) yet; move it to an "
            "invoice status that assigns invoice numbers before transferring it.",
        )
        return None
    if len(number) > 20:
        c.add(
            "invoice.number", f"Invoice number {number!r} is longer than the 20 characters Finvoice allows."
        )
        return None
    return number


def _currency(invoice: SeveraInvoice, lines: Sequence[InvoiceLine], c: _Collected) -> str:
    code = one_line(invoice.currency or next((ln.currency for ln in lines if ln.currency), "") or "EUR")
    code = code.upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        c.add(
            "invoice.currency.code", f"The invoice currency {code!r} is not a three-letter ISO currency code."
        )
        return "EUR"
    return code


def _language(invoice: SeveraInvoice, customer: CustomerCard) -> str:
    for code in (invoice.language, customer.language):
        if code and code[:2].upper() in _TEXTS:
            return code[:2].upper()
    return "FI"


def _due_date(invoice: SeveraInvoice, invoice_date: date | None, label: str, c: _Collected) -> date | None:
    due = invoice.due_date
    if due is not None:
        if invoice_date and due < invoice_date:
            c.add(
                "invoice.dueDate",
                f"{label}: the due date (eräpäivä) {due} is before the invoice date {invoice_date}.",
            )
        return due
    term = invoice.payment_term
    if invoice_date and term is not None and 0 <= term <= 3650:
        return invoice_date + timedelta(days=term)
    if invoice_date:
        c.add("invoice.dueDate", f"{label} has no due date (eräpäivä) and no payment term (maksuehto).")
    return None


def _seller_ids(seller: SellerParty, c: _Collected) -> tuple[BusinessId | None, str | None]:
    name = one_line(seller.name)
    who = f"Sending company '{name}'" if name else "The sending company"
    if len(name) < 2:
        c.add("seller.name", f"{who} has no name; set the company name in Severa's organisation settings.")
    business_id = None
    try:
        business_id = parse_business_id(seller.business_id or "")
    except ValueError as exc:
        c.add(
            "seller.business_id",
            f"{who} has no valid business ID (Y-tunnus): {exc}. Only a company or business unit with its "
            "own business ID can send invoices.",
        )
    vat = business_id.vat_number if business_id else None
    if seller.vat_number:
        try:
            given = parse_business_id(seller.vat_number)
        except ValueError as exc:
            c.add("seller.vat_number", f"{who} has an invalid VAT number (ALV-numero): {exc}.")
        else:
            if business_id and given != business_id:
                c.add(
                    "seller.vat_number",
                    f"{who}: the VAT number {seller.vat_number} does not belong to business ID "
                    f"{business_id.ytunnus} (expected {business_id.vat_number}).",
                )
            vat = given.vat_number
    return business_id, vat


def _check_part(value: str, field_path: str, what: str, c: _Collected) -> str:
    text = one_line(value)
    if not 2 <= len(text) <= 35:
        c.add(field_path, f"{what} must be 2-35 characters (got {text!r}).")
    return text


def _seller_address(seller: SellerParty, c: _Collected) -> PostalAddress | None:
    who = f"Sending company '{one_line(seller.name)}'"
    lines = street_lines_of(seller.street)
    ok = True
    if not lines:
        c.add("seller.street", f"{who} has no street address.")
        ok = False
    elif len(lines) > 3 or any(len(line) > 35 or len(line) < 2 for line in lines):
        c.add("seller.street", f"{who}: the street address does not fit in three lines of 2-35 characters.")
        ok = False
    town = _check_part(seller.town, "seller.town", f"{who}: the town (postitoimipaikka)", c)
    post = _check_part(seller.post_code, "seller.post_code", f"{who}: the post code (postinumero)", c)
    code = one_line(seller.country_code).upper()
    if len(code) != 2 or not code.isalpha():
        c.add("seller.country_code", f"{who}: the country code {code!r} is not an ISO two-letter code.")
        ok = False
    if not ok or not 2 <= len(town) <= 35 or not 2 <= len(post) <= 35:
        return None
    return PostalAddress(tuple(lines), town, post, code, None)


def _seller_accounts(seller: SellerParty, c: _Collected) -> list[tuple[str, str, str | None]]:
    who = f"Sending company '{one_line(seller.name)}'"
    if not seller.bank_accounts:
        c.add(
            "seller.bank_accounts",
            f"Seller must have at least one bank account: {who} has no bank account (pankkitili) with "
            "IBAN and BIC; add one to the company's invoicing settings.",
        )
        return []
    accounts = []
    for i, account in enumerate(seller.bank_accounts):
        iban = bic = None
        try:
            iban = compact_iban(account.iban or "")
        except ValueError as exc:
            c.add(f"seller.bank_accounts[{i}].iban", f"{who}: bank account {i + 1}: {exc}.")
        try:
            bic = compact_bic(account.bic or "")
        except ValueError as exc:
            c.add(f"seller.bank_accounts[{i}].bic", f"{who}: bank account {i + 1}: {exc}.")
        if iban and bic:
            accounts.append((iban, bic, one_line(account.name) or None))
    return accounts


def _seller_e_invoice(seller: SellerParty, c: _Collected) -> tuple[str, str] | None:
    if not seller.e_invoice_address and not seller.e_invoice_operator:
        return None
    who = f"Sending company '{one_line(seller.name)}'"
    if not (seller.e_invoice_address and seller.e_invoice_operator):
        c.add(
            "seller.e_invoice_address",
            f"{who}: give both the e-invoice address (verkkolaskuosoite) and the operator (välittäjä), or neither.",
        )
        return None
    try:
        return check_e_invoice_address(seller.e_invoice_address), check_operator(seller.e_invoice_operator)
    except ValueError as exc:
        c.add("seller.e_invoice_address", f"{who}: {exc}.")
        return None


def _buyer_ids(customer: CustomerCard, who: str, c: _Collected) -> tuple[BusinessId | None, str | None]:
    raw = one_line(customer.vat_number)
    if not raw:
        return None, None
    if is_finnish_vat_or_business_id(raw):
        try:
            business_id = parse_business_id(raw)
        except ValueError as exc:
            c.add(
                "customer.vatNumber",
                f"{who} has an invalid business ID (Y-tunnus / ALV-numero): {exc}. Correct the VAT number "
                "on the customer card.",
            )
            return None, None
        return business_id, business_id.vat_number
    compact = "".join(raw.split()).upper()
    if looks_like_foreign_vat(compact) and len(compact) <= 35:
        return None, compact
    c.add(
        "customer.vatNumber",
        f"{who} has a VAT number {raw!r} that is neither a Finnish business ID (1234567-8 / FI12345678) "
        "nor a VAT number with a country prefix; correct it on the customer card.",
    )
    return None, None


def _buyer_address(
    invoice: SeveraInvoice, customer: CustomerCard, who: str, c: _Collected
) -> PostalAddress | None:
    source: Address | None
    source, path = invoice.receiver_address, "invoice.receiverAddress"
    if source is None or source.empty:
        source, path = customer.address, "customer.headquarterAddress"
    if source is None or source.empty:
        c.add(
            "invoice.receiverAddress",
            f"{who} has no billing address (laskutusosoite); add one on the customer card and mark it as "
            "the billing address.",
        )
        return None
    lines = street_lines_of(source.street)
    town = one_line(source.city)
    post = one_line(source.post_code)
    ok = True
    if not lines:
        c.add(f"{path}.addressline", f"{who}: the billing address (laskutusosoite) has no street address.")
        ok = False
    elif len(lines) > 3 or any(len(line) < 2 for line in lines):
        c.add(
            f"{path}.addressline",
            f"{who}: the street address does not fit Finvoice's three lines of 2-35 characters; shorten it.",
        )
        ok = False
    if not 2 <= len(town) <= 35:
        c.add(
            f"{path}.city", f"{who}: the billing address needs a town (postitoimipaikka) of 2-35 characters."
        )
        ok = False
    if not 2 <= len(post) <= 35:
        c.add(
            f"{path}.postalCode",
            f"{who}: the billing address needs a post code (postinumero) of 2-35 characters.",
        )
        ok = False
    code, name = country_code_of(source.country)
    if not ok:
        return None
    return PostalAddress(tuple(lines), town, post, code, name if not code else None)


def _buyer_e_invoice(customer: CustomerCard, who: str, c: _Collected) -> tuple[str | None, str | None]:
    address, operator = one_line(customer.e_invoice_address), one_line(customer.e_invoice_operator)
    eia = op = None
    if address:
        try:
            eia = check_e_invoice_address(address)
        except ValueError as exc:
            c.add(
                "customer.eInvoiceAddress",
                f"{who}: {exc}; correct the e-invoice address on the customer card.",
            )
    if address and operator:
        try:
            op = check_operator(operator)
        except ValueError as exc:
            c.add("customer.eInvoiceOperator", f"{who}: {exc}; correct the operator on the customer card.")
    return eia, op


def _buyer_email(customer: CustomerCard, invoice: SeveraInvoice, who: str, c: _Collected) -> str | None:
    for path, value in (
        ("customer.email", customer.email),
        ("invoice.receiverContactEmail", invoice.receiver_contact_email),
    ):
        email = one_line(value)
        if not email:
            continue
        local, at, domain = email.partition("@")
        if not at or not local or "." not in domain or " " in email or len(email) > 70:
            c.add(
                path, f"{who}: the e-mail address {email!r} is not a valid address of at most 70 characters."
            )
            return None
        return email
    return None


def _reference(invoice: SeveraInvoice, label: str, c: _Collected) -> PaymentReference | None:
    raw = one_line(invoice.reference_number)
    if not raw:
        return None
    try:
        return parse_reference(raw)
    except ValueError as exc:
        c.add("invoice.referenceNumber", f"{label}: {exc} (viitenumero).")
        return None


def _rows(lines: Sequence[InvoiceLine], label: str, c: _Collected) -> list[_Row]:
    if not lines:
        c.add(
            "rows",
            f"{label} has no rows (laskurivit); add at least one row in Severa before transferring it.",
        )
        return []
    result = []
    for line in sorted(lines, key=lambda ln: ln.position):
        parsed = _row(line, label, c)
        if parsed:
            result.append(parsed)
    return result


def _row(line: InvoiceLine, label: str, c: _Collected) -> _Row | None:
    position = line.position
    path = f"rows[{position}]"
    description = one_line(line.description)
    where = f"{label}, row {position}" + (f" ('{truncate(description, 40)}')" if description else "")
    article_id = one_line(line.code) or None
    ok = True
    if article_id and len(article_id) > 70:
        c.add(f"{path}.code", f"{where}: the code {article_id[:20]!r}… is longer than 70 characters.")
        ok = False
    if not description and not article_id:
        c.add(f"{path}.description", f"{where} has no description (selite) and no code; add a description.")
        ok = False
    quantity, price, rate = line.quantity, line.unit_price, line.vat_rate
    if quantity is None:
        c.add(f"{path}.quantity", f"{where} has no quantity (määrä).")
        ok = False
    elif abs(quantity) >= Decimal("1e7"):
        c.add(f"{path}.quantity", f"{where}: the quantity {quantity} is too large for Finvoice.")
        ok = False
    if price is None:
        c.add(f"{path}.unitPrice", f"{where} has no unit price (yksikköhinta).")
        ok = False
    elif abs(price) >= Decimal("1e12"):
        c.add(f"{path}.unitPrice", f"{where}: the unit price {price} is too large for Finvoice.")
        ok = False
    if rate is None:
        c.add(f"{path}.vatRate", f"{where} has no VAT rate (ALV-prosentti).")
        ok = False
    elif not 0 <= rate < 100:
        c.add(f"{path}.vatRate", f"{where}: the VAT rate {rate} % is not between 0 and 100.")
        ok = False
    net, vat = line.net, line.vat
    if not ok or quantity is None or price is None or rate is None or net is None or vat is None:
        return None
    # the amounts are Severa's (InvoiceLine.net / .vat); quantity and price as Finvoice writes them
    quantity = amounts.round_to(quantity, amounts.QUANTITY_STEP)
    price = amounts.round_to(price, amounts.UNIT_PRICE_STEP)
    rate = amounts.round_to(rate, amounts.PERCENT_STEP)
    if price < 0:  # Finvoice: unit prices positive, credits as negative quantities
        price, quantity = -price, -quantity
    if len(amounts.format_quantity(quantity)) > 14:
        c.add(
            f"{path}.quantity",
            f"{where}: the quantity {quantity} needs more than the 14 characters Finvoice allows.",
        )
        return None
    if abs(net + vat) >= MAX_AMOUNT:
        c.add(f"{path}.unitPrice", f"{where}: the row amount {net + vat} is too large for Finvoice.")
        return None
    name = truncate(description or article_id or "", 100) or None
    full_text: str | None = None
    free_texts: list[str] = []
    if description and len(description) > 100:
        if len(description) <= 512:
            full_text = description
        else:
            free_texts = chunks(description, 512)
    unit = one_line(line.unit) or None
    unit_un = UNIT_CODES_UN.get(unit.casefold()) if unit else None
    return _Row(
        article_id=article_id,
        name=name,
        description=full_text,
        free_texts=free_texts,
        quantity=quantity,
        unit=truncate(unit, 14) if unit else None,
        unit_un=unit_un,
        unit_price=price,
        vat_rate=rate,
        vat_excluded=net,
        vat=vat,
    )


def _vat_breakdown(rows: list[_Row]) -> list[tuple[Decimal, Decimal, Decimal]]:
    groups: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for row in rows:
        base, vat = groups.get(row.vat_rate, (Decimal(0), Decimal(0)))
        groups[row.vat_rate] = (base + row.vat_excluded, vat + row.vat)
    return [(rate, base, vat) for rate, (base, vat) in sorted(groups.items(), reverse=True)]


def _write_row(root: etree._Element, row: _Row, currency: str) -> None:
    element = _sub(root, "InvoiceRow")
    if row.article_id:
        _sub(element, "ArticleIdentifier", row.article_id)
    if row.name:
        _sub(element, "ArticleName", row.name)
    if row.description:
        _sub(element, "ArticleDescription", row.description)
    quantity_attrs = {}
    if row.unit:
        quantity_attrs["QuantityUnitCode"] = row.unit
    if row.unit_un:
        quantity_attrs["QuantityUnitCodeUN"] = row.unit_un
    _sub(element, "DeliveredQuantity", amounts.format_quantity(row.quantity), **quantity_attrs)
    price_attrs = {"AmountCurrencyIdentifier": currency}
    if row.unit:
        price_attrs["UnitPriceUnitCode"] = row.unit
    if row.unit_un:
        price_attrs["QuantityUnitCodeUN"] = row.unit_un
    _sub(element, "UnitPriceAmount", amounts.format_unit_price(row.unit_price), **price_attrs)
    for text in row.free_texts:
        _sub(element, "RowFreeText", text)
    _sub(element, "RowVatRatePercent", amounts.format_percent(row.vat_rate))
    if row.vat_rate > 0:
        _sub(element, "RowVatCode", "S")
    _sub(element, "RowVatAmount", amounts.format_amount(row.vat), AmountCurrencyIdentifier=currency)
    _sub(
        element,
        "RowVatExcludedAmount",
        amounts.format_amount(row.vat_excluded),
        AmountCurrencyIdentifier=currency,
    )
    _sub(element, "RowAmount", amounts.format_amount(row.amount), AmountCurrencyIdentifier=currency)
