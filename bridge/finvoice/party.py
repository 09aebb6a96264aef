"""The sending party (laskuttaja): the Severa company or business unit that issues the invoice.

Severa's REST API does not publish the seller's bank accounts, and a business unit that acts as
its own company (MV-5) has its own business ID and address, so the engine assembles a
:class:`SellerParty` from its configuration and Severa's organisation / business-unit data and
hands it to the builder. The builder checks every field and reports problems as
``seller.<field>`` errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.severa.model import Address, SeveraInvoice

from .address import country_code_of


@dataclass(frozen=True)
class BankAccount:
    """One of the seller's bank accounts (pankkitili): IBAN + BIC, optionally a display name."""

    iban: str
    bic: str
    name: str | None = None


@dataclass(frozen=True)
class SellerParty:
    """Who sends the invoice and where the money goes.

    ``business_id`` is the Y-tunnus (``2077474-0``; a Finnish VAT number ``FI20774740`` is
    accepted too). ``vat_number`` defaults to ``FI`` + the business ID digits. ``country_code``
    is ISO 3166 alpha-2. The first of ``bank_accounts`` is the one in the payment order
    (``EpiDetails``); all are listed in ``SellerInformationDetails``.

    ``e_invoice_address`` / ``e_invoice_operator`` are the seller's own e-invoice address (OVT)
    and operator. When the buyer's e-invoice address and operator are known the builder writes
    the routing frame (``MessageTransmissionDetails``); the seller's side then defaults to the
    OVT code derived from the business ID at Maventa's operator (``003721291126``), which is what
    Maventa assigns to a company that registers through it [inferred].
    """

    name: str
    business_id: str
    street: str
    post_code: str
    town: str
    country_code: str = "FI"
    bank_accounts: tuple[BankAccount, ...] = field(default_factory=tuple)
    vat_number: str | None = None
    e_invoice_address: str | None = None
    e_invoice_operator: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    home_town: str | None = None
    contact_name: str | None = None


def seller_from_severa(
    invoice: SeveraInvoice,
    bank_accounts: Sequence[Mapping[str, Any]],
    *,
    e_invoice_address: str | None = None,
    e_invoice_operator: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    website: str | None = None,
) -> SellerParty:
    """The :class:`SellerParty` from what Severa puts on the invoice and its bank accounts.

    Uses the invoice's ``senderName``, ``senderVatNumber`` (the issuing company's or business
    unit's business ID) and ``senderAddress``, and the active ``BankAccountOutputModel`` entries
    given (``GET /v1/bankaccounts``, filtered by the caller to the issuing company/unit).
    Never raises: missing values stay empty so that :func:`build_finvoice` reports them as
    ``seller.*`` field errors together with everything else.
    """
    address = invoice.sender_address or Address()
    country, _ = country_code_of(address.country)
    accounts = tuple(
        BankAccount(
            iban=str(a.get("accountNumber") or ""), bic=str(a.get("bic") or ""), name=a.get("bankName")
        )
        for a in bank_accounts
        if a.get("isActive", True) and str(a.get("accountNumberFormat") or "Iban").lower() == "iban"
    )
    contact = invoice.sender_contact_name
    return SellerParty(
        name=invoice.sender_name,
        business_id=invoice.sender_vat_number,
        street=address.street,
        post_code=address.post_code,
        town=address.city,
        country_code=country or "FI",
        bank_accounts=accounts,
        e_invoice_address=e_invoice_address,
        e_invoice_operator=e_invoice_operator,
        email=email,
        phone=phone,
        website=website,
        contact_name=str(contact) if contact else None,
    )
