"""`severa-sandbox bridge sync | run | reset`: passes over every connector, and starting over.

``sync`` is one pass (``bridge sync --once``), ``run`` passes until Ctrl-C (or ``--passes N``);
both report per connector (``PassReport.line(name)``: Maventa, and Maestro when it is
configured) and, with ``--json``, the counters per connector and in total. A pass that reported
problems (a service down, a step deferred to the next pass) exits 2 after its warnings.
``reset`` deletes the bridge's store ([store] path) when it belongs to a world that is gone.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from bridge.config import Config
from sandbox.bridge_errors import Session
from sandbox.cli_support import EXIT_OK, UsageError, one_line, print_json

if TYPE_CHECKING:
    from bridge.app import Bridge
    from bridge.transfer import PassReport

__all__ = ["reset", "run", "sync"]


def _pass_json(b: Bridge, report: PassReport, **extra: Any) -> dict[str, Any]:
    from bridge.transfer import Counts
    from bridge.transfer.report import COUNTERS

    connectors: dict[str, Any] = {"maventa": None, "maestro": None}
    for c in b.engine.connectors:
        connectors[c.name] = asdict(report.by_connector.get(c.name, Counts()))
    return {
        **extra,
        "connectors": connectors,
        "totals": {name: getattr(report, name) for name in COUNTERS},
        "problems": list(report.problems),
    }


def _pass_lines(b: Bridge, report: PassReport, active: bool) -> list[str]:
    lines = []
    for c in b.engine.connectors:
        line = report.line(c.name)
        if c.name == "maventa" and not active and line == "nothing to do":
            line += " (no company has the synchronisation switched on: bridge maventa activate)"
        lines.append(f"{c.title}: {line}")
    if b.maestro is None:
        lines.append("Maestro: not configured ([maestro] api_key)")
    return lines


def sync(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    from bridge.errors import BridgeError

    active = bool(b.store.companies.all(active=True))
    if not active and b.maestro is None:
        message = (
            "No company has the synchronisation switched on and Maestro is not configured; nothing to do."
        )
        if args.json:
            from bridge.transfer import PassReport

            print_json(_pass_json(b, PassReport(), ran=False, message=message), out.file)
        else:
            out.print(message)
        return EXIT_OK
    report = b.engine.run_once()
    if args.json:
        print_json(_pass_json(b, report, ran=True), out.file)
    else:
        for line in _pass_lines(b, report, active):
            out.print(line, markup=False)
        for problem in report.problems:
            err.print(f"warning: {one_line(problem)}", markup=False)
    if report.problems:
        raise BridgeError(
            f"the pass reported {len(report.problems)} problem(s)"
            + (' (see "problems" in the JSON)' if args.json else "; see the warnings above")
            + ": what could not be done now is tried again by the next pass"
        )
    return EXIT_OK


def run(
    b: Bridge, args: argparse.Namespace, out: Console, err: Console, sleep: Callable[[float], None]
) -> int:
    interval = b.config.sync.poll_interval if args.interval is None else args.interval
    n = 0
    try:
        while True:
            n += 1
            active = bool(b.store.companies.all(active=True))
            report = b.engine.run_once()
            if args.json:
                print_json(_pass_json(b, report, ran=True, **{"pass": n}), out.file, lines=True)
            else:
                for line in _pass_lines(b, report, active):
                    out.print(f"pass {n}, {line}", markup=False)
                for problem in report.problems:
                    err.print(f"warning: {one_line(problem)}", markup=False)
            if args.passes is not None and n >= args.passes:
                return EXIT_OK
            sleep(interval)
    except KeyboardInterrupt:
        if not args.json:
            out.print(f"stopped after {n} pass(es).")
        return EXIT_OK


# ---------------------------------------------------------------------------------- reset
def reset(config: Config, args: argparse.Namespace, out: Console, session: Session) -> int:
    from bridge.store import Store

    path = config.store.path
    where = f"[store] path in {config.source}" if config.source else "the default [store] path"
    if path == ":memory:":
        return _reset_said(
            args, out, path, False, f'The store is in memory ({where} = ":memory:"): nothing to delete.'
        )
    if not Path(path).exists():
        return _reset_said(args, out, path, False, f"No store at {path} ({where}): nothing to delete.")
    try:
        with Store(path) as store:
            counts = {
                "companies": len(store.companies.all()),
                "ledger_rows": sum(store.ledger.counts().values()),
                "log_lines": len(store.log.entries(limit=None)),
            }
    except Exception as exc:
        raise UsageError(
            f"{path} ({where}) cannot be read as the bridge's store ({exc}); check the path, then delete the "
            "file by hand if it is the store"
        ) from exc
    what = f"{counts['companies']} companies, {counts['ledger_rows']} ledger rows, {counts['log_lines']} log lines"
    if not args.yes:
        raise UsageError(
            f"this deletes the store {path} ({what}): the Maventa registrations, keys and settings kept there "
            f"are lost (nothing changes in Severa, Maventa or Maestro). Run `{session.reset_command()}` to "
            "delete it"
        )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)
    return _reset_said(
        args,
        out,
        path,
        True,
        f"Deleted the store {path} ({what}). The next bridge command starts with an empty store: register "
        "or connect the companies again.",
        counts,
    )


def _reset_said(
    args: argparse.Namespace,
    out: Console,
    path: str,
    deleted: bool,
    message: str,
    counts: dict[str, int] | None = None,
) -> int:
    if args.json:
        print_json({"store": path, "deleted": deleted, **(counts or {}), "message": message}, out.file)
    else:
        out.print(message, markup=False)
    return EXIT_OK
