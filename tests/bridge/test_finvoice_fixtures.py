"""Severa-shaped test data for the Finvoice builder tests (Faker fi_FI with fixed seeds).

The dicts follow the Severa REST wire models (severa-api.md §3, §6): ``InvoiceOutputModel``,
``InvoiceRowOutputModel``, ``CustomerModel`` and the billing ``AddressModel``. Severa's own
totals are computed the way Severa shows them (per-row VAT rounded to cents), independently of
the builder, so the builder's totals check is exercised for real.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from faker import Faker
from lxml import etree

from bridge.finvoice import BankAccount, SellerParty, make_viitenumero
from bridge.severa.model import SeveraInvoice, parse_customer, parse_invoice, parse_lines

VAT_RATES = (25.5, 14.0, 13.5, 10.0, 0.0)
STAMP = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
_FAKE = Faker("fi_FI")  # creating a Faker is slow; every use re-seeds it


def xsd_path(config: pytest.Config) -> Path:
    """The official Finvoice 3.0 XSD, or skip with the reason (it is third-party, found by path)."""
    from contract_tests.targets import vendor_spec

    return vendor_spec(config, "Finvoice3.0.xsd")


@dataclass
class Case:
    """One invoice with everything the builder needs."""

    invoice: dict[str, Any]
    rows: list[dict[str, Any]]
    customer: dict[str, Any]
    address: dict[str, Any] | None
    seller: SellerParty

    def document(self) -> SeveraInvoice:
        """The invoice as the bridge's read model holds it: rows and customer card read.

        ``address`` is the billing address Severa prints on the invoice (``receiverAddress``);
        None leaves the invoice's own ``receiverAddress`` (and the card's headquarter address)."""
        invoice = dict(self.invoice)
        if self.address is not None:
            invoice["receiverAddress"] = {
                k: v
                for k, v in self.address.items()
                if k in ("addressline", "postalCode", "city", "country", "state")
            }
        return parse_invoice(invoice).with_details(
            parse_lines(self.rows, str((invoice.get("currency") or {}).get("code") or "EUR")),
            parse_customer(self.customer),
        )

    def build_args(self) -> tuple[Any, ...]:
        return (self.document(), self.seller)


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def severa_totals(rows: list[dict[str, Any]]) -> tuple[float, float, float]:
    """(excluding, tax, including) as Severa computes them: per-row VAT rounded to cents."""
    excl = tax = Decimal(0)
    for row in rows:
        total = cents(Decimal(repr(row["quantity"])) * Decimal(repr(row["unitPrice"]["amount"])))
        excl += total
        tax += cents(total * Decimal(repr(row["vatRate"])) / 100)
    return float(excl), float(tax), float(excl + tax)


def seller_party(fake: Faker, **changes: Any) -> SellerParty:
    party = SellerParty(
        name=fake.company(),
        business_id=fake.company_business_id(),
        street=fake.street_address(),
        post_code=fake.postcode(),
        town=fake.city(),
        country_code="FI",
        bank_accounts=(BankAccount(iban=fake.iban(), bic="NDEAFIHH", name="Nordea"),),
        email=fake.company_email(),
        phone=fake.phone_number(),
        website="https://" + fake.domain_name(),
    )
    return replace(party, **changes)


def severa_row(fake: Faker, rng: random.Random, sort_order: int, **changes: Any) -> dict[str, Any]:
    kind = rng.choice(("Hours", "ProjectFees", "TravelExpenses"))
    unit = {"Hours": "h", "ProjectFees": "kpl", "TravelExpenses": "km"}[kind]
    row = {
        "guid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "rowType": kind,
        "description": fake.catch_phrase(),
        "quantity": round(rng.uniform(0.25, 60), 2),
        "measurementUnit": unit,
        "unitPrice": {"amount": round(rng.uniform(0.5, 250), 2), "currencyCode": "EUR"},
        "vatRate": rng.choice(VAT_RATES),
        "sortOrder": sort_order,
        "code": [rng.choice(["KONS", "SUUN", "MATKA", "LISENSSI", "TUKI"])],
    }
    row.update(changes)
    return row


def make_case(seed: int, *, n_rows: int | None = None, **invoice_changes: Any) -> Case:
    """A complete, valid Severa invoice built from ``seed`` (same seed, same data)."""
    fake = _FAKE
    fake.seed_instance(seed)
    rng = random.Random(seed)
    seller = seller_party(fake)
    business_id = fake.company_business_id()
    customer_name = fake.company()
    customer = {
        "guid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "name": customer_name,
        "number": rng.randint(1000, 9999),
        "vatNumber": "FI" + business_id.replace("-", ""),
        "email": fake.company_email(),
        "eInvoiceAddress": "0037" + business_id.replace("-", ""),
        "eInvoiceOperator": "003721291126",
        "language": {"code": "fi"},
    }
    address = {
        "guid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "addressline": fake.street_address(),
        "postalCode": fake.postcode(),
        "city": fake.city(),
        "country": {"name": "Suomi", "englishName": "Finland"},
        "isBillingAddress": True,
    }
    rows = [severa_row(fake, rng, i + 1) for i in range(n_rows if n_rows is not None else rng.randint(1, 8))]
    number = rng.randint(10000, 99999)
    invoice_date = date(2026, 11, 1) + timedelta(days=rng.randint(0, 20))
    excl, tax, incl = severa_totals(rows)
    invoice = {
        "guid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "number": number,
        "referenceNumber": make_viitenumero(number),
        "status": {"guid": str(uuid.uuid4()), "name": "Odottaa siirtoa", "isSent": False},
        "customer": {"guid": customer["guid"], "name": customer_name, "number": customer["number"]},
        "billingCustomer": {"guid": customer["guid"], "name": customer_name, "number": customer["number"]},
        "date": invoice_date.isoformat(),
        "dueDate": (invoice_date + timedelta(days=14)).isoformat(),
        "paymentTerm": 14,
        "overdueInterest": 8.0,
        "ourReference": fake.name(),
        "yourReference": fake.name(),
        "orderNumber": f"PO-{rng.randint(100, 999)}",
        "currency": {"code": "EUR", "name": "Euro", "symbol": "€"},
        "totalExcludingTax": {"amount": excl, "currencyCode": "EUR"},
        "totalTax": {"amount": tax, "currencyCode": "EUR"},
        "totalIncludingTax": {"amount": incl, "currencyCode": "EUR"},
        "receiverCustomerName": customer_name,
        "receiverContactName": fake.name(),
        "receiverContactEmail": fake.email(),
        "receiverAddress": {
            "addressline": address["addressline"],
            "postalCode": address["postalCode"],
            "city": address["city"],
            "country": "Finland",
        },
        "senderName": seller.name,
        "isCreditNote": False,
        "reimburseInvoice": None,
        "language": {"code": "fi", "englishName": "Finnish"},
        "freeText1": {"plainText": fake.sentence()},
    }
    invoice.update(invoice_changes)
    return Case(invoice, rows, customer, address, seller)


def parse(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(xml, parser)


def amount(element: etree._Element | None) -> Decimal:
    assert element is not None and element.text is not None
    return Decimal(element.text.replace(",", "."))


def texts(root: etree._Element, path: str) -> list[str]:
    return [el.text or "" for el in root.iterfind(path)]
