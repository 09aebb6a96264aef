"""The one world: the three fakes, the mailbox and the bridge, wired together on one clock.

Everything that needs the fakes and the bridge side by side uses this: the scenario engine, the
pytest plugin, ``severa-sandbox demo``, ``up`` and the tests. The bridge is built the way the CLI
builds it (``bridge.app.build_bridge``), only with the fakes' transports, the simulators' clock and
a retry policy that never sleeps.

* ``World.build(seed=0, transport="inprocess"|"server", mailbox=True, ...)``: Severa (demo preset),
  Maventa and Maestro fakes on **one shared clock** (frozen at ``START`` unless ``running_clock``:
  the same seed gives the same world, timestamps included), real bridge clients talking to them
  in-process (``httpx.WSGITransport``, no sockets) or over threaded servers on free ports, a store
  (``:memory:``, or a file), the Maventa settings page, both connectors and the engine.
* ``advance(seconds)`` moves the world's clock (tokens expire, deliveries settle, leases run out);
  ``run_pass()`` is one ``bridge sync --once``; ``settle()`` runs passes, moving time between
  them, until nothing is left to do.
* Human actors (``create_invoice``, ``set_status``, ``fail_delivery``, the approver signing in
  ``setup_company``) and read-outs for checks (statuses, Maventa and Maestro invoices, mails, the
  transfer log).
* ``restart()`` is a new bridge process over the same store (after a ``Crash`` from a
  ``Crasher``).
"""

from __future__ import annotations

import functools
import itertools
import ssl
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from bridge.app import Bridge, build_bridge
from bridge.config import (
    Config,
    MaestroConfig,
    MaventaConfig,
    Secret,
    SeveraConfig,
    SmtpSettings,
    StoreConfig,
)
from bridge.connectors.maestro import MaestroClient
from bridge.connectors.maventa import MaventaClient
from bridge.connectors.maventa.integration import MaventaIntegration
from bridge.http import RetryPolicy
from bridge.notify import Notifier
from bridge.severa import SeveraClient
from bridge.store import LedgerEntry, LedgerRef, LedgerState, SendingCompany, Store
from bridge.transfer import PassReport, TransferEngine
from simulators.kit import SimClock, Simulator, ThreadedServer
from simulators.maestro import MaestroSimulator
from simulators.mailbox import MailboxSimulator
from simulators.maventa import MaventaSimulator
from simulators.severa import SeveraSimulator

__all__ = [
    "AFTER_ERROR",
    "AFTER_TRANSFER",
    "APPROVER",
    "CRASH_POINTS",
    "CUSTOMER_KINDS",
    "DRAFT",
    "MAESTRO_CRASH_POINTS",
    "MAESTRO_SOURCE",
    "MAESTRO_TRANSFERRED",
    "NOTIFY_TO",
    "ROOTS",
    "START",
    "TO_TRANSFER",
    "Crash",
    "Crasher",
    "Transport",
    "World",
    "connect_demo_unit",
    "duplicate_mails",
    "exactly_once_problems",
    "fast_policy",
    "ready",
    "setup_company",
    "world",
]

TO_TRANSFER = "Odottaa siirtoa Maventaan"
AFTER_TRANSFER = "Siirretty Maventaan"
AFTER_ERROR = "Maventa-virhe"
MAESTRO_SOURCE = "Odottaa siirtoa Maestroon"
MAESTRO_TRANSFERRED = "Siirretty Maestroon"
DRAFT = "Luonnos"
NOTIFY_TO = "virheet@ranta.fi"
APPROVER = "hyvaksyja@ranta.fi"

#: Where the world's clock stands after a build (the demo presets are stamped before it).
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WORLD_FORMAT = "severa-sandbox-world"
WORLD_VERSION = 1

ROOTS = {"severa": "http://severa/rest-api", "maventa": "http://maventa", "maestro": "http://maestro"}
BASE_PATHS = {"severa": "/rest-api", "maventa": "", "maestro": ""}

Transport = Literal["inprocess", "server"]

#: Demo customers by how Maventa routes them (simulators/severa/presets.py, customers 0..5).
CUSTOMER_KINDS = (
    "einvoice-maventa",
    "einvoice-opentext",
    "einvoice-maventa",
    "email",
    "email",
    "none",
)


def fast_policy(max_attempts: int = 2) -> RetryPolicy:
    """Few retries and no waiting, so a fault rule with ``count`` > attempts reaches the engine."""
    return RetryPolicy(max_attempts=max_attempts, base_delay=0.0, max_delay=5.0, max_total=3600.0)


def _no_sleep(_: float) -> None:
    return None


@functools.cache
def _tls() -> ssl.SSLContext:
    # Every httpx.Client loads the CA bundle again (0.05 s each); the world's clients talk plain
    # HTTP to 127.0.0.1, so one context for all of them keeps `up` quick to start.
    return ssl.create_default_context()


def served_client(base_url: str) -> httpx.Client:
    """A client of a fake served by this world (plain HTTP on 127.0.0.1)."""
    return httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0, connect=5.0), verify=_tls())


class Crash(Exception):
    """The bridge process dies here (raised by a ``Crasher``)."""


_CACHE: dict[tuple[Any, ...], tuple[SeveraSimulator, MaventaSimulator, MaestroSimulator]] = {}


@dataclass
class World:
    severa_sim: SeveraSimulator
    maventa_sim: MaventaSimulator
    maestro_sim: MaestroSimulator
    bridge: Bridge
    clock: SimClock
    mailbox: MailboxSimulator | None = None
    transport: Transport = "inprocess"
    servers: dict[str, ThreadedServer] = field(default_factory=dict)
    companies: dict[str, SendingCompany] = field(default_factory=dict)

    # ------------------------------------------------------------------ the bridge's parts
    @property
    def severa(self) -> SeveraClient:
        return self.bridge.severa

    @property
    def maventa(self) -> MaventaClient:
        return self.bridge.maventa

    @property
    def maestro(self) -> MaestroClient:
        assert self.bridge.maestro is not None
        return self.bridge.maestro

    @property
    def store(self) -> Store:
        return self.bridge.store

    @property
    def integration(self) -> MaventaIntegration:
        return self.bridge.integration

    @property
    def engine(self) -> TransferEngine:
        return self.bridge.engine

    @engine.setter
    def engine(self, value: TransferEngine) -> None:
        self.bridge.engine = value

    @property
    def notifier(self) -> Notifier | None:
        return self.bridge.engine.notifier

    @property
    def sims(self) -> dict[str, Simulator]:
        return {"severa": self.severa_sim, "maventa": self.maventa_sim, "maestro": self.maestro_sim}

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        *,
        seed: int = 0,
        mailbox: MailboxSimulator | None = None,
        transport: Transport = "inprocess",
        policy: RetryPolicy | None = None,
        polls_to_deliver: int = 1,
        delivery_seconds: float = 60.0,
        reuse: bool = False,
        running_clock: bool = False,
        store_path: str = ":memory:",
        severa_rate_limit: bool = False,
        maestro: bool = True,
        severa_client: int = 0,
        ports: dict[str, int] | None = None,
        **engine_options: Any,
    ) -> World:
        """A new world. ``reuse=True`` resets and reuses this process's simulators of the same
        options instead of building new ones (building their Flask apps is most of the cost);
        only for callers that run one world at a time (in-process). ``maestro=False`` leaves the
        Maestro connector out of the bridge (the Maestro fake still runs). ``severa_client``: which
        of the Severa fake's API clients the bridge uses (1 = the one without customers:read and
        users:read, MA-4). ``ports``: with ``transport="server"``, the port each fake serves on
        (by service name; 0 or absent = any free port), e.g. for ``severa-sandbox up``."""
        key = (seed, polls_to_deliver, delivery_seconds, severa_rate_limit)
        if reuse and transport == "inprocess" and key in _CACHE:
            s, m, ma = _CACHE[key]
            clock = s.clock
            for sim in (s, m, ma):  # a fresh world: demo data, no faults, empty journal
                sim.reset(clear_faults=True)
        else:
            clock = SimClock()
            s = SeveraSimulator(seed=seed, clock=clock, rate_limit=severa_rate_limit)
            m = MaventaSimulator(
                seed=seed, clock=clock, polls_to_deliver=polls_to_deliver, delivery_seconds=delivery_seconds
            )
            ma = MaestroSimulator(seed=seed, clock=clock)
            if reuse and transport == "inprocess":
                _CACHE[key] = (s, m, ma)
        clock.load_json({})
        if running_clock:
            clock.set(START)
        else:
            clock.freeze(True)
            clock.set(START)
        servers: dict[str, ThreadedServer] = {}
        transports: dict[str, httpx.Client] = {}
        roots = dict(ROOTS)
        for name, sim in (("severa", s), ("maventa", m), ("maestro", ma)):
            if transport == "server":
                try:
                    servers[name] = sim.serve(port=(ports or {}).get(name, 0))
                except BaseException:  # a port taken after all: leave nothing running
                    for started in servers.values():
                        started.stop()
                    raise
                roots[name] = servers[name].url + BASE_PATHS[name]
                transports[name] = served_client(roots[name])
            else:
                transports[name] = sim.client(base_url=roots[name])
        severa_credentials = s.credentials()["clients"][severa_client]
        maestro_key = ma.credentials()["companies"][0]["api_key"]
        smtp = (
            SmtpSettings(port=mailbox.smtp_port or 0, timeout=5.0) if mailbox is not None else SmtpSettings()
        )
        config = Config(
            severa=SeveraConfig(
                base_url=roots["severa"],
                client_id=severa_credentials["client_id"],
                client_secret=Secret(severa_credentials["client_secret"]),
            ),
            maventa=MaventaConfig(
                base_url=roots["maventa"], vendor_api_key=Secret(m.credentials()["vendor_api_keys"][0])
            ),
            maestro=MaestroConfig(
                base_url=roots["maestro"], api_key=Secret(maestro_key) if maestro else None
            ),
            smtp=smtp,
            store=StoreConfig(store_path),
        )
        if mailbox is not None:
            mailbox.reset()
            mailbox.clock = clock  # mail is stamped with the world's time too
            assert mailbox.smtp_port is not None, "start the mailbox's SMTP listener first"
        else:
            engine_options.setdefault("notifier", None)
        bridge = build_bridge(
            config,
            transports=transports,
            severa_rate_limit=severa_rate_limit,
            policy=policy or fast_policy(),
            sleep=_no_sleep,
            now=clock.now,
            **engine_options,
        )
        return cls(s, m, ma, bridge, clock, mailbox, transport, servers)

    def restart(self, **options: Any) -> TransferEngine:
        """A new engine and connectors over the same store and clients, as after a process crash;
        ``options`` go to ``TransferEngine`` (e.g. ``notifier=``, ``max_notify_attempts=``)."""
        return self.bridge.restart(**options)

    # ------------------------------------------------------------------ the whole world's state
    def export_state(self) -> dict[str, Any]:
        """Every service's snapshot, the mailbox and the bridge's store: the whole world (secrets
        included: ``up --state`` keeps it in a private file; bundles redact it)."""
        state: dict[str, Any] = {
            "format": WORLD_FORMAT,
            "version": WORLD_VERSION,
            "services": {name: sim.export_state() for name, sim in self.sims.items()},
            "bridge": self.store.dump(),
        }
        if self.mailbox is not None:
            state["mailbox"] = self.mailbox.export_state()
        return state

    def import_state(self, state: Any) -> None:
        """Load ``export_state()`` (or a bundle step's state): the services first, then the store;
        the bridge's clients are rebuilt with the credentials the loaded services accept."""
        if not isinstance(state, dict) or state.get("format") != WORLD_FORMAT:
            raise ValueError("not a severa-sandbox world state (format 'severa-sandbox-world')")
        if state.get("version") != WORLD_VERSION:
            raise ValueError(
                f"world state version {state.get('version')!r}; this release reads {WORLD_VERSION}"
            )
        services = state.get("services") or {}
        for name, sim in self.sims.items():
            if name in services:
                sim.import_state(services[name])
        if self.mailbox is not None and state.get("mailbox"):
            self.mailbox.import_state(state["mailbox"])
        if state.get("bridge"):
            self.store.load(state["bridge"])
        self._rewire()

    def _rewire(self) -> None:
        """New bridge clients with the credentials the services now accept (same store)."""
        import dataclasses

        config = self.bridge.config
        severa = self.severa_sim.credentials()["clients"]
        vendor = self.maventa_sim.credentials().get("vendor_api_keys") or []
        maestro = self.maestro_sim.credentials().get("companies") or []
        if severa:
            config = dataclasses.replace(
                config,
                severa=dataclasses.replace(
                    config.severa,
                    client_id=severa[0]["client_id"],
                    client_secret=Secret(severa[0]["client_secret"]),
                ),
            )
        if vendor:
            config = dataclasses.replace(
                config, maventa=dataclasses.replace(config.maventa, vendor_api_key=Secret(vendor[0]))
            )
        if maestro and config.maestro.api_key is not None:
            config = dataclasses.replace(
                config, maestro=dataclasses.replace(config.maestro, api_key=Secret(maestro[0]["api_key"]))
            )
        options = {k: v for k, v in self.bridge.options.get("engine", {}).items() if k != "now"}
        transports = (
            {name: sim.client(base_url=ROOTS[name]) for name, sim in self.sims.items()}
            if self.transport == "inprocess"
            else {}
        )
        if self.transport == "server":
            transports = {
                name: served_client(self.servers[name].url + BASE_PATHS[name]) for name in self.servers
            }
        old = self.bridge
        self.bridge = build_bridge(
            config,
            transports=transports,
            severa_rate_limit=False,
            policy=old.options.get("policy") or fast_policy(),
            sleep=_no_sleep,
            now=self.clock.now,
            store=old.store,
            **options,
        )
        for client in (old.severa, old.maventa, old.maestro):
            if client is not None:
                client.close()

    def close(self) -> None:
        self.bridge.close()
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    # ------------------------------------------------------------------ running
    def run_pass(self, only: str | None = None) -> PassReport:
        """One pass of the bridge (``bridge sync --once``)."""
        return self.engine.run_once(only)

    run = run_pass

    def advance(self, seconds: float) -> None:
        """Move the world's clock (tokens expire, Maventa deliveries settle, claims run out)."""
        self.clock.advance(seconds)
        for sim in self.sims.values():
            sim.on_clock_moved()

    def settle(self, max_passes: int = 12, step_seconds: float = 120.0) -> int:
        """Run passes (moving the clock between them) until nothing is left to do; returns the
        number of passes run. Fails when the ledger has not settled after ``max_passes``."""
        for n in itertools.count(1):
            report = self.run_pass()
            waiting = self.waiting_in_severa()
            if not self.store.ledger.unfinished() and report.picked_up == 0 and not waiting:
                return n
            if n >= max_passes:
                raise AssertionError(
                    f"not settled after {n} passes: unfinished {self.store.ledger.unfinished()}, "
                    f"waiting in Severa {waiting}, last report {report}"
                )
            self.advance(step_seconds)
        raise AssertionError("unreachable")  # pragma: no cover

    def waiting_in_severa(self) -> list[str]:
        """GUIDs of invoices of active Maventa companies that sit in their transfer status with no
        live ledger row (they are still to be picked up)."""
        out = []
        for company in self.store.companies.all(active=True):
            status = company.settings.status_to_transfer
            if status is None:
                continue
            for inv in self.severa_sim.main.org.invoices.values():
                if inv.status_guid.lower() != status.guid.lower():
                    continue
                if inv.business_unit_guid.lower() != company.business_unit_guid.lower():
                    continue
                entry = self.store.ledger.get(LedgerRef("maventa", str(company.id), inv.guid))
                if entry is None or entry.state in (LedgerState.DELIVERED, LedgerState.NOTIFIED):
                    out.append(inv.guid)
        return out

    # ------------------------------------------------------------------ Severa side (actors)
    def unit_guid(self, unit: str) -> str:
        for bu in self.severa_sim.main.org.business_units.values():
            if bu.name == unit:
                return str(bu.guid)
        raise KeyError(unit)

    def customer_guid(self, kind: str, index: int = 0) -> str:
        """The GUID of the ``index``-th demo customer of a kind (see ``CUSTOMER_KINDS``)."""
        customers = list(self.severa_sim.main.org.customers.values())
        matching = [c.guid for c, k in zip(customers, CUSTOMER_KINDS, strict=False) if k == kind]
        return str(matching[index])

    def create_invoice(
        self,
        customer_kind: str = "einvoice-maventa",
        *,
        unit: str = "Ranta Oy",
        status: str = TO_TRANSFER,
        rows: list[dict[str, Any]] | None = None,
    ) -> str:
        """A new invoice straight in Severa (one product row unless ``rows`` says otherwise:
        ``{"kind": "fee"|"hours"|"travel", "ref": code, "quantity": n}``); returns its GUID."""
        backend = self.severa_sim.main
        product = next(iter(backend.org.products.values()))
        with self.severa_sim.lock:
            inv = backend.create_invoice(
                self.customer_guid(customer_kind),
                status=status,
                business_unit_guid=self.unit_guid(unit),
                when=self.clock.now(),
                rows=rows or [{"kind": "fee", "ref": product.code, "quantity": 2.0}],
            )
        return str(inv.guid)

    def set_status(self, invoice_guid: str, status: str) -> None:
        """The user moves an invoice to another status in Severa."""
        with self.severa_sim.lock:
            self.severa_sim.main.set_status(invoice_guid, status, force=True)

    def severa_status(self, invoice_guid: str) -> str:
        backend = self.severa_sim.main
        inv = backend.org.invoices[invoice_guid]
        return str(backend.status_of(inv).name)

    def severa_number(self, invoice_guid: str) -> str | None:
        number = self.severa_sim.main.org.invoices[invoice_guid].number
        return None if number is None else str(number)

    def invoice_guids_in(self, status: str, unit: str | None = "Ranta Oy") -> list[str]:
        """GUIDs of the unit's invoices (any unit's with ``unit=None``) in a status."""
        backend = self.severa_sim.main
        bu = self.unit_guid(unit) if unit else None
        return [
            str(i.guid)
            for i in backend.org.invoices.values()
            if backend.status_of(i).name == status and (bu is None or i.business_unit_guid == bu)
        ]

    def invoices_in(self, status: str) -> list[dict[str, Any]]:
        """The invoices in a status (by name) as the Severa REST API shows them."""
        guid = self.severa_sim.main.status_by_name(status).guid
        return list(self.severa.iter_invoices([guid]))

    def severa_status_of(self, number: int | str) -> str:
        """The status name of the invoice with this number."""
        backend = self.severa_sim.main
        for inv in backend.org.invoices.values():
            if inv.number is not None and str(inv.number) == str(number):
                return str(backend.status_of(inv).name)
        raise KeyError(f"no Severa invoice number {number}")

    def severa_api(self, method: str, path: str, **kwargs: Any) -> Any:
        """A raw Severa REST call (``path`` under ``/rest-api``) with the bridge's own token."""
        headers = self.severa.auth_headers()
        headers.update(kwargs.pop("headers", None) or {})
        with self.severa_sim.client(base_url=ROOTS["severa"]) as http:
            return http.request(method, ROOTS["severa"] + path, headers=headers, **kwargs)

    # ------------------------------------------------------------------ Maventa side
    def maventa_invoices(self) -> list[Any]:
        """Every invoice Maventa holds (the simulator's state, any company)."""
        with self.maventa_sim.lock:
            return list(self.maventa_sim.data.invoices.values())

    def maventa_invoices_for(self, invoice_guid: str, unit: str = "Ranta Oy") -> list[Any]:
        """Maventa's invoices carrying this Severa invoice's number, sent by the unit's company."""
        number = self.severa_number(invoice_guid)
        company = self.companies[unit]
        return [
            i
            for i in self.maventa_invoices()
            if i.company_id == company.maventa_company_uuid and str(i.number) == number
        ]

    def maventa_actor(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.maventa_sim.client(base_url=ROOTS["maventa"]) as ctl:
            return ctl.request(method, path, **kwargs)

    def fail_delivery(self, maventa_invoice_id: str, message: str = "Recipient mailbox is full") -> int:
        """The recipient's network reports a failed delivery (Maventa actor)."""
        return int(
            self.maventa_actor(
                "POST", f"/_sim/invoices/{maventa_invoice_id}/fail", json={"message": message}
            ).status_code
        )

    # ------------------------------------------------------------------ Maestro side
    def maestro_backend(self) -> Any:
        """The Maestro company the bridge's API key belongs to (the simulator's state)."""
        return next(iter(self.maestro_sim.companies.values()))

    def maestro_invoices(self) -> list[Any]:
        with self.maestro_sim.lock:
            return list(self.maestro_backend().invoices.values())

    def maestro_invoice_for(self, invoice_guid: str) -> Any | None:
        with self.maestro_sim.lock:
            return self.maestro_backend().find_invoice_by_guid(invoice_guid)

    def maestro_log(self) -> list[Any]:
        with self.maestro_sim.lock:
            return list(self.maestro_backend().import_log)

    # ------------------------------------------------------------------ bridge side
    def ledger(self, invoice_guid: str, unit: str = "Ranta Oy") -> LedgerEntry | None:
        return self.store.ledger.get(LedgerRef("maventa", str(self.companies[unit].id), invoice_guid))

    def maestro_ledger(self, invoice_guid: str) -> LedgerEntry | None:
        rows = [
            e
            for e in self.store.ledger.in_state(connector="maestro")
            if e.invoice_guid == invoice_guid.lower()
        ]
        return rows[0] if rows else None

    def log_lines(self, invoice_guid: str, level: str | None = None) -> list[Any]:
        """Transfer-log lines about one invoice (``level`` e.g. "ERROR"), oldest first."""
        return [
            e
            for e in self.store.log.entries(invoice_guid=invoice_guid, limit=None, newest_first=False)
            if level is None or str(e.level.value) == level
        ]

    def mails_about(self, invoice_number: str | None) -> list[Any]:
        if self.mailbox is None or invoice_number is None:
            return []
        return [m for m in self.mailbox.find(to=NOTIFY_TO) if invoice_number in m.subject]


def setup_company(
    world: World,
    unit: str = "Ranta Oy",
    *,
    send_by_email: bool = True,
    send_original_pdf: bool = False,
    notification_email: str | None = NOTIFY_TO,
) -> SendingCompany:
    """Register, authenticate (the approver signs), configure and activate a sending company."""
    integ = world.integration
    users = [u for u in world.severa.iter_users() if u.get("isActive", True)]
    integ.register(unit, str(users[0]["guid"]))
    company = integ.send_authentication_request(unit, APPROVER)
    signed = world.maventa_actor("POST", f"/_sim/companies/{company.maventa_company_uuid}/authorization/sign")
    assert signed.status_code == 200, signed.text
    integ.refresh(unit)
    integ.save_settings(
        unit,
        send_original_pdf=send_original_pdf,
        send_by_email=send_by_email,
        notification_email=notification_email,
        status_to_transfer=TO_TRANSFER,
        status_after_transfer=AFTER_TRANSFER,
        status_after_error=AFTER_ERROR,
    )
    company = integ.activate(unit)
    world.companies[unit] = company
    return company


# ---------------------------------------------------------------------- crashes
CRASH_POINTS: tuple[tuple[str, str], ...] = (
    ("ledger", "prepare"),
    ("ledger", "transition"),
    ("ledger", "requeue"),
    ("ledger", "discard"),
    ("ledger", "claim_notification"),
    ("severa", "invoice_page"),
    ("severa", "iter_invoice_rows"),
    ("severa", "iter_customers"),
    ("severa", "get_invoice"),
    ("severa", "set_invoice_status"),
    ("severa", "get_invoice_pdf"),
    ("maventa", "send_invoice"),
    ("maventa", "find_invoice_by_uuid"),
    ("maventa", "get_invoices"),
    ("notifier", "notify_sending_error"),
)
MAESTRO_CRASH_POINTS: tuple[tuple[str, str], ...] = (
    ("maestro", "import_sales_invoice"),
    ("maestro", "find_sales_invoice"),
    ("maestro", "put_customer"),
)


@dataclass
class Crasher:
    """Make the ``nth`` call (1-based) of ``target.method`` raise ``Crash`` once.

    ``after=True``: the real call runs first (its effect happened) and the process dies before the
    caller could record it. ``fired`` tells whether the crash happened.
    """

    target: str
    method: str
    nth: int = 1
    after: bool = False
    calls: int = 0
    fired: bool = False
    struck: tuple[Any, ...] = ()  # the positional arguments of the call that crashed

    def wrap(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            strike = not self.fired and self.calls == self.nth
            if strike and not self.after:
                self.fired, self.struck = True, args
                raise Crash(f"crash before {self.target}.{self.method} (call {self.calls})")
            try:
                result = real(*args, **kwargs)
            except Exception:
                if strike:  # the call failed by itself: die after the next one that works
                    self.nth += 1
                raise
            if strike:
                self.fired, self.struck = True, args
                raise Crash(f"crash after {self.target}.{self.method} (call {self.calls})")
            return result

        return wrapper

    def install(self, world: World) -> Crasher:
        """Arm the crash on ``world``'s objects (survives ``World.restart()``)."""
        if self.target == "maventa":
            real_client_for = world.integration.client_for

            def client_for(company: SendingCompany) -> MaventaClient:
                client = real_client_for(company)
                setattr(client, self.method, self.wrap(getattr(client, self.method)))
                return client

            world.integration.client_for = client_for  # type: ignore[method-assign]
            return self
        obj: Any = {
            "ledger": world.store.ledger,
            "severa": world.severa,
            "notifier": world.notifier,
            "maestro": world.bridge.maestro,
        }[self.target]
        if obj is None:
            return self
        setattr(obj, self.method, self.wrap(getattr(obj, self.method)))
        return self


# ---------------------------------------------------------------------- short forms
@contextmanager
def world(*, mailbox: bool = False, **options: Any) -> Iterator[World]:
    """A ``World`` for one use; ``mailbox=True`` also starts a mailbox with its SMTP listener."""
    box = MailboxSimulator() if mailbox else None
    if box is not None:
        box.start_smtp()
    built = World.build(mailbox=box, **options)
    try:
        yield built
    finally:
        built.close()
        if box is not None:
            box.stop_smtp()


def ready(w: World, unit: str = "Ranta Oy", **settings: Any) -> SendingCompany:
    """``setup_company`` by another name: registered, signed, configured and active."""
    return setup_company(w, unit, **settings)


def connect_demo_unit(w: World, unit: str = "Hämäläinen ry Oy") -> SendingCompany:
    """Connect the unit to the account the Maventa demo preset already has for its business ID
    (MV-4: user API key + company UUID copied from Maventa)."""
    company = w.integration.company(unit)
    found = [
        c for c in w.maventa_sim.credentials()["companies"] if c["bid"] == company.business_id and c["users"]
    ]
    assert found, f"the Maventa demo preset has no account for {company.business_id}"
    account = found[0]
    return w.integration.connect(unit, account["users"][0]["user_api_key"], account["id"])


# ---------------------------------------------------------------------- the exactly-once check
def exactly_once_problems(
    w: World,
    tracked: set[str] | None = None,
    *,
    user_moved: Collection[str] = frozenset(),
    unit: str = "Ranta Oy",
) -> list[str]:
    """Everything that breaks "exactly once" for a Maventa sending company after the passes
    settled; [] when all is well.

    * every ledger row is final (DELIVERED or NOTIFIED), none of ``tracked`` (GUIDs of invoices
      that were put in the transfer status and not moved away before a pass saw them) is lost;
    * Maventa holds no invoice of the company whose id is not a send uuid the ledger made, and at
      most one per send (the uuid *is* Maventa's id);
    * DELIVERED: Maventa has the current send, DELIVERED; Severa shows the after-transfer status;
    * NOTIFIED: Severa shows the after-error status, one ERROR log line per failed send, and one
      notification (distinct Message-ID) per failed send, including the current one;
    * Severa statuses are checked only for invoices the user did not move after their last move
      into the transfer status (``user_moved``).
    """
    from bridge.connectors.maventa.connector import send_uuid
    from bridge.notify import notification_message_id

    problems: list[str] = []
    company = w.store.companies.get(w.companies[unit].id)
    rows = {e.invoice_guid: e for e in w.store.ledger.in_state(connector="maventa", account=str(company.id))}
    known_uuids: dict[str, str] = {}
    for guid, row in rows.items():
        for g in range(row.generation + 1):
            uid = send_uuid(guid, company.business_unit_guid, g, company.severa_organization)
            known_uuids[uid] = guid
    mav = [i for i in w.maventa_invoices() if i.company_id == company.maventa_company_uuid]
    by_id = {i.id: i for i in mav}
    for inv in mav:
        if inv.id not in known_uuids:
            problems.append(f"Maventa invoice {inv.id} (number {inv.number}) was sent under no ledger uuid")
    numbers: dict[str, int] = {}
    for inv in mav:
        numbers[str(inv.number)] = numbers.get(str(inv.number), 0) + 1
    mails = w.mailbox.find(to=NOTIFY_TO) if w.mailbox is not None else []
    for guid in sorted(tracked or set()):
        if guid not in rows:
            problems.append(f"invoice {guid} was put in the transfer status but the bridge never took it")
    for guid, row in rows.items():
        what = f"invoice {row.invoice_number or guid} (gen {row.generation}, {row.state.value})"
        if row.state not in (LedgerState.DELIVERED, LedgerState.NOTIFIED):
            problems.append(f"{what}: not settled")
            continue
        sends = sum(1 for uid, g in known_uuids.items() if g == guid and uid in by_id)
        if sends > row.generation + 1:
            problems.append(f"{what}: {sends} sends at Maventa")
        if row.invoice_number and numbers.get(row.invoice_number, 0) > row.generation + 1:
            problems.append(f"{what}: {numbers[row.invoice_number]} Maventa invoices carry its number")
        current = by_id.get(row.idempotency_key)
        status = w.severa_status(guid) if guid in w.severa_sim.main.org.invoices else None
        check_status = guid not in user_moved
        if row.state is LedgerState.DELIVERED:
            if current is None or current.status != "DELIVERED":
                problems.append(f"{what}: Maventa shows {current and current.status}")
            if check_status and status != AFTER_TRANSFER:
                problems.append(f"{what}: Severa shows {status!r}, expected {AFTER_TRANSFER!r}")
        else:
            if current is not None and current.status != "FAILED":
                # an invoice Maventa holds and delivers (or will) must never be reported as failed
                problems.append(f"{what}: in the error status, but Maventa shows its send {current.status}")
            if check_status and status != AFTER_ERROR:
                problems.append(f"{what}: Severa shows {status!r}, expected {AFTER_ERROR!r}")
            errors = w.log_lines(guid, "ERROR")
            if not 1 <= len(errors) <= row.generation + 1:
                problems.append(f"{what}: {len(errors)} ERROR log lines")
            if w.mailbox is not None and company.settings.notification_email:
                ids = [m.message_id for m in mails]
                if notification_message_id(row.idempotency_key) not in ids:
                    problems.append(f"{what}: no notification e-mail for the current send")
                mine = {notification_message_id(uid) for uid, g in known_uuids.items() if g == guid}
                distinct = {i for i in ids if i in mine}
                if len(distinct) != len(errors):
                    problems.append(
                        f"{what}: {len(distinct)} distinct notifications for {len(errors)} failed sends"
                    )
    return problems


def duplicate_mails(w: World) -> list[str]:
    """Message-IDs the mailbox received more than once (a crash inside the SMTP exchange)."""
    if w.mailbox is None:
        return []
    ids = [m.message_id or "" for m in w.mailbox.find()]
    return sorted({i for i in ids if ids.count(i) > 1})
