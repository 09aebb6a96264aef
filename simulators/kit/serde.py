"""JSON round-tripping of dataclass-based domain state (for versioned snapshots).

Services keep their state in dataclasses; `to_json` / `from_json` turn them into plain JSON
and back using the type hints, so a snapshot is readable, diffable and never pickled.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def to_json(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: to_json(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if not f.name.startswith("_")
        }
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_json(v) for v in obj]
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, bytes):
        import base64

        return {"__bytes__": base64.b64encode(obj).decode("ascii")}
    return obj


def from_json(tp: Any, data: Any) -> Any:
    """Rebuild a value of type `tp` from JSON produced by `to_json`."""
    if data is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return from_json(non_none[0], data) if len(non_none) == 1 else data
    if origin in (list, set, frozenset, tuple):
        item = args[0] if args else Any
        seq = [from_json(item, v) for v in data]
        return origin(seq) if origin is not list else seq
    if origin is dict:
        kt, vt = args if args else (Any, Any)
        return {from_json(kt, k): from_json(vt, v) for k, v in data.items()}
    if tp is Any or tp is typing.Any:
        return data
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            hints = typing.get_type_hints(tp)
            kwargs = {}
            for f in dataclasses.fields(tp):
                if f.name in data and f.init:
                    kwargs[f.name] = from_json(hints[f.name], data[f.name])
            return tp(**kwargs)
        if issubclass(tp, Enum):
            return tp(data)
        if tp is datetime:
            return datetime.fromisoformat(data)
        if tp is date:
            return date.fromisoformat(data)
        if tp is Decimal:
            return Decimal(str(data))
        if tp is bytes:
            import base64

            return base64.b64decode(data["__bytes__"])
        if tp is int and isinstance(data, str) and data.isdigit():
            return int(data)
    return data


def pick(obj: Any, names: Iterable[str], rename: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``{name: obj.name}`` for `names`, in their order; a name shown as ``rename[name]`` where
    given (``{"from_header": "from"}``). The JSON of an object whose wire names are its own."""
    rename = rename or {}
    return {rename.get(name, name): getattr(obj, name) for name in names}
