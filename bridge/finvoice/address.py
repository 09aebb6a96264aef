"""Postal addresses (laskutusosoite) from Severa's ``AddressModel`` into Finvoice's shape.

Severa keeps the street part in one free-text ``addressline`` (possibly several lines), the
country as an object (``{"name": "Suomi", "englishName": "Finland"}``) on customer addresses and
as a plain name on the invoice's ``receiverAddress``. Finvoice wants 1-3 street lines of 2-35
characters, a town and a post code of 2-35 characters, and an ISO 3166 two-letter country code.

Choices (documented): street lines longer than 35 characters are wrapped at spaces; more than
three lines, or a single word longer than 35, is an error (an address is never truncated:
a truncated address does not reach the customer). Country names are mapped to codes from a
small table of names in English, Finnish and Swedish; an unknown name is kept as
``CountryName`` without a code.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .text import one_line

_COUNTRY_CODES: dict[str, str] = {}
for _code, _names in {
    "FI": ("finland", "suomi", "finland (suomi)"),
    "SE": ("sweden", "ruotsi", "sverige"),
    "NO": ("norway", "norja", "norge"),
    "DK": ("denmark", "tanska", "danmark"),
    "EE": ("estonia", "viro", "eesti", "estland"),
    "DE": ("germany", "saksa", "deutschland", "tyskland"),
    "NL": ("netherlands", "the netherlands", "alankomaat", "hollanti", "nederland"),
    "GB": ("united kingdom", "iso-britannia", "great britain", "storbritannien"),
    "US": ("united states", "yhdysvallat", "usa", "united states of america"),
    "FR": ("france", "ranska", "frankrike"),
    "PL": ("poland", "puola", "polen"),
    "LV": ("latvia", "latvia", "lettland"),
    "LT": ("lithuania", "liettua", "litauen"),
    "IS": ("iceland", "islanti", "island"),
    "AX": ("åland", "ahvenanmaa", "aland"),
}.items():
    for _name in _names:
        _COUNTRY_CODES[_name] = _code


@dataclass(frozen=True)
class PostalAddress:
    """A postal address ready for Finvoice: street lines, town, post code, country."""

    street_lines: tuple[str, ...]
    town: str
    post_code: str
    country_code: str | None
    country_name: str | None


def country_code_of(country: object) -> tuple[str | None, str | None]:
    """(ISO code or None, display name or None) for a Severa country (object, name or code)."""
    names: list[str] = []
    if isinstance(country, Mapping):
        for key in ("code", "isoCode", "englishName", "name"):
            if country.get(key):
                names.append(one_line(country[key]))
    elif country:
        names.append(one_line(country))
    display = next((name for name in reversed(names) if len(name) > 2), names[0] if names else None)
    for name in names:
        if len(name) == 2 and name.isalpha() and name.isascii():
            return name.upper(), display
        code = _COUNTRY_CODES.get(name.casefold())
        if code:
            return code, display
    return None, display


def street_lines_of(addressline: object) -> list[str]:
    """The street part split into lines of at most 35 characters (wrapped at spaces)."""
    lines: list[str] = []
    for raw in str(addressline or "").splitlines():
        line = one_line(raw)
        if line:
            lines.extend(textwrap.wrap(line, 35, break_long_words=False, break_on_hyphens=False))
    return lines


def field_of(address: Mapping[str, Any], *keys: str) -> Any:
    """The first present value among ``keys`` (Severa spells some fields differently per model)."""
    for key in keys:
        if address.get(key) not in (None, ""):
            return address[key]
    return None
