"""Parsing JSON from a request without letting odd input become a 500.

`json.loads` raises `RecursionError` (not `ValueError`) on deeply nested input such as
100,000 `[`, and a structure just under Python's recursion limit still breaks every
recursive walk after it (redaction, snapshots). `parse_json` turns both into a
`JSONNestingError`, a `ValueError`, so every caller that already answers bad JSON with a
400 handles it too. The default depth of 64 is ASP.NET's (System.Text.Json `MaxDepth`).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

DEFAULT_MAX_DEPTH = 64


class JSONNestingError(ValueError):
    """The JSON text nests arrays/objects deeper than allowed."""


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (a scalar is depth 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def parse_json(text: str | bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """`json.loads`, but strict: nesting deeper than `max_depth` is a ValueError (JSONNestingError),
    and so are ``NaN``/``Infinity`` (not JSON, RFC 8259) and numbers that overflow to infinity
    (``1e400``), which would otherwise be stored and written back as invalid JSON."""
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise JSONNestingError(f"the JSON nests deeper than the maximum depth of {max_depth}") from None
    if json_depth(value) > max_depth:
        raise JSONNestingError(f"the JSON nests deeper than the maximum depth of {max_depth}")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")
# a \uD800-\uDFFF escape, or the UTF-8 bytes of a surrogate (which json.loads lets through)
SURROGATE_HINT = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\xed[\xa0-\xbf]")


def has_lone_surrogate(text: str) -> bool:
    """True when `text` holds a UTF-16 surrogate code point: not Unicode, cannot be encoded."""
    return _SURROGATE.search(text) is not None


def lone_surrogate_path(value: Any) -> str | None:
    """Where in a parsed JSON value the first string (or object key) with a lone surrogate is,
    as a path like ``rows[1].description`` (``$`` for the whole document), or None."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                return path or "$"
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                shown = key.encode("ascii", "backslashreplace").decode("ascii")
                here = f"{path}.{shown}" if path else shown
                if has_lone_surrogate(key):
                    return here
                children.append((child, here))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(item))))
    return None
