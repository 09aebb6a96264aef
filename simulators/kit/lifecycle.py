"""The state side of every fake: lifecycle, snapshots, journal, faults, clock, ids, secrets.

`SimulatorCore` knows nothing of HTTP; `pipeline.RequestPipeline` adds the request pipeline and
`simulator.Simulator` the Flask app. A service fills the hooks below: `build_state` builds its
`backend` (the domain root its routes reach with `kit.current_backend`) for a preset and seed,
`export_data`/`import_data` turn it into snapshot JSON and back.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

from flask import Flask

from .clock import SimClock
from .errors import ControlError, SnapshotError
from .faults import FaultEngine, FaultRule, FaultRuleError, Match, parse_rule
from .hosts import HostPolicy
from .ids import IdFactory, namespace_for
from .journal import DEFAULT_MAX_BYTES as DEFAULT_JOURNAL_BYTES
from .journal import Journal
from .jsontext import DEFAULT_MAX_DEPTH
from .nearmiss import closest_routes, routes_matching
from .redact import Redactor, SecretRegistry

SNAPSHOT_FORMAT = "severa-sandbox.state"
DEFAULT_MAX_BODY = 10 * 1024 * 1024


class SimulatorCore:
    """The state and the control operations of a fake, as Python methods."""

    service: ClassVar[str] = "generic"
    state_version: ClassVar[int] = 1
    presets: ClassVar[tuple[str, ...]] = ("empty", "demo")
    default_preset: ClassVar[str] = "demo"
    max_json_depth: ClassVar[int] = DEFAULT_MAX_DEPTH  # deeper request bodies get a 400 (ASP.NET's 64)
    id_namespace: ClassVar[uuid.UUID | None] = None  # None: derived from `service`

    def __init__(
        self,
        preset: str | None = None,
        seed: int = 0,
        *,
        clock: SimClock | None = None,
        journal_capacity: int = 2000,
        journal_max_bytes: int = DEFAULT_JOURNAL_BYTES,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        body_deadline: float = 60.0,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.clock = clock or SimClock()
        self.secrets = SecretRegistry()  # every secret known since the journal was last cleared
        self._redactor = Redactor(())
        self.journal = Journal(journal_capacity, journal_max_bytes)
        self.journal.redactor = self.redactor
        self.faults = FaultEngine()
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.max_body_bytes = max_body_bytes
        self.body_deadline = body_deadline
        self.allowed_hosts = HostPolicy(allowed_hosts)
        self.preset = preset or self.default_preset
        self.seed = seed
        self.ids = self._new_ids(seed)
        self._app: Flask | None = None
        self.backend: Any = None  # the domain root its routes reach (`kit.current_backend`)
        self.reset(self.preset, seed, clear_faults=True)

    # ----------------------------------------------------------------- hooks for services
    def build_state(self, preset: str, seed: int) -> None:
        """Create a fresh backend for `preset` with deterministic data from `seed`."""
        raise NotImplementedError

    def export_data(self) -> dict[str, Any]:
        raise NotImplementedError

    def import_data(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def credentials(self) -> dict[str, Any]:
        """The credentials that the current state accepts (sandbox secrets)."""
        return {}

    def secret_values(self) -> list[str]:
        """Known secret values to scrub from the journal wherever they appear."""
        return []

    def legacy_id_counter(self, data: dict[str, Any]) -> int:
        """Where the id sequence stood in a snapshot written before snapshots carried ``"ids"``."""
        return 0

    def normalize_path(self, path: str) -> str:
        """The path as fault rules see it (e.g. an API version alias mapped to its canonical form)."""
        return path

    def describe(self) -> dict[str, Any]:
        return {}

    def on_clock_moved(self) -> None:
        """Called after the control plane moves the clock (e.g. to progress deliveries)."""

    @property
    def app(self) -> Flask:
        """The service's Flask app (made by `simulator.Simulator`)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- state lifecycle
    def reset(self, preset: str | None = None, seed: int | None = None, *, clear_faults: bool = True) -> None:
        preset = preset or self.preset
        if preset not in self.presets:
            raise ControlError(f"unknown preset {preset!r}; known presets: {', '.join(self.presets)}")
        seed = self.seed if seed is None else seed
        with self.lock:
            self.ids.load_json({"seed": seed, "counter": 0})  # before the preset: presets may mint ids
            self.build_state(preset, seed)
            self.preset, self.seed = preset, seed
            if clear_faults:
                self.faults.reset()
            self.clear_journal()

    def export_state(self, *, redact: bool = False) -> dict[str, Any]:
        with self.lock:
            snap = {
                "format": SNAPSHOT_FORMAT,
                "service": self.service,
                "version": self.state_version,
                "preset": self.preset,
                "seed": self.seed,
                "clock": self.clock.to_json(),
                "faults": self.faults.to_json(),
                "ids": self.ids.to_json(),
                "data": self.export_data(),
            }
        if redact:
            snap = self.redactor().obj(snap)
            snap["redacted"] = True
        return snap

    def import_state(self, snap: Any) -> None:
        if not isinstance(snap, dict):
            raise SnapshotError("a state snapshot must be a JSON object")
        if snap.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(f"not a severa-sandbox state snapshot (format {snap.get('format')!r})")
        if snap.get("service") != self.service:
            raise SnapshotError(
                f"this snapshot is of the {snap.get('service')!r} simulator; this is the {self.service!r} simulator"
            )
        if snap.get("version") != self.state_version:
            raise SnapshotError(
                f"snapshot version {snap.get('version')!r} is not supported by this {self.service} simulator "
                f"(it reads version {self.state_version}); export the state again with this release"
            )
        if snap.get("redacted"):
            raise SnapshotError("this snapshot was exported with secrets redacted and cannot be imported")
        if not isinstance(snap.get("data"), dict):
            raise SnapshotError("snapshot field 'data': expected an object")
        seed = snap.get("seed", self.seed)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise SnapshotError(f"snapshot field 'seed': expected an integer, got {seed!r}")
        preset = snap.get("preset", self.preset)
        if not isinstance(preset, str):
            raise SnapshotError(f"snapshot field 'preset': expected a string, got {preset!r}")
        ids = snap.get("ids")
        if ids is None:  # written before snapshots carried the id sequence
            ids = {"seed": seed, "counter": self.legacy_id_counter(snap["data"])}
        try:
            clock = SimClock.parse_json(snap.get("clock") or {})
            self._new_ids(seed).load_json(ids, default_seed=seed)  # validate before touching anything
        except (TypeError, ValueError) as exc:
            raise SnapshotError(f"snapshot is inconsistent: {exc}") from exc
        with self.lock:
            self.secrets.update(self.secret_values())  # the journal may still show them
            previous, previous_ids = self.export_data(), self.ids.to_json()
            try:
                self.ids.load_json(ids, default_seed=seed)
                self.import_data(snap["data"])
                self.faults.load_json(snap.get("faults") or [])
            except (KeyError, TypeError, ValueError, FaultRuleError) as exc:
                self.ids.load_json(previous_ids)
                self.import_data(previous)  # never lose the state we had
                raise SnapshotError(f"snapshot data is inconsistent: {exc}") from exc
            self.clock.apply(clock)
            self.preset, self.seed = preset, seed

    def _new_ids(self, seed: int) -> IdFactory:
        return IdFactory(self.id_namespace or namespace_for(self.service), seed, on_secret=self.secrets.add)

    def redactor(self) -> Redactor:
        """Redacts every secret the fake knows now or has known since the journal was cleared
        (exports, journal, logs); rebuilt only when that set changes."""
        with self.lock:  # the state's secret dictionaries must not change while they are read
            live = self.secret_values()
        known = Redactor.relevant([*self.secrets.values(), *live])
        if known != self._redactor.secrets:
            self._redactor = Redactor(known)
        return self._redactor

    def clear_journal(self) -> None:
        with self.lock:
            self.journal.clear()
            self.secrets.clear()

    def add_fault(self, rule: dict[str, Any]) -> FaultRule:
        """Add a fault rule. A rule whose ``match.path`` can match no route of this fake (a typo,
        the control plane, an alias the rule never sees) is refused, naming the closest routes."""
        self._check_fault_path(parse_rule(rule, 0).match)
        return self.faults.add(rule)

    def _check_fault_path(self, match: Match) -> None:
        if match.path is None or routes_matching(self.app, match.method, match.path, self.normalize_path):
            return
        said = f"{match.method.upper()} {match.path}" if match.method else match.path
        seen_as = self.normalize_path(match.path)
        if seen_as != match.path and routes_matching(self.app, match.method, seen_as, self.normalize_path):
            raise FaultRuleError(
                f"match.path: fault rules see requests to {match.path!r} as {seen_as!r}; write that instead"
            )
        probe = re.sub(r"\[[^]]*\]|[*?]", "", match.path) or "/"
        near = closest_routes(self.app, match.method or "GET", probe)
        raise FaultRuleError(
            f"match.path: {said!r} matches no route of the {self.service} simulator"
            + (f"; closest routes: {', '.join(near)}" if near else "")
        )
