"""The scenario engine: runs a scenario on the one world and says what happened and what held.

``run_scenario(scenario, transport="inprocess"|"server")`` builds the world the scenario's
``given`` describes, runs the setup steps, puts the given fault rules in force, runs the ``when``
steps one by one (a step marked ``fails_with`` must fail with exactly that text, as the user saw
it), and checks every ``then`` expectation. The result has:

* ``outcome``: ``passed``, ``failed`` (an expectation or an expected failure did not hold) or
  ``error`` (a step could not run: the failing step and its YAML are named);
* ``verdicts``: one per expectation, with a field-by-field diff when it failed;
* ``timeline``: everything that happened, step by step, across every service.
"""

from __future__ import annotations

import atexit
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.errors import BridgeError
from scenarios.checks import Diff
from scenarios.context import Context, StepFailed
from scenarios.model import Action, Scenario
from scenarios.timeline import Timeline, WireTap
from scenarios.world import Crash, Transport, World
from simulators.mailbox import MailboxSimulator

__all__ = ["RunResult", "StepRecord", "Verdict", "run_scenario"]

_MAILBOX: MailboxSimulator | None = None


def _shared_mailbox() -> MailboxSimulator:
    """One SMTP catcher per process for in-process runs (cleared by every world build)."""
    global _MAILBOX
    if _MAILBOX is None:
        _MAILBOX = MailboxSimulator()
        _MAILBOX.start_smtp()
        atexit.register(_MAILBOX.stop_smtp)
    return _MAILBOX


@dataclass
class Verdict:
    index: int
    name: str
    source: str
    line: int
    ok: bool
    diffs: list[Diff] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "source": self.source,
            "line": self.line,
            "ok": self.ok,
            "diffs": [{"field": d.field, "expected": d.expected, "actual": d.actual} for d in self.diffs],
            "error": self.error,
        }


@dataclass
class StepRecord:
    index: int
    name: str
    source: str
    line: int
    ok: bool
    error: str | None = None  # what the user saw (or why the step could not run)
    expected_error: bool = False
    state: dict[str, Any] | None = None  # snapshots after the step (bundles)
    shown: str | None = None  # an error text the user saw (expected or not)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "source": self.source,
            "line": self.line,
            "ok": self.ok,
            "error": self.error,
            "expected_error": self.expected_error,
        }


@dataclass
class RunResult:
    scenario: Scenario
    transport: str
    outcome: str = "passed"
    steps: list[StepRecord] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    timeline: Timeline = field(default_factory=Timeline)
    seconds: float = 0.0
    failing_step: StepRecord | None = None
    detail: str | None = None  # a traceback for developers when the engine itself broke
    world: World | None = None

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.scenario.id,
            "title": self.scenario.title,
            "covers": self.scenario.covers,
            "transport": self.transport,
            "outcome": self.outcome,
            "seconds": round(self.seconds, 3),
            "failing_step": self.failing_step.to_json() if self.failing_step else None,
            "steps": [s.to_json() for s in self.steps],
            "verdicts": [v.to_json() for v in self.verdicts],
            "timeline": self.timeline.to_json(),
        }


class _Collector:
    """After each step: the new exchanges, log lines, mails and outbox messages, into the timeline."""

    def __init__(self, world: World, timeline: Timeline) -> None:
        self.world, self.timeline = world, timeline
        self.tap = WireTap()
        for name, client in (("severa", world.severa), ("maventa", world.maventa)):
            self.tap.attach(client.http.client, name)
        if world.bridge.maestro is not None:
            self.tap.attach(world.bridge.maestro.http.client, "maestro")
        self.journal_ids = {name: self._last_id(sim) for name, sim in world.sims.items()}
        self.log_id = max((e.id for e in world.store.log.entries(limit=1)), default=0)
        self.mails = len(world.mailbox.find()) if world.mailbox else 0
        self.outbox = len(world.maventa_sim.outbox_messages())

    @staticmethod
    def _last_id(sim: Any) -> int:
        entries = sim.journal.entries(limit=1)
        return entries[-1].id if entries else 0

    def collect(self) -> None:
        w, tl = self.world, self.timeline
        exchanges = self.tap.drain()
        journals: dict[str, list[Any]] = {}
        for name, sim in w.sims.items():
            new = sim.journal.entries(since_id=self.journal_ids[name])
            if new:
                self.journal_ids[name] = new[-1].id
            journals[name] = [e for e in new if not e.path.startswith("/_sim")]
        for x in exchanges:
            entry = journals[x["service"]].pop(0) if journals[x["service"]] else None
            fault = getattr(entry, "fault", None) if entry is not None else None
            query = f"?{x['query']}" if x["query"] else ""
            tl.add(
                "http",
                f"{x['service']}: {x['method']} {x['path']}{query} → {x['status']}"
                + (f"  [fault: {fault}]" if fault else ""),
                service=x["service"],
                method=x["method"],
                path=x["path"],
                status=x["status"],
                fault=fault,
                journal_id=getattr(entry, "id", None),
            )
        for service, rest in journals.items():
            for entry in rest:  # the service took the request but the bridge got no answer (reset, hang)
                tl.add(
                    "http",
                    f"{service}: {entry.method} {entry.path} → no answer reached the bridge"
                    + (f"  [fault: {entry.fault}]" if entry.fault else ""),
                    service=service,
                    method=entry.method,
                    path=entry.path,
                    status=entry.status,
                    fault=entry.fault,
                    journal_id=entry.id,
                )
        for line in w.store.log.entries(limit=None, newest_first=False):
            if line.id > self.log_id:
                tl.add(
                    "log",
                    f"transfer log {line.level.value}: {line.message}",
                    level=line.level.value,
                    connector=line.connector,
                    invoice=line.invoice_number,
                )
                self.log_id = line.id
        if w.mailbox is not None:
            mails = w.mailbox.find()
            for m in mails[self.mails :]:
                tl.add(
                    "mail",
                    f"e-mail to {', '.join(m.rcpt_tos)}: {m.subject}",
                    to=list(m.rcpt_tos),
                    subject=m.subject,
                )
            self.mails = len(mails)
        sent = w.maventa_sim.outbox_messages()
        for o in sent[self.outbox :]:
            tl.add(
                "outbox",
                f"Maventa sent {o.get('kind')} ({o.get('purpose')}) to {o.get('to')}",
                channel=o.get("kind"),
                purpose=o.get("purpose"),
            )
        self.outbox = len(sent)


def _user_error(exc: BaseException) -> str:
    """What the user saw: the bridge's message (the CLI prints exactly this)."""
    if isinstance(exc, BridgeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def build_world(scenario: Scenario, transport: Transport) -> World:
    g = scenario.given
    mailbox = None
    if g.get("mailbox", True):
        mailbox = _shared_mailbox() if transport == "inprocess" else None
        if mailbox is None:
            mailbox = MailboxSimulator()
            mailbox.start_smtp()
    world = World.build(
        seed=int(g.get("seed", 0)),
        mailbox=mailbox,
        transport=transport,
        polls_to_deliver=int(g.get("polls_to_deliver", 1)),
        delivery_seconds=float(g.get("delivery_seconds", 60.0)),
        reuse=transport == "inprocess",
        maestro=bool(g.get("maestro", True)),
        severa_client=1 if g.get("severa_client") == "limited" else 0,
    )
    return world


def run_scenario(
    scenario: Scenario,
    transport: Transport = "inprocess",
    *,
    keep_world: bool = False,
    snapshots: bool = False,
    on_event: Callable[[Any], None] | None = None,
) -> RunResult:
    """Run ``scenario``; never raises for anything the scenario does (see ``RunResult.outcome``)."""
    started = time.perf_counter()
    result = RunResult(scenario, transport)
    world = build_world(scenario, transport)
    timeline = result.timeline
    ctx = Context(world, timeline)
    collector = _Collector(world, timeline)
    try:
        timeline.step = 0
        timeline.add(
            "step",
            "given: " + ", ".join(f"{k}={v}" for k, v in scenario.given.items())
            if scenario.given
            else "given: the demo world",
        )
        for action in scenario.setup:
            record = _run_step(ctx, action, 0)
            collector.collect()
            _shown(timeline, record)
            if not record.ok:
                result.outcome, result.failing_step = "error", record
                result.steps.append(record)
                return result
        for rule in scenario.faults:
            world.sims[str(rule["service"])].add_fault({k: v for k, v in rule.items() if k != "service"})
            timeline.add(
                "note", f"fault rule on {rule['service']}: {rule.get('match')} -> {rule.get('effect')}"
            )
        collector.collect()
        if snapshots:
            result.steps.append(StepRecord(0, "given", "", 0, True, state=_snapshot(world)))
        for index, action in enumerate(scenario.when, start=1):
            timeline.step = index
            record = _run_step(ctx, action, index)
            collector.collect()
            _shown(timeline, record)
            if snapshots:
                record.state = _snapshot(world)
            result.steps.append(record)
            if not record.ok:
                result.outcome = "failed" if record.expected_error else "error"
                result.failing_step = record
                return result
        timeline.step = len(scenario.when) + 1
        for index, action in enumerate(scenario.then, start=1):
            verdict = Verdict(index, action.name, action.source, action.line, True)
            try:
                diffs = action.word.run(ctx, action.args)
            except StepFailed as exc:
                verdict.ok, verdict.error = False, str(exc)
            except Exception as exc:  # a check that cannot look is a failed check, not a crash
                verdict.ok, verdict.error = False, f"{type(exc).__name__}: {exc}"
            else:
                verdict.diffs = list(diffs)
                verdict.ok = not verdict.diffs
            result.verdicts.append(verdict)
        if not all(v.ok for v in result.verdicts):
            result.outcome = "failed"
        return result
    except Exception as exc:  # the engine itself: say so, keep the detail for developers
        result.outcome = "error"
        result.detail = traceback.format_exc()
        result.failing_step = StepRecord(
            timeline.step, "engine", "", 0, False, f"{type(exc).__name__}: {exc}"
        )
        return result
    finally:
        result.seconds = time.perf_counter() - started
        if keep_world:
            result.world = world
        else:
            world.close()
            if transport == "server" and world.mailbox is not None and world.mailbox is not _MAILBOX:
                world.mailbox.stop_smtp()


def _run_step(ctx: Context, action: Action, index: int) -> StepRecord:
    args = dict(action.args)
    expect_exact = args.pop("fails_with", None)
    expect_part = args.pop("fails_containing", None)
    say = args.pop("say", None)
    name_as = args.pop("as", None)
    label = f"{index}." if index else "setup:"
    first = action.source.splitlines()[0].removeprefix("- ") if action.source else action.name
    ctx.timeline.add("step", f"{label} {first}", say=say, line=action.line)
    record = StepRecord(index, action.name, action.source, action.line, True)
    try:
        action.word.run(ctx, args)
    except StepFailed as exc:
        record.ok, record.error = False, str(exc)
        record.shown = f"the step could not run: {exc}"
        return record
    except Crash as exc:
        ctx.crashed = True
        record.shown = f"the bridge process died: {exc}"
    except Exception as exc:
        text = _user_error(exc)
        ctx.last_error = text
        record.shown = text
        if expect_exact is None and expect_part is None:
            record.ok, record.error = False, f"the step failed: {text}"
            return record
        if (expect_exact is not None and text != str(expect_exact)) or (
            expect_part is not None and str(expect_part) not in text
        ):
            record.ok, record.expected_error = False, True
            want = expect_exact if expect_exact is not None else f"… {expect_part} …"
            record.error = f"expected the error {want!r}, got {text!r}"
        return record
    else:
        if expect_exact is not None or expect_part is not None:
            record.ok, record.expected_error = False, True
            record.error = f"expected the step to fail with {expect_exact or expect_part!r}, but it succeeded"
            return record
    if name_as is not None:
        created = ctx.results.pop("created", None)
        if created is None:
            record.ok, record.error = False, f"'as: {name_as}': the step created no invoice to name"
            return record
        ctx.names[str(name_as)] = created
    return record


def _shown(timeline: Timeline, record: StepRecord) -> None:
    if record.shown is None:
        return
    if record.shown.startswith("the bridge process died"):
        timeline.add("crash", record.shown)
    else:
        timeline.add("error", record.shown, expected=record.ok or record.expected_error)


def _snapshot(world: World) -> dict[str, Any]:
    """The whole world after a step (services, mailbox, the bridge's store)."""
    return world.export_state()
