"""The registry of simulated services, for `serve`, `up` and the pytest plugin."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulators.kit import Simulator


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    factory: str  # "module:Class"
    base_path: str  # where the API lives under the server root ("/rest-api" for Severa)
    default_port: int
    summary: str

    def load(self) -> Callable[..., Simulator]:
        module, _, attr = self.factory.partition(":")
        factory: Callable[..., Simulator] = getattr(importlib.import_module(module), attr)
        return factory

    def create(self, **options: Any) -> Simulator:
        return self.load()(**options)


SERVICES: dict[str, ServiceEntry] = {
    "severa": ServiceEntry(
        "severa", "simulators.severa:SeveraSimulator", "/rest-api", 8701, "Visma Severa REST API"
    ),
    "maventa": ServiceEntry(
        "maventa", "simulators.maventa:MaventaSimulator", "", 8702, "Maventa AutoXChange (AX) API"
    ),
    "maestro": ServiceEntry(
        "maestro",
        "simulators.maestro:MaestroSimulator",
        "/api",
        8703,
        "Maestro ERP API (designed; see /openapi.json)",
    ),
    "mailbox": ServiceEntry(
        "mailbox",
        "simulators.mailbox:MailboxSimulator",
        "/_sim/messages",
        8704,
        "Sandbox mailbox (SMTP catcher)",
    ),
}
