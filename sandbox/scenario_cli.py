"""`severa-sandbox scenario ...`: the scenario catalogue for support staff, CI and demos.

    severa-sandbox scenario list [--tag T] [--covers ID] [--json]
    severa-sandbox scenario show ID|FILE
    severa-sandbox scenario run ID|FILE [--transport inprocess|server] [--verbose] [--json]
    severa-sandbox scenario export ID|FILE --out bundle.json [--transport ...]
    severa-sandbox scenario replay bundle.json [--json]

`run` prints the timeline (with `--verbose` every HTTP exchange too), the customer-visible error
texts highlighted, and the verdict of every expectation. Exit codes: 0 the scenario passed (or
the listing/showing worked), 1 it failed, 2 a usage or file problem (a broken scenario file lists
every mistake with file:line:column).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from scenarios.loader import ScenarioError
from scenarios.model import TAGS, Scenario, parse_scenario

__all__ = ["CATALOGUE", "add_parser", "catalogue", "cmd_scenario", "find_scenario"]

from scenarios.pytest_catalogue import CATALOGUE


class ScenarioCliError(Exception):
    """One line for the user, exit code 2."""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "scenario",
        help="the scenario catalogue: list, show, run, export and replay reproduction bundles",
        description="Scenarios reproduce one behaviour or one customer error end to end (exit 0 passed, "
        "1 failed, 2 usage or file problem).",
    )
    actions = p.add_subparsers(dest="scenario_command", required=True, metavar="ACTION")
    ls = actions.add_parser("list", help="the catalogue, filtered by tag or behaviour ID")
    ls.add_argument("--tag", choices=TAGS, help="only scenarios with this tag")
    ls.add_argument("--covers", metavar="ID", help="only scenarios covering this behaviour (e.g. MV-14)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    show = actions.add_parser("show", help="one scenario's file")
    show.add_argument("scenario", help="a scenario id or a YAML file")
    run = actions.add_parser("run", help="run one scenario and show its timeline and verdicts")
    run.add_argument("scenario", help="a scenario id or a YAML file")
    run.add_argument("--transport", choices=("inprocess", "server"), default="inprocess")
    run.add_argument("--verbose", action="store_true", help="show every HTTP exchange too")
    run.add_argument("--json", action="store_true", help="the result as JSON (timeline, verdicts)")
    export = actions.add_parser(
        "export", help="run a scenario and write a reproduction bundle (secrets redacted)"
    )
    export.add_argument("scenario", help="a scenario id or a YAML file")
    export.add_argument("--out", required=True, metavar="FILE", help="where to write the bundle (JSON)")
    export.add_argument("--transport", choices=("inprocess", "server"), default="inprocess")
    replay = actions.add_parser("replay", help="run a bundle again here and compare the verdicts")
    replay.add_argument("bundle", help="a bundle written by `scenario export`")
    replay.add_argument("--json", action="store_true", help="the comparison as JSON")
    return p


def catalogue() -> tuple[list[Scenario], list[ScenarioError]]:
    found, broken = [], []
    for path in sorted(CATALOGUE.glob("*.yaml")):
        try:
            found.append(parse_scenario(path))
        except ScenarioError as exc:
            broken.append(exc)
    return found, broken


def find_scenario(ref: str) -> Scenario:
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioCliError(f"{ref}: no such scenario file")
        return parse_scenario(path)
    scenarios, _ = catalogue()
    for s in scenarios:
        if s.id == ref:
            return s
    import difflib

    near = difflib.get_close_matches(ref, [s.id for s in scenarios], n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(near)}?" if near else "; see `severa-sandbox scenario list`"
    raise ScenarioCliError(f"no scenario {ref!r} in the catalogue ({CATALOGUE}){hint}")


def cmd_scenario(args: argparse.Namespace) -> int:
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        return _ACTIONS[args.scenario_command](args, out)
    except ScenarioError as exc:
        err.print(
            f"severa-sandbox scenario {args.scenario_command}: {len(exc.problems)} mistake(s) in the scenario file:",
            markup=False,
        )
        for p in exc.problems:
            err.print(f"  {p}", markup=False)
        return 2
    except ScenarioCliError as exc:
        err.print(f"severa-sandbox scenario {args.scenario_command}: error: {exc}", markup=False)
        return 2


def _list(args: argparse.Namespace, out: Console) -> int:
    scenarios, broken = catalogue()
    picked = [
        s
        for s in scenarios
        if (args.tag is None or args.tag in s.tags)
        and (args.covers is None or args.covers.upper() in s.covers)
    ]
    if args.json:
        out.print_json(
            json.dumps(
                [
                    {"id": s.id, "title": s.title, "covers": s.covers, "tags": s.tags, "file": str(s.path)}
                    for s in picked
                ]
            )
        )
    else:
        # one scenario per two lines: the id (what the other commands take) is never cut or
        # wrapped at any terminal width, the title (the customer's words) wraps under it
        out.print(f"{len(picked)} scenario(s)", markup=False)
        for s in picked:
            line = Text(s.id, style="bold")
            line.append(f"  {', '.join(s.covers)}", style="cyan")
            line.append(f"  [{', '.join(s.tags)}]", style="dim")
            out.print(line, overflow="ignore", crop=False)
            out.print(Padding(Text(s.title), (0, 0, 0, 4)))
    for exc in broken:
        for p in exc.problems:
            Console(stderr=True).print(f"broken scenario file: {p}", markup=False)
    if args.covers and not picked:
        raise ScenarioCliError(f"no scenario covers {args.covers}")
    return 2 if broken else 0


def _show(args: argparse.Namespace, out: Console) -> int:
    s = find_scenario(args.scenario)
    out.print(f"# {s.path}", markup=False)
    out.print(s.text, markup=False)
    return 0


def _run(args: argparse.Namespace, out: Console) -> int:
    from scenarios.engine import run_scenario
    from scenarios.render import print_result

    s = find_scenario(args.scenario)
    result = run_scenario(s, args.transport)
    if args.json:
        out.print_json(json.dumps(result.to_json(), default=str))
    else:
        print_result(out, result, verbose=args.verbose)
    return 0 if result.passed else 1


def _export(args: argparse.Namespace, out: Console) -> int:
    from scenarios.bundle import BundleError, export_bundle
    from scenarios.engine import run_scenario

    s = find_scenario(args.scenario)
    result = run_scenario(s, args.transport, keep_world=True, snapshots=True)
    try:
        path = export_bundle(result, args.out)
    except (BundleError, OSError) as exc:
        raise ScenarioCliError(f"{args.out}: {exc}") from exc
    finally:
        if result.world is not None:
            result.world.close()
    out.print(
        f"{s.id}: {result.outcome}; bundle written to {path} (secrets replaced by placeholders)", markup=False
    )
    return 0


def _replay(args: argparse.Namespace, out: Console) -> int:
    from scenarios.bundle import BundleError, replay_bundle

    try:
        replay = replay_bundle(args.bundle)
    except BundleError as exc:
        raise ScenarioCliError(str(exc)) from exc
    if args.json:
        out.print_json(
            json.dumps(
                {
                    "same_verdicts": replay.same_verdicts,
                    "outcome": replay.result.outcome,
                    "differences": replay.differences,
                    "first_divergent_step": replay.first_divergent_step,
                }
            )
        )
    else:
        s = replay.result.scenario
        out.print(f"{s.id}: {replay.result.outcome} here", markup=False)
        if replay.same_verdicts:
            out.print("the same verdicts as in the bundle", markup=False)
        for d in replay.differences:
            out.print(f"differs: {d}", markup=False)
        if replay.first_divergent_step is not None:
            step = next((st for st in replay.result.steps if st.index == replay.first_divergent_step), None)
            out.print(
                f"the state first diverges after step {replay.first_divergent_step}"
                + (f": {step.source.splitlines()[0]}" if step and step.source else ""),
                markup=False,
            )
    return 0 if replay.same_verdicts else 1


_ACTIONS = {"list": _list, "show": _show, "run": _run, "export": _export, "replay": _replay}
