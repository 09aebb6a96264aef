"""The one wiring of the bridge: clients, store, settings page, connectors and the engine.

``build_bridge(config)`` is what ``severa-sandbox bridge ...`` runs against real services (or the
sandbox's fakes at their URLs); the sandbox world (``scenarios.world``) calls the same function
with in-process transports and the simulators' clock, so there is one way the pieces fit.

* Severa and Maventa are always wired (Maventa's settings page works before any company exists).
* Maestro is wired when ``[maestro] api_key`` is set: its connector then runs in every pass.
* ``transports`` replaces a service's base URL with a ready ``httpx.Client`` (tests, in-process
  sandbox); ``now`` is the clock of the store and of the Finvoice timestamps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bridge.config import Config, ConfigError
from bridge.connectors.maestro import MaestroClient
from bridge.connectors.maestro.connector import MaestroConnector
from bridge.connectors.maventa import MaventaClient
from bridge.connectors.maventa.connector import MaventaConnector
from bridge.connectors.maventa.integration import MaventaIntegration
from bridge.http import RetryPolicy
from bridge.notify import Notifier
from bridge.severa import SeveraClient
from bridge.store import Store
from bridge.transfer import Connector, TransferEngine

__all__ = ["Bridge", "build_bridge", "maestro_root"]


@dataclass
class Bridge:
    """Every piece of the bridge for one Severa organisation."""

    config: Config
    severa: SeveraClient
    maventa: MaventaClient
    store: Store
    integration: MaventaIntegration  # Asetukset > Integraatiot > Maventa/AutoInvoice
    maventa_connector: MaventaConnector
    notifier: Notifier
    engine: TransferEngine
    maestro: MaestroClient | None = None
    maestro_connector: MaestroConnector | None = None
    options: dict[str, Any] = field(default_factory=dict)  # how it was built (for `restart`)

    @property
    def connectors(self) -> list[Connector]:
        return list(self.engine.connectors)

    def restart(self, **engine_options: Any) -> TransferEngine:
        """A new engine (and connectors) over the same clients and store: a new process after a crash."""
        self.maventa_connector = MaventaConnector(
            self.integration, xsd_path=self.maventa_connector.xsd_path, now=self.maventa_connector.now
        )
        connectors: list[Connector] = [self.maventa_connector]
        if self.maestro is not None:
            self.maestro_connector = MaestroConnector(self.maestro, self.store)
            connectors.append(self.maestro_connector)
        options = {**self.options.get("engine", {}), **engine_options}
        self.engine = TransferEngine(self.severa, self.store, connectors, **options)
        return self.engine

    def close(self) -> None:
        closers = [self.severa.close, self.maventa.close, self.store.close]
        if self.maestro is not None:
            closers.append(self.maestro.close)
        for close in closers:
            with contextlib.suppress(Exception):  # closing must not hide the command's own outcome
                close()

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def maestro_root(base_url: str) -> str:
    """The Maestro server root the client wants (its paths start ``/api/v1``) from ``[maestro]
    base_url``, which may be the root or the API root ``.../api`` (the default, and what
    ``severa-sandbox serve maestro`` prints as its API)."""
    url = base_url.rstrip("/")
    for suffix in ("/api/v1", "/api"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def build_bridge(
    config: Config,
    *,
    transports: Mapping[str, httpx.Client] | None = None,
    severa_rate_limit: bool = True,
    policy: RetryPolicy | None = None,
    xsd_path: Path | None = None,
    sleep: Callable[[float], None] | None = None,
    now: Callable[[], datetime] | None = None,
    store: Store | None = None,
    **engine_options: Any,
) -> Bridge:
    """Wire every piece from ``config``; raises ``ConfigError`` when a credential is missing.

    ``xsd_path``: the Finvoice XSD every invoice is validated against before it is sent (None: no
    XSD validation; the CLI passes the official one when it finds it)."""
    transports = dict(transports or {})
    file = config.source or "bridge.toml (no configuration file was given: --config FILE)"
    sev, mav, mae = config.severa, config.maventa, config.maestro
    if not sev.client_id:
        raise ConfigError(
            f'[severa] client_id is not set in {file}: give client_id = "..." in [severa], the API client '
            "of Severa (Asetukset > Integraatiot > REST API)"
        )
    if not sev.client_secret:
        raise ConfigError(
            f'[severa] client_secret is not set in {file}: give client_secret_env = "VAR" in [severa] '
            "or set SEVERA_CLIENT_SECRET"
        )
    if not mav.vendor_api_key:
        raise ConfigError(
            f'[maventa] vendor_api_key is not set in {file}: give vendor_api_key_env = "VAR" in [maventa] '
            "or set MAVENTA_VENDOR_API_KEY"
        )
    seams: dict[str, Any] = {"policy": policy}
    if sleep is not None:
        seams["sleep"] = sleep
    severa_options: dict[str, Any] = {"scopes": sev.scopes} if sev.scopes else {}
    severa = SeveraClient(
        transports.get("severa") or sev.base_url,
        sev.client_id,
        sev.client_secret.reveal(),
        rate_limit=severa_rate_limit,
        **severa_options,
        **seams,
    )
    maventa = MaventaClient(transports.get("maventa") or mav.base_url, mav.vendor_api_key.reveal(), **seams)
    maestro = None
    if mae.api_key:
        maestro = MaestroClient(
            transports.get("maestro") or maestro_root(mae.base_url), mae.api_key.reveal(), **seams
        )
    clock = now or (lambda: datetime.now(UTC))
    if store is None:
        try:
            store = Store(config.store.path, now=clock)
        except Exception as exc:
            for client in (severa, maventa, maestro):
                if client is not None:
                    client.close()
            raise ConfigError(
                f"[store] path {config.store.path!r} in {file}: cannot open the store ({exc}); check that its "
                "folder exists and is writable, or give another [store] path"
            ) from exc
    integration = MaventaIntegration(severa, maventa, store)
    notifier = Notifier(config.smtp)
    maventa_connector = MaventaConnector(integration, xsd_path=xsd_path, now=clock)
    connectors: list[Connector] = [maventa_connector]
    maestro_connector = None
    if maestro is not None:
        maestro_connector = MaestroConnector(maestro, store)
        connectors.append(maestro_connector)
    engine_options.setdefault("now", clock)
    engine_options.setdefault("notifier", notifier)  # notifier=None: failures are logged, not mailed
    engine = TransferEngine(severa, store, connectors, **engine_options)
    return Bridge(
        config=config,
        severa=severa,
        maventa=maventa,
        store=store,
        integration=integration,
        maventa_connector=maventa_connector,
        notifier=notifier,
        engine=engine,
        maestro=maestro,
        maestro_connector=maestro_connector,
        options={"engine": engine_options},
    )
