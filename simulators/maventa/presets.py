"""Preset worlds: ``empty`` (one vendor key only) and ``demo``.

``demo`` mirrors the Severa fake's demo organisation (seed 0) where the two meet; services
never import each other, so the facts are repeated here and a test
(``tests/maventa/test_presets_alignment.py``) checks they still agree:

* the second Severa business unit acting as its own company, **Hämäläinen ry Oy**
  (Y-tunnus ``1916215-7``), is an already registered and VERIFIED Maventa company whose user
  is Taru Moilanen (``taru.moilanen@ranta.fi``);
* the main organisation **Ranta Oy** (``2615835-9``) is *not* registered (MV-1 registers it);
* ``juhani.huuskonen@ranta.fi`` already has a Maventa user without a company (MV-2);
* the registry holds the e-invoice addresses of the Severa demo customers (Salo Oy and
  Mäkelä Ky via Maventa, Koivisto Saarinen As Oy via OpenText), of both Severa organisations,
  and a few other Finnish receivers (one business ID with two addresses, one bank address).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from simulators.kit.ids import IdFactory

from .models import ID_NAMESPACE, Company, MaventaState, Receiver, User
from .registry import MAVENTA_OPERATOR

ANCHOR = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
OPENTEXT_OPERATOR = "003708599126"

# ---- facts shared with simulators/severa/presets.py (seed 0); keep aligned
SEVERA_MAIN_ORG = {"name": "Ranta Oy", "bid": "2615835-9", "eia": "003726158359"}
SEVERA_OWN_COMPANY_UNIT = {
    "name": "Hämäläinen ry Oy",
    "bid": "1916215-7",
    "street": "Runoilijankuja 35",
    "post_code": "39332",
    "city": "Iitti",
}
SEVERA_OWN_UNIT_USER = {"email": "taru.moilanen@ranta.fi", "first_name": "Taru", "last_name": "Moilanen"}
SEVERA_EXISTING_MAVENTA_USER = {
    "email": "juhani.huuskonen@ranta.fi",
    "first_name": "Juhani",
    "last_name": "Huuskonen",
}
SEVERA_SECOND_ORG = {"name": "Markkanen Osk", "bid": "1303406-6", "eia": "003713034066"}
SEVERA_EINVOICE_CUSTOMERS: list[tuple[str, str, str, str]] = [  # name, bid, eia, operator
    ("Salo Oy", "3040294-0", "003730402940", MAVENTA_OPERATOR),
    ("Koivisto Saarinen As Oy", "2394757-1", "003723947571", OPENTEXT_OPERATOR),
    ("Mäkelä Ky", "1310365-8", "003713103658", MAVENTA_OPERATOR),
]
OTHER_RECEIVERS: list[tuple[str, str, str, str, str]] = [  # name, bid, eia, operator, network
    ("Kaksiosoite Oy", "0112038-9", "003701120389", MAVENTA_OPERATOR, "INTERNAL"),
    ("Kaksiosoite Oy", "0112038-9", "00370112038900002", "003723327487", "EXTERNAL"),
    ("Pankkiasiakas Oy", "0737546-2", "FI4950009420028730", "OKOYFIHH", "EXTERNAL"),
    ("Peppol Vastaanottaja Oy", "2321469-3", "003723214693", "003701011385", "PEPPOL"),
]


def default_settings(company: Company, contact_email: str) -> dict[str, Any]:
    """A new company's settings (yritysasetukset), as the AX API returns them."""
    return {
        "details": {
            "name": company.name,
            "email": company.email,
            "website": "",
            "country": company.country,
            "bid": company.bid,
            "vat_number": company.vat,
        },
        "address": {
            "street_address": company.address1,
            "post_code": company.post_code,
            "post_office": company.post_office,
            "city": company.city,
            "country": company.country,
        },
        "invoice_notifications": {
            "on_receiving": {"enabled": False, "how_to_send": "EMAIL", "other_email": ""},
            "on_send_errors": {"to_user": True, "to_emails": []},
        },
        "send_invoice_email": {
            "enabled": True,
            "how_to_send": "EMBEDDED",
            "reminder_frequency": 4,
            "content_data": {
                "note_to_receiver": "",
                "contact": {"email": contact_email, "name": company.name, "phone": ""},
            },
        },
        "send_invoice_print": {
            "enabled": False,
            "letter_class": "ECONOMY",
            "color_scheme": "BLACK_AND_WHITE",
            "attachment_print": False,
            "marketing_page": False,
            "use_own_pdf": False,
        },
        "send_invoice_general": {"stop_duplicate_numbers": False, "hold_multiple_recipients": False},
        "email_reports": {"report_interval": "off", "email_reports": []},
    }


def _key(seed: int, label: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{seed}:key:{label}"))


def build(preset: str, seed: int, ids: IdFactory | None = None) -> MaventaState:
    """The preset's state; its ids come from `ids` (the simulator's factory, reset to `seed`)."""
    state = MaventaState(_ids=ids or IdFactory(ID_NAMESPACE, seed))
    state.vendor_keys[_key(seed, "vendor-severa")] = "Visma Severa (sandbox)"
    if preset != "demo":
        return state
    for name, bid, eia, op in SEVERA_EINVOICE_CUSTOMERS:
        state.registry.append(
            Receiver(
                eia=eia,
                operator=op,
                name=name,
                bid=bid,
                network="INTERNAL" if op == MAVENTA_OPERATOR else "EXTERNAL",
            )
        )
    for org in (SEVERA_MAIN_ORG, SEVERA_SECOND_ORG):
        state.registry.append(
            Receiver(
                eia=org["eia"],
                operator=MAVENTA_OPERATOR,
                name=org["name"],
                bid=org["bid"],
                network="INTERNAL",
            )
        )
    for name, bid, eia, op, net in OTHER_RECEIVERS:
        state.registry.append(Receiver(eia=eia, operator=op, name=name, bid=bid, network=net))
    vendor = next(iter(state.vendor_keys))
    u = SEVERA_OWN_UNIT_USER
    user = User(
        id=state.new_id("user"),
        email=u["email"],
        first_name=u["first_name"],
        last_name=u["last_name"],
        api_key=_key(seed, "user-own-unit"),
    )
    c = SEVERA_OWN_COMPANY_UNIT
    company = Company(
        id=state.new_id("company"),
        name=c["name"],
        bid=c["bid"],
        vat="FI" + c["bid"].replace("-", ""),
        no_vat=False,
        country="FI",
        address1=c["street"],
        address2="",
        post_code=c["post_code"],
        post_office=c["city"].upper(),
        city=c["city"],
        state="",
        email=u["email"],
        vendor_api_key=vendor,
        created_at=ANCHOR,
        auth_state="SIGNED",
        auth_email=u["email"],
        auth_locale="FI",
        company_state="VERIFIED",
    )
    company.settings = default_settings(company, u["email"])
    user.company_ids.append(company.id)
    state.users[user.id] = user
    state.companies[company.id] = company
    e = SEVERA_EXISTING_MAVENTA_USER
    existing = User(
        id=state.new_id("user"),
        email=e["email"],
        first_name=e["first_name"],
        last_name=e["last_name"],
        api_key=_key(seed, "user-existing"),
    )
    state.users[existing.id] = existing
    return state
