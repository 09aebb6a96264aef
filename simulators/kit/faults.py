"""Fault rules: *match* a request, apply an *effect*, when the *trigger* says so.

A rule, as JSON (the same shape the control plane takes at `POST /_sim/faults`)::

    {"match":   {"method": "GET", "path": "/rest-api/v1/invoices*", "tenant": "org-1"},
     "effect":  {"type": "status", "status": 503, "message": "Service Unavailable"},
     "trigger": {"type": "next", "count": 2}}

Effects: ``status`` (the service's own error envelope), ``delay`` (real latency, then the
normal answer), ``hang`` (no answer: the client times out), ``reset`` (connection reset by
peer), ``malformed`` (a truncated JSON body), ``rate_limit`` (429 with ``Retry-After`` in the
service's own 429 format). Every effect can be applied ``after_processing``: the service
handles the request (state changes happen) and only then is the answer lost or replaced,
which is how a client meets "my timeout happened but the invoice was sent anyway".

Triggers: ``always``; ``next`` N matching calls; ``after`` N matching calls (then every call,
or ``times`` calls); ``probability`` p with a ``seed`` (repeatable).
"""

from __future__ import annotations

import fnmatch
import itertools
import math
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

EFFECT_TYPES = ("status", "delay", "hang", "reset", "malformed", "rate_limit")
TRIGGER_TYPES = ("always", "next", "after", "probability")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class FaultRuleError(ValueError):
    """A fault rule that cannot be understood; the message names the field."""


@dataclass
class Match:
    method: str | None = None
    path: str | None = None  # glob, e.g. "/rest-api/v1/invoices*"
    path_regex: str | None = None
    tenant: str | None = None

    def matches(self, method: str, path: str, tenant: str | None) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path and not fnmatch.fnmatchcase(path, self.path):
            return False
        if self.path_regex and not re.search(self.path_regex, path):
            return False
        return not (self.tenant and self.tenant != tenant)


@dataclass
class Effect:
    type: str
    status: int = 503
    code: str | None = None
    message: str | None = None
    seconds: float = 0.0
    retry_after: int = 1
    after_processing: bool = False


@dataclass
class Trigger:
    type: str = "always"
    count: int = 1
    times: int | None = None
    p: float = 1.0
    seed: int = 0


@dataclass
class FaultRule:
    id: int
    match: Match
    effect: Effect
    trigger: Trigger
    seen: int = 0  # matching calls so far
    fired: int = 0  # times the effect was applied
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.trigger.seed)

    @property
    def exhausted(self) -> bool:
        t = self.trigger
        if t.type == "next":
            return self.fired >= t.count
        if t.type == "after" and t.times is not None:
            return self.fired >= t.times
        return False

    def should_fire(self) -> bool:
        """Count one matching call and say whether the effect applies to it."""
        self.seen += 1
        t = self.trigger
        if t.type == "always":
            fire = True
        elif t.type == "next":
            fire = self.fired < t.count
        elif t.type == "after":
            fire = self.seen > t.count and (t.times is None or self.fired < t.times)
        else:  # probability
            fire = self._rng.random() < t.p
        if fire:
            self.fired += 1
        return fire

    def describe(self) -> str:
        e = self.effect
        what = {
            "status": f"HTTP {e.status}",
            "delay": f"delay {e.seconds}s",
            "hang": f"hang {e.seconds or 'forever'}",
            "reset": "connection reset",
            "malformed": "malformed body",
            "rate_limit": f"429 Retry-After {e.retry_after}",
        }[e.type]
        return f"fault #{self.id}: {what}" + (" after processing" if e.after_processing else "")

    def to_json(self) -> dict[str, Any]:
        m, e, t = self.match, self.effect, self.trigger
        return {
            "id": self.id,
            "match": {k: v for k, v in vars(m).items() if v is not None},
            "effect": {k: v for k, v in vars(e).items() if v is not None},
            "trigger": {k: v for k, v in vars(t).items() if v is not None},
            "seen": self.seen,
            "fired": self.fired,
            "exhausted": self.exhausted,
        }


def _expect(obj: Any, where: str) -> dict[str, Any]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise FaultRuleError(f"{where}: expected an object, got {type(obj).__name__}")
    return obj


MAX_SECONDS = 3600.0  # a delay or hang longer than an hour is a stuck test, not a fault
MAX_COUNT = 10**9
MAX_TEXT = {"path": 500, "path_regex": 500, "tenant": 200, "code": 100, "message": 2000, "method": 10}


def _num(
    d: dict[str, Any],
    key: str,
    where: str,
    kind: type,
    default: Any,
    minimum: float = 0,
    maximum: float = MAX_COUNT,
) -> Any:
    if key not in d or d[key] is None:
        return default
    v = d[key]
    if (
        isinstance(v, bool)
        or not isinstance(v, (int, float))
        or not math.isfinite(v)
        or (kind is int and not float(v).is_integer())
    ):
        raise FaultRuleError(
            f"{where}.{key}: expected {'an integer' if kind is int else 'a number'}, got {str(v)[:40]!r}"
        )
    if not minimum <= v <= maximum:
        raise FaultRuleError(f"{where}.{key}: must be from {minimum:g} to {maximum:g}, got {str(v)[:40]}")
    return kind(v)


def _str(d: dict[str, Any], key: str, where: str) -> str | None:
    v = d.get(key)
    if v is not None and not isinstance(v, str):
        raise FaultRuleError(f"{where}.{key}: expected a string, got {str(v)[:40]!r}")
    limit = MAX_TEXT.get(key, 2000)
    if v is not None and len(v) > limit:
        raise FaultRuleError(f"{where}.{key}: at most {limit} characters, got {len(v)}")
    return v


_KNOWN = {
    "match": {"method", "path", "path_regex", "tenant"},
    "effect": {"type", "status", "code", "message", "seconds", "retry_after", "after_processing"},
    "trigger": {"type", "count", "times", "p", "seed"},
}


def parse_rule(data: Any, rule_id: int) -> FaultRule:
    """Validate a rule given as JSON; raise FaultRuleError naming the bad field."""
    if not isinstance(data, dict):
        raise FaultRuleError("rule: expected an object with 'match', 'effect' and 'trigger'")
    unknown = set(data) - {"match", "effect", "trigger", "id", "seen", "fired", "exhausted"}
    if unknown:
        raise FaultRuleError(f"rule: unknown field(s) {sorted(unknown)}; expected match, effect, trigger")
    parts = {k: _expect(data.get(k), k) for k in ("match", "effect", "trigger")}
    for part, keys in _KNOWN.items():
        extra = set(parts[part]) - keys
        if extra:
            raise FaultRuleError(f"{part}: unknown field(s) {sorted(extra)}; known: {sorted(keys)}")
    m = parts["match"]
    method = _str(m, "method", "match")
    if method and method.upper() not in HTTP_METHODS:
        raise FaultRuleError(f"match.method: expected one of {HTTP_METHODS}, got {method!r}")
    regex = _str(m, "path_regex", "match")
    if regex:
        try:
            re.compile(regex)
        except re.error as exc:
            raise FaultRuleError(f"match.path_regex: not a valid regular expression ({exc})") from exc
    match = Match(
        method=method, path=_str(m, "path", "match"), path_regex=regex, tenant=_str(m, "tenant", "match")
    )

    e = parts["effect"]
    etype = e.get("type")
    if etype not in EFFECT_TYPES:
        raise FaultRuleError(f"effect.type: expected one of {EFFECT_TYPES}, got {etype!r}")
    status = _num(e, "status", "effect", int, 429 if etype == "rate_limit" else 503, 100, 599)
    after = e.get("after_processing", False)
    if not isinstance(after, bool):
        raise FaultRuleError(f"effect.after_processing: expected true or false, got {after!r}")
    effect = Effect(
        type=etype,
        status=status,
        code=_str(e, "code", "effect"),
        message=_str(e, "message", "effect"),
        seconds=_num(e, "seconds", "effect", float, 30.0 if etype == "hang" else 0.0, maximum=MAX_SECONDS),
        retry_after=_num(e, "retry_after", "effect", int, 1, maximum=86400),
        after_processing=after,
    )

    t = parts["trigger"]
    ttype = t.get("type", "always")
    if ttype not in TRIGGER_TYPES:
        raise FaultRuleError(f"trigger.type: expected one of {TRIGGER_TYPES}, got {ttype!r}")
    p = _num(t, "p", "trigger", float, 1.0, maximum=1)
    trigger = Trigger(
        type=ttype,
        count=_num(t, "count", "trigger", int, 1),
        times=_num(t, "times", "trigger", int, None),
        p=p,
        seed=_num(t, "seed", "trigger", int, 0, maximum=2**63 - 1),
    )
    return FaultRule(id=rule_id, match=match, effect=effect, trigger=trigger)


class FaultEngine:
    """The active fault rules of one simulator. The first matching rule that fires wins."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, data: Any) -> FaultRule:
        with self._lock:
            rule = parse_rule(data, next(self._ids))
            self._rules.append(rule)
            return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        """Remove every rule (ids go on counting: an old id never names a new rule)."""
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        """A new world: no rules, and numbering starts again at 1 (same seed, same world)."""
        with self._lock:
            self._rules.clear()
            self._ids = itertools.count(1)

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def evaluate(self, method: str, path: str, tenant: str | None) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.match.matches(method, path, tenant):
                    continue
                if rule.should_fire():
                    return rule
        return None

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.rules()]

    def load_json(self, rules: list[dict[str, Any]]) -> None:
        """Replace every rule with `rules` (as `to_json` gave them), keeping their ids and counters.

        All or nothing: a bad rule raises FaultRuleError and leaves the current rules in place.
        """
        if not isinstance(rules, list):
            raise FaultRuleError(f"faults: expected a list of rules, got {type(rules).__name__}")
        loaded: list[FaultRule] = []
        for i, data in enumerate(rules):
            if not isinstance(data, dict):
                raise FaultRuleError(f"faults[{i}]: expected an object, got {type(data).__name__}")
            # counters are replayed (a probability rule redraws `seen` times): bounded so no snapshot hangs
            rid, seen, fired = (
                _num(data, k, f"faults[{i}]", int, 0, maximum=10**7) for k in ("id", "seen", "fired")
            )
            if rid == 0 or any(r.id == rid for r in loaded):
                rid = max((r.id for r in loaded), default=0) + 1
            rule = parse_rule({k: data[k] for k in ("match", "effect", "trigger") if k in data}, rid)
            rule.seen, rule.fired = seen, fired
            if rule.trigger.type == "probability":
                for _ in range(seen):  # replay the draws so the seeded sequence continues where it was
                    rule._rng.random()
            loaded.append(rule)
        with self._lock:
            self._rules = loaded
            self._ids = itertools.count(max((r.id for r in loaded), default=0) + 1)
