"""The bridge's configuration file (TOML) and the `Secret` type that keeps credentials out of logs.

A complete file, every key optional (the defaults point at the local sandbox)::

    [severa]
    base_url = "http://127.0.0.1:8701/rest-api"   # production: https://api.severa.visma.com/rest-api
    client_id = "my-client-id"
    client_secret_env = "MY_SEVERA_SECRET"        # or client_secret = "..." (not recommended)
    scopes = ["invoices:read", "invoices:write"]  # a list, or one string separated by commas/spaces

    [maventa]
    base_url = "http://127.0.0.1:8702"            # production: https://ax.maventa.com
    vendor_api_key_env = "MY_VENDOR_KEY"

    [maestro]
    base_url = "http://127.0.0.1:8703/api"         # the API root (or the server root: both work)
    api_key_env = "MY_MAESTRO_KEY"                # the Maestro company's API key (API-avain)

    [smtp]                                        # sending-error notifications (MV-9, "ilmoitusosoite")
    host = "127.0.0.1"
    port = 8025                                   # the sandbox mailbox's SMTP port
    tls = "none"                                  # "none" | "starttls" | "ssl"
    username = "bridge"
    password_env = "MY_SMTP_PASSWORD"
    from_address = "severa-bridge@localhost"
    timeout = 10.0

    [store]
    path = "bridge.sqlite3"                       # relative paths are relative to the config file

    [sync]
    poll_interval = 60.0                          # seconds between passes of `bridge run`

Secrets (`severa.client_secret`, `maventa.vendor_api_key`, `maestro.api_key`, `smtp.password`)
are found, in this order:

1. the key itself in the file (`client_secret = "..."`);
2. `<key>_env = "VAR"` in the file: the value of environment variable VAR (an error if VAR is
   not set, so a typo never silently means "no password");
3. the conventional environment variable: `SEVERA_CLIENT_SECRET`, `MAVENTA_VENDOR_API_KEY`,
   `MAESTRO_API_KEY`, `SMTP_PASSWORD`;
4. otherwise `None` (commands that need the secret say so when they run).

Giving both (1) and (2) is an error. Every error is a `ConfigError` whose message names the file,
the line when it can be found, the key, and what was expected; unknown tables and keys are
errors too, with the closest known key suggested. `Config.redacted()` is the printable view.
"""

from __future__ import annotations

import difflib
import hmac
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, final
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_MAESTRO_URL",
    "DEFAULT_MAVENTA_URL",
    "DEFAULT_SEVERA_URL",
    "DEFAULT_SMTP_PORT",
    "Config",
    "ConfigError",
    "MaestroConfig",
    "MaventaConfig",
    "Secret",
    "SeveraConfig",
    "SmtpSettings",
    "StoreConfig",
    "SyncConfig",
    "TlsMode",
    "load_config",
    "parse_config",
]

DEFAULT_SEVERA_URL: Final = "http://127.0.0.1:8701/rest-api"
DEFAULT_MAVENTA_URL: Final = "http://127.0.0.1:8702"
DEFAULT_MAESTRO_URL: Final = "http://127.0.0.1:8703/api"
DEFAULT_SMTP_PORT: Final = 8025  # the sandbox mailbox (simulators/mailbox) listens here by default
DEFAULT_STORE_PATH: Final = "bridge.sqlite3"
MASK: Final = "***"

TlsMode = Literal["none", "starttls", "ssl"]


@final
class Secret:
    """A credential whose value never shows up in `repr`, `str`, f-strings, logs or tracebacks.

    Read it with `.reveal()` only at the point where it is sent. Equality is constant-time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret wraps a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled (it would leave the process unmasked)")

    @staticmethod
    def of(value: str | Secret | None) -> Secret | None:
        """`None` and "" stay `None`; a str is wrapped; a Secret is returned as is."""
        if value is None or isinstance(value, Secret):
            return value or None
        return Secret(value) if value else None


class ConfigError(ValueError):
    """A configuration problem; the message is one line that says where and what."""


# ------------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class SeveraConfig:
    base_url: str = DEFAULT_SEVERA_URL
    client_id: str | None = None
    client_secret: Secret | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MaventaConfig:
    base_url: str = DEFAULT_MAVENTA_URL
    vendor_api_key: Secret | None = None


@dataclass(frozen=True)
class MaestroConfig:
    base_url: str = DEFAULT_MAESTRO_URL
    api_key: Secret | None = None


@dataclass(frozen=True)
class SmtpSettings:
    """Where the notifier sends e-mail (`bridge.notify`)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_SMTP_PORT
    tls: TlsMode = "none"
    username: str | None = None
    password: Secret | None = None
    from_address: str = "severa-bridge@localhost"
    timeout: float = 10.0


@dataclass(frozen=True)
class StoreConfig:
    path: str = DEFAULT_STORE_PATH  # ":memory:" for tests


@dataclass(frozen=True)
class SyncConfig:
    poll_interval: float = 60.0


@dataclass(frozen=True)
class Config:
    severa: SeveraConfig = field(default_factory=SeveraConfig)
    maventa: MaventaConfig = field(default_factory=MaventaConfig)
    maestro: MaestroConfig = field(default_factory=MaestroConfig)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    store: StoreConfig = field(default_factory=StoreConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    source: str | None = None  # the file it came from, for messages

    def redacted(self) -> dict[str, Any]:
        """A plain dict for printing: every secret is `"***"` when set, `None` when not."""
        out: dict[str, Any] = {}
        for section in ("severa", "maventa", "maestro", "smtp", "store", "sync"):
            obj = getattr(self, section)
            out[section] = {
                k: (MASK if v else None) if isinstance(v, Secret) else list(v) if isinstance(v, tuple) else v
                for k, v in vars(obj).items()
            }
        if self.source:
            out["source"] = self.source
        return out


# ------------------------------------------------------------------------------- the schema
_Kind = Literal["url", "str", "opt_str", "secret", "scopes", "port", "tls", "pos_float", "path", "email"]

_SCHEMA: Final[dict[str, dict[str, _Kind]]] = {
    "severa": {"base_url": "url", "client_id": "opt_str", "client_secret": "secret", "scopes": "scopes"},
    "maventa": {"base_url": "url", "vendor_api_key": "secret"},
    "maestro": {"base_url": "url", "api_key": "secret"},
    "smtp": {
        "host": "str",
        "port": "port",
        "tls": "tls",
        "username": "opt_str",
        "password": "secret",
        "from_address": "email",
        "timeout": "pos_float",
    },
    "store": {"path": "path"},
    "sync": {"poll_interval": "pos_float"},
}

_DEFAULT_ENV: Final[dict[tuple[str, str], str]] = {
    ("severa", "client_secret"): "SEVERA_CLIENT_SECRET",
    ("maventa", "vendor_api_key"): "MAVENTA_VENDOR_API_KEY",
    ("maestro", "api_key"): "MAESTRO_API_KEY",
    ("smtp", "password"): "SMTP_PASSWORD",
}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+$")


def load_config(path: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Config:
    """Read a TOML file; `None` means "no file": all defaults, secrets from the environment."""
    env = os.environ if env is None else env
    if path is None:
        return parse_config("", env=env)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read the configuration file: {exc}") from None
    return parse_config(text, source=str(p), env=env, base_dir=p.parent)


def parse_config(
    text: str,
    *,
    source: str = "<config>",
    env: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> Config:
    """Parse TOML text (see the module docstring); raises `ConfigError`."""
    env = os.environ if env is None else env
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    p = _Parser(text, source, env, base_dir)
    unknown = [t for t in doc if t not in _SCHEMA]
    if unknown:
        p.fail(None, unknown[0], _unknown_msg("table", unknown[0], list(_SCHEMA)), line_of_table=True)
    sections: dict[str, dict[str, Any]] = {}
    for name, schema in _SCHEMA.items():
        raw = doc.get(name, {})
        if not isinstance(raw, dict):
            p.fail(None, name, f"expected a table [{name}], got {_tname(raw)}")
        sections[name] = p.section(name, raw, schema)
    return Config(
        severa=SeveraConfig(**sections["severa"]),
        maventa=MaventaConfig(**sections["maventa"]),
        maestro=MaestroConfig(**sections["maestro"]),
        smtp=SmtpSettings(**sections["smtp"]),
        store=StoreConfig(**sections["store"]),
        sync=SyncConfig(**sections["sync"]),
        source=None if source == "<config>" else source,
    )


class _Parser:
    def __init__(self, text: str, source: str, env: Mapping[str, str], base_dir: Path | None) -> None:
        self.lines = text.splitlines()
        self.source, self.env, self.base_dir = source, env, base_dir

    # -- where a key is written (tomllib does not tell); best effort, for messages only
    def line_of(self, table: str | None, key: str, *, table_header: bool = False) -> int | None:
        current: str | None = None
        key_re = re.compile(rf"^\s*(?:\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*=")
        for no, line in enumerate(self.lines, 1):
            header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
            if header:
                current = header.group(1).strip().strip("\"'")
                if table_header and current == key:
                    return no
                continue
            if not table_header and current == table and key_re.match(line):
                return no
            if not table_header and table and current is None:
                dotted = re.match(rf"^\s*{re.escape(table)}\.{re.escape(key)}\s*=", line)
                if dotted:
                    return no
        return None

    def fail(self, table: str | None, key: str, what: str, *, line_of_table: bool = False) -> None:
        line = self.line_of(table, key, table_header=line_of_table) if line_of_table or table else None
        where = f"{self.source}:{line}" if line else self.source
        name = f"[{table}] {key}" if table else f"[{key}]"
        raise ConfigError(f"{where}: {name}: {what}")

    def section(self, name: str, raw: dict[str, Any], schema: dict[str, _Kind]) -> dict[str, Any]:
        known = set(schema) | {f"{k}_env" for k, kind in schema.items() if kind == "secret"}
        for key in raw:
            if key not in known:
                self.fail(name, key, _unknown_msg("key", key, sorted(known)))
        out: dict[str, Any] = {}
        for key, kind in schema.items():
            if kind == "secret":
                out[key] = self.secret(name, key, raw)
            elif key in raw:
                out[key] = self.value(name, key, kind, raw[key])
        return out

    def secret(self, table: str, key: str, raw: dict[str, Any]) -> Secret | None:
        env_key = f"{key}_env"
        if key in raw and env_key in raw:
            self.fail(table, env_key, f"give either {key!r} or {env_key!r}, not both")
        if key in raw:
            value = raw[key]
            if not isinstance(value, str):
                self.fail(table, key, f"expected a string, got {_tname(value)}")
            return Secret.of(value)
        if env_key in raw:
            var = raw[env_key]
            if not isinstance(var, str) or not _ENV_NAME.match(var):
                self.fail(table, env_key, f"expected the name of an environment variable, got {var!r}")
            if var not in self.env:
                self.fail(table, env_key, f"environment variable {var} is not set")
            return Secret.of(self.env[var])
        default_var = _DEFAULT_ENV[(table, key)]
        return Secret.of(self.env.get(default_var))

    def value(self, table: str, key: str, kind: _Kind, v: Any) -> Any:
        def bad(expected: str) -> None:
            self.fail(table, key, f"expected {expected}, got {v!r}")

        if kind == "url":
            if not isinstance(v, str):
                bad("a URL string")
            parts = urlsplit(v)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                bad("an http:// or https:// URL")
            return v.rstrip("/")
        if kind in ("str", "opt_str"):
            if not isinstance(v, str) or (kind == "str" and not v.strip()):
                bad("a non-empty string" if kind == "str" else "a string")
            return v if v or kind == "str" else None
        if kind == "email":
            if not isinstance(v, str) or not _EMAIL.match(v):
                bad("an e-mail address like name@example.com")
            return v
        if kind == "scopes":
            if isinstance(v, str):
                return tuple(s for s in re.split(r"[\s,]+", v) if s)
            if isinstance(v, list) and all(isinstance(s, str) and s.strip() for s in v):
                return tuple(s.strip() for s in v)
            bad("a list of scope strings or one string separated by commas or spaces")
        if kind == "port":
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 65535:
                bad("an integer port 1-65535")
            return v
        if kind == "tls":
            if v not in ("none", "starttls", "ssl"):
                bad('one of "none", "starttls", "ssl"')
            return v
        if kind == "pos_float":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 86_400:
                bad("a number of seconds greater than 0 and at most 86400 (a day)")
            return float(v)
        if kind == "path":
            if not isinstance(v, str) or not v.strip():
                bad('a file path (or ":memory:")')
            if v == ":memory:" or self.base_dir is None or Path(v).is_absolute():
                return v
            return str(self.base_dir / v)
        raise AssertionError(kind)  # pragma: no cover


def _unknown_msg(what: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
    return f"unknown {what}{hint}"


def _tname(v: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean", int: "an integer"}.get(
        type(v), type(v).__name__
    )
