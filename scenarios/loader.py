"""Reading scenario files: YAML with every value's line and column, and every mistake at once.

A scenario file is checked against the vocabulary (``scenarios.vocabulary``) when it is loaded
(pytest collection, ``scenario list``): unknown keys and steps get "did you mean", wrong types get
the expected form, and all problems of a file come back together as ``ScenarioError``s with
``file:line:column`` — never a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Located", "Problem", "ScenarioError", "closest", "load_yaml"]


@dataclass(frozen=True)
class Problem:
    """One mistake in a scenario file."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ScenarioError(Exception):
    """A scenario file has mistakes; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Located:
    """A YAML value with where it was written; mappings and lists hold ``Located`` children."""

    value: Any
    line: int
    column: int
    file: str
    end_line: int = 0
    keys: dict[str, Located] = field(default_factory=dict)  # for a mapping: the key nodes

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, self.column, message)

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def items(self) -> Iterator[tuple[str, Located]]:
        assert isinstance(self.value, dict)
        yield from self.value.items()

    def plain(self) -> Any:
        """The value without positions (plain dicts, lists and scalars)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def closest(word: str, known: list[str]) -> str:
    """ "; did you mean 'x'?" or the list of known words."""
    near = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if near:
        return f"; did you mean {near[0]!r}?"
    return f"; known: {', '.join(sorted(known))}"


class _Loader(yaml.SafeLoader):
    pass


def _scalar(node: yaml.Node) -> Any:
    """A scalar node's value by its resolved tag (int, float, bool, null, string, timestamp)."""
    return _Loader("").construct_object(node, deep=True)


def _located(node: yaml.Node, file: str, problems: list[Problem]) -> Located:
    mark = node.start_mark
    end = node.end_mark.line + 1 if node.end_mark is not None else mark.line + 1
    where = Located(None, mark.line + 1, mark.column + 1, file, end)
    if isinstance(node, yaml.MappingNode):
        value: dict[str, Located] = {}
        for key_node, value_node in node.value:
            key = _located(key_node, file, problems)
            if not isinstance(key.value, str):
                problems.append(key.problem(f"a key must be a word, got {key.value!r}"))
                continue
            if key.value in value:
                problems.append(key.problem(f"the key {key.value!r} is given twice"))
            value[key.value] = _located(value_node, file, problems)
            where.keys[key.value] = key
        where.value = value
    elif isinstance(node, yaml.SequenceNode):
        where.value = [_located(item, file, problems) for item in node.value]
    else:
        try:
            where.value = _scalar(node)
        except (yaml.YAMLError, ValueError) as exc:
            problems.append(where.problem(f"cannot read this value: {exc}"))
    return where


def load_yaml(path: Path | str, text: str | None = None) -> Located:
    """The file's YAML with positions; raises ``ScenarioError`` for syntax and indentation mistakes."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError([Problem(file, 1, 1, f"cannot read the file: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ScenarioError(
            [Problem(file, line, column, f"not valid YAML ({what}); check the indentation and the colons")]
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(file, 1, 1, f"not valid YAML: {exc}")]) from None
    if node is None:
        raise ScenarioError(
            [Problem(file, 1, 1, "the file is empty; a scenario needs id, title, when and then")]
        )
    problems: list[Problem] = []
    root = _located(node, file, problems)
    if problems:
        raise ScenarioError(problems)
    return root


def as_mapping(loc: Located, what: str, problems: list[Problem]) -> Mapping[str, Located] | None:
    if not loc.is_mapping:
        problems.append(loc.problem(f"{what} must be a mapping (key: value lines), got {_kind(loc.value)}"))
        return None
    mapping: Mapping[str, Located] = loc.value
    return mapping


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def kind_of(value: Any) -> str:
    return _kind(value)
