"""The e-invoice address registry (verkkolaskuosoitteisto) and the lookup endpoints.

Entries pair an address (EIA, usually an OVT code ``0037`` + Y-tunnus digits) with its
operator (välittäjä). Companies registered in this Maventa count as ``INTERNAL`` receivers
with Maventa's operator code ``003721291126``.
"""

from __future__ import annotations

import re

from .models import MaventaState, Receiver

MAVENTA_OPERATOR = "003721291126"

# Operator codes known to the fake (välittäjätunnukset) [memory/unverified beyond Maventa's own].
OPERATORS: dict[str, str] = {
    MAVENTA_OPERATOR: "Maventa",
    "003708599126": "OpenText",
    "003723327487": "Apix Messaging",
    "003701011385": "Tieto / TietoEVRY",
    "BAWCFI22": "Basware",
    "E204503": "OpusCapita",
    "NDEAFIHH": "Nordea",
    "OKOYFIHH": "OP",
    "DABAFIHH": "Danske Bank",
    "HELSFIHH": "Aktia",
}
BANK_OPERATORS = frozenset({"NDEAFIHH", "OKOYFIHH", "DABAFIHH", "HELSFIHH"})

_LEGAL_FORMS = {"oy", "oyj", "ab", "abp", "ltd", "ky", "tmi", "ry", "osk", "as", "ay"}


def normalise_name(name: str) -> str:
    """Names compare case-, punctuation- and legal-form-insensitively ("Salo Oy" == "SALO OY.")."""
    words = re.sub(r"[^\w]+", " ", name.casefold()).split()
    return " ".join(w for w in words if w not in _LEGAL_FORMS)


def is_known_operator(code: str) -> bool:
    return code in OPERATORS


def entries(state: MaventaState) -> list[Receiver]:
    """The registry plus every verified company of this Maventa (by its OVT)."""
    out = list(state.registry)
    known = {(r.eia, r.operator) for r in out}
    for c in state.companies.values():
        if c.country == "FI" and c.company_state == "VERIFIED":
            eia = "0037" + c.bid.replace("-", "")
            if (eia, MAVENTA_OPERATOR) not in known:
                out.append(
                    Receiver(eia=eia, operator=MAVENTA_OPERATOR, name=c.name, bid=c.bid, network="INTERNAL")
                )
    return out


def by_eia(state: MaventaState, eia: str) -> list[Receiver]:
    return [r for r in entries(state) if r.eia == eia]


def by_bid(state: MaventaState, bid: str) -> list[Receiver]:
    return [r for r in entries(state) if r.bid == bid]


def search(
    state: MaventaState,
    *,
    eia: str | None = None,
    bid: str | None = None,
    name: str | None = None,
    networks: list[str] | None = None,
    countries: list[str] | None = None,
) -> list[Receiver]:
    out = entries(state)
    if eia:
        bare = eia.split(":", 1)[-1]
        out = [r for r in out if r.eia == bare]
    if bid:
        out = [r for r in out if r.bid == bid]
    if name:
        n = normalise_name(name)
        out = [r for r in out if n and n in normalise_name(r.name)]
    if networks:
        out = [r for r in out if r.network in networks]
    if countries:
        out = [r for r in out if r.country in countries]
    return out
