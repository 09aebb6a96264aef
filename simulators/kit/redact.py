"""Secret redaction for the journal, logs and exported state.

Anything that authenticates (bearer tokens, client secrets, API keys, refresh
tokens, passwords) is replaced by a marker that keeps only the last four
characters, so a journal can be shared in a support ticket safely.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

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
    return bool(_SECRET_KEY_RE.search(key[:200]))  # a field name, not a 5,000-character key


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


# --------------------------------------------------------------------------- redaction by value
SECRET_ALPHABET = re.compile(r"[A-Za-z0-9._~-]+")
_SAFE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-")
MIN_SECRET = 6  # shorter values are not secrets anyone mints here, and would mangle ordinary text


def _variants(secret: str) -> set[str]:
    """The forms a secret takes on the wire: as is, JSON-escaped, URL-encoded (either case)."""
    out = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    for encoded in (quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)):
        out |= {encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), encoded)}
    return {v for v in out if len(v) >= MIN_SECRET}


class Redactor:
    """Replaces every known secret wherever it appears, with a stable placeholder (`mask`).

    Secrets made of URL-safe characters (every token, key and GUID the fakes mint) look the same
    raw, JSON-escaped and URL-encoded; they are found as (parts of) runs of those characters and
    looked up in a set, which costs the same for ten secrets as for ten thousand. Any other
    secret (one a user chose) is replaced in each of its wire forms. Name-based redaction
    (`redact_headers`, `redact_text`, `redact_obj`) still covers secrets the fake does not know,
    such as a wrong password a client sent.
    """

    @staticmethod
    def relevant(secrets: Iterable[Any]) -> frozenset[str]:
        """The values worth redacting (strings of at least MIN_SECRET characters)."""
        return frozenset(s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET)

    def __init__(self, secrets: Iterable[str]) -> None:
        known = self.relevant(secrets)
        self.safe = {s for s in known if SECRET_ALPHABET.fullmatch(s)}
        self.lengths = sorted({len(s) for s in self.safe}, reverse=True)
        self.shortest = min(self.lengths, default=0)
        self._sorted = sorted(self.safe)
        self._heads = {x[: self.shortest] for x in self.safe}  # where a secret can start
        self._charsets = list({frozenset(x) for x in self.safe})
        self.other: list[tuple[str, str]] = sorted(
            ((v, mask(s)) for s in known - self.safe for v in _variants(s)), key=lambda p: -len(p[0])
        )
        self.secrets = known

    def __bool__(self) -> bool:
        return bool(self.secrets)

    # ------------------------------------------------------------------ text
    def text(self, text: str, *, cut: bool = False) -> str:
        """`text` with every known secret replaced; `cut=True` also masks a trailing fragment
        that is the start of a secret (the text was cut to a size limit there)."""
        if not self.secrets or not text:
            return text
        if self.safe:
            text = SECRET_ALPHABET.sub(self._run, text)
        for variant, placeholder in self.other:
            if variant in text:
                text = text.replace(variant, placeholder)
        if cut:
            text = self._cut_tail(text)
        return text

    def _run(self, m: re.Match[str]) -> str:
        run = m[0]
        if len(run) < self.shortest:
            return run
        if run in self.safe:
            return mask(run)
        if len(run) == self.shortest or not any(chars <= set(run) for chars in self._charsets):
            return run  # no known secret is made of these characters (e.g. "aaaa...")
        k = self.shortest
        heads, lengths = self._heads, self.lengths
        out: list[str] = []
        i, last = 0, 0
        while i <= len(run) - k:
            if run[i : i + k] in heads:
                for n in lengths:
                    if run[i : i + n] in self.safe:
                        out += [run[last:i], mask(run[i : i + n])]
                        i = last = i + n
                        break
                else:
                    i += 1
            else:
                i += 1
        return "".join(out) + run[last:] if out else run

    def _cut_tail(self, text: str) -> str:
        # the run of secret characters at the very end (scanned backwards: a `...{4,}$` regex
        # search is quadratic on a long run, and the journal cuts bodies of "aaaa..." too)
        start = len(text)
        longest = self.lengths[0] if self.lengths else 0
        while start > 0 and len(text) - start < longest and text[start - 1] in _SAFE_CHARS:
            start -= 1
        run = text[start:]
        if len(run) >= 4 and self._sorted:
            for i in range(len(run) - 3):
                part = run[i:]
                at = bisect.bisect_left(self._sorted, part)
                if at < len(self._sorted) and self._sorted[at].startswith(part):
                    return text[: start + i] + MARK
        for variant, _ in self.other:
            for k in range(min(len(variant) - 1, len(text)), 3, -1):
                if text.endswith(variant[:k]):
                    return text[:-k] + MARK
        return text

    # ------------------------------------------------------------------ structures
    def headers(self, headers: Mapping[str, str] | list[tuple[str, str]]) -> dict[str, str]:
        return {self.text(k): self.text(v) for k, v in redact_headers(headers).items()}

    def body(self, text: str, content_type: str = "", *, cut: bool = False) -> str:
        """A request/response body: secrets by value, then secret-named fields by name."""
        return redact_text(self.text(text, cut=cut), content_type)

    def obj(self, obj: Any) -> Any:
        """A JSON-like structure with secrets replaced in keys and values, and secret-named fields
        masked. Two keys that become one placeholder stay apart (``***abcd#2``)."""
        if isinstance(obj, dict):
            out: dict[Any, Any] = {}
            for k, v in obj.items():
                key = self.text(k) if isinstance(k, str) else k
                n, base = 1, key
                while key in out:
                    n += 1
                    key = f"{base}#{n}"
                if isinstance(v, str) and isinstance(k, str) and is_secret_key(k):
                    out[key] = mask(v)
                else:
                    out[key] = self.obj(v)
            return out
        if isinstance(obj, list):
            return [self.obj(v) for v in obj]
        if isinstance(obj, str):
            return self.text(obj)
        return obj


class SecretRegistry:
    """Every secret a simulator has known since its journal was last cleared (tokens register
    themselves when minted): an exchange is redacted when it is read, and by then the token it
    carried may have expired and left the state."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        with self._lock:
            self._values.add(value)

    def update(self, values: Iterable[str]) -> None:
        with self._lock:
            self._values.update(v for v in values if isinstance(v, str))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def values(self) -> set[str]:
        with self._lock:
            return set(self._values)
