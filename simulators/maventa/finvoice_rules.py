"""The Finvoice 3.0 rules the fake checks itself, always (the structural layer of `finvoice.validate`).

* The content model of the parts Maventa relies on (root sequence, seller/buyer party and postal
  address, ``InvoiceDetails`` mandatory elements, the whole ``EpiDetails`` payment order,
  ``MessageTransmissionDetails``), facts from the Finvoice 3.0 XSD;
* the data types (comma decimals, ``CCYYMMDD`` dates, percentages, ``ChargeOption``);
* the Finnish check digits the XSD cannot express: business ID (Y-tunnus), VAT number
  (ALV-numero), OVT e-invoice addresses, national reference (viitenumero, 7-3-1), RF reference,
  and IBANs – mod-97 for every IBAN, and for a Finnish one (``FI``) also the national check
  digit of its account number (the Luhn digit of the 14-digit machine form), which a Finnish
  bank checks ([inferred] wording, as Maventa's validator words the other findings).

Messages mimic Maventa's validator (a .NET schema validator), e.g. ``The 'BuyerStreetName'
element is invalid - ...``.
"""

from __future__ import annotations

import re
from datetime import date

from lxml import etree
from stdnum import iban, iso11649, luhn
from stdnum.fi import alv, ytunnus


# --------------------------------------------------------------------------- Finnish identifiers
def reference_check_digit(base: str) -> int:
    """The check digit of a Finnish national reference (viitenumero): weights 7, 3, 1 from the right."""
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(base)))
    return (10 - total % 10) % 10


def is_valid_reference(ref: str) -> bool:
    """A Finnish national reference: 4–20 digits, last digit = 7-3-1 check digit of the rest."""
    return ref.isdigit() and 4 <= len(ref) <= 20 and int(ref[-1]) == reference_check_digit(ref[:-1])


def is_valid_finnish_iban(value: str) -> bool:
    """A valid IBAN (mod-97) that, when Finnish (``FI``), also has a valid national check digit:
    18 characters, and the BBAN – the 14-digit machine form of the account number – passes
    Luhn (a Finnish bank refuses the account otherwise; mod-97 alone lets 9 in 10 random
    Finnish-looking numbers through)."""
    compact = iban.compact(value)
    if not iban.is_valid(compact):
        return False
    if not compact.startswith("FI"):
        return True
    return len(compact) == 18 and compact[4:].isdigit() and luhn.is_valid(compact[4:])


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
    for el, v in texts(
        "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID | "
        "SellerInformationDetails/SellerAccountDetails/SellerAccountID"
    ):
        name, scheme = _name(el), el.get("IdentificationSchemeName")
        if scheme not in ("IBAN", "BBAN"):
            out.append(
                f"The required attribute 'IdentificationSchemeName' of element '{name}' "
                f"must be IBAN or BBAN, got {scheme!r}."
            )
        elif scheme == "IBAN" and not iban.is_valid(v):
            out.append(_invalid(name, f"'{v}' is not a valid IBAN (check digits)."))
        elif scheme == "IBAN" and not is_valid_finnish_iban(v):
            out.append(
                _invalid(
                    name,
                    f"'{v}' is not a valid Finnish account number (the national check digit of the "
                    "account number is wrong; a bank refuses it).",
                )
            )
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
