"""Finvoice 3.0 builder for the Severa -> Maventa bridge (verkkolaskun muodostus).

Public interface (stable; everything else in this package is internal):

* :func:`build_finvoice` (invoice, seller, *, recipient, message_id, timestamp, include_email)
  -> UTF-8 ``bytes``, from a :class:`bridge.severa.model.SeveraInvoice` with its lines and
  customer card; raises :class:`FinvoiceBuildError` whose ``errors`` is a list of
  :class:`FieldError` (``field``, ``message``). :func:`recipient_of` decides the buyer's routing
  (:class:`Recipient`) once, for the XML and for Maventa's upload form.
* :class:`SellerParty` and :class:`BankAccount`: the sending company or business unit;
  :func:`seller_from_severa` (invoice, bank_accounts, ...) builds one from the invoice's
  ``sender*`` fields and Severa's ``BankAccountOutputModel`` list.
* :func:`validate_against_xsd` (xml, xsd_path) -> ``list[str]``; :func:`default_xsd_path`.
* :func:`package_invoice` (xml, base_name, pdf=None, attachments=()) -> :class:`UploadFile`
  (the XML alone, or a ZIP with the PDF image under the XML's base name, MV-6);
  :func:`finvoice_base_name` (invoice) -> the base name to use.
* Identifier helpers: :func:`parse_reference`, :func:`make_viitenumero`,
  :func:`parse_business_id`; :data:`MAVENTA_OPERATOR`.
"""

from .builder import Recipient, build_finvoice, finvoice_base_name, recipient_of
from .errors import FieldError, FinvoiceBuildError
from .identifiers import MAVENTA_OPERATOR, BusinessId, parse_business_id
from .package import UploadFile, package_invoice, safe_file_name
from .party import BankAccount, SellerParty, seller_from_severa
from .reference import PaymentReference, make_viitenumero, parse_reference
from .schema import default_xsd_path, validate_against_xsd

__all__ = [
    "MAVENTA_OPERATOR",
    "BankAccount",
    "BusinessId",
    "FieldError",
    "FinvoiceBuildError",
    "PaymentReference",
    "Recipient",
    "SellerParty",
    "UploadFile",
    "build_finvoice",
    "default_xsd_path",
    "finvoice_base_name",
    "make_viitenumero",
    "package_invoice",
    "parse_business_id",
    "parse_reference",
    "recipient_of",
    "safe_file_name",
    "seller_from_severa",
    "validate_against_xsd",
]
