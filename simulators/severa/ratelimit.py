"""Severa's rate limit: 10 requests per second per client, as a sliding window of REAL time.

Real time (not the simulated clock) because the limit protects the server from clients
that go too fast in wall-clock terms; moving the simulated clock must not reset it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class SlidingWindowLimiter:
    def __init__(self, limit: int = 10, window: float = 1.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> int | None:
        """Record a call; None if allowed, else the seconds to wait (Retry-After)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return max(1, math.ceil(q[0] + self.window - now))
            q.append(now)
            return None

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
