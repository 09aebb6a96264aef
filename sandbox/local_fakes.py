"""The bridge CLI and the sandbox's own fakes on this machine: borrowed credentials, clear errors.

Against base URLs on this machine (127.0.0.1, ::1, localhost) the CLI asks each fake's
``GET /_sim/credentials`` (never a real service: any other host is left alone):

* credentials the configuration leaves unset are borrowed from it (``with_sandbox_credentials``);
* a fake that does not answer while its credentials are missing is named with its URL and the
  command that starts it (``missing_credential_hint``), instead of "client_id is not set";
* a store whose Maventa companies the Maventa fake does not know belongs to a world that no
  longer exists (the fakes were restarted or reset): ``stale_store_problem`` says so and how to
  start over (``severa-sandbox bridge reset``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bridge.config import Config, Secret

if TYPE_CHECKING:
    from rich.console import Console

    from bridge.store import Store

__all__ = [
    "LOCAL_HOSTS",
    "SERVICE_SECTIONS",
    "LocalFakes",
    "is_local",
    "origin",
    "serve_command",
    "stale_store_problem",
    "with_sandbox_credentials",
]

LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")

#: service (as the clients name it) -> (config section, `serve` name, usual sandbox port)
SERVICE_SECTIONS: dict[str, tuple[str, str, int]] = {
    "Severa": ("severa", "severa", 8701),
    "Maventa": ("maventa", "maventa", 8702),
    "Maestro": ("maestro", "maestro", 8703),
}


def is_local(url: str) -> bool:
    return urlsplit(url).hostname in LOCAL_HOSTS


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def serve_command(service: str, url: str) -> str:
    """``severa-sandbox serve maventa --port 8702`` for the fake that would answer at ``url``."""
    _, name, usual = SERVICE_SECTIONS[service]
    port = urlsplit(url).port or usual
    return f"severa-sandbox serve {name} --port {port}"


@dataclass
class LocalFakes:
    """What the local fakes answered: their credentials, or that nothing answers at their URL."""

    answered: dict[str, dict[str, Any]] = field(default_factory=dict)  # origin -> /_sim/credentials
    silent: set[str] = field(default_factory=set)  # origins asked where nothing answered

    def credentials(self, base_url: str) -> dict[str, Any] | None:
        """``GET /_sim/credentials`` of the fake at ``base_url`` (asked once), or None."""
        if not is_local(base_url):
            return None
        root = origin(base_url)
        if root in self.answered:
            return self.answered[root]
        if root in self.silent:
            return None
        try:
            answer = httpx.get(f"{root}/_sim/credentials", timeout=2.0)
            data = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            data = None
        if isinstance(data, dict):
            self.answered[root] = data
            return data
        self.silent.add(root)
        return None

    def is_silent(self, base_url: str) -> bool:
        return is_local(base_url) and origin(base_url) in self.silent


def with_sandbox_credentials(
    config: Config, err: Console | None = None, fakes: LocalFakes | None = None
) -> Config:
    """Fill in what the configuration leaves unset from the local sandbox's simulators.

    Only for base URLs on this machine (127.0.0.1, ::1, localhost): the Severa client credentials
    come from the Severa simulator's `GET /_sim/credentials` (its first, full-access client), the
    vendor API key from the Maventa simulator's and the Maestro API key from the Maestro
    simulator's (its first company, ``companies[0].api_key``). Anything set in the file or the
    environment wins; a real service (any other host) is never asked, and an unreachable simulator
    changes nothing (``fakes`` remembers it, so the command can say where nothing answered)."""
    fakes = fakes if fakes is not None else LocalFakes()
    noted: list[str] = []

    def borrowed(base_url: str) -> dict[str, Any] | None:
        data = fakes.credentials(base_url)
        root = origin(base_url)
        if data is not None and root not in noted:
            noted.append(root)
        return data

    if config.severa.client_id is None and config.severa.client_secret is None:
        data = borrowed(config.severa.base_url)
        clients = data.get("clients") if data else None
        if isinstance(clients, list) and clients and isinstance(clients[0], dict):
            config = dataclasses.replace(
                config,
                severa=dataclasses.replace(
                    config.severa,
                    client_id=str(clients[0].get("client_id")),
                    client_secret=Secret.of(str(clients[0].get("client_secret") or "")),
                ),
            )
    if config.maventa.vendor_api_key is None:
        data = borrowed(config.maventa.base_url)
        keys = data.get("vendor_api_keys") if data else None
        if isinstance(keys, list) and keys:
            config = dataclasses.replace(
                config, maventa=dataclasses.replace(config.maventa, vendor_api_key=Secret.of(str(keys[0])))
            )
    if config.maestro.api_key is None:
        data = borrowed(config.maestro.base_url)
        companies = data.get("companies") if data else None
        if isinstance(companies, list) and companies and isinstance(companies[0], dict):
            key = companies[0].get("api_key")
            if isinstance(key, str) and key:
                config = dataclasses.replace(
                    config, maestro=dataclasses.replace(config.maestro, api_key=Secret.of(key))
                )
    if noted and err is not None:
        err.print(
            f"note: using the sandbox credentials of {', '.join(noted)} (GET /_sim/credentials)", markup=False
        )
    return config


def missing_credential_hint(config: Config, fakes: LocalFakes, service: str) -> str | None:
    """When ``service``'s credentials are missing because its local fake does not answer: the URL
    and the command that starts it (None when that is not the reason)."""
    section = SERVICE_SECTIONS[service][0]
    base_url: str = getattr(config, section).base_url
    if not fakes.is_silent(base_url):
        return None
    return (
        f"nothing answers at {base_url} ([{section}] base_url), so no sandbox credentials could be "
        f"borrowed: start the fake ({serve_command(service, base_url)}), or set [{section}] "
        f"{_credential_keys(section)} in {config.source or 'bridge.toml'} for a real service"
    )


def _credential_keys(section: str) -> str:
    return {
        "severa": "client_id and client_secret",
        "maventa": "vendor_api_key",
        "maestro": "api_key",
    }[section]


def stale_store_problem(
    config: Config, store: Store, fakes: LocalFakes, reset_command: str = "severa-sandbox bridge reset --yes"
) -> str | None:
    """Why the store cannot belong to the local fakes it talks to, or None.

    Only asked of a Maventa fake on this machine: every Maventa company the store has a UUID for
    must be one the fake knows (after a restart or ``/_sim/reset`` of the fakes, the companies the
    bridge registered are gone, and every call with their keys would say "Invalid client
    credentials")."""
    stored = [c for c in store.companies.all() if c.maventa_company_uuid]
    if not stored or not is_local(config.maventa.base_url):
        return None
    data = fakes.credentials(config.maventa.base_url)
    if data is None:
        return None
    known = {str(c.get("id")) for c in data.get("companies") or [] if isinstance(c, dict)}
    unknown = [c for c in stored if c.maventa_company_uuid not in known]
    if not unknown:
        return None
    names = ", ".join(f"{c.name} (company UUID {c.maventa_company_uuid})" for c in unknown)
    return (
        f"the store {store.path} belongs to another sandbox world: the Maventa fake at "
        f"{origin(config.maventa.base_url)} does not know {names} (were the fakes restarted or reset?). "
        f"Start over with `{reset_command}` (deletes the store), or give another "
        f"[store] path in {config.source or 'bridge.toml'}"
    )
