"""Finvoice 3.0 intake: safe parsing, validation and the fields Maventa reads (verkkolasku).

Validation has two layers:

1. **Structural checks, always on.** The content model of the parts Maventa relies on (root
   sequence, seller/buyer party and postal address, ``InvoiceDetails`` mandatory elements,
   the whole ``EpiDetails`` payment order, ``MessageTransmissionDetails``), the data types
   (comma decimals, ``CCYYMMDD`` dates, percentages, ``ChargeOption``) and the Finnish check
   digits the XSD cannot express: business ID (Y-tunnus), VAT number (ALV-numero), OVT
   e-invoice addresses, IBAN, national reference (viitenumero, 7-3-1) and RF reference.
2. **The official XSD, when available** (see :func:`find_xsd`): lxml ``XMLSchema`` over the
   unmodified Finance Finland schema, its sha256 checked. Without it validation is
   structural only; :meth:`simulators.maventa.MaventaSimulator.describe` says which applies.

Messages mimic Maventa's validator (a .NET schema validator), e.g. ``The 'BuyerStreetName'
element is invalid - ...`` and ``The element 'Finvoice' has incomplete content. List of possible
elements expected: 'EpiDetails'.``

Security: DOCTYPEs (and so every entity declaration) are refused before and after parsing; the
parser never resolves entities, loads DTDs or touches the network.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree
from stdnum import iban, iso11649
from stdnum.fi import alv, ytunnus

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


# --------------------------------------------------------------------------- Finnish identifiers
def reference_check_digit(base: str) -> int:
    """The check digit of a Finnish national reference (viitenumero): weights 7, 3, 1 from the right."""
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(base)))
    return (10 - total % 10) % 10


def is_valid_reference(ref: str) -> bool:
    """A Finnish national reference: 4–20 digits, last digit = 7-3-1 check digit of the rest."""
    return ref.isdigit() and 4 <= len(ref) <= 20 and int(ref[-1]) == reference_check_digit(ref[:-1])


def is_valid_ovt(eia: str) -> bool:
    """An OVT code ``0037`` + Y-tunnus digits + optional ≤5-char suffix, with a valid Y-tunnus."""
    if not (eia.startswith("0037") and 12 <= len(eia) <= 17 and eia[4:12].isdigit()):
        return False
    return bool(ytunnus.is_valid(eia[4:11] + "-" + eia[11]))


# --------------------------------------------------------------------------- content models
# (name, min, max) in schema order; max None = unbounded.  Facts from the Finvoice 3.0 XSD.
Model = list[tuple[str, int, int | None]]

ROOT: Model = [
    ("MessageTransmissionDetails", 0, 1),
    ("SellerPartyDetails", 1, 1),
    ("SellerOrganisationUnitNumber", 0, 1),
    ("SellerSiteCode", 0, 1),
    ("SellerContactPersonName", 0, 1),
    ("SellerContactPersonFunction", 0, 2),
    ("SellerContactPersonDepartment", 0, 2),
    ("SellerCommunicationDetails", 0, 1),
    ("SellerInformationDetails", 0, 1),
    ("InvoiceSenderPartyDetails", 0, 1),
    ("InvoiceRecipientPartyDetails", 0, 1),
    ("InvoiceRecipientOrganisationUnitNumber", 0, 1),
    ("InvoiceRecipientSiteCode", 0, 1),
    ("InvoiceRecipientContactPersonName", 0, 1),
    ("InvoiceRecipientContactPersonFunction", 0, 2),
    ("InvoiceRecipientContactPersonDepartment", 0, 2),
    ("InvoiceRecipientLanguageCode", 0, 1),
    ("InvoiceRecipientCommunicationDetails", 0, 1),
    ("BuyerPartyDetails", 1, 1),
    ("BuyerOrganisationUnitNumber", 0, 1),
    ("BuyerSiteCode", 0, 1),
    ("BuyerContactPersonName", 0, 1),
    ("BuyerContactPersonFunction", 0, 2),
    ("BuyerContactPersonDepartment", 0, 2),
    ("BuyerCommunicationDetails", 0, 1),
    ("DeliveryPartyDetails", 0, 1),
    ("DeliveryOrganisationUnitNumber", 0, 1),
    ("DeliverySiteCode", 0, 1),
    ("DeliveryContactPersonName", 0, 1),
    ("DeliveryContactPersonFunction", 0, 2),
    ("DeliveryContactPersonDepartment", 0, 2),
    ("DeliveryCommunicationDetails", 0, 1),
    ("DeliveryDetails", 0, 1),
    ("AnyPartyDetails", 0, None),
    ("InvoiceDetails", 1, 1),
    ("PaymentCardInfo", 0, 1),
    ("DirectDebitInfo", 0, 1),
    ("PaymentStatusDetails", 0, 1),
    ("PartialPaymentDetails", 0, None),
    ("FactoringAgreementDetails", 0, 1),
    ("VirtualBankBarcode", 0, 1),
    ("InvoiceRow", 1, None),
    ("SpecificationDetails", 0, 1),
    ("EpiDetails", 1, 1),
    ("InvoiceUrlNameText", 0, None),
    ("InvoiceUrlText", 0, None),
    ("StorageUrlText", 0, 1),
    ("LayOutIdentifier", 0, 1),
    ("InvoiceSegmentIdentifier", 0, 1),
    ("ControlChecksum", 0, 1),
    ("MessageChecksum", 0, 1),
    ("ControlStampText", 0, 1),
    ("AcceptanceStampText", 0, 1),
    ("OriginalInvoiceFormat", 0, 1),
    ("AttachmentMessageDetails", 0, 1),
]


def _party(prefix: str, with_url: bool) -> Model:
    m: Model = [(f"{prefix}PartyIdentifier", 0, 1)]
    if with_url:
        m.append((f"{prefix}PartyIdentifierUrlText", 0, 1))
    m += [
        (f"{prefix}OrganisationName", 1, None),
        (f"{prefix}OrganisationTradingName", 0, 1),
        (f"{prefix}OrganisationDepartment", 0, 2),
        (f"{prefix}OrganisationTaxCode", 0, 1),
    ]
    if with_url:
        m += [(f"{prefix}OrganisationTaxCodeUrlText", 0, 1), (f"{prefix}Code", 0, None)]
    else:
        m.append((f"{prefix}Code", 0, 1))
    m.append((f"{prefix}PostalAddressDetails", 0, 1))
    return m


def _address(prefix: str) -> Model:
    return [
        (f"{prefix}StreetName", 1, 3),
        (f"{prefix}TownName", 1, 1),
        (f"{prefix}PostCodeIdentifier", 1, 1),
        (f"{prefix}CountrySubdivision", 0, 1),
        ("CountryCode", 0, 1),
        ("CountryName", 0, 1),
        (f"{prefix}PostOfficeBoxIdentifier", 0, 1),
    ]


_INVOICE_DETAILS_ORDER = (
    "InvoiceTypeCode* InvoiceTypeCodeUN InvoiceTypeText* InvoiceClassification OriginCode* OriginText "
    "InvoicedObjectID InvoiceNumber* InvoiceDate* OriginalInvoiceNumber OriginalInvoiceDate "
    "OriginalInvoiceReference+ InvoicingPeriodStartDate InvoicingPeriodEndDate SellerReferenceIdentifier "
    "SellerReferenceIdentifierUrlText BuyersSellerIdentifier SellersBuyerIdentifier OrderIdentifier "
    "OrderIdentifierUrlText OrderDate OrdererName SalesPersonName OrderConfirmationIdentifier "
    "OrderConfirmationDate AgreementIdentifier AgreementIdentifierUrlText AgreementTypeText AgreementTypeCode "
    "AgreementDate NotificationIdentifier NotificationDate RegistrationNumberIdentifier ControllerIdentifier "
    "ControllerName ControlDate BuyerReferenceIdentifier ProjectReferenceIdentifier DefinitionDetails+ "
    "RowsTotalVatExcludedAmount DiscountsTotalVatExcludedAmount ChargesTotalVatExcludedAmount "
    "InvoiceTotalVatExcludedAmount InvoiceTotalVatAmount InvoiceTotalVatAccountingAmount "
    "InvoiceTotalVatIncludedAmount* InvoiceTotalRoundoffAmount InvoicePaidAmount ExchangeRate "
    "OtherCurrencyAmountVatExcludedAmount OtherCurrencyAmountVatIncludedAmount CreditLimitAmount "
    "CreditInterestPercent OperationLimitAmount MonthlyAmount ShortProposedAccountIdentifier "
    "NormalProposedAccountIdentifier ProposedAccountText AccountDimensionText SellerAccountText VatPoint "
    "VatSpecificationDetails+ InvoiceFreeText+ InvoiceVatFreeText PaymentTermsDetails+ DiscountDetails+ "
    "ChargeDetails+ TenderReference"
)


def _order_model(spec: str) -> Model:
    out: Model = []
    for tok in spec.split():
        if tok.endswith("*"):
            out.append((tok[:-1], 1, 1))
        elif tok.endswith("+"):
            out.append((tok[:-1], 0, None))
        else:
            out.append((tok, 0, 1))
    return out


MODELS: dict[str, Model] = {
    "Finvoice": ROOT,
    "SellerPartyDetails": _party("Seller", True),
    "BuyerPartyDetails": _party("Buyer", False),
    "SellerPostalAddressDetails": _address("Seller"),
    "BuyerPostalAddressDetails": _address("Buyer"),
    "InvoiceDetails": _order_model(_INVOICE_DETAILS_ORDER),
    "MessageTransmissionDetails": [
        ("MessageSenderDetails", 1, 1),
        ("MessageReceiverDetails", 1, 1),
        ("MessageDetails", 1, 1),
    ],
    "MessageSenderDetails": [("FromIdentifier", 1, 1), ("FromIntermediator", 1, 1)],
    "MessageReceiverDetails": [("ToIdentifier", 1, 1), ("ToIntermediator", 1, 1)],
    "MessageDetails": [
        ("MessageIdentifier", 1, 1),
        ("MessageTimeStamp", 1, 1),
        ("RefToMessageIdentifier", 0, 1),
        ("ImplementationCode", 0, 1),
        ("SpecificationIdentifier", 0, 1),
    ],
    "BuyerCommunicationDetails": [
        ("BuyerPhoneNumberIdentifier", 0, 1),
        ("BuyerEmailaddressIdentifier", 0, 1),
    ],
    "InvoiceRecipientCommunicationDetails": [
        ("InvoiceRecipientPhoneNumberIdentifier", 0, 1),
        ("InvoiceRecipientEmailaddressIdentifier", 0, 1),
    ],
    "EpiDetails": [
        ("EpiIdentificationDetails", 1, 1),
        ("EpiPartyDetails", 1, 1),
        ("EpiPaymentInstructionDetails", 1, 1),
    ],
    "EpiIdentificationDetails": [
        ("EpiDate", 1, 1),
        ("EpiReference", 1, 1),
        ("EpiUrl", 0, 1),
        ("EpiEmail", 0, 1),
        ("EpiOrderInfo", 0, 7),
    ],
    "EpiPartyDetails": [("EpiBfiPartyDetails", 1, 1), ("EpiBeneficiaryPartyDetails", 1, 1)],
    "EpiBfiPartyDetails": [("EpiBfiIdentifier", 0, 1), ("EpiBfiName", 0, 1)],
    "EpiBeneficiaryPartyDetails": [("EpiNameAddressDetails", 0, 1), ("EpiBei", 0, 1), ("EpiAccountID", 1, 1)],
    "EpiPaymentInstructionDetails": [
        ("EpiPaymentInstructionId", 0, 1),
        ("EpiTransactionTypeCode", 0, 1),
        ("EpiInstructionCode", 0, 1),
        ("EpiRemittanceInfoIdentifier", 0, 1),
        ("EpiInstructedAmount", 1, 1),
        ("EpiCharge", 1, 1),
        ("EpiDateOptionDate", 1, 1),
        ("EpiPaymentMeansCode", 0, 1),
        ("EpiPaymentMeansText", 0, 1),
    ],
}

# length facets (min, max) of string elements that matter for routing and printing
LENGTHS: dict[str, tuple[int, int]] = {
    **{
        f"{p}{s}": (2, 35)
        for p in ("Seller", "Buyer")
        for s in ("StreetName", "TownName", "PostCodeIdentifier")
    },
    "SellerOrganisationName": (2, 70),
    "BuyerOrganisationName": (2, 70),
    "InvoiceNumber": (1, 20),
    "InvoiceTypeText": (1, 35),
    "FromIdentifier": (2, 35),
    "ToIdentifier": (2, 35),
    "FromIntermediator": (2, 35),
    "ToIntermediator": (2, 35),
    "MessageIdentifier": (2, 48),
    "EpiReference": (0, 35),
    "EpiAccountID": (1, 34),
    "SellerPartyIdentifier": (0, 35),
    "BuyerPartyIdentifier": (0, 35),
    "CountryCode": (2, 2),
    "BuyerEmailaddressIdentifier": (0, 70),
    "InvoiceRecipientEmailaddressIdentifier": (0, 70),
    "EpiNameAddressDetails": (2, 35),
    "EpiBfiIdentifier": (8, 11),
}

AMOUNT_RE = re.compile(r"-?[0-9]{1,15}(,[0-9]{2,5})?")
EPI_AMOUNT_RE = re.compile(r"-?[0-9]{1,15},[0-9]{2}")
PERCENT_RE = re.compile(r"[1-9]?[0-9]{1,2}(,[0-9]{1,3})?")
TYPE_CODE_RE = re.compile(r"(REQ|QUO|ORD|ORC|INV|DEV|TES|INF|PRI|DEN|SEI|REC|RES|SDD)[0-9]{2}")
REMITTANCE_RE = re.compile(r"([0-9]{2,20})|(RF[0-9][0-9][0-9A-Za-z]{1,21})")
# elements named *Date / *Amount / *Percent that are not of the date/amount/percentage types
_NOT_DATES = frozenset({"DefinitionDetails"})
_NOT_AMOUNTS = frozenset({"RowProgressiveDiscountDetails"})


def _name(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _invalid(name: str, detail: str) -> str:
    return f"The '{name}' element is invalid - {detail}"


def _check_sequence(el: etree._Element, model: Model, out: list[str]) -> None:
    """Match the element's children against a sequence model (.NET validator style messages)."""
    children = [_name(c) for c in el if isinstance(c.tag, str)]
    parent = _name(el)
    i = 0
    for name, lo, hi in model:
        count = 0
        while i < len(children) and children[i] == name and (hi is None or count < hi):
            count += 1
            i += 1
        if count < lo:
            if i < len(children):
                out.append(
                    f"The element '{parent}' has invalid child element '{children[i]}'. "
                    f"List of possible elements expected: '{name}'."
                )
            else:
                out.append(
                    f"The element '{parent}' has incomplete content. "
                    f"List of possible elements expected: '{name}'."
                )
            return
    if i < len(children):
        out.append(
            f"The element '{parent}' has invalid child element '{children[i]}' "
            f"(unknown, out of order or repeated too often)."
        )


def _check_leaf(el: etree._Element, out: list[str]) -> None:
    name = _name(el)
    text = (el.text or "").strip() if len(el) == 0 else None
    if text is None:
        return
    if name in LENGTHS:
        lo, hi = LENGTHS[name]
        if not lo <= len(text) <= hi:
            side = "less than the MinLength" if len(text) < lo else "greater than the MaxLength"
            out.append(
                _invalid(
                    name,
                    f"The value '{text}' is invalid according to its datatype - "
                    f"The actual length is {side} value ({lo}..{hi}).",
                )
            )
            return
    if name.endswith("Date") and name not in _NOT_DATES:
        if el.get("Format") != "CCYYMMDD":
            out.append(f"The required attribute 'Format' of element '{name}' is missing or not 'CCYYMMDD'.")
        if not (len(text) == 8 and text.isdigit()):
            out.append(_invalid(name, f"The value '{text}' is not a date in the CCYYMMDD format."))
        else:
            try:
                date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                out.append(_invalid(name, f"The value '{text}' is not a calendar date."))
    elif name.endswith("Amount") and name not in _NOT_AMOUNTS:
        pattern = EPI_AMOUNT_RE if name == "EpiInstructedAmount" else AMOUNT_RE
        if not pattern.fullmatch(text):
            hint = (
                "exactly two decimals after a comma" if name == "EpiInstructedAmount" else "a comma decimal"
            )
            out.append(
                _invalid(
                    name,
                    f"The value '{text}' is invalid according to its datatype - "
                    f"the Pattern constraint failed (expected {hint}, e.g. 125,50).",
                )
            )
        cur = el.get("AmountCurrencyIdentifier")
        if cur is None or len(cur) != 3:
            out.append(
                f"The required attribute 'AmountCurrencyIdentifier' of element '{name}' "
                f"is missing or not a 3-letter code."
            )
    elif name.endswith("Percent") and not PERCENT_RE.fullmatch(text):
        out.append(
            _invalid(
                name,
                f"The value '{text}' is invalid according to its datatype 'percentage' - "
                f"the Pattern constraint failed.",
            )
        )


def _check_identifiers(fv: etree._Element, out: list[str]) -> None:
    def texts(xpath: str) -> list[tuple[etree._Element, str]]:
        return [(e, (e.text or "").strip()) for e in fv.xpath(xpath)]

    for el, v in texts("SellerPartyDetails/SellerPartyIdentifier | BuyerPartyDetails/BuyerPartyIdentifier"):
        if re.fullmatch(r"\d{7}-\d", v) and not ytunnus.is_valid(v):
            out.append(
                _invalid(_name(el), f"'{v}' is not a valid Finnish business ID (Y-tunnus check digit).")
            )
    for el, v in texts(
        "SellerPartyDetails/SellerOrganisationTaxCode | BuyerPartyDetails/BuyerOrganisationTaxCode"
    ):
        if re.fullmatch(r"FI\d{8}", v) and not alv.is_valid(v):
            out.append(_invalid(_name(el), f"'{v}' is not a valid Finnish VAT number (check digit)."))
    for el, v in texts(
        "MessageTransmissionDetails/*/FromIdentifier | MessageTransmissionDetails/*/ToIdentifier | "
        "SellerOrganisationUnitNumber | BuyerOrganisationUnitNumber"
    ):
        if v.startswith("0037") and v[4:12].isdigit() and not is_valid_ovt(v):
            out.append(
                _invalid(_name(el), f"'{v}' is not a valid OVT e-invoice address (business ID check digit).")
            )
    for el, v in texts("EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID"):
        scheme = el.get("IdentificationSchemeName")
        if scheme not in ("IBAN", "BBAN"):
            out.append(
                f"The required attribute 'IdentificationSchemeName' of element 'EpiAccountID' "
                f"must be IBAN or BBAN, got {scheme!r}."
            )
        elif scheme == "IBAN" and not iban.is_valid(v):
            out.append(_invalid("EpiAccountID", f"'{v}' is not a valid IBAN (check digits)."))
    for el, v in texts("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier"):
        scheme = el.get("IdentificationSchemeName")
        if not REMITTANCE_RE.fullmatch(v):
            out.append(
                _invalid(
                    "EpiRemittanceInfoIdentifier",
                    f"The value '{v}' is invalid - the Pattern "
                    f"constraint failed (digits or RF reference, no spaces).",
                )
            )
        elif v.startswith("RF") or scheme == "ISO":
            if not iso11649.is_valid(v):
                out.append(
                    _invalid("EpiRemittanceInfoIdentifier", f"'{v}' is not a valid RF creditor reference.")
                )
        elif not is_valid_reference(v):
            out.append(
                _invalid(
                    "EpiRemittanceInfoIdentifier",
                    f"'{v}' is not a valid Finnish reference number (check digit).",
                )
            )
    for el in fv.xpath("EpiDetails/EpiPaymentInstructionDetails/EpiCharge"):
        if el.get("ChargeOption") not in ("SHA", "OUR", "BEN", "SLEV"):
            out.append(
                "The 'ChargeOption' attribute of element 'EpiCharge' is invalid - expected SHA, OUR, BEN or SLEV."
            )
    for _el, v in texts("InvoiceDetails/InvoiceTypeCode"):
        if not TYPE_CODE_RE.fullmatch(v):
            out.append(
                _invalid(
                    "InvoiceTypeCode",
                    f"The value '{v}' is invalid according to its datatype "
                    f"'InvoiceTypeCodeTypeFI' - the Pattern constraint failed.",
                )
            )
    for _el, v in texts("InvoiceDetails/OriginCode"):
        if v not in ("Original", "Copy", "Cancel"):
            out.append(_invalid("OriginCode", f"The value '{v}' is not one of Original, Copy, Cancel."))


def structural_errors(root: etree._Element) -> list[str]:
    """Every structural finding (empty list = structurally valid)."""
    out: list[str] = []
    fv = root
    if _name(fv) != "Finvoice":
        return ["The root element is not 'Finvoice'"]
    if fv.get("Version") not in ("1.3", "2.0", "2.01", "3.0"):
        out.append("The 'Version' attribute of element 'Finvoice' is missing or invalid (expected 3.0).")
    for el in fv.iter():
        if not isinstance(el.tag, str):
            continue
        parent = el.getparent()
        if parent is not None and isinstance(parent.tag, str) and _name(parent) in LENGTHS:
            out.append(
                f"The element '{_name(parent)}' cannot contain child element '{_name(el)}' because the "
                "parent element's content type is text only."
            )
        if el.tag.startswith("{"):  # Finvoice has no namespace: XInclude, foreign markup, ...
            out.append(
                f"The element '{_name(el)}' in namespace '{el.tag[1:].split('}')[0]}' is not expected."
            )
            continue
        model = MODELS.get(_name(el))
        if model is not None:
            _check_sequence(el, model, out)
    for el in fv.iter():
        if isinstance(el.tag, str) and len(el) == 0:
            _check_leaf(el, out)
    _check_identifiers(fv, out)
    return out


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
