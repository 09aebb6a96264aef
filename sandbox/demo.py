"""`severa-sandbox demo` (and `make demo`): the demo-tagged scenarios told as one story, then exit 0.

The story follows the two help articles (Asetukset > Integraatiot > Maventa/AutoInvoice, and the
Maestro integration): register to Maventa → the authentication request and the approver signing →
the settings, the "Sent" flag error and its fix, activation → invoices out by e-invoice, e-mail
and print (with a cover page) → the Maestro transfer, with the row that would land on A/0 found
first by the code audit. Each chapter is a scenario of ``scenarios/catalogue`` run on the one world
(in-process, in a fraction of a second); the narration is the scenarios' own ``say:`` lines, the
transfer log and what each service did. Any chapter that does not go as written ends the demo with
exit code 1 and the reason.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from scenarios.engine import RunResult, run_scenario
from scenarios.model import Scenario
from scenarios.timeline import Event

#: The demo-tagged scenarios in the order of the story (a test checks every demo scenario is here).
STORY = (
    "mv01-register-new-account",
    "mv03-authentication-request-and-signing",
    "mv14-activation-refused-sent-flag",
    "mv08-email-on",
    "mv07-print-own-pdf-cover-page",
    "ma-demo-audit-then-transfer",
)
_SHOWN = {"step", "error", "log", "mail", "outbox", "note", "actor", "pass", "crash"}


def story() -> list[Scenario]:
    from sandbox.scenario_cli import catalogue

    found, _ = catalogue()
    by_id = {s.id: s for s in found}
    missing = [i for i in STORY if i not in by_id]
    if missing:
        raise LookupError(f"the demo story needs scenario(s) {', '.join(missing)} in scenarios/catalogue")
    return [by_id[i] for i in STORY]


def _narrate(console: Console, e: Event) -> None:
    if e.kind == "step":
        say = e.detail.get("say")
        if say:
            console.print(f"   [bold]{escape(str(say))}[/]", soft_wrap=True)
        return
    style = {"error": "bold red", "mail": "cyan", "outbox": "cyan", "crash": "magenta", "pass": "green"}.get(
        e.kind, ""
    )
    if e.kind == "log" and "WARNING" in e.text:
        style = "yellow"
    text = escape(e.text)
    console.print(f"     {f'[{style}]{text}[/]' if style else text}", soft_wrap=True)


def run_demo(console: Console) -> int:
    try:
        chapters = story()
    except LookupError as exc:
        console.print(f"[bold red]demo failed:[/] {escape(str(exc))}")
        return 1
    total = 0.0
    for n, scenario in enumerate(chapters, start=1):
        console.rule(f"[bold]{n}. {escape(scenario.title)}")
        if scenario.description:
            console.print(f"[dim]{escape(' '.join(scenario.description.split()))}[/]", soft_wrap=True)
        result: RunResult = run_scenario(scenario)
        total += result.seconds
        for e in result.timeline:
            if e.kind in _SHOWN and (e.step > 0 or e.kind == "step"):
                if e.kind == "step" and e.step == 0:
                    continue
                _narrate(console, e)
        held = sum(1 for v in result.verdicts if v.ok)
        if not result.passed:
            from scenarios.render import failure_text

            console.print(f"[bold red]demo failed in chapter {n}:[/]")
            console.print(escape(failure_text(result)), soft_wrap=True)
            return 1
        console.print(
            f"   [green]✔ {held} of {len(result.verdicts)} checks held[/] ({', '.join(scenario.covers)})"
        )
    console.rule(f"[bold green]demo finished: {len(chapters)} chapters in {total:.1f} s")
    return 0
