"""What one pass did: counts per connector and in total, and the problems a scheduler must see."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

COUNTERS = (
    "picked_up",
    "sent",
    "status_patched",
    "delivered",
    "failed",
    "error_patched",
    "notified",
    "pending",
    "retries_deferred",
    "fallback_rows",
    "customers_synced",
    "customers_failed",
)


@dataclass
class Counts:
    picked_up: int = 0  # invoices taken from the transfer status (new or re-queued)
    sent: int = 0  # accepted by the target
    status_patched: int = 0  # moved to the after-transfer status in Severa
    delivered: int = 0  # settled as done (Maventa: delivered; Maestro: imported)
    failed: int = 0  # refused, undeliverable or not sendable
    error_patched: int = 0  # moved to the after-error status
    notified: int = 0  # failures whose notification step finished
    pending: int = 0  # sent and still waiting for the target's outcome
    retries_deferred: int = 0  # steps that could not be done now and are retried next pass
    fallback_rows: int = 0  # Maestro: rows booked on the fallback product A/0 (MA-5 ... MA-7)
    customers_synced: int = 0  # Maestro: customers created or updated (MA-2)
    customers_failed: int = 0  # Maestro: customers Maestro could not take (logged by name)

    @property
    def moved(self) -> int:
        return (
            self.picked_up
            + self.sent
            + self.status_patched
            + self.delivered
            + self.failed
            + self.error_patched
            + self.notified
        )


@dataclass
class PassReport(Counts):
    """Totals of the pass (the counters), per connector (``by_connector``) and its problems.

    ``problems`` are what should make ``sync --once`` exit non-zero: something the bridge could not
    do and will retry, or a connector that could not run. A row another worker moved first is not
    a problem (that worker finishes it)."""

    by_connector: dict[str, Counts] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, connector: str, counter: str, n: int = 1) -> None:
        part = self.by_connector.setdefault(connector, Counts())
        setattr(part, counter, getattr(part, counter) + n)
        setattr(self, counter, getattr(self, counter) + n)

    def line(self, connector: str | None = None) -> str:
        """``picked up 3, sent 3, ...``: the counters that are not zero (or all zero: "nothing to do")."""
        source: Counts = self if connector is None else self.by_connector.get(connector, Counts())
        words = {f.name: f.name.replace("_", " ") for f in fields(Counts)}
        parts = [f"{words[name]} {getattr(source, name)}" for name in COUNTERS if getattr(source, name)]
        return ", ".join(parts) if parts else "nothing to do"
