"""Test helpers for the bridge's HTTP clients: a fake clock and a scripted transport."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic time that only moves when someone sleeps (or the test advances it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """A MockTransport handler that records requests and the clock time each was sent."""

    def __init__(self, handler: Handler, clock: FakeClock | None = None) -> None:
        self.handler = handler
        self.clock = clock
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self.clock is not None:
            self.times.append(self.clock())
        return self.handler(request)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def client(self, base_url: str = "https://api.example.test/rest-api") -> httpx.Client:
        return httpx.Client(base_url=base_url, transport=httpx.MockTransport(self))


def sequence(*steps: Handler | httpx.Response | Exception) -> Handler:
    """A handler answering with ``steps`` in order (the last one repeats)."""
    items = list(steps)
    state = {"i": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        step = items[min(state["i"], len(items) - 1)]
        state["i"] += 1
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return httpx.Response(step.status_code, headers=step.headers, content=step.content)
        return step(request)

    return handle


def seams(clock: FakeClock) -> dict[str, Any]:
    """A client's test seams on ``clock``: it sleeps on the fake clock, and backoff takes its cap."""
    return {"clock": clock, "sleep": clock.sleep, "rand": lambda: 1.0}
