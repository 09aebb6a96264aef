"""The invoice in another format: ``GET /v1/invoices/{id}?return_format=...``.

Maventa converts an invoice it holds into the format asked for. The fake holds the Finvoice it
was sent, and answers every documented value of ``return_format`` (`RETURN_FORMATS`, pinned to
the AX document by ``contract_tests/maventa/test_spec_values.py``):

* ``FINVOICE30``: the Finvoice as it was sent;
* ``PEPPOLBIS30``, ``XRECHNUNG23UBL``/``...EXTUBL``, ``XRECHNUNG30UBL``/``...EXTUBL``,
  ``SIUBL20``, ``OIOUBL21``, ``VISMAUBL30``: a UBL 2.1 ``Invoice`` with the format's
  ``CustomizationID``;
* ``XRECHNUNG23CII``/``...EXTCII``, ``XRECHNUNG30CII``/``...EXTCII``: a UN/CEFACT
  ``CrossIndustryInvoice``;
* ``TEAPPS30``: a TEAPPSXML ``INVOICE_CENTER``; ``VISMAXML60``: a Visma XML ``Invoice``;
  ``FATTURAPA12``: a FatturaPA 1.2 ``FatturaElettronica``;
* the images and ``EXTENDED_DETAILS`` are answered by the route (PDF, JSON).

[inferred] These are plausible documents in each syntax (root element, namespace, version or
customization id) carrying what the fake read from the Finvoice: number, dates, currency,
reference, seller and buyer, rows and totals. They are not certified conversions: a client
that parses them should be tested against the real service.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from .finvoice import InvoiceData, Party

UBL = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
FPA = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
VISMA = "urn:visma:xml:invoice:6.0"

EN16931 = "urn:cen.eu:en16931:2017"
XR23 = "urn:xoev-de:kosit:standard:xrechnung_2.3"
XR30 = "urn:xeinkauf.de:kosit:xrechnung_3.0"
UBL_CUSTOMIZATIONS = {
    "PEPPOLBIS30": f"{EN16931}#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
    "XRECHNUNG23UBL": f"{EN16931}#compliant#{XR23}",
    "XRECHNUNG23EXTUBL": f"{EN16931}#compliant#{XR23}#conformant#urn:xoev-de:kosit:extension:xrechnung_2.3",
    "XRECHNUNG30UBL": f"{EN16931}#compliant#{XR30}",
    "XRECHNUNG30EXTUBL": f"{EN16931}#compliant#{XR30}#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0",
    "SIUBL20": f"{EN16931}#compliant#urn:fdc:nen.nl:nlcius:v1.0",
    "OIOUBL21": "OIOUBL-2.1",
    "VISMAUBL30": "urn:www.visma.com:ubl:3.0",
}
CII_GUIDELINES = {
    "XRECHNUNG23CII": UBL_CUSTOMIZATIONS["XRECHNUNG23UBL"],
    "XRECHNUNG23EXTCII": UBL_CUSTOMIZATIONS["XRECHNUNG23EXTUBL"],
    "XRECHNUNG30CII": UBL_CUSTOMIZATIONS["XRECHNUNG30UBL"],
    "XRECHNUNG30EXTCII": UBL_CUSTOMIZATIONS["XRECHNUNG30EXTUBL"],
}
IMAGES = ("ORIGINAL_IMAGE", "GENERATED_IMAGE", "ORIGINAL_OR_GENERATED_IMAGE")
DETAILS = "EXTENDED_DETAILS"


def _num(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", ".").replace(" ", "")) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _money(value: float | Decimal) -> str:
    return f"{Decimal(str(value)):.2f}"


def _sub(parent: etree._Element, tag: str, text: Any = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v})
    if text is not None:
        el.text = str(text)
    return el


def _rows(data: InvoiceData) -> list[tuple[int, dict[str, Any], Decimal, Decimal]]:
    """(line number, row, quantity, net amount) of every invoice row."""
    return [
        (n, row, _num(row.get("quantity", "")) or Decimal(1), _num(row.get("amount", "")))
        for n, row in enumerate(data.rows, start=1)
    ]


# --------------------------------------------------------------------------- UBL 2.1
def _ubl_party(parent: etree._Element, tag: str, party: Party) -> None:
    p = _sub(_sub(parent, f"{{{CAC}}}{tag}"), f"{{{CAC}}}Party")
    if party.eia:
        _sub(p, f"{{{CBC}}}EndpointID", party.eia, schemeID="0037" if party.eia.startswith("0037") else "")
    _sub(_sub(p, f"{{{CAC}}}PartyName"), f"{{{CBC}}}Name", party.name)
    address = _sub(p, f"{{{CAC}}}PostalAddress")
    _sub(address, f"{{{CBC}}}StreetName", party.street)
    _sub(address, f"{{{CBC}}}CityName", party.town)
    _sub(address, f"{{{CBC}}}PostalZone", party.post_code)
    _sub(_sub(address, f"{{{CAC}}}Country"), f"{{{CBC}}}IdentificationCode", party.country or "FI")
    legal = _sub(p, f"{{{CAC}}}PartyLegalEntity")
    _sub(legal, f"{{{CBC}}}RegistrationName", party.name)
    if party.bid:
        _sub(legal, f"{{{CBC}}}CompanyID", party.bid, schemeID="0212")


def ubl(data: InvoiceData, fmt: str) -> etree._Element:
    root = etree.Element(f"{{{UBL}}}Invoice", nsmap={None: UBL, "cac": CAC, "cbc": CBC})
    _sub(root, f"{{{CBC}}}CustomizationID", UBL_CUSTOMIZATIONS[fmt])
    _sub(root, f"{{{CBC}}}ProfileID", "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
    _sub(root, f"{{{CBC}}}ID", data.number)
    _sub(root, f"{{{CBC}}}IssueDate", data.date)
    if data.due_date:
        _sub(root, f"{{{CBC}}}DueDate", data.due_date)
    _sub(root, f"{{{CBC}}}InvoiceTypeCode", "380")
    _sub(root, f"{{{CBC}}}DocumentCurrencyCode", data.currency)
    _ubl_party(root, "AccountingSupplierParty", data.seller)
    _ubl_party(root, "AccountingCustomerParty", data.buyer)
    means = _sub(root, f"{{{CAC}}}PaymentMeans")
    _sub(means, f"{{{CBC}}}PaymentMeansCode", "30")
    _sub(means, f"{{{CBC}}}PaymentID", data.reference)
    cur = data.currency
    _sub(
        _sub(root, f"{{{CAC}}}TaxTotal"),
        f"{{{CBC}}}TaxAmount",
        _money(data.sum_tax - data.sum),
        currencyID=cur,
    )
    totals = _sub(root, f"{{{CAC}}}LegalMonetaryTotal")
    _sub(totals, f"{{{CBC}}}TaxExclusiveAmount", _money(data.sum), currencyID=cur)
    _sub(totals, f"{{{CBC}}}TaxInclusiveAmount", _money(data.sum_tax), currencyID=cur)
    _sub(totals, f"{{{CBC}}}PayableAmount", _money(data.sum_tax), currencyID=cur)
    for n, row, quantity, net in _rows(data):
        line = _sub(root, f"{{{CAC}}}InvoiceLine")
        _sub(line, f"{{{CBC}}}ID", n)
        _sub(line, f"{{{CBC}}}InvoicedQuantity", quantity, unitCode="C62")
        _sub(line, f"{{{CBC}}}LineExtensionAmount", _money(net), currencyID=cur)
        item = _sub(line, f"{{{CAC}}}Item")
        _sub(item, f"{{{CBC}}}Name", row.get("name") or row.get("article") or f"Row {n}")
        if row.get("article"):
            _sub(_sub(item, f"{{{CAC}}}SellersItemIdentification"), f"{{{CBC}}}ID", row["article"])
    return root


# --------------------------------------------------------------------------- UN/CEFACT CII
def _cii_party(parent: etree._Element, tag: str, party: Party) -> None:
    p = _sub(parent, f"{{{RAM}}}{tag}")
    _sub(p, f"{{{RAM}}}Name", party.name)
    if party.bid:
        _sub(_sub(p, f"{{{RAM}}}SpecifiedLegalOrganization"), f"{{{RAM}}}ID", party.bid, schemeID="0212")
    address = _sub(p, f"{{{RAM}}}PostalTradeAddress")
    _sub(address, f"{{{RAM}}}PostcodeCode", party.post_code)
    _sub(address, f"{{{RAM}}}LineOne", party.street)
    _sub(address, f"{{{RAM}}}CityName", party.town)
    _sub(address, f"{{{RAM}}}CountryID", party.country or "FI")


def _cii_date(parent: etree._Element, tag: str, iso_date: str) -> None:
    _sub(_sub(parent, tag), f"{{{UDT}}}DateTimeString", iso_date.replace("-", ""), format="102")


def cii(data: InvoiceData, fmt: str) -> etree._Element:
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap={"rsm": RSM, "ram": RAM, "udt": UDT})
    context = _sub(root, f"{{{RSM}}}ExchangedDocumentContext")
    _sub(
        _sub(context, f"{{{RAM}}}GuidelineSpecifiedDocumentContextParameter"),
        f"{{{RAM}}}ID",
        CII_GUIDELINES[fmt],
    )
    doc = _sub(root, f"{{{RSM}}}ExchangedDocument")
    _sub(doc, f"{{{RAM}}}ID", data.number)
    _sub(doc, f"{{{RAM}}}TypeCode", "380")
    _cii_date(doc, f"{{{RAM}}}IssueDateTime", data.date)
    trade = _sub(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    for n, row, quantity, net in _rows(data):
        item = _sub(trade, f"{{{RAM}}}IncludedSupplyChainTradeLineItem")
        _sub(_sub(item, f"{{{RAM}}}AssociatedDocumentLineDocument"), f"{{{RAM}}}LineID", n)
        product = _sub(item, f"{{{RAM}}}SpecifiedTradeProduct")
        if row.get("article"):
            _sub(product, f"{{{RAM}}}SellerAssignedID", row["article"])
        _sub(product, f"{{{RAM}}}Name", row.get("name") or f"Row {n}")
        delivery = _sub(item, f"{{{RAM}}}SpecifiedLineTradeDelivery")
        _sub(delivery, f"{{{RAM}}}BilledQuantity", quantity, unitCode="C62")
        settlement = _sub(
            _sub(item, f"{{{RAM}}}SpecifiedLineTradeSettlement"),
            f"{{{RAM}}}SpecifiedTradeSettlementLineMonetarySummation",
        )
        _sub(settlement, f"{{{RAM}}}LineTotalAmount", _money(net))
    agreement = _sub(trade, f"{{{RAM}}}ApplicableHeaderTradeAgreement")
    _cii_party(agreement, "SellerTradeParty", data.seller)
    _cii_party(agreement, "BuyerTradeParty", data.buyer)
    _sub(trade, f"{{{RAM}}}ApplicableHeaderTradeDelivery")
    settlement = _sub(trade, f"{{{RAM}}}ApplicableHeaderTradeSettlement")
    _sub(settlement, f"{{{RAM}}}PaymentReference", data.reference)
    _sub(settlement, f"{{{RAM}}}InvoiceCurrencyCode", data.currency)
    if data.due_date:
        _cii_date(
            _sub(settlement, f"{{{RAM}}}SpecifiedTradePaymentTerms"),
            f"{{{RAM}}}DueDateDateTime",
            data.due_date,
        )
    totals = _sub(settlement, f"{{{RAM}}}SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(totals, f"{{{RAM}}}TaxBasisTotalAmount", _money(data.sum))
    _sub(totals, f"{{{RAM}}}TaxTotalAmount", _money(data.sum_tax - data.sum), currencyID=data.currency)
    _sub(totals, f"{{{RAM}}}GrandTotalAmount", _money(data.sum_tax))
    _sub(totals, f"{{{RAM}}}DuePayableAmount", _money(data.sum_tax))
    return root


# --------------------------------------------------------------------------- TEAPPSXML, Visma XML
def _flat(parent: etree._Element, fields: dict[str, Any]) -> None:
    for tag, value in fields.items():
        if value not in (None, ""):
            _sub(parent, tag, value)


def teapps(data: InvoiceData, fmt: str) -> etree._Element:
    root = etree.Element("INVOICE_CENTER")
    _sub(root, "CONTENT_FRAME", "TEAPPSXML 3.0")
    invoice = _sub(_sub(root, "INVOICES"), "INVOICE")
    header = _sub(invoice, "INVOICE_HEADER")
    _flat(
        header,
        {
            "INVOICE_NUMBER": data.number,
            "INVOICE_DATE": data.date,
            "DUE_DATE": data.due_date,
            "CURRENCY": data.currency,
            "PAYMENT_REFERENCE": data.reference,
        },
    )
    for tag, party in (("SELLER_PARTY", data.seller), ("BUYER_PARTY", data.buyer)):
        _flat(
            _sub(header, tag),
            {
                "NAME": party.name,
                "BUSINESS_ID": party.bid,
                "EIA": party.eia,
                "STREET": party.street,
                "POSTCODE": party.post_code,
                "TOWN": party.town,
                "COUNTRY": party.country,
            },
        )
    rows = _sub(invoice, "ROWS")
    for n, row, quantity, net in _rows(data):
        _flat(
            _sub(rows, "ROW"),
            {
                "ROW_NUMBER": n,
                "PRODUCT_CODE": row.get("article"),
                "PRODUCT_NAME": row.get("name"),
                "QUANTITY": quantity,
                "ROW_TOTAL_VAT_EXCLUDED": _money(net),
            },
        )
    _flat(
        _sub(invoice, "INVOICE_SUMMARY"),
        {"TOTAL_VAT_EXCLUDED": _money(data.sum), "TOTAL_VAT_INCLUDED": _money(data.sum_tax)},
    )
    return root


def visma_xml(data: InvoiceData, fmt: str) -> etree._Element:
    root = etree.Element(f"{{{VISMA}}}Invoice", nsmap={None: VISMA}, version="6.0")
    _flat(
        root,
        {
            f"{{{VISMA}}}{k}": v
            for k, v in {
                "InvoiceNumber": data.number,
                "InvoiceDate": data.date,
                "DueDate": data.due_date,
                "Currency": data.currency,
                "PaymentReference": data.reference,
            }.items()
        },
    )
    for tag, party in (("Seller", data.seller), ("Buyer", data.buyer)):
        _flat(
            _sub(root, f"{{{VISMA}}}{tag}"),
            {
                f"{{{VISMA}}}{k}": v
                for k, v in {
                    "Name": party.name,
                    "OrganisationNumber": party.bid,
                    "EInvoiceAddress": party.eia,
                    "Street": party.street,
                    "PostalCode": party.post_code,
                    "City": party.town,
                    "CountryCode": party.country,
                }.items()
            },
        )
    lines = _sub(root, f"{{{VISMA}}}Lines")
    for n, row, quantity, net in _rows(data):
        _flat(
            _sub(lines, f"{{{VISMA}}}Line"),
            {
                f"{{{VISMA}}}{k}": v
                for k, v in {
                    "LineNumber": n,
                    "ArticleNumber": row.get("article"),
                    "Description": row.get("name"),
                    "Quantity": quantity,
                    "NetAmount": _money(net),
                }.items()
            },
        )
    _flat(
        _sub(root, f"{{{VISMA}}}Totals"),
        {f"{{{VISMA}}}NetAmount": _money(data.sum), f"{{{VISMA}}}GrossAmount": _money(data.sum_tax)},
    )
    return root


# --------------------------------------------------------------------------- FatturaPA 1.2
def _fpa_party(parent: etree._Element, tag: str, party: Party) -> None:
    p = _sub(parent, tag)
    data = _sub(p, "DatiAnagrafici")
    tax = _sub(data, "IdFiscaleIVA")
    _sub(tax, "IdPaese", party.country or "FI")
    _sub(tax, "IdCodice", party.bid.replace("-", "") or "0")
    _sub(_sub(data, "Anagrafica"), "Denominazione", party.name)
    seat = _sub(p, "Sede")
    _flat(
        seat,
        {
            "Indirizzo": party.street or "-",
            "CAP": party.post_code or "00000",
            "Comune": party.town or "-",
            "Nazione": party.country or "FI",
        },
    )


def fattura_pa(data: InvoiceData, fmt: str) -> etree._Element:
    root = etree.Element(f"{{{FPA}}}FatturaElettronica", nsmap={"p": FPA}, versione="FPR12")
    header = _sub(root, "FatturaElettronicaHeader")
    transmission = _sub(header, "DatiTrasmissione")
    _sub(_sub(transmission, "IdTrasmittente"), "IdCodice", data.seller.bid.replace("-", "") or "0")
    _sub(transmission, "ProgressivoInvio", data.number)
    _sub(transmission, "FormatoTrasmissione", "FPR12")
    _sub(transmission, "CodiceDestinatario", "XXXXXXX")
    _fpa_party(header, "CedentePrestatore", data.seller)
    _fpa_party(header, "CessionarioCommittente", data.buyer)
    body = _sub(root, "FatturaElettronicaBody")
    general = _sub(_sub(body, "DatiGenerali"), "DatiGeneraliDocumento")
    _flat(
        general,
        {
            "TipoDocumento": "TD01",
            "Divisa": data.currency,
            "Data": data.date,
            "Numero": data.number,
            "ImportoTotaleDocumento": _money(data.sum_tax),
        },
    )
    goods = _sub(body, "DatiBeniServizi")
    for n, row, quantity, net in _rows(data):
        _flat(
            _sub(goods, "DettaglioLinee"),
            {
                "NumeroLinea": n,
                "Descrizione": row.get("name") or f"Row {n}",
                "Quantita": quantity,
                "PrezzoTotale": _money(net),
            },
        )
    _flat(
        _sub(goods, "DatiRiepilogo"),
        {"ImponibileImporto": _money(data.sum), "Imposta": _money(data.sum_tax - data.sum)},
    )
    payment = _sub(_sub(body, "DatiPagamento"), "DettaglioPagamento")
    _flat(
        payment,
        {
            "ModalitaPagamento": "MP05",
            "DataScadenzaPagamento": data.due_date,
            "ImportoPagamento": _money(data.sum_tax),
        },
    )
    return root


CONVERTERS: dict[str, Callable[[InvoiceData, str], etree._Element]] = {
    **{fmt: ubl for fmt in UBL_CUSTOMIZATIONS},
    **{fmt: cii for fmt in CII_GUIDELINES},
    "TEAPPS30": teapps,
    "VISMAXML60": visma_xml,
    "FATTURAPA12": fattura_pa,
}
XML_FORMATS = ("FINVOICE30", *CONVERTERS)
RETURN_FORMATS = (*XML_FORMATS, *IMAGES, DETAILS)


def convert(data: InvoiceData, fmt: str) -> bytes:
    """The invoice as a document in `fmt` (one of `CONVERTERS`), UTF-8 XML with a declaration."""
    return bytes(etree.tostring(CONVERTERS[fmt](data, fmt), xml_declaration=True, encoding="UTF-8"))
