"""Preset worlds of the Maestro fake: `demo` and `empty`. Same seed ⇒ same data and keys.

`demo` holds two Maestro companies (yritykset): the main one, whose product register mirrors
*most* of the Severa demo codes (`simulators/severa/presets.py`: PRODUCTS, WORK_TYPES,
TRAVEL_EXPENSE_TYPES) and deliberately leaves out one code of each kind, so a demo transfer
shows rows booked on `A/0` with import-log entries (MA-5..MA-7):

* products: `LEHTI` is missing (Ammattilehden vuositilaus);
* work types: `TUKI` is missing (Tukipalvelu);
* travel expenses: `PVR` is missing (Kotimaan päiväraha).

These lists are copied by value, never imported (services never import each other); if the
Severa demo codes change, align `MIRRORED_*` and `LEFT_OUT_*` here. The customer register is
empty (customers arrive from Severa, MA-2) and the integration settings point at
"Odottaa siirtoa Maestroon" → "Siirretty Maestroon". The second company is small and exists to
show that one company's key never sees another's data.

`empty` holds one company with only the fallback product `A/0` and default settings.
"""

from __future__ import annotations

import random

from faker import Faker
from stdnum.fi import ytunnus

from .backend import CompanyBackend, new_company_backend
from .models import ANCHOR, Company, Product

# code, name, unit, VAT % -- mirrors of Severa demo codes
MIRRORED_PRODUCTS: list[tuple[str, str, str, float]] = [
    ("KONS", "Konsultointi, kiinteä hinta", "kpl", 25.5),
    ("LIS-01", "Ohjelmistolisenssi", "kpl", 25.5),
    ("KIRJA", "Alan kirjallisuus", "kpl", 14.0),
    ("VIENTI", "Konsultointi EU-asiakkaalle", "kpl", 0.0),
    ("ALIH", "Alihankinta", "h", 25.5),
]
MIRRORED_WORK_TYPES: list[tuple[str, str, str, float]] = [
    ("SUUN", "Suunnittelu", "h", 25.5),
    ("KEH", "Ohjelmistokehitys", "h", 25.5),
    ("PM", "Projektinhallinta", "h", 25.5),
]
MIRRORED_TRAVEL_EXPENSES: list[tuple[str, str, str, float]] = [
    ("KM", "Kilometrikorvaus", "km", 25.5),
    ("MATKALIPPU", "Matkaliput", "kpl", 14.0),
    ("HOTELLI", "Majoitus", "kpl", 14.0),
]
# Severa demo codes deliberately missing from Maestro (their rows go to A/0).
LEFT_OUT_PRODUCT_CODES = ("LEHTI",)
LEFT_OUT_WORK_TYPE_CODES = ("TUKI",)
LEFT_OUT_TRAVEL_EXPENSE_CODES = ("PVR",)

# Maestro's own products that Severa does not know (one inactive, never matched).
MAESTRO_ONLY_PRODUCTS: list[tuple[str, str, str, float, bool]] = [
    ("MYYNTI", "Muu myynti", "kpl", 25.5, True),
    ("VANHA-01", "Vanha palvelutuote (poistunut)", "kpl", 24.0, False),
]


def _business_id(rng: random.Random) -> str:
    """A valid Y-tunnus (7 digits + check digit)."""
    while True:
        digits = f"{rng.randint(1000000, 3299999):07d}"
        weights = (7, 9, 10, 5, 8, 4, 2)
        rem = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        if rem == 1:
            continue  # no valid check digit for this body
        check = 0 if rem == 0 else 11 - rem
        return ytunnus.format(digits + str(check))


def make_api_key(rng: random.Random) -> str:
    return "mae_" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(32))


def build_companies(preset: str, seed: int) -> dict[str, CompanyBackend]:
    """The companies of `preset`, keyed by company id."""
    rng = random.Random(seed)
    fake = Faker("fi_FI")
    fake.seed_instance(seed)
    main = new_company_backend(
        Company("1001", f"{fake.last_name()} Konsultit Oy", _business_id(rng), make_api_key(rng))
    )
    if preset == "empty":
        return {main.company.company_id: main}

    for code, name, unit, vat in MIRRORED_PRODUCTS + MIRRORED_WORK_TYPES + MIRRORED_TRAVEL_EXPENSES:
        main.products[code] = Product(code, name, unit, vat, True, ANCHOR)
    for code, name, unit, vat, active in MAESTRO_ONLY_PRODUCTS:
        main.products[code] = Product(code, name, unit, vat, active, ANCHOR)

    second = new_company_backend(
        Company("1002", f"{fake.last_name()} Tilitoimisto Oy", _business_id(rng), make_api_key(rng))
    )
    second.products["KONS"] = Product("KONS", "Konsultointi", "h", 25.5, True, ANCHOR)
    return {main.company.company_id: main, second.company.company_id: second}


def build(preset: str, seed: int) -> dict[str, CompanyBackend]:
    """The companies of `preset` for `seed` (the state the simulator's backend wraps)."""
    return build_companies(preset, seed)
