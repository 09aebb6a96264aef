"""What steps and expectations share while a scenario runs: the world, names, the last outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.transfer import PassReport
from scenarios.timeline import Timeline
from scenarios.world import World

__all__ = ["Context", "StepFailed"]

DEFAULT_UNIT = "Ranta Oy"


class StepFailed(Exception):
    """A step could not do what it says (a scenario mistake or a world that is not as assumed)."""


@dataclass
class Context:
    world: World
    timeline: Timeline
    names: dict[str, str] = field(default_factory=dict)  # "as:" names -> invoice GUIDs
    last_error: str | None = None  # the error text of the last step that failed (as the user saw it)
    last_report: PassReport | None = None
    reports: list[PassReport] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)  # e.g. "audit", "preflight", "registration"
    crashed: bool = False

    def unit(self, args: dict[str, Any]) -> str:
        return str(args.get("unit") or DEFAULT_UNIT)

    def invoice(self, ref: Any) -> str:
        """The GUID of an invoice named with ``as:`` or given by its Severa number."""
        key = str(ref)
        if key in self.names:
            return self.names[key]
        org = self.world.severa_sim.main.org
        for inv in org.invoices.values():
            if inv.number is not None and str(inv.number) == key:
                return str(inv.guid)
        known = sorted(self.names) + sorted(str(i.number) for i in org.invoices.values() if i.number)
        raise StepFailed(
            f"no invoice {key!r}: name one with 'as:' when it is created (known: {', '.join(known)})"
        )

    def invoice_label(self, ref: Any) -> str:
        guid = self.invoice(ref)
        number = self.world.severa_number(guid)
        return f"{ref} ({number})" if number and str(ref) != number else str(number or ref)
