"""A controllable clock shared by everything time-dependent inside one simulator.

Simulated time = real time + an offset, or a frozen instant. Tests advance it
(`POST /_sim/clock {"advance": 3601}`) to expire tokens or finish deliveries
without sleeping.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # far enough from 9999 that token expiries still fit
MAX_ADVANCE = (LATEST - EARLIEST).total_seconds()


class ClockError(ValueError):
    """A clock move that would leave the supported range; the message says which."""


class SimClock:
    """Simulated wall clock (always timezone-aware UTC), between 1971 and the year 9000."""

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
        if not math.isfinite(seconds) or seconds < 0:
            raise ClockError("the clock only moves forward: 'advance' must be a finite number >= 0")
        if seconds > MAX_ADVANCE or self.now() + timedelta(seconds=seconds) > LATEST:
            raise ClockError(f"'advance' of {seconds:g} s would move the clock past {LATEST.year}")
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if not EARLIEST <= when <= LATEST:
            raise ClockError(
                f"'set': the clock runs from {EARLIEST.year} to {LATEST.year}, got {when.isoformat()}"
            )
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

    @staticmethod
    def parse_json(data: Any) -> tuple[datetime | None, timedelta]:
        """(frozen instant, offset) from `to_json`'s shape; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"clock: expected an object, got {type(data).__name__}")
        frozen_raw, offset_raw = data.get("frozen_at"), data.get("offset_seconds") or 0
        frozen = None
        if frozen_raw:
            if not isinstance(frozen_raw, str):
                raise ValueError(f"clock.frozen_at: expected an ISO-8601 date-time, got {frozen_raw!r}")
            frozen = datetime.fromisoformat(frozen_raw)
            if frozen.tzinfo is None:
                frozen = frozen.replace(tzinfo=UTC)
        if isinstance(offset_raw, bool) or not isinstance(offset_raw, (int, float)):
            raise ValueError(f"clock.offset_seconds: expected a number, got {offset_raw!r}")
        try:
            offset = timedelta(seconds=offset_raw)
        except (OverflowError, ValueError) as exc:
            raise ValueError(f"clock.offset_seconds: out of range ({offset_raw!r})") from exc
        return frozen, offset

    def apply(self, parsed: tuple[datetime | None, timedelta]) -> None:
        with self._lock:
            self._frozen, self._offset = parsed

    def load_json(self, data: dict[str, Any]) -> None:
        self.apply(self.parse_json(data))
