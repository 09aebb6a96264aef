"""A bounded request/response journal with filters; secrets are redacted when it is read.

Recording is cheap, because it happens on every request: an exchange is kept as it was
(headers, query and bodies as text), only cut to the sizes below. Redaction happens when
entries are read (`Journal.entries`, ``GET /_sim/journal``), with the redactor the simulator
gives at that moment: secret-named headers and fields by name, and every secret the simulator
knows (or has known since the journal was cleared) by value, wherever it appears. A redacted
entry is cached until the set of known secrets changes.

Bounds, so that no client can grow a fake's memory through its journal:

* at most `capacity` entries (default 2000) and `max_bytes` characters of recorded text in all
  (default 16 MiB); the oldest entries are dropped first (``dropped`` counts them);
* a header value is cut at `HEADER_LIMIT` (1,024) characters and at most `MAX_HEADERS` (64)
  headers of a message are kept; a note on the entry says what was cut or dropped;
* a body is cut at `BODY_LIMIT` (16,384) characters, followed by ``... [N chars more]``;
  ``request_body_length`` / ``response_body_length`` keep the original lengths.

An entry that has been read also keeps its redacted form until the known secrets change, so
reading the journal repeatedly costs nothing more (memory: at most twice the bound above).
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .redact import Redactor

BODY_LIMIT = 16_384
HEADER_LIMIT = 1_024
MAX_HEADERS = 64
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


@dataclass
class JournalEntry:
    """One exchange as the journal shows it (redacted)."""

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
    request_body_length: int = 0
    response_body_length: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Record:
    """One exchange as recorded (raw, cut to size); never leaves the journal unredacted."""

    id: int
    at: str
    method: str
    path: str
    query: str
    tenant: str | None
    status: int
    duration_ms: float
    request_headers: list[tuple[str, str]]
    request_body: str
    request_body_length: int
    request_content_type: str
    response_headers: list[tuple[str, str]]
    response_body: str
    response_body_length: int
    response_content_type: str
    fault: str | None
    notes: list[str]
    size: int = 0
    shown: tuple[Redactor, JournalEntry] | None = None


# the journal's filters: name -> does a recorded exchange match the value
ENTRY_FILTERS: dict[str, Callable[[_Record, Any], bool]] = {
    "method": lambda e, v: e.method.upper() == v.upper(),
    "path": lambda e, v: v in e.path,
    "path_prefix": lambda e, v: e.path.startswith(v),
    "status": lambda e, v: e.status == v,  # 0: a simulated network fault (no answer)
    "tenant": lambda e, v: e.tenant == v,
    "since_id": lambda e, v: e.id > v,
    "faulted": lambda e, v: (e.fault is not None) == v,
}


def _headers(items: Iterable[tuple[str, str]], which: str, notes: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    dropped = 0
    for name, value in items:
        if len(out) == MAX_HEADERS:
            dropped += 1
            continue
        if len(name) > HEADER_LIMIT:
            name = name[:HEADER_LIMIT]
        if len(value) > HEADER_LIMIT:
            notes.append(f"{which} header {name[:64]!r} cut from {len(value)} to {HEADER_LIMIT} characters")
            value = value[:HEADER_LIMIT]
        out.append((name, value))
    if dropped:
        notes.append(f"{dropped} more {which} header(s) not kept (at most {MAX_HEADERS})")
    return out


def _cut(text: str) -> str:
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT]


class Journal:
    """Keeps the last `capacity` exchanges, and at most `max_bytes` characters of them."""

    def __init__(self, capacity: int = 2000, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._records: deque[_Record] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.dropped = 0
        self.bytes = 0
        self.redactor: Callable[[], Redactor] = lambda: Redactor(())

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
    ) -> int:
        """Keep one exchange (cut to size, not yet redacted); returns its id."""
        notes: list[str] = []
        rec = _Record(
            id=0,
            at=at,
            method=method[:16],
            path=path[: HEADER_LIMIT * 4],
            query=query[: HEADER_LIMIT * 4],
            tenant=tenant,
            status=status,
            duration_ms=round(duration_ms, 3),
            request_headers=_headers(request_headers, "request", notes),
            request_body=_cut(request_body),
            request_body_length=len(request_body),
            request_content_type=request_content_type[:HEADER_LIMIT],
            response_headers=_headers(response_headers, "response", notes),
            response_body=_cut(response_body),
            response_body_length=len(response_body),
            response_content_type=response_content_type[:HEADER_LIMIT],
            fault=fault,
            notes=notes,
        )
        rec.size = (
            len(rec.path)
            + len(rec.query)
            + len(rec.request_body)
            + len(rec.response_body)
            + sum(len(k) + len(v) for k, v in rec.request_headers)
            + sum(len(k) + len(v) for k, v in rec.response_headers)
            + 256  # the fixed fields
        )
        with self._lock:
            rec.id = next(self._ids)
            self._records.append(rec)
            self.bytes += rec.size
            while self._records and (len(self._records) > self.capacity or self.bytes > self.max_bytes):
                old = self._records.popleft()
                self.bytes -= old.size
                self.dropped += 1
        return rec.id

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self.dropped = 0
            self.bytes = 0

    def entries(self, *, limit: int | None = None, **filters: Any) -> list[JournalEntry]:
        """The exchanges matching every filter of `ENTRY_FILTERS` (None or "" filters nothing),
        oldest first (`limit`: the newest `limit` of them), redacted."""
        if limit is not None and limit < 1:
            raise ValueError(f"limit: expected a positive number of entries, got {limit}")
        unknown = sorted(set(filters) - set(ENTRY_FILTERS))
        if unknown:
            raise TypeError(f"unknown journal filter(s) {unknown}; known: {', '.join(ENTRY_FILTERS)}")
        wanted = [(ENTRY_FILTERS[name], v) for name, v in filters.items() if v is not None and v != ""]
        with self._lock:
            items = list(self._records)
        out = [e for e in items if all(keep(e, v) for keep, v in wanted)]
        if limit is not None:
            out = out[-limit:]
        redactor = self.redactor()
        return [self._shown(e, redactor) for e in out]

    @staticmethod
    def _shown(rec: _Record, redactor: Redactor) -> JournalEntry:
        cached = rec.shown
        if cached is not None and cached[0] is redactor:
            return cached[1]

        def body(text: str, length: int, ctype: str) -> str:
            cut = length > len(text)
            shown = redactor.body(text, ctype, cut=cut)
            return shown + f"... [{length - len(text)} chars more]" if cut else shown

        entry = JournalEntry(
            id=rec.id,
            at=rec.at,
            method=rec.method,
            path=redactor.text(rec.path),
            query=redactor.body(rec.query, "application/x-www-form-urlencoded"),
            tenant=rec.tenant,
            status=rec.status,
            duration_ms=rec.duration_ms,
            request_headers=redactor.headers(rec.request_headers),
            request_body=body(rec.request_body, rec.request_body_length, rec.request_content_type),
            response_headers=redactor.headers(rec.response_headers),
            response_body=body(rec.response_body, rec.response_body_length, rec.response_content_type),
            fault=rec.fault,
            notes=list(rec.notes),
            request_body_length=rec.request_body_length,
            response_body_length=rec.response_body_length,
        )
        rec.shown = (redactor, entry)
        return entry

    def __len__(self) -> int:
        return len(self._records)
