"""A test-side Finvoice 3.0 builder, independent of the simulator and of the bridge's builder.

`FinvoiceSpec` holds plain data; `build_finvoice(spec)` writes the XML in schema order;
`finvoice_specs()` is a Hypothesis strategy of random *valid* specs, and `CORRUPTIONS` are
single-field corruptions that every validator must catch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import strategies as st
from lxml import etree
from stdnum import iban, iso11649, luhn
from stdnum.fi import ytunnus

MAVENTA_OPERATOR = "003721291126"


def fmt_amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):.2f}".replace(".", ",")


def fmt_date(d: date) -> str:
    return d.strftime("%Y%m%d")


def reference_with_check(base: str) -> str:
    weights = (7, 3, 1)
    total = sum(int(c) * weights[i % 3] for i, c in enumerate(reversed(base)))
    return base + str((10 - total % 10) % 10)


def make_ytunnus(seven: str) -> str | None:
    """A valid Y-tunnus from 7 digits, or None when that base has no valid check digit."""
    weights = (7, 9, 10, 5, 8, 4, 2)
    rem = sum(int(d) * w for d, w in zip(seven, weights, strict=True)) % 11
    if rem == 1:
        return None
    value = f"{seven}-{0 if rem == 0 else 11 - rem}"
    return value if ytunnus.is_valid(value) else None


@dataclass
class Row:
    code: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    vat_percent: Decimal

    @property
    def excl(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def vat(self) -> Decimal:
        return (self.excl * self.vat_percent / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class FinvoiceSpec:
    number: str = "1001"
    invoice_date: date = date(2026, 11, 20)
    due_days: int = 14
    seller_name: str = "Demo Konsultointi Oy"
    seller_bid: str = "2077474-0"
    seller_street: str = "Mannerheimintie 1"
    seller_post_code: str = "00100"
    seller_town: str = "Helsinki"
    buyer_name: str = "Asiakas Oy"
    buyer_bid: str = "0112038-9"
    buyer_street: str | None = "Hämeenkatu 10"
    buyer_post_code: str | None = "33100"
    buyer_town: str | None = "Tampere"
    buyer_country: str | None = "FI"
    buyer_email: str | None = None
    to_eia: str | None = None
    to_operator: str | None = None
    seller_iban: str = "FI2112345600000785"
    reference: str = "1232"
    currency: str = "EUR"
    rows: list[Row] = field(
        default_factory=lambda: [Row("P-1", "Konsultointi", Decimal("2"), Decimal("100"), Decimal("25.5"))]
    )

    @property
    def total_excl(self) -> Decimal:
        return sum((r.excl for r in self.rows), Decimal(0))

    @property
    def total_vat(self) -> Decimal:
        return sum((r.vat for r in self.rows), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.total_excl + self.total_vat


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _percent(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def build_tree(s: FinvoiceSpec) -> etree._Element:
    root = etree.Element("Finvoice", {"Version": "3.0"})
    if s.to_eia and s.to_operator:
        mtd = _sub(root, "MessageTransmissionDetails")
        snd = _sub(mtd, "MessageSenderDetails")
        _sub(snd, "FromIdentifier", "0037" + s.seller_bid.replace("-", ""))
        _sub(snd, "FromIntermediator", MAVENTA_OPERATOR)
        rcv = _sub(mtd, "MessageReceiverDetails")
        _sub(rcv, "ToIdentifier", s.to_eia)
        _sub(rcv, "ToIntermediator", s.to_operator)
        md = _sub(mtd, "MessageDetails")
        _sub(md, "MessageIdentifier", f"MSG-{s.number}")
        _sub(md, "MessageTimeStamp", f"{s.invoice_date.isoformat()}T08:00:00")
    sp = _sub(root, "SellerPartyDetails")
    _sub(sp, "SellerPartyIdentifier", s.seller_bid)
    _sub(sp, "SellerOrganisationName", s.seller_name)
    _sub(sp, "SellerOrganisationTaxCode", "FI" + s.seller_bid.replace("-", ""))
    spa = _sub(sp, "SellerPostalAddressDetails")
    _sub(spa, "SellerStreetName", s.seller_street)
    _sub(spa, "SellerTownName", s.seller_town)
    _sub(spa, "SellerPostCodeIdentifier", s.seller_post_code)
    _sub(spa, "CountryCode", "FI")
    _sub(root, "SellerOrganisationUnitNumber", "0037" + s.seller_bid.replace("-", ""))
    bp = _sub(root, "BuyerPartyDetails")
    _sub(bp, "BuyerPartyIdentifier", s.buyer_bid)
    _sub(bp, "BuyerOrganisationName", s.buyer_name)
    if s.buyer_street and s.buyer_town and s.buyer_post_code:
        bpa = _sub(bp, "BuyerPostalAddressDetails")
        _sub(bpa, "BuyerStreetName", s.buyer_street)
        _sub(bpa, "BuyerTownName", s.buyer_town)
        _sub(bpa, "BuyerPostCodeIdentifier", s.buyer_post_code)
        if s.buyer_country:
            _sub(bpa, "CountryCode", s.buyer_country)
    if s.to_eia and not s.to_operator:
        _sub(root, "BuyerOrganisationUnitNumber", s.to_eia)
    if s.buyer_email:
        bc = _sub(root, "BuyerCommunicationDetails")
        _sub(bc, "BuyerEmailaddressIdentifier", s.buyer_email)
    det = _sub(root, "InvoiceDetails")
    _sub(det, "InvoiceTypeCode", "INV01")
    _sub(det, "InvoiceTypeText", "LASKU")
    _sub(det, "OriginCode", "Original")
    _sub(det, "InvoiceNumber", s.number)
    _sub(det, "InvoiceDate", fmt_date(s.invoice_date), Format="CCYYMMDD")
    cur = {"AmountCurrencyIdentifier": s.currency}
    _sub(det, "InvoiceTotalVatExcludedAmount", fmt_amount(s.total_excl), **cur)
    _sub(det, "InvoiceTotalVatAmount", fmt_amount(s.total_vat), **cur)
    _sub(det, "InvoiceTotalVatIncludedAmount", fmt_amount(s.total), **cur)
    pt = _sub(det, "PaymentTermsDetails")
    _sub(pt, "PaymentTermsFreeText", f"{s.due_days} pv netto")
    due = s.invoice_date + timedelta(days=s.due_days)
    _sub(pt, "InvoiceDueDate", fmt_date(due), Format="CCYYMMDD")
    for r in s.rows:
        row = _sub(root, "InvoiceRow")
        _sub(row, "ArticleIdentifier", r.code)
        _sub(row, "ArticleName", r.name)
        _sub(row, "InvoicedQuantity", str(r.quantity).replace(".", ","), QuantityUnitCode="h")
        _sub(row, "UnitPriceAmount", fmt_amount(r.unit_price), **cur)
        _sub(row, "RowVatRatePercent", _percent(r.vat_percent))
        _sub(row, "RowVatAmount", fmt_amount(r.vat), **cur)
        _sub(row, "RowVatExcludedAmount", fmt_amount(r.excl), **cur)
    epi = _sub(root, "EpiDetails")
    ident = _sub(epi, "EpiIdentificationDetails")
    _sub(ident, "EpiDate", fmt_date(s.invoice_date), Format="CCYYMMDD")
    _sub(ident, "EpiReference", s.reference if not s.reference.startswith("RF") else "")
    party = _sub(epi, "EpiPartyDetails")
    _sub(party, "EpiBfiPartyDetails")
    ben = _sub(party, "EpiBeneficiaryPartyDetails")
    _sub(ben, "EpiNameAddressDetails", s.seller_name[:35])
    _sub(ben, "EpiAccountID", s.seller_iban, IdentificationSchemeName="IBAN")
    pay = _sub(epi, "EpiPaymentInstructionDetails")
    scheme = "ISO" if s.reference.startswith("RF") else "SPY"
    _sub(pay, "EpiRemittanceInfoIdentifier", s.reference, IdentificationSchemeName=scheme)
    _sub(pay, "EpiInstructedAmount", fmt_amount(s.total), **cur)
    _sub(pay, "EpiCharge", "SLEV", ChargeOption="SLEV")
    _sub(pay, "EpiDateOptionDate", fmt_date(due), Format="CCYYMMDD")
    return root


def build_finvoice(spec: FinvoiceSpec | None = None, **changes: object) -> bytes:
    spec = replace(spec or FinvoiceSpec(), **changes)  # type: ignore[arg-type]
    return etree.tostring(build_tree(spec), xml_declaration=True, encoding="UTF-8")


# --------------------------------------------------------------------------- Hypothesis
_names = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖabcdefghijklmnopqrstuvwxyzåäö -", min_size=2, max_size=30)
    .map(str.strip)
    .filter(lambda s: len(s) >= 2)
)


@st.composite
def ytunnus_values(draw: st.DrawFn) -> str:
    seven = draw(st.from_regex(r"[0-9]{7}", fullmatch=True))
    value = make_ytunnus(seven)
    if value is None:
        value = make_ytunnus(str((int(seven) + 1) % 10_000_000).zfill(7)) or "2077474-0"
    return value


@st.composite
def references(draw: st.DrawFn) -> str:
    base = draw(st.from_regex(r"[1-9][0-9]{2,15}", fullmatch=True))
    national = reference_with_check(base)
    if draw(st.booleans()):
        check = 98 - int("".join(str(int(c, 36)) for c in national + "RF00")) % 97
        rf = f"RF{check:02d}{national}"
        assert iso11649.is_valid(rf)
        return rf
    return national


def _iban(account: str) -> str:
    """A valid Finnish IBAN for the first 13 digits of `account`: the 14th is the national (Luhn)
    check digit, which a bank checks besides the IBAN's own mod-97 digits."""
    bban = account[:13] + luhn.calc_check_digit(account[:13])
    return "FI" + iban.calc_check_digits("FI00" + bban) + bban


rows_strategy = st.builds(
    Row,
    code=st.from_regex(r"[A-Z]{1,3}-[0-9]{1,4}", fullmatch=True),
    name=_names,
    quantity=st.decimals(min_value=Decimal("0.25"), max_value=Decimal("500"), places=2),
    unit_price=st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2),
    vat_percent=st.sampled_from([Decimal("25.5"), Decimal("13.5"), Decimal("10"), Decimal("0")]),
)


@st.composite
def finvoice_specs(draw: st.DrawFn) -> FinvoiceSpec:
    d = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)))
    buyer_bid = draw(ytunnus_values())
    with_eia = draw(st.sampled_from(["none", "pair", "eia"]))
    eia = "0037" + buyer_bid.replace("-", "")
    return FinvoiceSpec(
        number=draw(st.from_regex(r"[1-9][0-9]{0,9}", fullmatch=True)),
        invoice_date=d,
        due_days=draw(st.integers(0, 90)),
        seller_name=draw(_names),
        seller_bid=draw(ytunnus_values()),
        buyer_name=draw(_names),
        buyer_bid=buyer_bid,
        buyer_email=draw(st.one_of(st.none(), st.emails().filter(lambda e: len(e) <= 70))),
        to_eia=None if with_eia == "none" else eia,
        to_operator=MAVENTA_OPERATOR if with_eia == "pair" else None,
        seller_iban=_iban(draw(st.from_regex(r"[0-9]{14}", fullmatch=True))),
        reference=draw(references()),
        rows=draw(st.lists(rows_strategy, min_size=1, max_size=5)),
    )


# --------------------------------------------------------------------------- corruptions
def _set_text(xpath: str, fn: object) -> object:
    def corrupt(root: etree._Element, rng: random.Random) -> str:
        el = root.xpath(xpath)[0]
        el.text = fn(el.text or "", rng)  # type: ignore[operator]
        return xpath.split("/")[-1]

    return corrupt


def _drop(xpath: str) -> object:
    def corrupt(root: etree._Element, rng: random.Random) -> str:
        el = root.xpath(xpath)[0]
        el.getparent().remove(el)
        return xpath.split("/")[-1]

    return corrupt


def _bump_last_digit(v: str, rng: random.Random) -> str:
    d = int(v[-1])
    return v[:-1] + str((d + rng.randint(1, 9)) % 10)


CORRUPTIONS: dict[str, object] = {
    "drop EpiDetails": _drop("/Finvoice/EpiDetails"),
    "drop InvoiceNumber": _drop("/Finvoice/InvoiceDetails/InvoiceNumber"),
    "drop SellerOrganisationName": _drop("/Finvoice/SellerPartyDetails/SellerOrganisationName"),
    "drop EpiAccountID": _drop("//EpiBeneficiaryPartyDetails/EpiAccountID"),
    "drop EpiCharge": _drop("//EpiPaymentInstructionDetails/EpiCharge"),
    "drop all InvoiceRows": lambda root, rng: _drop_rows(root),
    "dot decimal total": _set_text(
        "/Finvoice/InvoiceDetails/InvoiceTotalVatIncludedAmount", lambda v, rng: v.replace(",", ".")
    ),
    "one-decimal epi amount": _set_text("//EpiInstructedAmount", lambda v, rng: v[:-1]),
    "ISO date": _set_text("/Finvoice/InvoiceDetails/InvoiceDate", lambda v, rng: f"{v[:4]}-{v[4:6]}-{v[6:]}"),
    "impossible date": _set_text("//EpiDateOptionDate", lambda v, rng: v[:4] + "1399"),
    "bad reference check digit": _set_text("//EpiRemittanceInfoIdentifier", _bump_last_digit),
    "bad IBAN": _set_text("//EpiAccountID", _bump_last_digit),
    "bad seller business ID": _set_text(
        "/Finvoice/SellerPartyDetails/SellerPartyIdentifier", _bump_last_digit
    ),
    "short buyer street": _set_text("//BuyerStreetName", lambda v, rng: "X"),
    "bad type code": _set_text("/Finvoice/InvoiceDetails/InvoiceTypeCode", lambda v, rng: "XYZ01"),
    "dot percent": _set_text("/Finvoice/InvoiceRow/RowVatRatePercent", lambda v, rng: "25.5"),
    "swap InvoiceNumber and InvoiceDate": lambda root, rng: _swap(root, "InvoiceNumber", "InvoiceDate"),
    "bad seller OVT": _set_text("/Finvoice/SellerOrganisationUnitNumber", _bump_last_digit),
    "drop BuyerOrganisationName": _drop("/Finvoice/BuyerPartyDetails/BuyerOrganisationName"),
    "date without Format": lambda root, rng: _drop_attr(root, "//EpiDate", "Format"),
    "amount without currency": lambda root, rng: _drop_attr(
        root, "/Finvoice/InvoiceDetails/InvoiceTotalVatIncludedAmount", "AmountCurrencyIdentifier"
    ),
    "bad ChargeOption": lambda root, rng: _set_attr(root, "//EpiCharge", "ChargeOption", "XXX"),
    "unknown root element": lambda root, rng: _insert_unknown(root, rng),
    "bad Version": lambda root, rng: _set_attr(root, "/Finvoice", "Version", "9.9"),
}


def _drop_attr(root: etree._Element, xpath: str, attr: str) -> str:
    el = root.xpath(xpath)[0]
    del el.attrib[attr]
    return str(el.tag)


def _set_attr(root: etree._Element, xpath: str, attr: str, value: str) -> str:
    el = root.xpath(xpath)[0]
    el.set(attr, value)
    return str(el.tag)


def _insert_unknown(root: etree._Element, rng: random.Random) -> str:
    """An element the schema does not have, at a random place among the root's children."""
    name = f"Unknown{rng.randint(0, 9999)}"
    root.insert(rng.randint(0, len(root)), etree.Element(name))
    return name


def _drop_rows(root: etree._Element) -> str:
    for row in root.findall("InvoiceRow"):
        root.remove(row)
    return "InvoiceRow"


def _swap(root: etree._Element, a: str, b: str) -> str:
    det = root.find("InvoiceDetails")
    ea, eb = det.find(a), det.find(b)
    ea.addnext(etree.Element("_tmp"))
    tmp = det.find("_tmp")
    eb.addnext(ea)
    tmp.addnext(eb)
    det.remove(tmp)
    return a
