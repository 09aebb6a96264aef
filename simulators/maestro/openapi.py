"""The checked-in OpenAPI document (`openapi.yaml`) as the single source of truth.

The fake serves it at `/openapi.json` and validates every request body, query string and path
parameter against the schemas in it, so the document and the behaviour cannot drift apart.
Domain rules that a schema cannot say (the Y-tunnus check digit, totals, duplicates) live in
`validation.py` and the routes.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from .errors import MaestroError, detail

DOCUMENT_PATH = Path(__file__).with_name("openapi.yaml")

_FORMATS = FormatChecker()


@_FORMATS.checks("date-time", raises=ValueError)
def _rfc3339(value: object) -> bool:
    """RFC 3339 date-time with an explicit offset (Z or ±hh:mm)."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value):
        return False
    datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return True


@_FORMATS.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    datetime.strptime(value, "%Y-%m-%d")
    return True


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document as a dict (parsed once)."""
    data = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@cache
def document_json() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=1)


@cache
def _validator(ref: str) -> Draft202012Validator:
    schema = {"$ref": ref, "components": document()["components"]}
    return Draft202012Validator(schema, format_checker=_FORMATS)


def _path(prefix: str, parts: Any) -> str:
    out = prefix
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out = f"{out}.{p}" if out else str(p)
    return out


def _describe(error: ValidationError, prefix: str) -> dict[str, Any]:
    if error.context:  # oneOf / anyOf: report the branch that came closest
        inner = best_match(error.context)
        if inner is not None:
            error = inner
    where = _path(prefix, error.absolute_path)
    if error.validator == "required":
        m = re.match(r"'(.+?)' is a required property", error.message)
        name = m.group(1) if m else "?"
        return detail(_path(where, [name]), "is required")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set((error.schema or {}).get("properties", {})) if isinstance(error.schema, dict) else set()
        extra = sorted(set(error.instance) - known) or ["?"]
        return detail(_path(where, [extra[0]]), "is not a known field")
    return detail(where or None, error.message)


def schema_errors(ref: str, instance: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Every violation of the schema at `ref` (e.g. `#/components/schemas/ProductInput`), as details."""
    errors = sorted(_validator(ref).iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(e, prefix) for e in errors]


def check_body(schema_name: str, instance: Any) -> None:
    """Raise 422 `validation_failed` naming every offending field."""
    errs = schema_errors(f"#/components/schemas/{schema_name}", instance)
    if errs:
        fields = ", ".join(sorted({str(e["field"]) for e in errs if e["field"]})) or "the body"
        raise MaestroError(422, "validation_failed", f"The request body is not valid: check {fields}.", errs)


def _resolve(obj: dict[str, Any]) -> dict[str, Any]:
    ref = obj.get("$ref")
    if not ref:
        return obj
    node: Any = document()
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return _resolve(node)


@cache
def operation_parameters(path: str, method: str) -> dict[str, dict[str, Any]]:
    """The declared parameters of one operation, keyed by "in:name"."""
    item = document()["paths"][path]
    params = [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]
    out = {}
    for p in params:
        p = _resolve(p)
        out[f"{p['in']}:{p['name']}"] = p
    return out


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    schema = _resolve(schema)
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"[+-]?\d{1,18}", raw.strip()):
        return int(raw)
    if kind == "boolean" and raw.lower() in {"true", "false"}:
        return raw.lower() == "true"
    return raw


def parameters(
    path: str, method: str, query: Any, path_values: dict[str, str] | None = None
) -> dict[str, Any]:
    """Query and path parameters of an operation, typed and checked against the document.

    A bad or unknown query parameter is 400 `bad_request` naming it (so a typo such as
    `chagned_since` never silently widens a result). Defaults from the document fill absent ones.
    """
    out: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    declared = operation_parameters(path, method)
    for name in sorted(set(query.keys())):
        if f"query:{name}" not in declared:
            known = sorted(k.split(":", 1)[1] for k in declared if k.startswith("query:"))
            problems.append(
                detail(name, f"is not a parameter of this operation; known: {', '.join(known) or 'none'}")
            )
    for key, spec in declared.items():
        where, name = key.split(":", 1)
        if where == "query":
            values = query.getlist(name)
            if not values:
                if "default" in spec["schema"]:
                    out[name] = spec["schema"]["default"]
                continue
            if len(values) > 1:
                problems.append(detail(name, "is given more than once"))
                continue
            raw = values[0]
        elif where == "path" and path_values is not None and name in path_values:
            raw = path_values[name]
        else:
            continue
        value = _coerce(raw, spec["schema"])
        ref_schema = dict(spec["schema"])
        errs = [
            e
            for e in Draft202012Validator(
                {**ref_schema, "components": document()["components"]}, format_checker=_FORMATS
            ).iter_errors(value)
        ]
        if errs:
            problems.append(detail(name, f"{raw!r} is not valid: {errs[0].message}"))
            continue
        out[name] = value
    if problems:
        names = ", ".join(str(p["field"]) for p in problems)
        raise MaestroError(400, "bad_request", f"Bad parameter(s): {names}.", problems)
    return out
