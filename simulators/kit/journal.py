"""A bounded request/response journal with filters; secrets are redacted on the way in."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .redact import redact_headers, redact_secret_values, redact_text

BODY_LIMIT = 16_384


@dataclass
class JournalEntry:
    id: int
    at: str
    method: str
    path: str
    query: str
    tenant: str | None
    status: int
    duration_ms: float
    request_headers: dict[str, str]
    request_body: str
    response_headers: dict[str, str]
    response_body: str
    fault: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _clip(text: str) -> str:
    return (
        text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + f"... [{len(text) - BODY_LIMIT} chars more]"
    )


class Journal:
    """Keeps the last `capacity` exchanges in memory (oldest dropped first)."""

    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._entries: deque[JournalEntry] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.dropped = 0

    def record(
        self,
        *,
        at: str,
        method: str,
        path: str,
        query: str,
        tenant: str | None,
        status: int,
        duration_ms: float,
        request_headers: Iterable[tuple[str, str]],
        request_body: str,
        request_content_type: str,
        response_headers: Iterable[tuple[str, str]],
        response_body: str,
        response_content_type: str,
        fault: str | None = None,
        secrets: list[str] | None = None,
    ) -> JournalEntry:
        secrets = secrets or []
        req_body = redact_secret_values(redact_text(request_body, request_content_type), secrets)
        resp_body = redact_secret_values(redact_text(response_body, response_content_type), secrets)
        with self._lock:
            entry = JournalEntry(
                id=next(self._ids),
                at=at,
                method=method,
                path=path,
                query=redact_secret_values(query, secrets),
                tenant=tenant,
                status=status,
                duration_ms=round(duration_ms, 3),
                request_headers=redact_headers(list(request_headers)),
                request_body=_clip(req_body),
                response_headers=redact_headers(list(response_headers)),
                response_body=_clip(resp_body),
                fault=fault,
            )
            if len(self._entries) == self.capacity:
                self.dropped += 1
            self._entries.append(entry)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = 0

    def entries(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        path_prefix: str | None = None,
        status: int | None = None,
        tenant: str | None = None,
        since_id: int | None = None,
        faulted: bool | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        with self._lock:
            items = list(self._entries)
        out = []
        for e in items:
            if method and e.method.upper() != method.upper():
                continue
            if path and path not in e.path:
                continue
            if path_prefix and not e.path.startswith(path_prefix):
                continue
            if status is not None and e.status != status:
                continue
            if tenant and e.tenant != tenant:
                continue
            if since_id is not None and e.id <= since_id:
                continue
            if faulted is not None and (e.fault is not None) != faulted:
                continue
            out.append(e)
        if limit is not None:
            out = out[-limit:]
        return out

    def __len__(self) -> int:
        return len(self._entries)
