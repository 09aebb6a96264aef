"""Scenario results for people: plain text (pytest failures, logs) and rich (the CLI).

The customer-visible error texts (what the settings page or the sync showed) are marked, so
support staff can find "the exact error the customer saw" at a glance.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from scenarios.engine import RunResult
from scenarios.timeline import Event

__all__ = ["failure_text", "print_result", "timeline_lines"]

_MARKS = {
    "step": "▶",
    "http": "  ⇄",
    "clock": "  ⏱",
    "pass": "  ⟳",
    "log": "  ≡",
    "mail": "  ✉",
    "outbox": "  ✉",
    "error": "  ✖",
    "crash": "  ☠",
    "note": "  ·",
    "actor": "  ☛",
}


def _line(e: Event) -> str:
    text = f"{_MARKS.get(e.kind, '  ')} {e.text}"
    say = e.detail.get("say") if e.kind == "step" else None
    return text + (f"\n      “{say}”" if say else "")


def timeline_lines(result: RunResult, *, around: int | None = None, http: bool = True) -> list[str]:
    events = result.timeline.around(around, before=1) if around is not None else list(result.timeline)
    return [_line(e) for e in events if http or e.kind != "http"]


def failure_text(result: RunResult) -> str:
    """Why a scenario did not pass: the failing step (its YAML) or the failed expectations with
    field-by-field diffs, and the timeline around it."""
    s = result.scenario
    out = [f"scenario {s.id}: {s.title}", f"  {s.path}", f"  outcome: {result.outcome}"]
    step = result.failing_step
    if step is not None:
        out += [
            "",
            f"step {step.index} (line {step.line}) did not go as written:",
            *_indent(step.source, 4),
            f"  → {step.error}",
        ]
        out += ["", "timeline around it:", *timeline_lines(result, around=step.index)]
    failed = [v for v in result.verdicts if not v.ok]
    for v in failed:
        out += ["", f"expectation {v.index} (line {v.line}) failed:", *_indent(v.source, 4)]
        if v.error:
            out.append(f"  → {v.error}")
        for d in v.diffs:
            out += [f"  {d.field}:", f"      expected: {d.expected!r}", f"      actual:   {d.actual!r}"]
    if failed and step is None:
        last = len(s.when)
        out += ["", "timeline of the last step:", *timeline_lines(result, around=last)]
    if result.detail:
        out += ["", "engine detail:", result.detail]
    return "\n".join(out)


def _indent(text: str, n: int) -> list[str]:
    return [" " * n + line for line in text.splitlines()]


def print_result(console: Console, result: RunResult, *, verbose: bool = False) -> None:
    """The timeline (HTTP exchanges only with ``verbose``) and the verdicts, customer errors highlighted."""
    s = result.scenario
    console.print(
        f"[bold]{escape(s.title)}[/]  [dim]({escape(s.id)}; covers {', '.join(s.covers) or '-'})[/]"
    )
    for e in result.timeline:
        if e.kind == "http" and not verbose:
            continue
        line = Text(_line(e))
        if e.kind == "error":
            line.stylize("bold red")
        elif e.kind == "crash":
            line.stylize("bold magenta")
        elif e.kind == "step":
            line.stylize("bold")
        elif e.kind in ("mail", "outbox"):
            line.stylize("cyan")
        elif e.kind == "log" and "ERROR" in e.text:
            line.stylize("red")
        elif e.kind == "log" and "WARNING" in e.text:
            line.stylize("yellow")
        console.print(line, soft_wrap=True)
    console.print()
    for v in result.verdicts:
        mark = "[green]✔[/]" if v.ok else "[red]✘[/]"
        console.print(f"{mark} {escape(v.source.splitlines()[0].removeprefix('- '))}", soft_wrap=True)
        for d in v.diffs:
            console.print(
                f"    {escape(d.field)}: expected {escape(repr(d.expected))}, got {escape(repr(d.actual))}",
                soft_wrap=True,
            )
        if v.error:
            console.print(f"    {escape(v.error)}", soft_wrap=True)
    if result.failing_step is not None:
        console.print(
            f"[red]step {result.failing_step.index} failed:[/] {escape(result.failing_step.error or '')}",
            soft_wrap=True,
        )
    colour = {"passed": "green", "failed": "red", "error": "red"}[result.outcome]
    console.print(f"[bold {colour}]{result.outcome}[/] in {result.seconds:.2f} s ({result.transport})")
