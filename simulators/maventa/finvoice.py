"""Finvoice 3.0 intake: safe parsing, validation and the fields Maventa reads (verkkolasku).

Validation has two layers:

1. **Structural checks, always on** (`finvoice_rules.py`): the content model of the parts
   Maventa relies on, the data types and the Finnish check digits the XSD cannot express:
   business ID (Y-tunnus), VAT number (ALV-numero), OVT e-invoice addresses, IBAN (and a
   Finnish IBAN's national check digit), national reference (viitenumero, 7-3-1) and RF reference.
2. **The official XSD, when available** (see :func:`find_xsd`): lxml ``XMLSchema`` over the
   unmodified Finance Finland schema, its sha256 checked. Without it validation is
   structural only; :meth:`simulators.maventa.MaventaSimulator.describe` says which applies.

Messages mimic Maventa's validator (a .NET schema validator), e.g. ``The 'BuyerStreetName'
element is invalid - ...`` and ``The element 'Finvoice' has incomplete content. List of possible
elements expected: 'EpiDetails'.``

Security: DOCTYPEs (and so every entity declaration) are refused before and after parsing; the
parser never resolves entities, loads DTDs or touches the network.

`content_digest` is what a repeated upload ``uuid`` is compared by (see the README).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from .finvoice_rules import (
    is_valid_finnish_iban,
    is_valid_ovt,
    is_valid_reference,
    reference_check_digit,
    structural_errors,
)

__all__ = [
    "FinvoiceError",
    "InvoiceData",
    "Party",
    "UnsafeXmlError",
    "content_digest",
    "detect_format",
    "extract",
    "find_xsd",
    "finvoice_root",
    "is_valid_finnish_iban",
    "is_valid_ovt",
    "is_valid_reference",
    "load_schema",
    "parse_xml",
    "reference_check_digit",
    "structural_errors",
    "validate",
    "xsd_errors",
]

FINVOICE_XSD_NAME = "Finvoice3.0.xsd"
FINVOICE_XSD_SHA256 = "169d28a5918654e998b56535cedc4146b5f1ce54078e64bce3d9524aaca5c6ed"
MAX_XML_BYTES = 10 * 1024 * 1024


class FinvoiceError(ValueError):
    """The upload is not an acceptable Finvoice; ``messages`` are the validator's findings."""

    def __init__(
        self, message: str, messages: list[str] | None = None, *, code: str = "validation_failed"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.messages = messages or [message]
        self.code = code


class UnsafeXmlError(FinvoiceError):
    """DOCTYPE / entity declarations or other constructs we never parse."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [message], code="invalid_file")


# --------------------------------------------------------------------------- safe parsing
def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


_DOCTYPE_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML bytes; refuse DTDs, entities, oversize and malformed input."""
    if len(data) > MAX_XML_BYTES:
        raise FinvoiceError(f"XML file is too large (limit {MAX_XML_BYTES} bytes)", code="invalid_file")
    probe = data.replace(b"\x00", b"")  # also catches UTF-16 encoded declarations
    if _DOCTYPE_RE.search(probe):
        raise UnsafeXmlError("DOCTYPE and ENTITY declarations are not allowed in invoice XML")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise FinvoiceError(f"The file is not well-formed XML: {exc.msg}", code="invalid_file") from exc
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXmlError("DOCTYPE and ENTITY declarations are not allowed in invoice XML")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise UnsafeXmlError("entity references are not allowed in invoice XML")
    return root


def detect_format(root: etree._Element) -> str | None:
    """Maventa's ``format`` value for a parsed document (auto-detection), or None."""
    tag = etree.QName(root).localname
    if tag == "Finvoice":
        version = (root.get("Version") or "").strip()
        return {"3.0": "FINVOICE30", "2.0": "FINVOICE20", "2.01": "FINVOICE20", "1.3": "FINVOICE13"}.get(
            version, "FINVOICE30"
        )
    if tag == "Invoice" and "ubl" in (etree.QName(root).namespace or "").lower():
        return "PEPPOLBIS30"
    if tag == "Envelope":  # SOAP/ebXML frame in front of a Finvoice
        return "FINVOICE30"
    return None


def finvoice_root(root: etree._Element) -> etree._Element:
    """The ``Finvoice`` element, also when an ebXML SOAP envelope precedes it."""
    if etree.QName(root).localname == "Finvoice":
        return root
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname == "Finvoice":
            return el
    raise FinvoiceError("The root element is not 'Finvoice'", ["The root element is not 'Finvoice'"])


# --------------------------------------------------------------------------- the same invoice again
# a transmission's own identity, not the invoice's: a retry of the same invoice gets new ones
TRANSMISSION_ONLY = (
    "MessageTransmissionDetails/MessageDetails/MessageIdentifier",
    "MessageTransmissionDetails/MessageDetails/MessageTimeStamp",
)


def content_digest(fv: etree._Element) -> str:
    """The sha256 of the invoice a Finvoice carries: its canonical XML (C14N, whitespace between
    elements ignored) without the `TRANSMISSION_ONLY` elements. Two uploads of the same invoice
    made at different times (a client's retry) have the same digest; any change to the
    invoice's content – a row, an amount, a party, a date, the reference – gives another."""
    bare = copy.deepcopy(fv)
    for el in bare.iter():  # first: an element left empty below still had children here
        if el.text is not None and not el.text.strip() and len(el):
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    for path in TRANSMISSION_ONLY:
        for el in bare.findall(path):
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)
    return hashlib.sha256(etree.tostring(bare, method="c14n")).hexdigest()


# --------------------------------------------------------------------------- the official XSD
@dataclass(frozen=True)
class XsdInfo:
    """Where the XSD was looked for and what came of it (``status``: ok / missing / rejected)."""

    status: str
    path: str | None
    reason: str = ""


def candidate_xsd_paths(explicit: str | os.PathLike[str] | None = None) -> list[Path]:
    """Explicit path, ``$SEVERA_SANDBOX_SPECS``, ``../shared/specs``, then the user cache."""
    out: list[Path] = []
    if explicit:
        p = Path(explicit)
        out.append(p / FINVOICE_XSD_NAME if p.is_dir() else p)
        return out
    env = os.environ.get("SEVERA_SANDBOX_SPECS")
    if env:
        out.append(Path(env) / FINVOICE_XSD_NAME)
    out.append(Path("../shared/specs") / FINVOICE_XSD_NAME)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "severa-sandbox"
    out.append(cache / FINVOICE_XSD_NAME)
    return out


def find_xsd(explicit: str | os.PathLike[str] | None = None, *, verify_hash: bool = True) -> XsdInfo:
    """The first usable XSD among the candidates; a file with the wrong sha256 is rejected."""
    rejected: XsdInfo | None = None
    for path in candidate_xsd_paths(explicit):
        if not path.is_file():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if verify_hash and digest != FINVOICE_XSD_SHA256:
            rejected = rejected or XsdInfo(
                "rejected", str(path), f"sha256 {digest} is not the official {FINVOICE_XSD_SHA256}"
            )
            continue
        return XsdInfo("ok", str(path.resolve()))
    if rejected:
        return rejected
    where = ", ".join(str(p) for p in candidate_xsd_paths(explicit))
    return XsdInfo("missing", None, f"no {FINVOICE_XSD_NAME} at {where}; validation is structural only")


_schemas: dict[str, etree.XMLSchema] = {}
_schemas_lock = threading.Lock()


def load_schema(path: str) -> etree.XMLSchema:
    with _schemas_lock:
        schema = _schemas.get(path)
        if schema is None:
            doc = etree.parse(path, parser=_parser())
            schema = etree.XMLSchema(doc)
            _schemas[path] = schema
        return schema


_LXML_ELEMENT_RE = re.compile(r"^Element '([^']+)'(?:, attribute '([^']+)')?: (.*)$", re.S)


def _expected(rest: str) -> str:
    tail = rest.split("Expected is", 1)[-1]
    names = re.findall(r"[A-Za-z_][\w.-]*", tail.replace("one of", ""))
    return ", ".join(f"'{n}'" for n in names)


def _dotnet_style(message: str) -> str:
    """lxml's messages rephrased the way Maventa's validator words them."""
    m = _LXML_ELEMENT_RE.match(message)
    if not m:
        return message
    element, attribute, rest = m.groups()
    rest = rest.strip()
    if "Missing child element" in rest:
        return f"The element '{element}' has incomplete content. List of possible elements expected: {_expected(rest)}."
    if "This element is not expected" in rest:
        tail = f" List of possible elements expected: {_expected(rest)}." if "Expected is" in rest else ""
        return f"The element '{element}' is not expected here.{tail}"
    if attribute:
        return f"The '{attribute}' attribute of element '{element}' is invalid - {rest}"
    return f"The '{element}' element is invalid - {rest}"


MAX_FINDINGS = 100  # reported per upload; a validator's list of 80,000 errors helps nobody


def xsd_errors(root: etree._Element, schema: etree.XMLSchema) -> list[str]:
    if schema.validate(root):
        return []
    return [_dotnet_style(e.message) for e in schema.error_log]


def validate(
    root: etree._Element, schema: etree.XMLSchema | None = None, *, limit: int = MAX_FINDINGS
) -> list[str]:
    """The findings for a Finvoice root: structural (always) and XSD (when given), de-duplicated,
    at most `limit` of them and then one line saying how many more there were.

    Linear in the number of errors (an upload with 80,000 unknown attributes took 28 s when each
    new message was compared with every earlier one); the XSD errors past the limit are counted,
    not formatted."""
    structural = structural_errors(root)
    findings: list[str] = []
    seen: set[str] = set()
    more = 0
    for msg in structural:
        if msg in seen:
            continue
        seen.add(msg)
        if len(findings) < limit:
            findings.append(msg)
        else:
            more += 1
    if schema is not None and not schema.validate(root):
        named = {m.group(1) for f in structural for m in [_QUOTED.search(f)] if m}
        errors = schema.error_log
        for n, error in enumerate(errors):
            if len(findings) >= limit:
                more += len(errors) - n  # not formatted: may include repeats of shown ones
                break
            msg = _dotnet_style(error.message)
            first = _QUOTED.search(msg)
            if msg in seen or (first and first.group(1) in named):
                continue
            seen.add(msg)
            findings.append(msg)
    if more:
        findings.append(f"... and {more} more finding(s) not shown (at most {limit} are reported)")
    return findings


_QUOTED = re.compile(r"'([^']+)'")


# --------------------------------------------------------------------------- what Maventa reads
@dataclass
class Party:
    name: str = ""
    bid: str = ""
    vat: str = ""
    eia: str = ""
    operator: str = ""
    country: str = ""
    street: str = ""
    post_code: str = ""
    town: str = ""
    email: str = ""


@dataclass
class InvoiceData:
    """The fields of a Finvoice that routing, listing and printing need."""

    number: str
    date: str  # ISO date
    due_date: str | None
    reference: str
    currency: str
    sum: float  # VAT excluded
    sum_tax: float  # VAT included
    seller: Party = field(default_factory=Party)
    buyer: Party = field(default_factory=Party)
    recipient_email: str = ""
    type_code: str = "INV01"
    rows: list[dict[str, Any]] = field(default_factory=list)


def _t(el: etree._Element, path: str) -> str:
    found = el.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _iso(d: str) -> str:
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 and d.isdigit() else d


def _amount(text: str) -> float:
    try:
        return float(Decimal(text.replace(",", ".").replace(" ", ""))) if text else 0.0
    except InvalidOperation:
        return 0.0


def _bid_of(identifier: str, tax_code: str) -> str:
    if identifier:
        return identifier
    if re.fullmatch(r"FI\d{8}", tax_code):
        return f"{tax_code[2:9]}-{tax_code[9]}"
    return ""


def extract(fv: etree._Element) -> InvoiceData:
    """Read a (validated) Finvoice root into :class:`InvoiceData`."""
    sp, bp = fv.find("SellerPartyDetails"), fv.find("BuyerPartyDetails")
    seller, buyer = Party(), Party()
    for party, el, pre in ((seller, sp, "Seller"), (buyer, bp, "Buyer")):
        if el is None:
            continue
        party.name = " ".join(n.text.strip() for n in el.findall(f"{pre}OrganisationName") if n.text)
        party.vat = _t(el, f"{pre}OrganisationTaxCode")
        party.bid = _bid_of(_t(el, f"{pre}PartyIdentifier"), party.vat)
        addr = el.find(f"{pre}PostalAddressDetails")
        if addr is not None:
            party.street = _t(addr, f"{pre}StreetName")
            party.post_code = _t(addr, f"{pre}PostCodeIdentifier")
            party.town = _t(addr, f"{pre}TownName")
            party.country = _t(addr, "CountryCode")
    seller.eia = _t(fv, "SellerOrganisationUnitNumber") or _t(
        fv, "MessageTransmissionDetails/MessageSenderDetails/FromIdentifier"
    )
    seller.operator = _t(fv, "MessageTransmissionDetails/MessageSenderDetails/FromIntermediator")
    buyer.eia = _t(fv, "MessageTransmissionDetails/MessageReceiverDetails/ToIdentifier") or _t(
        fv, "BuyerOrganisationUnitNumber"
    )
    buyer.operator = _t(fv, "MessageTransmissionDetails/MessageReceiverDetails/ToIntermediator")
    buyer.email = _t(fv, "BuyerCommunicationDetails/BuyerEmailaddressIdentifier")
    recipient_email = _t(fv, "InvoiceRecipientCommunicationDetails/InvoiceRecipientEmailaddressIdentifier")
    det = fv.find("InvoiceDetails")
    det = det if det is not None else etree.Element("InvoiceDetails")
    total = det.find("InvoiceTotalVatIncludedAmount")
    currency = total.get("AmountCurrencyIdentifier", "EUR") if total is not None else "EUR"
    sum_tax = _amount(_t(det, "InvoiceTotalVatIncludedAmount"))
    excl = _t(det, "InvoiceTotalVatExcludedAmount")
    vat = _t(det, "InvoiceTotalVatAmount")
    sum_excl = _amount(excl) if excl else round(sum_tax - _amount(vat), 2)
    due = _t(det, "PaymentTermsDetails/InvoiceDueDate") or _t(
        fv, "EpiDetails/EpiPaymentInstructionDetails/EpiDateOptionDate"
    )
    reference = _t(fv, "EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier") or _t(
        fv, "EpiDetails/EpiIdentificationDetails/EpiReference"
    )
    rows = [
        {
            "article": _t(r, "ArticleIdentifier"),
            "name": _t(r, "ArticleName"),
            "quantity": _t(r, "InvoicedQuantity"),
            "amount": _t(r, "RowVatExcludedAmount") or _t(r, "RowAmount"),
        }
        for r in fv.findall("InvoiceRow")
    ]
    return InvoiceData(
        number=_t(det, "InvoiceNumber"),
        date=_iso(_t(det, "InvoiceDate")),
        due_date=_iso(due) if due else None,
        reference=reference,
        currency=currency,
        sum=sum_excl,
        sum_tax=sum_tax,
        seller=seller,
        buyer=buyer,
        recipient_email=recipient_email,
        type_code=_t(det, "InvoiceTypeCode"),
        rows=rows,
    )
