"""Assertions over a simulator's request journal that explain themselves when they fail.

    journal.assert_called(severa_sim, "PATCH", "/v1/invoices/*", json={"status": {"guid": g}})
    journal.assert_called(maventa_sim, "GET", "/v1/invoices", query={"id": "abc"}, count=1)
    journal.assert_not_called(maestro_sim, "POST", "/api/v1/sales-invoices")

A request matches when its method is the one given, its path is the one given (or ends with it,
so ``/v1/invoices`` matches ``/rest-api/v1/invoices``; ``*`` and ``?`` are globs), every query
parameter given has that value (a list: those values, in order), every key of ``json`` is in the
JSON body with that value (nested objects the same way; other keys may be there too), ``body``
is in the raw body, and ``status`` is the answer's status.

On failure the message lists the closest requests the simulator did see (by method, path, query
and body), each with its method, path, query and status, what did not match, and a diff of the
JSON body against the expected one.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from simulators.kit import Simulator
from simulators.kit.journal import JournalEntry

__all__ = ["JournalAssertions", "RequestPattern"]

_MISSING = object()


@dataclass(frozen=True)
class RequestPattern:
    """What a journal entry must look like (see the module docstring)."""

    method: str
    path: str
    query: Mapping[str, Any] | None = None
    json: Any = _MISSING
    body: str | None = None
    status: int | None = None

    def describe(self) -> str:
        text = f"{self.method.upper()} {self.path}"
        if self.query:
            text += "?" + "&".join(f"{k}={v}" for k, v in self.query.items())
        if self.json is not _MISSING:
            text += f" with JSON {json.dumps(self.json, ensure_ascii=False, sort_keys=True)}"
        if self.body is not None:
            text += f" with a body containing {self.body!r}"
        if self.status is not None:
            text += f" answered {self.status}"
        return text

    # -- matching
    def path_matches(self, path: str) -> bool:
        wanted = self.path
        if any(ch in wanted for ch in "*?["):
            return fnmatch.fnmatchcase(path, wanted) or fnmatch.fnmatchcase(path, "*" + wanted)
        return path == wanted or path.endswith(wanted)

    def mismatches(self, e: JournalEntry) -> list[str]:
        """Why ``e`` is not this request ([] when it is)."""
        why = []
        if e.method.upper() != self.method.upper():
            why.append(f"method {e.method}, not {self.method.upper()}")
        if not self.path_matches(e.path):
            why.append(f"path {e.path}")
        for key, want in (self.query or {}).items():
            got = parse_qs(e.query, keep_blank_values=True).get(key)
            expected = [str(v) for v in want] if isinstance(want, (list, tuple)) else [str(want)]
            if got is None:
                why.append(f"query {key}: missing (expected {'&'.join(expected)})")
            elif (got if isinstance(want, (list, tuple)) else got[:1]) != expected:
                why.append(f"query {key}: {', '.join(got)} (expected {', '.join(expected)})")
        if self.json is not _MISSING:
            actual = _json_of(e.request_body)
            if actual is _MISSING:
                why.append("body is not JSON")
            else:
                why += [f"body {p}" for p in _subset_problems(self.json, actual, "")]
        if self.body is not None and self.body not in e.request_body:
            why.append(f"body does not contain {self.body!r}")
        if self.status is not None and e.status != self.status:
            why.append(f"status {e.status}, not {self.status}")
        return why

    def closeness(self, e: JournalEntry) -> float:
        score = 2.0 if e.method.upper() == self.method.upper() else 0.0
        score += 3.0 * difflib.SequenceMatcher(None, self.path, e.path[-len(self.path) - 10 :]).ratio()
        if self.path_matches(e.path):
            score += 3.0
        score -= 0.5 * len(self.mismatches(e))
        return score


def _json_of(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else _MISSING
    except ValueError:
        return _MISSING


def _subset_problems(want: Any, got: Any, where: str) -> list[str]:
    if isinstance(want, Mapping) and isinstance(got, Mapping):
        problems = []
        for key, value in want.items():
            here = f"{where}.{key}" if where else str(key)
            if key not in got:
                problems.append(f"{here}: missing")
            else:
                problems += _subset_problems(value, got[key], here)
        return problems
    if want != got:
        return [
            f"{where or '(whole body)'}: {json.dumps(got, ensure_ascii=False)} (expected {json.dumps(want, ensure_ascii=False)})"
        ]
    return []


def _body_diff(want: Any, actual_text: str) -> list[str]:
    actual = _json_of(actual_text)
    shown_actual = actual_text.splitlines() if actual is _MISSING else _pretty(actual)
    return list(
        difflib.unified_diff(_pretty(want), shown_actual, "expected body", "actual body", lineterm="", n=2)
    )


def _pretty(value: Any) -> list[str]:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).splitlines()


class JournalAssertions:
    """The ``journal`` fixture: assertions over a simulator's journal (``sim.journal``)."""

    shown = 3  # how many near misses a failure shows

    def calls(
        self,
        sim: Simulator,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json: Any = _MISSING,
        body: str | None = None,
        status: int | None = None,
    ) -> list[JournalEntry]:
        """The journal entries that match, oldest first."""
        pattern = RequestPattern(method, path, query, json, body, status)
        return [e for e in sim.journal.entries() if not pattern.mismatches(e)]

    def assert_called(
        self,
        sim: Simulator,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json: Any = _MISSING,
        body: str | None = None,
        status: int | None = None,
        count: int | None = None,
    ) -> list[JournalEntry]:
        """The request was made (``count`` times exactly, when given); returns the matching entries."""
        pattern = RequestPattern(method, path, query, json, body, status)
        entries = sim.journal.entries()
        found = [e for e in entries if not pattern.mismatches(e)]
        if (count is None and found) or (count is not None and len(found) == count):
            return found
        want = "at least once" if count is None else f"{count} time(s)"
        lines = [
            f"expected {pattern.describe()} {want}; the {sim.service} simulator saw it {len(found)} time(s)"
        ]
        if count is not None and found:
            lines.append("the matching requests:")
            lines += [f"  {_line(e)}" for e in found[: self.shown]]
        else:
            lines += self._near_misses(pattern, entries)
        raise AssertionError("\n".join(lines))

    def assert_not_called(
        self,
        sim: Simulator,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json: Any = _MISSING,
        body: str | None = None,
        status: int | None = None,
    ) -> None:
        """No such request was made."""
        self.assert_called(sim, method, path, query=query, json=json, body=body, status=status, count=0)

    def _near_misses(self, pattern: RequestPattern, entries: list[JournalEntry]) -> list[str]:
        if not entries:
            return ["the journal is empty: the simulator received no request (is the client pointed at it?)"]
        ranked = sorted(entries, key=lambda e: (-pattern.closeness(e), -e.id))[: self.shown]
        lines = [f"closest of the {len(entries)} request(s) in the journal:"]
        for e in ranked:
            lines.append(f"  {_line(e)}")
            lines += [f"      - {why}" for why in pattern.mismatches(e)]
            if pattern.json is not _MISSING and e.request_body:
                lines += [f"      {d}" for d in _body_diff(pattern.json, e.request_body)]
        return lines


def _line(e: JournalEntry) -> str:
    return f"#{e.id} {e.method} {e.path}{'?' + e.query if e.query else ''} -> {e.status}"
