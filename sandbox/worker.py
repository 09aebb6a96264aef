"""The bridge worker of ``severa-sandbox up``: ``bridge run`` in a thread, on the world's bridge.

Every ``interval`` seconds one pass of every connector that is not paused (Maventa, Maestro), under
the sandbox's lock (the dashboard drives the same bridge objects between passes). A pass that
raises is recorded and the next one runs as usual: the worker never dies. ``first_pass`` is set
after the first pass, so readiness includes the worker. The dashboard can pause a connector
(e.g. Maestro, to run the code audit before Maestro fetches the waiting invoices) and ask for a
pass now.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge.transfer import PassReport, TransferEngine

__all__ = ["BridgeWorker", "PassRecord"]


@dataclass
class PassRecord:
    """What one pass did, for the dashboard."""

    at: datetime
    connectors: list[str]
    report: PassReport | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def line(self) -> str:
        if self.error:
            return f"the pass failed: {self.error}"
        assert self.report is not None
        text = self.report.line()
        if self.report.problems:
            text += "; problems: " + "; ".join(self.report.problems)
        return text


@dataclass
class BridgeWorker:
    """Runs passes of ``engine()`` every ``interval`` seconds in a daemon thread."""

    engine: Callable[[], TransferEngine]
    lock: AbstractContextManager[Any]
    now: Callable[[], datetime]
    interval: float = 2.0
    paused: set[str] = field(default_factory=set)
    passes: int = 0
    history: list[PassRecord] = field(default_factory=list)
    first_pass: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def last(self) -> PassRecord | None:
        return self.history[-1] if self.history else None

    def connector_names(self) -> list[str]:
        return [c.name for c in self.engine().connectors]

    def start(self) -> BridgeWorker:
        self._thread = threading.Thread(target=self._run, name="sandbox-bridge-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """Run the next pass now instead of at the end of the interval."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_pass()
            self.first_pass.set()
            self._wake.wait(self.interval)
            self._wake.clear()

    def run_pass(self, only: Iterable[str] | None = None) -> PassRecord:
        """One pass now (of ``only``, else of every connector not paused); never raises."""
        started = time.perf_counter()
        with self.lock:
            engine = self.engine()  # the world may have been re-wired since the last pass
            names = [c.name for c in engine.connectors]
            wanted = [n for n in names if n not in self.paused] if only is None else list(only)
            record = PassRecord(self.now(), wanted)
            try:
                if not wanted:
                    record.report = PassReport()
                elif set(wanted) >= set(names):
                    record.report = engine.run_once()
                else:
                    report = PassReport()
                    for name in wanted:
                        part = engine.run_once(name)
                        _merge(report, part)
                    record.report = report
            except Exception as exc:  # a pass must never end the worker
                record.error = f"{type(exc).__name__}: {exc}"
            record.seconds = time.perf_counter() - started
            self.passes += 1
            self.history.append(record)
            del self.history[:-50]
            return record


def _merge(total: PassReport, part: PassReport) -> None:
    for name, counts in part.by_connector.items():
        for counter, value in vars(counts).items():
            if isinstance(value, int) and value:
                total.add(name, counter, value)
    total.problems.extend(part.problems)
