"""Preset worlds: `demo` (a Finnish organisation built with Faker fi_FI) and `empty`.

Same seed ⇒ identical data: every GUID comes from `random.Random(seed)` via
`uuid.UUID(int=rng.getrandbits(128), version=4)`, Faker is seeded with the same seed, and
every preset timestamp is derived from the fixed anchor `ANCHOR` (not from the clock);
changes made later through the API are stamped with the simulator clock, and the GUIDs and
tokens they need come from the simulator's seeded `IdFactory` (`simulators.kit.ids`).

The lists below (`STATUSES`, `PRODUCTS`, `WORK_TYPES`, `TRAVEL_EXPENSE_TYPES`) are the
contract with the other teams: the Maestro fake mirrors most (not all) of the codes, the
bridge and the scenarios look statuses up by these names.

Demo organisation (tenant 1, "main"):
* organisation details with a valid Y-tunnus (`vatNumber` in the form `FI12345678`);
* business units: the main company unit (company's Y-tunnus), a second unit acting as its
  own company (its OWN Y-tunnus; liiketoimintayksikkö omana yrityksenä) and a unit without a
  business ID; one bank account (IBAN + BIC) per company;
* statuses `STATUSES`; products / work types / travel expense types with codes;
* customers of three kinds: with an e-invoice address (OVT 0037+Y-tunnus and an operator),
  with e-mail only, with neither (but a full billing address);
* invoices in several statuses with rows from all three source kinds (VAT 25.5/14/10/0 %),
  and one invoice with `BIG_INVOICE_ROWS` rows (multi-page PDF), your reference
  `BIG_INVOICE_REFERENCE`.
Tenant 2 ("second") is a small organisation used for tenancy tests.
Clients: main org full access (`ALL_SCOPES`), main org limited (no customers:read /
users:read; the Maestro "missing access" case), second org full access.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from faker import Faker

from .auth import ALL_SCOPES
from .backend import OrganizationBackend as Backend
from .models import (
    Address,
    ApiClient,
    Audit,
    BankAccount,
    BusinessUnit,
    Company,
    Customer,
    Organization,
    OrganizationDetails,
    Product,
    Project,
    SeveraState,
    TravelExpenseType,
    User,
    WorkType,
)
from .references import finnish_iban, ovt, random_ytunnus, vat_form

ANCHOR = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # every preset timestamp is ANCHOR minus something

MAVENTA_OPERATOR = "003721291126"
OPENTEXT_OPERATOR = "003708599126"

# name, flags  (Finnish UI names; the bridge and scenarios look them up by name)
STATUSES: list[tuple[str, dict[str, bool]]] = [
    ("Luonnos", {"is_default": True}),
    ("Odottaa siirtoa Maventaan", {"has_invoice_number": True}),
    (
        "Siirretty Maventaan",
        {"has_invoice_number": True, "is_read_only": True, "is_sent": True, "is_waiting_payment": True},
    ),
    ("Maventa-virhe", {"has_invoice_number": True}),
    ("Odottaa siirtoa Maestroon", {"has_invoice_number": True}),
    (
        "Siirretty Maestroon",
        {"has_invoice_number": True, "is_read_only": True, "is_sent": True, "is_waiting_payment": True},
    ),
    (
        "Lähetetty",
        {"has_invoice_number": True, "is_read_only": True, "is_sent": True, "is_waiting_payment": True},
    ),
    ("Maksettu", {"has_invoice_number": True, "is_read_only": True, "is_sent": True, "is_paid": True}),
    ("Hyvitetty", {"has_invoice_number": True, "is_read_only": True, "is_default_for_credit_note": True}),
]

# code, name, unit price, VAT %, unit, product type
PRODUCTS: list[tuple[str, str, float, float, str, str]] = [
    ("KONS", "Konsultointi, kiinteä hinta", 950.0, 25.5, "kpl", "FixedFees"),
    ("LIS-01", "Ohjelmistolisenssi", 120.0, 25.5, "kpl", "Materials"),
    ("KIRJA", "Alan kirjallisuus", 39.0, 14.0, "kpl", "Materials"),
    ("LEHTI", "Ammattilehden vuositilaus", 89.0, 10.0, "kpl", "Materials"),
    ("VIENTI", "Konsultointi EU-asiakkaalle (käännetty verovelvollisuus)", 800.0, 0.0, "kpl", "FixedFees"),
    ("ALIH", "Alihankinta", 75.0, 25.5, "h", "Subcontracting"),
]

# code, name, hourly price, productive
WORK_TYPES: list[tuple[str | None, str, float, bool]] = [
    ("SUUN", "Suunnittelu", 95.0, True),
    ("KEH", "Ohjelmistokehitys", 105.0, True),
    ("PM", "Projektinhallinta", 110.0, True),
    ("TUKI", "Tukipalvelu", 85.0, True),
    (None, "Sisäinen palaveri", 0.0, False),
]

# code, name, expense class, unit price, VAT %, unit
TRAVEL_EXPENSE_TYPES: list[tuple[str, str, str, float, float, str]] = [
    ("KM", "Kilometrikorvaus", "Mileage", 0.59, 25.5, "km"),
    ("PVR", "Kotimaan päiväraha", "DailyAllowance", 53.0, 25.5, "pv"),
    ("MATKALIPPU", "Matkaliput", "OtherTravelExpense", 1.0, 14.0, "EUR"),
    ("HOTELLI", "Majoitus", "OtherTravelExpense", 1.0, 14.0, "EUR"),
]

BIG_INVOICE_ROWS = 60
BIG_INVOICE_REFERENCE = "Monisivuinen testilasku"


def _company_name(fake: Faker) -> str:
    name = str(fake.company())
    if name.split()[-1].rstrip(".").lower() not in {"oy", "oyj", "ky", "ay", "tmi", "osk", "ab"}:
        name += " Oy"
    return name


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _client_id(org_name: str, rng: random.Random) -> str:
    compact = "".join(ch for ch in org_name.title() if ch.isalnum() and ch.isascii()) or "Org"
    return f"{compact}_{rng.getrandbits(64):016x}.apps.vismasevera.com"


def _client(org: Organization, rng: random.Random, scopes: list[str], label: str) -> ApiClient:
    return ApiClient(
        client_id=_client_id(org.details.name, rng),
        client_secret=f"{rng.getrandbits(192):048x}",
        organization_guid=org.details.guid,
        scopes=scopes,
        label=label,
    )


def _base_org(fake: Faker, rng: random.Random, name: str | None = None) -> tuple[Organization, Backend]:
    at = ANCHOR - timedelta(days=400)
    bid = random_ytunnus(rng)
    details = OrganizationDetails(
        guid=_guid(rng),
        name=name or _company_name(fake),
        vat_number=vat_form(bid),
        address=fake.street_address(),
        postal_code=fake.postcode(),
        city=fake.city(),
        phone=fake.phone_number(),
        e_invoice_address=ovt(bid),
        e_invoice_operator_code=MAVENTA_OPERATOR,
        active_addons=["REST API", "Organizational hierarchy", "Maventa"],
    )
    org = Organization(details=details)
    backend = Backend(org, now=lambda: ANCHOR, rng=rng)
    company = Company(guid=_guid(rng), name=details.name, root_business_unit_guid="")
    bu = BusinessUnit(
        guid=_guid(rng),
        name=details.name,
        code="HQ",
        company_guid=company.guid,
        parent_guid=None,
        vat_number=details.vat_number,
        audit=Audit(at),
        address=details.address,
        postal_code=details.postal_code,
        city=details.city,
    )
    company.root_business_unit_guid = bu.guid
    org.companies[company.guid] = company
    org.business_units[bu.guid] = bu
    first, last = fake.first_name(), fake.last_name()
    user = User(
        guid=_guid(rng),
        first_name=first,
        last_name=last,
        email=f"{_ascii(first)}.{_ascii(last)}@{_domain(details.name)}",
        code="U001",
        business_unit_guid=bu.guid,
        audit=Audit(at),
        title="Talouspäällikkö",
        phone=fake.phone_number(),
    )
    org.users[user.guid] = user
    org.api_user_guid = user.guid
    return org, backend


def _ascii(text: str) -> str:
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "a", "Ö": "o", "Å": "a"})
    return "".join(ch for ch in text.translate(table).lower() if ch.isalnum())


def _domain(company: str) -> str:
    words = [
        w
        for w in company.replace(",", " ").split()
        if w.lower() not in {"oy", "oyj", "ky", "ab", "tmi", "ay"}
    ]
    return (_ascii("".join(words[:2])) or "yritys") + ".fi"


def _add_statuses(backend: Backend, statuses: list[tuple[str, dict[str, bool]]]) -> None:
    for i, (name, flags) in enumerate(statuses):
        backend.add_status(name, when=ANCHOR - timedelta(days=390 - i), **flags)


def _add_catalogue(backend: Backend, rng: random.Random, products: Any, work_types: Any, travel: Any) -> None:
    org = backend.org
    at = ANCHOR - timedelta(days=380)
    for code, name, price, vat, unit, ptype in products:
        p = Product(
            _guid(rng),
            name,
            code,
            price,
            vat,
            Audit(at),
            unit_cost=round(price * 0.4, 2),
            measurement_unit=unit,
            type=ptype,
        )
        org.products[p.guid] = p
    for i, (code, name, price, productive) in enumerate(work_types):
        w = WorkType(_guid(rng), name, code, price, Audit(at), is_default=i == 0, is_productive=productive)
        org.work_types[w.guid] = w
    for code, name, cls, price, vat, unit in travel:
        t = TravelExpenseType(_guid(rng), name, code, cls, price, vat, unit, Audit(at))
        org.travel_expense_types[t.guid] = t


def _add_customer(backend: Backend, fake: Faker, rng: random.Random, kind: str, bu_guid: str) -> Customer:
    """kind: einvoice-maventa | einvoice-opentext | email | none."""
    org = backend.org
    at = ANCHOR - timedelta(days=rng.randint(100, 300))
    bid = random_ytunnus(rng)
    name = _company_name(fake)
    cust = Customer(
        guid=_guid(rng),
        name=name,
        number=org.next_customer_number,
        vat_number=vat_form(bid),
        audit=Audit(at),
        website=f"https://www.{_domain(name)}",
        payment_term=rng.choice([14, 21, 30]),
        owner_guid=org.api_user_guid,
    )
    org.next_customer_number += 1
    if kind.startswith("einvoice"):
        cust.e_invoice_address = ovt(bid)
        cust.e_invoice_operator = MAVENTA_OPERATOR if kind == "einvoice-maventa" else OPENTEXT_OPERATOR
        cust.email = f"laskut@{_domain(name)}"
    elif kind == "email":
        cust.email = f"reskontra@{_domain(name)}"
    addr = Address(
        guid=_guid(rng),
        customer_guid=cust.guid,
        addressline=fake.street_address(),
        postal_code=fake.postcode(),
        city=fake.city(),
        country="Finland",
        audit=Audit(at),
        is_billing=True,
        is_postal=True,
        is_visit=True,
        phone=fake.phone_number(),
    )
    cust.headquarter_address_guid = addr.guid
    org.customers[cust.guid] = cust
    org.addresses[addr.guid] = addr
    proj = Project(
        guid=_guid(rng),
        name=f"{name.split()[0]} – {fake.bs().capitalize()}"[:80],
        number=org.next_project_number,
        customer_guid=cust.guid,
        business_unit_guid=bu_guid,
        owner_guid=org.api_user_guid or "",
    )
    org.next_project_number += 1
    org.projects[proj.guid] = proj
    return cust


def _typical_rows(rng: random.Random, variant: int) -> list[dict[str, Any]]:
    """Rows from all three source kinds; the VAT rates rotate over 25.5/14/10/0 %."""
    rows: list[dict[str, Any]] = [
        {
            "kind": "hours",
            "ref": ["SUUN", "KEH", "PM", "TUKI"][variant % 4],
            "quantity": float(rng.randint(4, 40)),
            "sources": rng.randint(1, 3),
        },
        {
            "kind": "fee",
            "ref": ["KONS", "LIS-01", "KIRJA", "LEHTI", "VIENTI"][variant % 5],
            "quantity": float(rng.randint(1, 3)),
        },
        {
            "kind": "travel",
            "ref": ["KM", "PVR", "MATKALIPPU", "HOTELLI"][variant % 4],
            "quantity": float(rng.randint(1, 4) * (100 if variant % 4 == 0 else 1)),
            **({"unit_price": float(rng.randint(40, 160))} if variant % 4 in (2, 3) else {}),
        },
    ]
    if variant % 3 == 0:
        rows.append({"kind": "fee", "ref": "KIRJA", "quantity": 2.0})
    if variant % 3 == 1:
        rows.append({"kind": "fee", "ref": "LEHTI", "quantity": 1.0})
    return rows


def build_demo(seed: int) -> tuple[SeveraState, dict[str, Any]]:
    rng = random.Random(seed)
    fake = Faker("fi_FI")
    fake.seed_instance(seed)
    state = SeveraState()

    # ---- tenant 1: the main Finnish demo organisation
    org, backend = _base_org(fake, rng)
    main_company = next(iter(org.companies.values()))
    main_bu = next(iter(org.business_units.values()))
    at = ANCHOR - timedelta(days=395)
    own_bid = random_ytunnus(rng)
    own_name = _company_name(fake)
    own_company = Company(guid=_guid(rng), name=own_name, root_business_unit_guid="")
    own_bu = BusinessUnit(
        guid=_guid(rng),
        name=own_name,
        code="TYT",
        company_guid=own_company.guid,
        parent_guid=main_bu.guid,
        vat_number=vat_form(own_bid),
        audit=Audit(at),
        address=fake.street_address(),
        postal_code=fake.postcode(),
        city=fake.city(),
    )
    own_company.root_business_unit_guid = own_bu.guid
    org.companies[own_company.guid] = own_company
    org.business_units[own_bu.guid] = own_bu
    plain_bu = BusinessUnit(
        guid=_guid(rng),
        name="Konsultointi",
        code="KONS",
        company_guid=main_company.guid,
        parent_guid=main_bu.guid,
        vat_number=None,
        audit=Audit(at),
    )
    org.business_units[plain_bu.guid] = plain_bu
    for company, bu, prefix, bic, bank in (
        (main_company, main_bu, "1", "NDEAFIHH", "Nordea"),
        (own_company, own_bu, "5", "OKOYFIHH", "OP"),
    ):
        acc = BankAccount(
            guid=_guid(rng),
            account_number=finnish_iban(rng, prefix),
            bic=bic,
            bank_name=bank,
            company_guid=company.guid,
            business_unit_guid=bu.guid,
            audit=Audit(at),
        )
        org.bank_accounts[acc.guid] = acc
    for i in range(3):
        first, last = fake.first_name(), fake.last_name()
        u = User(
            guid=_guid(rng),
            first_name=first,
            last_name=last,
            email=f"{_ascii(first)}.{_ascii(last)}@{_domain(org.details.name)}",
            code=f"U{i + 2:03d}",
            business_unit_guid=[main_bu.guid, own_bu.guid, plain_bu.guid][i],
            audit=Audit(at),
            title=fake.job()[:60],
            phone=fake.phone_number(),
        )
        org.users[u.guid] = u
    _add_statuses(backend, STATUSES)
    _add_catalogue(backend, rng, PRODUCTS, WORK_TYPES, TRAVEL_EXPENSE_TYPES)
    kinds = ["einvoice-maventa", "einvoice-opentext", "einvoice-maventa", "email", "email", "none"]
    customers = [_add_customer(backend, fake, rng, k, main_bu.guid) for k in kinds]
    plan = [  # (status, customer index, business unit)
        ("Luonnos", 0, main_bu),
        ("Luonnos", 5, plain_bu),
        ("Odottaa siirtoa Maventaan", 0, main_bu),
        ("Odottaa siirtoa Maventaan", 3, main_bu),
        ("Odottaa siirtoa Maventaan", 5, main_bu),
        ("Odottaa siirtoa Maventaan", 1, own_bu),
        ("Siirretty Maventaan", 2, main_bu),
        ("Maventa-virhe", 4, main_bu),
        ("Odottaa siirtoa Maestroon", 1, main_bu),
        ("Odottaa siirtoa Maestroon", 3, main_bu),
        ("Siirretty Maestroon", 4, main_bu),
        ("Lähetetty", 2, main_bu),
        ("Maksettu", 0, main_bu),
    ]
    for i, (status, ci, bu) in enumerate(plan):
        when = ANCHOR - timedelta(days=60 - 4 * i, hours=rng.randint(0, 8))
        backend.create_invoice(
            customers[ci].guid,
            status=status,
            invoice_date=when.date(),
            business_unit_guid=bu.guid,
            when=when,
            rows=_typical_rows(rng, i),
            our_reference=org.users[org.api_user_guid].first_name if org.api_user_guid else None,
            your_reference=fake.name(),
            order_number=f"PO-{rng.randint(1000, 9999)}",
        )
    big_rows: list[dict[str, Any]] = []
    for j in range(BIG_INVOICE_ROWS):
        kind = ("hours", "fee", "travel")[j % 3]
        ref = {
            "hours": WORK_TYPES[j % 4][0],
            "fee": PRODUCTS[j % len(PRODUCTS)][0],
            "travel": TRAVEL_EXPENSE_TYPES[j % 2][0],
        }[kind]
        big_rows.append(
            {
                "kind": kind,
                "ref": ref,
                "quantity": float(rng.randint(1, 8)),
                "description": f"{fake.catch_phrase()[:50]} ({j + 1})",
                "event_date": (ANCHOR - timedelta(days=40 - j % 30)).date(),
            }
        )
    when = ANCHOR - timedelta(days=3)
    backend.create_invoice(
        customers[0].guid,
        invoice_date=when.date(),
        business_unit_guid=main_bu.guid,
        when=when,
        rows=big_rows,
        your_reference=BIG_INVOICE_REFERENCE,
    )
    state.organizations[org.details.guid] = org

    # ---- tenant 2: a small second organisation (tenancy tests)
    org2, backend2 = _base_org(fake, rng)
    bu2 = next(iter(org2.business_units.values()))
    _add_statuses(backend2, [STATUSES[0], STATUSES[6]])
    _add_catalogue(backend2, rng, PRODUCTS[:1], WORK_TYPES[:1], TRAVEL_EXPENSE_TYPES[:1])
    cust2 = _add_customer(backend2, fake, rng, "email", bu2.guid)
    when = ANCHOR - timedelta(days=10)
    backend2.create_invoice(
        cust2.guid, status="Lähetetty", invoice_date=when.date(), when=when, rows=_typical_rows(rng, 0)[:2]
    )
    state.organizations[org2.details.guid] = org2

    full = _client(org, rng, list(ALL_SCOPES), "full access")
    limited = _client(
        org,
        rng,
        [s for s in ALL_SCOPES if s not in ("customers:read", "users:read")],
        "no customers:read / users:read",
    )
    second = _client(org2, rng, list(ALL_SCOPES), "second organisation")
    for c in (full, limited, second):
        state.clients[c.client_id] = c
    refs = {"main": org.details.guid, "second": org2.details.guid}
    return state, refs


def build_empty(seed: int) -> tuple[SeveraState, dict[str, Any]]:
    """One organisation with the bare settings (a company, a unit, a user, the draft status)."""
    rng = random.Random(seed)
    fake = Faker("fi_FI")
    fake.seed_instance(seed)
    state = SeveraState()
    org, backend = _base_org(fake, rng)
    _add_statuses(backend, STATUSES[:1])
    state.organizations[org.details.guid] = org
    client = _client(org, rng, list(ALL_SCOPES), "full access")
    state.clients[client.client_id] = client
    return state, {"main": org.details.guid}


def demo_dates() -> tuple[date, date]:
    """The invoice-date range the demo invoices span."""
    return (ANCHOR - timedelta(days=60)).date(), ANCHOR.date()


def build(preset: str, seed: int) -> tuple[SeveraState, dict[str, Any]]:
    """The state of `preset` ("demo" or "empty") for `seed`, and its labels ("main", ...)."""
    return (build_demo if preset == "demo" else build_empty)(seed)
