"""Preflight of the Severa → Maestro integration (MA-4, MA-8): find every missing piece at once.

Before the first transfer, and on demand (``severa-sandbox bridge maestro preflight``), the
bridge checks what the help article asks for:

* **MA-4**: the Severa API credentials reach customers, projects and users (*Asiakkaat*, *Työt*,
  *Käyttäjät* => *Kaikki*) and the invoices themselves (read, and write for the status change),
  plus the settings (invoice statuses, product / work type / travel expense codes). The scopes
  come from Severa's token answer; when Severa does not say, one small read of each area tells
  (a 403 ``InsufficientApiScope`` means the scope is missing).
* **MA-8**: Maestro's Severa integration settings name a source status and a transferred status,
  and both statuses exist in Severa (*Asetukset > Laskun tilat*).
* Maestro answers with the configured API key (the company it belongs to).

Every problem is one line of one message; nothing is changed anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.connectors.maestro.client import MaestroClient
from bridge.errors import MaestroError, ServiceError, SeveraError, TransportFailure
from bridge.severa.model import StatusInfo
from bridge.severa.source import SeveraSource

__all__ = ["MAESTRO_SEVERA_SCOPES", "Preflight", "run_preflight"]

#: What the Maestro integration needs from Severa, with the words of Severa's UI.
MAESTRO_SEVERA_SCOPES: dict[str, str] = {
    "customers:read": "customers (Asiakkaat)",
    "projects:read": "projects (Työt)",
    "users:read": "users (Käyttäjät)",
    "invoices:read": "invoices, to read (Laskut)",
    "invoices:write": "invoices, to change their status (Laskut)",
    "settings:read": "settings: invoice statuses and product, work type and travel expense codes (Asetukset)",
}
_PROBES: dict[str, str] = {
    "customers:read": "/v1/customers",
    "projects:read": "/v1/projects",
    "users:read": "/v1/users",
    "invoices:read": "/v1/invoices",
    "settings:read": "/v1/invoicestatuses",
}


@dataclass
class Preflight:
    """The outcome: ``problems`` empty means ready; ``settings`` are Maestro's as read."""

    problems: list[str] = field(default_factory=list)
    company: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    source_status: StatusInfo | None = None
    transferred_status: StatusInfo | None = None
    missing_scopes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self) -> str:
        if self.ok:
            return "Maestro integration ready"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"The Severa → Maestro integration is not ready ({len(self.problems)} problem(s)):\n{lines}"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": list(self.problems),
            "missing_scopes": list(self.missing_scopes),
            "company": self.company,
            "source_status": self.source_status.name if self.source_status else None,
            "transferred_status": self.transferred_status.name if self.transferred_status else None,
        }


def _missing_scopes(source: SeveraSource, needed: Sequence[str]) -> list[str]:
    granted = source.client.granted_scopes
    if granted is not None:
        return [s for s in needed if s not in granted]
    missing = []
    for scope in needed:  # Severa did not say: ask each area for one row
        path = _PROBES.get(scope)
        if path is None:
            continue
        try:
            source.client.get_json(path, {"rowCount": 1})
        except SeveraError as exc:
            if exc.status == 403:
                missing.append(scope)
            elif exc.status == 401:
                raise
    return missing


def run_preflight(source: SeveraSource, maestro: MaestroClient) -> Preflight:
    """Check everything; raises only when a service cannot be reached at all."""
    result = Preflight()
    try:
        result.missing_scopes = _missing_scopes(source, list(MAESTRO_SEVERA_SCOPES))
    except SeveraError as exc:
        if exc.is_auth:
            result.problems.append(
                f"Severa refused the API credentials ({exc.message}); check the client ID and secret "
                "(Asetukset > Integraatiot > REST API)"
            )
            return result
        raise
    if result.missing_scopes:
        words = ", ".join(MAESTRO_SEVERA_SCOPES[s] for s in result.missing_scopes)
        result.problems.append(
            f"the Severa API credentials lack access to {words} (missing scopes: "
            f"{', '.join(result.missing_scopes)}); give the API user Asiakkaat, Työt and Käyttäjät => "
            "Kaikki and the invoice rights in Severa"
        )
    try:
        result.company = maestro.company()
        result.settings = maestro.get_settings()
    except MaestroError as exc:
        if exc.is_auth:
            result.problems.append(f"Maestro refused the API key ({exc.message}); check [maestro] api_key")
            return result
        raise
    settings = result.settings or {}
    source_name = str(settings.get("source_status_name") or "").strip()
    transferred_name = str(settings.get("transferred_status_name") or "").strip()
    if not source_name:
        result.problems.append(
            "Maestro's Severa settings name no source status (the status invoices are fetched from)"
        )
    if not transferred_name:
        result.problems.append("Maestro's Severa settings name no transferred status")
    if "settings:read" in result.missing_scopes:
        return result  # the statuses cannot be read: already said
    statuses = source.statuses()
    known = ", ".join(s.name for s in statuses) or "none"
    for label, name, attr in (
        ("source status", source_name, "source_status"),
        ("transferred status", transferred_name, "transferred_status"),
    ):
        if not name:
            continue
        found = source.status(name)
        if found is None:
            result.problems.append(
                f"the {label} {name!r} named in Maestro's settings does not exist in Severa; add it in "
                f"Asetukset > Laskun tilat (existing: {known})"
            )
        setattr(result, attr, found)
    if (
        result.source_status is not None
        and result.transferred_status is not None
        and result.source_status.guid.lower() == result.transferred_status.guid.lower()
    ):
        result.problems.append("the source status and the transferred status must be different statuses")
    return result


def unreachable(exc: ServiceError | TransportFailure) -> str:
    return f"a service could not be reached for the preflight: {exc}"
