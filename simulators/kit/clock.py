"""A controllable clock shared by everything time-dependent inside one simulator.

Simulated time = real time + an offset, or a frozen instant. Tests advance it
(`POST /_sim/clock {"advance": 3601}`) to expire tokens or finish deliveries
without sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any


class SimClock:
    """Simulated wall clock (always timezone-aware UTC)."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen: datetime | None = frozen_at

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock only moves forward: 'advance' must be >= 0")
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        with self._lock:
            if self._frozen is not None:
                self._frozen = when
            else:
                self._offset = when - datetime.now(UTC)
        return self.now()

    def freeze(self, frozen: bool = True) -> datetime:
        with self._lock:
            if frozen and self._frozen is None:
                self._frozen = datetime.now(UTC) + self._offset
            elif not frozen and self._frozen is not None:
                self._offset = self._frozen - datetime.now(UTC)
                self._frozen = None
        return self.now()

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def describe(self) -> dict[str, Any]:
        now = self.now()
        return {
            "now": now.isoformat().replace("+00:00", "Z"),
            "frozen": self.frozen,
            "offset_seconds": None if self.frozen else self._offset.total_seconds(),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "frozen_at": self._frozen.isoformat() if self._frozen else None,
            "offset_seconds": self._offset.total_seconds(),
        }

    def load_json(self, data: dict[str, Any]) -> None:
        with self._lock:
            frozen = data.get("frozen_at")
            self._frozen = datetime.fromisoformat(frozen) if frozen else None
            self._offset = timedelta(seconds=float(data.get("offset_seconds") or 0))
