"""A scenario as data: ``id``, ``title``, ``covers``, ``tags``, ``given``, ``when``, ``then``.

``parse_scenario(path)`` reads and checks a file against the vocabulary and returns a
``Scenario``, or raises ``ScenarioError`` with every mistake of the file (``file:line:column``,
what was expected, "did you mean").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarios.loader import Located, Problem, ScenarioError, closest, kind_of, load_yaml
from scenarios.vocabulary import CHECKS, STEPS, Param, Word, check_value, check_word

__all__ = ["GIVEN_KEYS", "TAGS", "Action", "Scenario", "parse_scenario"]

TAGS = ("ci", "demo", "support", "slow", "server")
BEHAVIOUR = re.compile(r"^(MV-(1[0-4]|[1-9])|MA-[1-8]|X-[1-5])$")
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,80}$")

GIVEN_KEYS: tuple[Param, ...] = (
    Param("seed", "int", doc="seed of the demo data (same seed, same world); default 0"),
    Param("maestro", "bool", doc="whether the bridge runs the Maestro connector (default true)"),
    Param("mailbox", "bool", doc="catch the bridge's e-mail in the SMTP mailbox (default true)"),
    Param(
        "severa_client",
        "choice",
        doc="which Severa API client the bridge uses: full, or limited (no customers:read / users:read, MA-4)",
        choices=("full", "limited"),
    ),
    Param("polls_to_deliver", "int", doc="Maventa: polls before a sent invoice is delivered (default 1)"),
    Param(
        "delivery_seconds", "number", doc="Maventa: seconds before a sent invoice is delivered (default 60)"
    ),
    Param("setup", "mapping", doc="a list of steps that build the starting point (not part of the story)"),
    Param(
        "faults",
        "mapping",
        doc="a list of fault rules ({service, match, effect, trigger}) in force from the start",
    ),
)


@dataclass(frozen=True)
class Action:
    """One step or expectation as written: the word, its arguments and where it is."""

    word: Word
    args: dict[str, Any]
    line: int
    end_line: int
    source: str  # the item's YAML text, shown when it fails

    @property
    def name(self) -> str:
        return self.word.name


@dataclass
class Scenario:
    id: str
    title: str
    covers: list[str]
    tags: list[str]
    given: dict[str, Any]
    setup: list[Action]
    when: list[Action]
    then: list[Action]
    path: Path
    text: str
    description: str = ""
    faults: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seed(self) -> int:
        return int(self.given.get("seed", 0))


_TOP = ("id", "title", "covers", "tags", "description", "given", "when", "then")


def _source(text: str, item: Located) -> str:
    lines = text.splitlines()
    first, last = item.line - 1, max(item.end_line - 1, item.line)
    chunk = lines[first:last] or lines[first : first + 1]
    indent = min((len(x) - len(x.lstrip()) for x in chunk if x.strip()), default=0)
    return "\n".join(x[indent:] for x in chunk).rstrip()


def _actions(
    loc: Located | None,
    words: dict[str, Word],
    what: str,
    text: str,
    problems: list[Problem],
    *,
    required: bool,
) -> list[Action]:
    if loc is None or loc.value is None:
        if required:
            problems.append(
                Problem(loc.file if loc else "", loc.line if loc else 1, 1, f"{what} needs at least one item")
            )
        return []
    if not loc.is_list:
        problems.append(loc.problem(f"{what} must be a list of items ('- ...'), got {kind_of(loc.plain())}"))
        return []
    out = []
    for item in loc.value:
        checked = check_word(words, "step" if words is STEPS else "expectation", item, problems)
        if checked is not None:
            word, args = checked
            out.append(Action(word, args, item.line, item.end_line, _source(text, item)))
    if required and not loc.value:
        problems.append(loc.problem(f"{what} needs at least one item"))
    return out


def parse_scenario(path: Path | str, text: str | None = None) -> Scenario:
    """Load and check a scenario file; raises ``ScenarioError`` listing every mistake."""
    from scenarios import checks, steps  # noqa: F401  (registers the vocabulary)

    p = Path(path)
    if text is None:
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError([Problem(str(p), 1, 1, f"cannot read the file: {exc}")]) from None
    root = load_yaml(p, text)
    problems: list[Problem] = []
    if not root.is_mapping:
        raise ScenarioError(
            [
                root.problem(
                    f"a scenario file is a mapping with {', '.join(_TOP)}; got {kind_of(root.plain())}"
                )
            ]
        )
    top: dict[str, Located] = root.value
    for key in top:
        if key not in _TOP:
            problems.append(root.keys[key].problem(f"unknown key {key!r}" + closest(key, list(_TOP))))
    for key in ("id", "title", "when", "then"):
        if key not in top:
            problems.append(root.problem(f"the scenario has no {key!r}"))

    def text_of(key: str) -> str:
        loc = top.get(key)
        if loc is None:
            return ""
        if not isinstance(loc.value, str) or not loc.value.strip():
            problems.append(loc.problem(f"{key}: expected text, got {kind_of(loc.plain())}"))
            return ""
        return loc.value.strip()

    sid = text_of("id")
    if sid and not ID.match(sid):
        problems.append(
            top["id"].problem(f"id: {sid!r} must be letters, digits, '.', '_' or '-' (2-81 characters)")
        )
    title = text_of("title")
    description = text_of("description") if "description" in top else ""
    covers: list[str] = []
    tags: list[str] = []
    for key, out, check in (("covers", covers, BEHAVIOUR.match), ("tags", tags, lambda t: t in TAGS)):
        loc = top.get(key)
        if loc is None:
            continue
        if not loc.is_list:
            problems.append(
                loc.problem(
                    f"{key}: expected a list like [MV-14]"
                    if key == "covers"
                    else f"{key}: expected a list of {', '.join(TAGS)}"
                )
            )
            continue
        for item in loc.value:
            if not isinstance(item.value, str) or not check(item.value):
                known = (
                    "a behaviour ID of SPEC §2 (MV-1..MV-14, MA-1..MA-8, X-1..X-5)"
                    if key == "covers"
                    else ", ".join(TAGS)
                )
                problems.append(item.problem(f"{key}: {item.plain()!r} is not {known}"))
            else:
                out.append(item.value)
    given: dict[str, Any] = {}
    setup: list[Action] = []
    faults: list[dict[str, Any]] = []
    gloc = top.get("given")
    if gloc is not None and gloc.value is not None:
        if not gloc.is_mapping:
            problems.append(gloc.problem(f"given: expected a mapping, got {kind_of(gloc.plain())}"))
        else:
            for key, loc in gloc.value.items():
                spec = next((g for g in GIVEN_KEYS if g.name == key), None)
                if spec is None:
                    problems.append(
                        gloc.keys[key].problem(
                            f"given: unknown key {key!r}" + closest(key, [g.name for g in GIVEN_KEYS])
                        )
                    )
                elif key == "setup":
                    setup = _actions(loc, STEPS, "given.setup", text, problems, required=False)
                elif key == "faults":
                    faults = _fault_list(loc, problems)
                else:
                    check_value(spec, loc, problems)
                    given[key] = loc.plain()
    when = _actions(top.get("when"), STEPS, "when", text, problems, required="when" in top)
    then = _actions(top.get("then"), CHECKS, "then", text, problems, required="then" in top)
    if problems:
        raise ScenarioError(problems)
    return Scenario(sid, title, covers, tags, given, setup, when, then, p, text, description, faults)


FAULT_KEYS = ("service", "match", "effect", "trigger")


def fault_rule_problem(rule: dict[str, Any]) -> str | None:
    """What is wrong with a fault rule, in the fakes' own words (None when it is valid)."""
    from simulators.kit.faults import FaultRuleError, parse_rule

    try:
        parse_rule(rule, 0)
    except FaultRuleError as exc:
        return str(exc)
    return None


SERVICES = ("severa", "maventa", "maestro")


def _fault_list(loc: Located, problems: list[Problem]) -> list[dict[str, Any]]:
    if not loc.is_list:
        problems.append(
            loc.problem("faults: expected a list of fault rules ({service, match, effect, trigger})")
        )
        return []
    out = []
    for item in loc.value:
        if not item.is_mapping:
            problems.append(item.problem(f"a fault rule is a mapping with {', '.join(FAULT_KEYS)}"))
            continue
        for key in item.value:
            if key not in FAULT_KEYS:
                problems.append(
                    item.keys[key].problem(f"fault: unknown key {key!r}" + closest(key, list(FAULT_KEYS)))
                )
        service = item.value.get("service")
        if service is None or service.value not in SERVICES:
            where = service or item
            problems.append(where.problem(f"fault: service must be one of {', '.join(SERVICES)}"))
        for key in ("match", "effect"):
            if key not in item.value or not item.value[key].is_mapping:
                problems.append((item.value.get(key) or item).problem(f"fault: {key} must be a mapping"))
        rule = {k: v for k, v in item.plain().items() if k != "service"}
        error = fault_rule_problem(rule)
        if error:
            problems.append(item.problem(f"fault: {error} (see GET /_sim/faults of the fake)"))
        out.append(item.plain())
    return out
