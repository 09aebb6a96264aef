"""The vocabulary of scenarios: every step (``when``, ``given.setup``) and every expectation
(``then``), with its parameters, checked when a file is loaded.

Steps and expectations are registered by ``scenarios.steps`` and ``scenarios.checks`` with the
``step`` and ``check`` decorators; ``reference()`` renders the whole vocabulary as the reference
page (``scenarios/REFERENCE.md``, kept in sync by a test).

A parameter's ``kind`` is one of:

* ``text``, ``int``, ``number``, ``bool``; ``choice`` (one of ``choices``); ``texts`` (a list of
  text); ``mapping`` (free-form, e.g. a fault rule's ``effect``);
* ``invoice``: an invoice named earlier with ``as:``, or a Severa invoice number (``10001``);
* ``duration``: seconds, or text like ``90 s``, ``61 min``, ``2 h``, ``1 day``;
* ``rows``: invoice rows, each ``{product|work_type|travel_expense: code, quantity: n}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scenarios.loader import Located, Problem, closest, kind_of

__all__ = ["CHECKS", "STEPS", "Param", "Word", "check", "duration_seconds", "reference", "step"]

KINDS = (
    "text",
    "int",
    "number",
    "bool",
    "choice",
    "texts",
    "mapping",
    "invoice",
    "duration",
    "rows",
    "steps",
    "faults",
)
ROW_KINDS = ("product", "work_type", "travel_expense")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "text"
    required: bool = False
    doc: str = ""
    choices: tuple[str, ...] = ()
    default: Any = None

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    def form(self) -> str:
        """How the value is written, for messages and the reference page."""
        return {
            "text": "text",
            "int": "a whole number",
            "number": "a number",
            "bool": "true or false",
            "choice": "one of " + ", ".join(self.choices),
            "texts": "a list of text",
            "mapping": "a mapping",
            "invoice": "an invoice name (given with as:) or a Severa invoice number",
            "duration": "seconds or e.g. '61 min', '2 h', '1 day'",
            "rows": "a list of rows like {product: KONS, quantity: 2}",
            "steps": "a list of steps",
            "faults": "a list of fault rules",
        }[self.kind]


@dataclass(frozen=True)
class Word:
    """One step or expectation."""

    name: str
    doc: str
    params: tuple[Param, ...]
    run: Callable[..., Any]
    group: str
    covers: tuple[str, ...] = ()
    shorthand: str | None = None  # the parameter a bare value fills (``advance: 3600``)
    extras: tuple[Param, ...] = field(default=())  # keys allowed next to the word (fails_with, as)

    def param(self, name: str) -> Param | None:
        return next((p for p in (*self.params, *self.extras) if p.name == name), None)


STEPS: dict[str, Word] = {}
CHECKS: dict[str, Word] = {}

#: keys every step may carry next to its own name
STEP_EXTRAS = (
    Param("fails_with", "text", doc="the step must fail with exactly this error text (what the user sees)"),
    Param("fails_containing", "text", doc="the step must fail with an error containing this text"),
    Param("say", "text", doc="narration for the demo and the timeline"),
    Param("as", "text", doc="a name for what the step creates (an invoice), to refer to it later"),
)


def _register(
    into: dict[str, Word], extras: tuple[Param, ...]
) -> Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]:
    def decorator(
        name: str,
        *,
        group: str,
        doc: str,
        params: tuple[Param, ...] = (),
        covers: tuple[str, ...] = (),
        shorthand: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            into[name] = Word(name, doc, params, fn, group, covers, shorthand, extras)
            return fn

        return register

    return decorator


#: ``@step(name, group=..., doc=..., params=(...), covers=(...), shorthand=...)`` registers a step
step = _register(STEPS, STEP_EXTRAS)
#: ``@check(...)``: the same for an expectation of ``then``
check = _register(CHECKS, ())


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|seconds?|min|minutes?|h|hours?|d|days?)?\s*$", re.I)


def duration_seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            unit = (m.group(2) or "s").lower()[0]
            return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return None


def check_value(param: Param, loc: Located, problems: list[Problem]) -> None:
    """Append a problem when ``loc`` is not a valid value of ``param``."""
    v = loc.value

    def bad() -> None:
        problems.append(loc.problem(f"{param.name}: expected {param.form()}, got {kind_of(loc.plain())}"))

    if (
        (param.kind == "text" and not isinstance(v, str | int | float))
        or (param.kind == "int" and (isinstance(v, bool) or not isinstance(v, int)))
        or (param.kind == "number" and (isinstance(v, bool) or not isinstance(v, int | float)))
        or (param.kind == "bool" and not isinstance(v, bool))
    ):
        bad()
    elif param.kind == "choice" and (not isinstance(v, str) or v not in param.choices):
        if isinstance(v, str):
            problems.append(
                loc.problem(
                    f"{param.name}: {v!r} is not one of {', '.join(param.choices)}"
                    + closest(v, list(param.choices))
                )
            )
        else:
            bad()
    elif (
        (
            param.kind == "texts"
            and not (isinstance(v, list) and all(isinstance(i.value, str | int) for i in v))
        )
        or (param.kind == "mapping" and not isinstance(v, dict))
        or (param.kind == "invoice" and (isinstance(v, bool) or not isinstance(v, str | int)))
        or (param.kind == "duration" and duration_seconds(v) is None)
    ):
        bad()
    elif param.kind == "rows":
        if not isinstance(v, list):
            bad()
            return
        for row in v:
            if not isinstance(row.value, dict):
                problems.append(
                    row.problem(
                        f"a row must be a mapping like {{product: KONS, quantity: 2}}, got {kind_of(row.plain())}"
                    )
                )
                continue
            kinds = [k for k in row.value if k in ROW_KINDS]
            unknown = [k for k in row.value if k not in (*ROW_KINDS, "quantity", "price")]
            for k in unknown:
                problems.append(
                    row.keys[k].problem(
                        f"unknown row key {k!r}" + closest(k, [*ROW_KINDS, "quantity", "price"])
                    )
                )
            if len(kinds) != 1:
                problems.append(
                    row.problem("a row names exactly one of product, work_type, travel_expense (its code)")
                )
            q = row.value.get("quantity")
            if q is not None and (isinstance(q.value, bool) or not isinstance(q.value, int | float)):
                problems.append(q.problem(f"quantity: expected a number, got {kind_of(q.plain())}"))


def check_word(
    words: dict[str, Word], what: str, item: Located, problems: list[Problem]
) -> tuple[Word, dict[str, Any]] | None:
    """Validate one list item of ``when``/``then``; returns the word and its plain arguments."""
    extra: dict[str, Any] = {}
    args: Located | None
    if isinstance(item.value, str):
        name, args = item.value, None
        if name not in words:
            problems.append(item.problem(f"unknown {what} {name!r}" + closest(name, list(words))))
            return None
    elif isinstance(item.value, dict):
        names = [k for k in item.value if k in words]
        extra_keys = [k for k in item.value if k not in words]
        if len(names) != 1:
            if not names:
                first = next(iter(item.value), "")
                where = item.keys.get(first, item)
                problems.append(where.problem(f"unknown {what} {first!r}" + closest(first, list(words))))
            else:
                problems.append(item.problem(f"one {what} per list item, got {', '.join(names)}"))
            return None
        name = names[0]
        args = item.value[name]
        word = words[name]
        for k in extra_keys:
            p = next((e for e in word.extras if e.name == k), None)
            if p is None:
                problems.append(
                    item.keys[k].problem(
                        f"{name}: unknown key {k!r} next to the {what}"
                        + closest(k, [e.name for e in word.extras] or [name])
                    )
                )
                continue
            check_value(p, item.value[k], problems)
            extra[k] = item.value[k].plain()
    else:
        problems.append(
            item.problem(
                f"a {what} is a name or a mapping like '- name: {{...}}', got {kind_of(item.plain())}"
            )
        )
        return None
    word = words[name]
    values: dict[str, Any] = {}
    if args is None or args.value is None:
        pass
    elif isinstance(args.value, dict):
        for key, loc in args.value.items():
            p = next((x for x in word.params if x.name == key), None)
            if p is None:
                problems.append(
                    args.keys[key].problem(
                        f"{name}: unknown parameter {key!r}" + closest(key, [x.name for x in word.params])
                    )
                )
                continue
            check_value(p, loc, problems)
            values[key] = loc.plain()
    elif word.shorthand is not None:
        p = next(x for x in word.params if x.name == word.shorthand)
        check_value(p, args, problems)
        values[p.name] = args.plain()
    else:
        problems.append(
            args.problem(
                f"{name}: expected parameters like {{{', '.join(p.name + ': ...' for p in word.params[:2])}}}, got {kind_of(args.plain())}"
            )
        )
        return None
    for p in word.params:
        if p.required and p.name not in values:
            problems.append(item.problem(f"{name}: {p.name} is required ({p.form()})"))
    return word, {**values, **extra}


def reference() -> str:
    """The vocabulary as a Markdown page (``scenarios/REFERENCE.md``)."""
    from scenarios import checks, steps  # noqa: F401  (registers the words)

    out = [
        "# Scenario vocabulary",
        "",
        "Generated from the code (`python -m scenarios.reference`); a test fails when this page is stale.",
        "",
        "A scenario file (`scenarios/catalogue/*.yaml`) has `id`, `title` (in the customer's words),",
        "`covers` (behaviour IDs of SPEC §2), `tags` (`ci`, `demo`, `support`), `given`, `when` and `then`.",
        "",
        "## given",
        "",
    ]
    from scenarios.model import GIVEN_KEYS

    for p in GIVEN_KEYS:
        out.append(f"- `{p.name}` ({p.form()}){' — ' + p.doc if p.doc else ''}")
    out += ["", "## Steps (`when`, `given.setup`)", "", "Every step may also carry:", ""]
    out += [f"- `{p.name}`: {p.doc}" for p in STEP_EXTRAS]
    for title, words in (("", STEPS), ("## Expectations (`then`)", CHECKS)):
        if title:
            out += ["", title]
        groups: dict[str, list[Word]] = {}
        for w in words.values():
            groups.setdefault(w.group, []).append(w)
        for group in sorted(groups):
            out += ["", f"### {group}", ""]
            for w in sorted(groups[group], key=lambda x: x.name):
                covers = f" (covers {', '.join(w.covers)})" if w.covers else ""
                short = f" Shorthand: `{w.name}: <{w.shorthand}>`." if w.shorthand else ""
                out.append(f"- **`{w.name}`**{covers}: {w.doc}{short}")
                for p in w.params:
                    req = "required" if p.required else "optional"
                    out.append(f"  - `{p.name}` ({p.form()}, {req}){': ' + p.doc if p.doc else ''}")
    return "\n".join(out) + "\n"
