"""Secret redaction for the journal, logs and exported state.

Anything that authenticates (bearer tokens, client secrets, API keys, refresh
tokens, passwords) is replaced by a marker that keeps only the last four
characters, so a journal can be shared in a support ticket safely.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .jsontext import parse_json

MARK = "***"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-maestro-api-key",
    }
)
_SECRET_KEY_RE = re.compile(
    r"(secret|password|passwd|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|^token$|authorization)",
    re.IGNORECASE,
)


def mask(value: str) -> str:
    """Hide a secret, keeping its last four characters for recognition."""
    if not value:
        return value
    tail = value[-4:] if len(value) >= 12 else ""
    return f"{MARK}{tail}"


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY_RE.search(key))


def redact_headers(headers: Mapping[str, str] | list[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        if name.lower() in SECRET_HEADERS or is_secret_key(name):
            scheme, _, rest = value.partition(" ")
            out[name] = (
                f"{scheme} {mask(rest)}" if rest and scheme.lower() in {"bearer", "basic"} else mask(value)
            )
        else:
            out[name] = value
    return out


def redact_obj(obj: Any) -> Any:
    """Redact secret-looking keys anywhere in a JSON-like structure."""
    if isinstance(obj, dict):
        return {
            k: (mask(v) if isinstance(v, str) and is_secret_key(str(k)) else redact_obj(v))
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [redact_obj(v) for v in obj]
    return obj


_FORM_PAIR_RE = re.compile(r"(?P<key>[^&=]+)=(?P<value>[^&]*)")
_JSON_STRING_RE = re.compile(r'"(?P<key>[^"]+)"\s*:\s*"(?P<value>[^"]*)"')


def redact_text(text: str, content_type: str = "") -> str:
    """Redact a request/response body given as text (JSON, form or anything else)."""
    if not text:
        return text
    ctype = content_type.lower()
    if "json" in ctype or text.lstrip()[:1] in "{[":
        try:
            return json.dumps(redact_obj(parse_json(text)), ensure_ascii=False)
        except ValueError:
            return _JSON_STRING_RE.sub(
                lambda m: f'"{m["key"]}": "{mask(m["value"])}"' if is_secret_key(m["key"]) else m[0], text
            )
    if "x-www-form-urlencoded" in ctype:
        return _FORM_PAIR_RE.sub(
            lambda m: f"{m['key']}={mask(m['value'])}" if is_secret_key(m["key"]) else m[0], text
        )
    return text


def redact_secret_values(text: str, secrets: list[str]) -> str:
    """Remove known secret values wherever they appear (e.g. inside multipart bodies)."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, mask(secret))
    return text
