"""Routing (reititys): which channel an invoice takes, decided as Maventa documents it.

1. **E-invoice.** EIA *and* operator given (``recipient_eia``/``recipient_operator`` or the
   Finvoice ``ToIdentifier``/``ToIntermediator``): that route only, **no fallback** – an
   invalid pair fails the invoice. Only an EIA or only a business ID: registry lookup; the
   entry's business ID *and* name must match the buyer's, else not e-invoiceable.
2. **E-mail** if an address exists (``recipient_email``, ``InvoiceRecipientEmailaddressIdentifier``
   or ``BuyerEmailaddressIdentifier``), ``send_invoice_email.enabled`` and not disabled. The
   keyword ``EMAIL`` as EIA forces this route.
3. **Print** if not disabled: needs ``send_invoice_print.enabled`` (else the real message
   ``The invoice could not be sent to the print service. Print service is not enabled``) and a
   full postal address (street, post code, town, country code).

A **reroute** (``PUT /v1/invoices/{id}/reroute/{channel}``) names its one channel and what it
needs (`plan_reroute`); an e-invoice pair is checked as above, print needs the print service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import registry
from .errors import bad_request, not_found
from .finvoice import InvoiceData, is_valid_ovt
from .models import Company, MaventaState, RoutePlan

PRINT_NOT_ENABLED = "The invoice could not be sent to the print service. Print service is not enabled"
PRINT_ADDRESS_INCOMPLETE = (
    "The invoice could not be sent to the print service. The recipient's postal address "
    "is incomplete (street, post code, city and country code are required)"
)
NO_ROUTE = (
    "The invoice could not be sent. The recipient has no e-invoice address, no e-mail address could be "
    "used and printing is not allowed for this invoice"
)
DUPLICATE_WINDOW = timedelta(days=7)
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PRINT_ADDRESS_FIELDS = {  # reroute/print body field -> the address it makes
    "recipient_name": "name",
    "recipient_address1": "street",
    "recipient_post_code": "post_code",
    "recipient_post_office": "town",
    "recipient_country": "country",
}


@dataclass
class Overrides:
    eia: str = ""
    operator: str = ""
    email: str = ""
    disabled: set[str] = field(default_factory=set)


def pair_error(state: MaventaState, eia: str, operator: str) -> str:
    if not 2 <= len(eia) <= 35:
        return f"Invalid e-invoice address '{eia}'"
    if eia.startswith("0037") and eia[4:12].isdigit() and not is_valid_ovt(eia):
        return f"Invalid e-invoice address '{eia}' (check digit of the business ID part is wrong)"
    if not registry.is_known_operator(operator):
        return f"Unknown e-invoice operator '{operator}' for address '{eia}'"
    if operator in registry.BANK_OPERATORS:
        return (
            f"The recipient's operator {operator} is a bank; the bank network connection "
            f"(pankkiverkkoyhteys) is not activated for this company"
        )
    listed = registry.by_eia(state, eia)
    if listed and all(r.operator != operator for r in listed):
        return f"The e-invoice address '{eia}' is not served by operator '{operator}'"
    return ""


def plan_route(state: MaventaState, company: Company, data: InvoiceData, ov: Overrides) -> RoutePlan:
    settings = company.settings
    notes: list[str] = []
    eia = ov.eia or data.buyer.eia
    operator = ov.operator or (data.buyer.operator if not ov.eia else "")
    email = ov.email or data.recipient_email or data.buyer.email
    force_email = eia.upper() == "EMAIL"
    if force_email:
        eia, operator = "", ""
    # 1. e-invoice
    if "einvoice" not in ov.disabled and not force_email:
        if eia and operator:
            err = pair_error(state, eia, operator)
            if err:
                return RoutePlan(channel=None, error=err, eia=eia, operator=operator)
            return RoutePlan(channel="EINVOICE", eia=eia, operator=operator)
        candidates = (
            registry.by_eia(state, eia)
            if eia
            else registry.by_bid(state, data.buyer.bid)
            if data.buyer.bid
            else []
        )
        buyer_name = registry.normalise_name(data.buyer.name)
        matching = [
            r
            for r in candidates
            if (not data.buyer.bid or r.bid == data.buyer.bid)
            and registry.normalise_name(r.name) == buyer_name
        ]
        if matching:
            best = sorted(matching, key=lambda r: (r.operator != registry.MAVENTA_OPERATOR, r.eia))[0]
            return RoutePlan(
                channel="EINVOICE",
                eia=best.eia,
                operator=best.operator,
                notes=[f"Recipient found in the e-invoice address registry ({best.eia})"],
            )
        if candidates:
            notes.append("Registry entries found but name and business ID did not both match; not e-invoiced")
    # 2. e-mail
    email_on = bool(settings.get("send_invoice_email", {}).get("enabled", True))
    if "email" not in ov.disabled and email and email_on and EMAIL_RE.fullmatch(email):
        return RoutePlan(channel="EMAIL", email=email, notes=notes)
    if force_email:
        return RoutePlan(
            channel=None,
            error="E-mail route was forced (EIA 'EMAIL') but no usable e-mail address "
            "or e-mail sending is not enabled",
            notes=notes,
        )
    # 3. print
    if "print" in ov.disabled:
        return RoutePlan(channel=None, error=NO_ROUTE, notes=notes)
    if not settings.get("send_invoice_print", {}).get("enabled", False):
        return RoutePlan(channel=None, error=PRINT_NOT_ENABLED, notes=notes)
    b = data.buyer
    address = {
        "name": b.name,
        "street": b.street,
        "post_code": b.post_code,
        "town": b.town,
        "country": b.country,
    }
    if not (b.street and b.post_code and b.town and b.country):
        return RoutePlan(channel=None, error=PRINT_ADDRESS_INCOMPLETE, address=address, notes=notes)
    return RoutePlan(channel="PRINT", address=address, notes=notes)


def duplicate_number_error(state: MaventaState, company: Company, number: str, now: datetime) -> str:
    """``stop_duplicate_numbers``: refuse a number sent (not failed) in the last 7 simulated days."""
    if not company.settings.get("send_invoice_general", {}).get("stop_duplicate_numbers"):
        return ""
    for inv in state.invoices.values():
        if (
            inv.company_id == company.id
            and inv.number == number
            and inv.status != "FAILED"
            and now - inv.created_at <= DUPLICATE_WINDOW
        ):
            return (
                f"Invoice number {number} has already been sent within the last 7 days; sending was stopped "
                f"(stop duplicate invoice numbers is on)"
            )
    return ""


def plan_reroute(state: MaventaState, company: Company, channel: str, body: dict[str, Any]) -> RoutePlan:
    """The one route a reroute names (``einvoice``, ``email`` or ``print``), or a 400/404."""
    if channel == "einvoice":
        eia, op = str(body.get("recipient_eia") or ""), str(body.get("recipient_operator") or "")
        if not eia or not op:
            raise bad_request("recipient_eia and recipient_operator are required")
        err = pair_error(state, eia, op)
        return RoutePlan(channel=None if err else "EINVOICE", error=err, eia=eia, operator=op)
    if channel == "email":
        email = str(body.get("recipient_email") or "")
        if not EMAIL_RE.fullmatch(email):
            raise bad_request("recipient_email is missing or invalid")
        return RoutePlan(channel="EMAIL", email=email)
    if channel == "print":
        missing = [n for n in PRINT_ADDRESS_FIELDS if not str(body.get(n) or "").strip()]
        if missing:
            raise bad_request("Missing required parameters", [f"{m} is missing" for m in missing])
        enabled = company.settings.get("send_invoice_print", {}).get("enabled")
        address = {key: str(body[field]) for field, key in PRINT_ADDRESS_FIELDS.items()}
        address["country"] = address["country"].upper()
        return RoutePlan(
            channel="PRINT" if enabled else None, error="" if enabled else PRINT_NOT_ENABLED, address=address
        )
    raise not_found("Route")
