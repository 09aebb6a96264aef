"""Parsing JSON from a request without letting odd input become a 500.

`json.loads` raises `RecursionError` (not `ValueError`) on deeply nested input such as
100,000 `[`, and a structure just under Python's recursion limit still breaks every
recursive walk after it (redaction, snapshots). `parse_json` turns both into a
`JSONNestingError`, a `ValueError`, so every caller that already answers bad JSON with a
400 handles it too. The default depth of 64 is ASP.NET's (System.Text.Json `MaxDepth`).
"""

from __future__ import annotations

import json
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


def parse_json(text: str | bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """`json.loads`, but nesting deeper than `max_depth` is a ValueError (JSONNestingError)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONNestingError(f"the JSON nests deeper than the maximum depth of {max_depth}") from None
    if json_depth(value) > max_depth:
        raise JSONNestingError(f"the JSON nests deeper than the maximum depth of {max_depth}")
    return value
