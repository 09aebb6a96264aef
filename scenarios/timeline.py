"""The timeline of a scenario run: what happened, step by step, across every service.

Per step, in order: the step itself, the HTTP exchanges the bridge had with Severa, Maventa and
Maestro (order from a tap on the bridge's own clients, detail — status, injected fault — from the
fakes' journals), clock moves, sync passes with their summary, the transfer-log lines the bridge
wrote, the e-mails the mailbox caught and the messages Maventa sent (its outbox), and errors as the
user saw them.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["Event", "Timeline", "WireTap"]


@dataclass
class Event:
    seq: int
    step: int  # 0 = given, 1.. = the when steps, -1 = checks
    kind: str  # step | http | clock | pass | log | mail | outbox | error | crash | note | actor
    text: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "step": self.step,
            "kind": self.kind,
            "text": self.text,
            "detail": self.detail,
        }


class Timeline:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self._seq = itertools.count(1)
        self.step = 0

    def add(self, kind: str, text: str, **detail: Any) -> Event:
        event = Event(next(self._seq), self.step, kind, text, detail)
        self.events.append(event)
        return event

    def of_step(self, step: int) -> list[Event]:
        return [e for e in self.events if e.step == step]

    def around(self, step: int, before: int = 1) -> list[Event]:
        return [e for e in self.events if step - before <= e.step <= step]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.events]


class WireTap:
    """Event hooks on the bridge's httpx clients: the global order of its exchanges."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pending: list[dict[str, Any]] = []

    def attach(self, client: httpx.Client, service: str) -> None:
        def on_response(response: httpx.Response) -> None:
            request = response.request
            with self._lock:
                self.pending.append(
                    {
                        "service": service,
                        "method": request.method,
                        "path": request.url.path,
                        "query": request.url.query.decode("ascii", "replace"),
                        "status": response.status_code,
                    }
                )

        hooks = client.event_hooks
        hooks["response"] = [*hooks.get("response", []), on_response]
        client.event_hooks = hooks

    def drain(self) -> list[dict[str, Any]]:
        with self._lock:
            out, self.pending = self.pending, []
        return out
