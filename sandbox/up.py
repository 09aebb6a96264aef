"""``severa-sandbox up``: the whole sandbox on 127.0.0.1 from the one world, until Ctrl-C.

    severa-sandbox up [--port-base N] [--seed S] [--state FILE] [--import BUNDLE] [--no-worker]
                      [--interval SECONDS] [--delivery-seconds SECONDS] [--env-file FILE]
                      [--save-every SECONDS]

1. Six consecutive ports from ``--port-base`` (default 8700: dashboard 8700, Severa 8701, Maventa
   8702, Maestro 8703, mailbox 8704, SMTP 8705) are checked before anything starts
   (``sandbox.ports``): a taken one ends the command with one line naming the port, the process
   holding it and a ``--port-base`` that is free, and nothing is left running.
2. ``World.build(transport="server", running_clock=True, ports=...)`` serves the Severa, Maventa
   and Maestro fakes; the mailbox serves its HTTP control plane and SMTP; the bridge worker
   (``sandbox.worker``) polls both connectors every ``--interval`` seconds in a thread; the
   dashboard (``sandbox.dashboard``) drives the same bridge objects and the fakes. The clock runs
   (from the demo's 2026-11-02 09:00); Maventa delivers a sent invoice after
   ``--delivery-seconds`` (10: time to watch it pending, or to fail it on purpose).
3. ``--state FILE`` loads the whole world (every service, the mailbox, the bridge's store) when
   the file exists and saves it atomically (temporary file, fsync, rename) on Ctrl-C or SIGTERM
   and every ``--save-every`` seconds; ``--import BUNDLE`` boots into the state after the last step
   of a reproduction bundle (its placeholder secrets are consistent across the services, and the
   bridge is re-wired to the credentials the loaded services accept).
4. One table of URLs and sandbox credentials is printed and written to ``endpoints.env``; the
   time from the start of ``up`` to ready (the first worker pass done) is part of it.

One Ctrl-C (or SIGTERM) stops everything cleanly; a second one while the state is being saved
only says so: the save finishes, and even a kill cannot leave a half-written state file.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import re
import shlex
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from sandbox.ports import DEFAULT_PORT_BASE, LAYOUT, PortInUse, PortPlan, check_ports
from sandbox.worker import BridgeWorker, PassRecord

if TYPE_CHECKING:
    from scenarios.engine import RunResult
    from scenarios.world import World
    from simulators.kit import ThreadedServer
    from simulators.mailbox import MailboxSimulator

__all__ = ["Sandbox", "UpError", "UpOptions", "add_parser", "cmd_up", "write_atomically"]

SANDBOX_KEY = "sandbox"  # the sandbox's own part of a saved world state (pauses, activity)
DEFAULT_INTERVAL = 2.0
DEFAULT_SAVE_EVERY = 180.0
DEFAULT_DELIVERY_SECONDS = 10.0
LOCK_TIMEOUT = 30.0


class UpError(Exception):
    """What went wrong, in one line for the user (exit code 2)."""


@dataclass
class UpOptions:
    plan: PortPlan = field(default_factory=lambda: PortPlan.from_base(DEFAULT_PORT_BASE))
    seed: int = 0
    state_path: Path | None = None
    bundle_path: Path | None = None
    worker: bool = True
    interval: float = DEFAULT_INTERVAL
    env_file: Path | None = None
    #: Maventa delivers a sent invoice after this many seconds (a demo should not wait a minute)
    delivery_seconds: float = DEFAULT_DELIVERY_SECONDS


@dataclass(frozen=True)
class Endpoint:
    name: str
    what: str
    url: str
    credentials: dict[str, str]


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to ``path`` so that ``path`` is always either the old or the whole new file:
    a temporary file beside it, flushed to disk, then renamed over it."""
    path = path.resolve()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # the rename itself on disk too
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def read_world_state(path: Path) -> dict[str, Any]:
    """A saved world (``--state``), checked before anything starts."""
    from scenarios.world import WORLD_FORMAT

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UpError(f"--state {path}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UpError(f"--state {path}: not a saved sandbox (not JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != WORLD_FORMAT:
        raise UpError(
            f"--state {path}: not a saved sandbox (format {WORLD_FORMAT!r} expected); "
            "give a file written by `severa-sandbox up --state`, or a new file name"
        )
    return doc


def read_bundle_state(path: Path) -> dict[str, Any]:
    """The whole-world state after the last step of a reproduction bundle (``--import``)."""
    from scenarios.bundle import BundleError, load_bundle

    try:
        doc = load_bundle(path)
    except BundleError as exc:
        raise UpError(f"--import {exc}") from None
    steps = doc.get("steps")
    state = (
        steps[-1].get("state") if isinstance(steps, list) and steps and isinstance(steps[-1], dict) else None
    )
    if not isinstance(state, dict):
        raise UpError(
            f"--import {path}: the bundle has no world state after its last step; export it again "
            "with this release (severa-sandbox scenario export)"
        )
    return with_fresh_secrets(state)


def with_fresh_secrets(state: dict[str, Any]) -> dict[str, Any]:
    """A bundle's state with every placeholder secret (``«secret-N»``) replaced by a new sandbox
    secret, the same placeholder by the same value everywhere: the Severa client secret the fake
    keeps is the one the bridge then logs in with, a Maventa user's API key the one the bridge's
    store holds for its company. (The placeholders themselves cannot be used: they are not ASCII,
    and a secret goes in HTTP headers and constant-time comparisons.)"""
    from scenarios.bundle import PLACEHOLDER

    pattern = re.compile(re.escape(PLACEHOLDER).replace(re.escape("{}"), r"\d+"))
    fresh: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        return fresh.setdefault(match.group(0), str(uuid.uuid4()))

    return dict(json.loads(pattern.sub(replace, json.dumps(state, ensure_ascii=False))))


class Sandbox:
    """Everything ``up`` runs, in one object: the world, the mailbox, the worker, the dashboard.

    ``lock`` serialises whatever drives the bridge (a worker pass, a dashboard action, a reset or
    a save); reading a fake's state takes only that fake's own lock."""

    def __init__(self, options: UpOptions) -> None:
        self.options = options
        self.lock = threading.RLock()
        self.seed = options.seed
        self.world: World | None = None
        self.mailbox: MailboxSimulator | None = None
        self.mailbox_server: ThreadedServer | None = None
        self.dashboard_server: ThreadedServer | None = None
        self.worker: BridgeWorker | None = None
        self.ready_seconds: float | None = None  # from start() to the worker's first pass done
        self.load_seconds = 0.0  # of which loading the code (the simulators' imports)
        self.loaded_from: str | None = None
        self.activity: list[dict[str, Any]] = []  # what users did in the dashboard (journeys)
        self.results: dict[str, Any] = {}  # the last audit, preflight, customer sync (ephemeral)
        self.scenario_runs: dict[str, RunResult] = {}
        self.scenario_lock = threading.Lock()
        self._controls: dict[str, httpx.Client] = {}
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Sandbox:
        """Check the ports, start everything, wait for the first worker pass; on any failure
        everything started so far is stopped again before the error is raised."""
        started = time.perf_counter()
        for module in (
            "scenarios.world",
            "sandbox.dashboard",
        ):  # the code first: the ready time says what is what
            importlib.import_module(module)

        self.load_seconds = time.perf_counter() - started
        opts = self.options
        state = read_world_state(opts.state_path) if opts.state_path and opts.state_path.exists() else None
        if state is not None:
            self.loaded_from = str(opts.state_path)
        if opts.bundle_path is not None:
            if state is not None:
                raise UpError(
                    f"--state {opts.state_path} already exists and --import would replace it: remove the "
                    "file or give another --state file"
                )
            state = read_bundle_state(opts.bundle_path)
            self.loaded_from = str(opts.bundle_path)
        check_ports(opts.plan)
        try:
            self._start_services(state)
            self._start_dashboard()
            if self.worker is not None:
                self.worker.start()
                if not self.worker.first_pass.wait(60):
                    raise UpError("the bridge worker's first pass did not finish within 60 s")
        except BaseException:
            self.stop(save=False)
            raise
        self.ready_seconds = time.perf_counter() - started
        return self

    def _start_services(self, state: dict[str, Any] | None) -> None:
        from scenarios.world import World
        from simulators.mailbox import MailboxSimulator

        plan = self.options.plan
        try:
            self.mailbox = MailboxSimulator(smtp_host=plan.host, smtp_port=plan.ports["smtp"])
            self.mailbox.start_smtp()
            self.world = World.build(
                seed=self.seed,
                mailbox=self.mailbox,
                transport="server",
                running_clock=True,
                delivery_seconds=self.options.delivery_seconds,
                ports={name: plan.ports[name] for name in ("severa", "maventa", "maestro")},
            )
            self.mailbox.clock = self.world.clock  # one clock for everything (journeys sort by it)
            self.mailbox_server = self.mailbox.serve(plan.host, plan.ports["mailbox"])
        except OSError as exc:
            raise UpError(f"cannot listen on {plan.host}: {exc.strerror or exc}") from exc
        if state is not None:
            self.load_state(state)
        if self.options.worker:
            self.worker = BridgeWorker(
                engine=lambda: self.w.engine,
                lock=self.lock,
                now=self.w.clock.now,
                interval=self.options.interval,
                paused=set(self.paused_from_state(state)),
            )

    def _start_dashboard(self) -> None:
        from sandbox.dashboard import create_app
        from simulators.kit import ThreadedServer

        plan = self.options.plan
        app = create_app(self)
        try:
            server = ThreadedServer(app, host=plan.host, port=plan.ports["dashboard"])
        except OSError as exc:
            raise UpError(
                f"cannot listen on {plan.host}:{plan.ports['dashboard']}: {exc.strerror or exc}"
            ) from exc
        app.config["SANDBOX_ALLOWED_HOSTS"] = allowed_hosts(plan.host, server.port)
        self.dashboard_server = server.start()

    def stop(self, *, save: bool = True) -> Path | None:
        """Stop everything (idempotent); with ``save`` and ``--state``, save the world first."""
        if self._stopped:
            return None
        self._stopped = True
        saved = None
        if self.world is not None:  # end simulated hangs and delays now: a pass waiting on one ends
            for sim in self.world.sims.values():
                sim.stopping.set()
        if self.worker is not None:
            self.worker.stop()
        if self.dashboard_server is not None:
            with contextlib.suppress(Exception):
                self.dashboard_server.stop()
        problem: BaseException | None = None
        if save and self.options.state_path is not None and self.world is not None:
            try:
                saved = self.save_state()
            except (OSError, UpError) as exc:  # stop everything anyway, then say why it was not saved
                problem = exc
        for client in self._controls.values():
            with contextlib.suppress(Exception):
                client.close()
        if self.world is not None:
            with contextlib.suppress(Exception):
                self.world.close()
        if self.mailbox_server is not None:
            with contextlib.suppress(Exception):
                self.mailbox_server.stop()
        if self.mailbox is not None:
            with contextlib.suppress(Exception):
                self.mailbox.stop_smtp()
        if problem is not None:
            raise problem
        return saved

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the world
    @property
    def w(self) -> World:
        if self.world is None:
            raise RuntimeError("the sandbox is not started")
        return self.world

    @contextlib.contextmanager
    def driving(self, timeout: float = LOCK_TIMEOUT) -> Iterator[World]:
        """Hold the lock of everything that drives the bridge (raises ``TimeoutError`` when a pass
        stays busy, e.g. hanging on a fault rule, for longer than ``timeout``)."""
        if not self.lock.acquire(timeout=timeout):
            raise TimeoutError(
                f"the bridge is busy (a pass has been running for over {timeout:g} s; a fault rule may "
                "be delaying it): try again"
            )
        try:
            yield self.w
        finally:
            self.lock.release()

    def record(self, text: str, *, invoice_guid: str | None = None, service: str = "severa") -> None:
        """Note something a user did in the dashboard (shown in the invoice journeys)."""
        self.activity.append(
            {
                "at": self.w.clock.now().isoformat(),
                "service": service,
                "text": text,
                "invoice_guid": invoice_guid.lower() if invoice_guid else None,
            }
        )
        del self.activity[:-1000]

    def run_pass(self, only: list[str] | None = None) -> PassRecord:
        """One pass of the bridge now (of ``only``, else of every connector not paused), with or
        without the worker; never raises (the record says what happened)."""
        worker = self.worker or BridgeWorker(
            engine=lambda: self.w.engine, lock=self.lock, now=self.w.clock.now
        )
        return worker.run_pass(only)

    def control(self, service: str) -> httpx.Client:
        """An HTTP client of a fake's server root (control plane under ``/_sim``), JSON by default."""
        client = self._controls.get(service)
        if client is None:
            from scenarios.world import served_client

            client = served_client(self.root_url(service))
            client.headers["Accept"] = "application/json"
            self._controls[service] = client
        return client

    def root_url(self, service: str) -> str:
        if service == "mailbox":
            assert self.mailbox_server is not None
            return self.mailbox_server.url
        if service == "dashboard":
            assert self.dashboard_server is not None
            return self.dashboard_server.url
        return self.w.servers[service].url

    # ------------------------------------------------------------------ state
    def export_state(self) -> dict[str, Any]:
        with self.lock:
            state = self.w.export_state()
            state[SANDBOX_KEY] = {
                "seed": self.seed,
                "paused": sorted(self.worker.paused) if self.worker is not None else [],
                "activity": list(self.activity),
                "saved_at": self.w.clock.now().isoformat(),
            }
            return state

    def save_state(self, path: Path | None = None) -> Path:
        target = path or self.options.state_path
        if target is None:
            raise UpError("no --state file to save to")
        text = json.dumps(self.export_state(), ensure_ascii=False, default=str)
        write_atomically(target, text)
        return target

    def load_state(self, state: dict[str, Any]) -> None:
        """Load a whole-world state (saved or from a bundle) into the running world."""
        from bridge.store import StoreError
        from simulators.kit import SnapshotError

        with self.lock:
            try:
                self.w.import_state(state)
            except (ValueError, SnapshotError, StoreError) as exc:
                raise UpError(f"the saved world cannot be loaded: {exc}") from exc
            if self.w.clock.frozen:  # a bundle recorded in-process: let its time run on
                self.w.clock.freeze(False)
            extra = state.get(SANDBOX_KEY) or {}
            self.activity = [a for a in extra.get("activity") or [] if isinstance(a, dict)]
            if isinstance(extra.get("seed"), int):
                self.seed = extra["seed"]
            if self.worker is not None:
                self.worker.paused = set(self.paused_from_state(state))
            self.results.clear()

    @staticmethod
    def paused_from_state(state: dict[str, Any] | None) -> list[str]:
        paused = ((state or {}).get(SANDBOX_KEY) or {}).get("paused") or []
        return [str(p) for p in paused if p in ("maventa", "maestro")]

    def reset(self, seed: int) -> None:
        """A fresh demo world from ``seed``: every fake reset through its control plane, the
        mailbox emptied, the bridge's store cleared and the bridge re-wired to the new credentials."""
        from scenarios.world import START

        with self.lock:
            for service in ("severa", "maventa", "maestro"):
                r = self.control(service).post("/_sim/reset", json={"preset": "demo", "seed": seed})
                if r.status_code != 200:
                    raise UpError(f"the {service} fake refused the reset: {r.text}")
            r = self.control("mailbox").post("/_sim/reset", json={"preset": "empty", "seed": seed})
            if r.status_code != 200:
                raise UpError(f"the mailbox refused the reset: {r.text}")
            self.w.clock.set(START)
            empty = self.w.store.dump()
            empty["tables"] = {}
            self.w.store.load(empty)
            self.w._rewire()  # the demo data of another seed has other credentials
            self.w.companies.clear()
            self.seed = seed
            self.activity.clear()
            self.results.clear()

    # ------------------------------------------------------------------ what to print
    def endpoints(self) -> list[Endpoint]:
        w = self.w
        severa = w.severa_sim.credentials()["clients"][0]
        vendor = (w.maventa_sim.credentials().get("vendor_api_keys") or [""])[0]
        maestro = (w.maestro_sim.credentials().get("companies") or [{}])[0]
        assert self.mailbox is not None
        return [
            Endpoint("dashboard", "Dashboard", self.root_url("dashboard"), {}),
            Endpoint(
                "severa",
                "Severa REST API",
                self.root_url("severa") + "/rest-api",
                {"client_id": severa["client_id"], "client_secret": severa["client_secret"]},
            ),
            Endpoint("maventa", "Maventa AX API", self.root_url("maventa"), {"vendor_api_key": vendor}),
            Endpoint(
                "maestro",
                "Maestro API",
                self.root_url("maestro") + "/api",
                {"api_key": maestro.get("api_key", "")},
            ),
            Endpoint("mailbox", "Mailbox", self.root_url("mailbox") + "/_sim/messages", {}),
            Endpoint("smtp", "SMTP", f"smtp://{self.options.plan.host}:{self.mailbox.smtp_port}", {}),
        ]

    def env_text(self) -> str:
        e = {x.name: x for x in self.endpoints()}
        pairs = [
            ("SANDBOX_DASHBOARD_URL", e["dashboard"].url),
            ("SEVERA_BASE_URL", e["severa"].url),
            ("SEVERA_CLIENT_ID", e["severa"].credentials["client_id"]),
            ("SEVERA_CLIENT_SECRET", e["severa"].credentials["client_secret"]),
            ("MAVENTA_BASE_URL", e["maventa"].url),
            ("MAVENTA_VENDOR_API_KEY", e["maventa"].credentials["vendor_api_key"]),
            ("MAESTRO_BASE_URL", e["maestro"].url),
            ("MAESTRO_API_KEY", e["maestro"].credentials["api_key"]),
            ("MAILBOX_URL", e["mailbox"].url),
            ("SMTP_HOST", self.options.plan.host),
            ("SMTP_PORT", str(self.mailbox.smtp_port if self.mailbox else "")),
        ]
        for service in ("severa", "maventa", "maestro", "mailbox"):
            pairs.append((f"{service.upper()}_CONTROL_PLANE", self.root_url(service) + "/_sim"))
        lines = [
            "# severa-sandbox up: the URLs of this sandbox and its SANDBOX CREDENTIALS.",
            "# These credentials are accepted only by the local fakes listed here; they are not real secrets",
            "# and must never be used against real services. `set -a; . ./endpoints.env; set +a` exports them.",
        ]
        lines += [f"{k}={shlex.quote(v)}" for k, v in pairs]
        return "\n".join(lines) + "\n"


def allowed_hosts(host: str, port: int) -> set[str]:
    """The ``Host`` values the dashboard answers: its bound address (and loopback names for it)."""
    names = {host}
    if host in ("127.0.0.1", "localhost", "::1"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return {f"{n}:{port}" for n in names}


# ---------------------------------------------------------------------- the command
def _port_base(value: str) -> int:
    try:
        base = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    top = 65535 - (len(LAYOUT) - 1)
    if not 1024 <= base <= top:
        raise argparse.ArgumentTypeError(
            f"expected a port from 1024 to {top} (six ports from it), got {base}"
        )
    return base


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not 0.1 <= seconds <= 86400:
        raise argparse.ArgumentTypeError(f"expected 0.1 to 86400 seconds, got {value}")
    return seconds


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "up",
        help="the whole sandbox (three fakes, mailbox, bridge worker, dashboard) on 127.0.0.1 until Ctrl-C",
        description="Start the Severa, Maventa and Maestro fakes, the mailbox, the bridge worker and the "
        "web dashboard on 127.0.0.1 from one world; print their URLs and sandbox credentials (also "
        "written to endpoints.env). Ctrl-C stops everything.",
    )
    p.add_argument(
        "--port-base",
        type=_port_base,
        default=DEFAULT_PORT_BASE,
        metavar="N",
        help=f"first of six consecutive ports (default {DEFAULT_PORT_BASE}): dashboard N, Severa N+1, "
        "Maventa N+2, Maestro N+3, mailbox N+4, SMTP N+5",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the demo data (same seed, same world)")
    p.add_argument(
        "--state",
        metavar="FILE",
        type=Path,
        help="load the whole world from FILE when it exists; save it there on Ctrl-C and every few minutes",
    )
    p.add_argument(
        "--import",
        dest="bundle",
        metavar="BUNDLE",
        type=Path,
        help="boot into the state after the last step of a reproduction bundle (scenario export)",
    )
    p.add_argument("--no-worker", action="store_true", help="no bridge worker: passes only when asked")
    p.add_argument(
        "--interval",
        type=_seconds,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between the worker's passes (default {DEFAULT_INTERVAL:g})",
    )
    p.add_argument(
        "--save-every",
        type=_seconds,
        default=DEFAULT_SAVE_EVERY,
        metavar="SECONDS",
        help=f"with --state: save this often too (default {DEFAULT_SAVE_EVERY:g})",
    )
    p.add_argument(
        "--delivery-seconds",
        type=_seconds,
        default=DEFAULT_DELIVERY_SECONDS,
        metavar="SECONDS",
        help=f"Maventa delivers (or the recipient's network can fail) a sent invoice within this time "
        f"(default {DEFAULT_DELIVERY_SECONDS:g})",
    )
    p.add_argument(
        "--env-file",
        type=Path,
        default=Path("endpoints.env"),
        metavar="FILE",
        help="where to write the URLs and sandbox credentials (default ./endpoints.env)",
    )
    return p


def endpoint_lines(sandbox: Sandbox) -> list[str]:
    """The table of URLs and sandbox credentials, one service per block, never wrapped."""
    assert sandbox.ready_seconds is not None
    lines = [
        f"severa-sandbox up: ready in {sandbox.ready_seconds:.2f} s (seed {sandbox.seed}; loading the code "
        f"{sandbox.load_seconds:.2f} s, then the fakes, the dashboard and the worker's first pass "
        f"{sandbox.ready_seconds - sandbox.load_seconds:.2f} s)",
        "",
    ]
    rows: list[tuple[str, str]] = []
    for e in sandbox.endpoints():
        url = e.url
        if e.name in ("severa", "maventa", "maestro"):
            url += f"   control plane {sandbox.root_url(e.name)}/_sim"
        rows.append((e.what, url))
        rows += [(f"  {k}", v) for k, v in e.credentials.items()]
    width = max(len(k) for k, _ in rows) + 2
    lines += [f"  {k.ljust(width)}{v}" for k, v in rows]
    lines += ["", "SANDBOX CREDENTIALS above: accepted only by these local fakes, not real secrets."]
    return lines


def cmd_up(args: argparse.Namespace) -> int:
    """Run ``up`` until Ctrl-C/SIGTERM; exit code 0, or 2 with one line on stderr."""
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)

    def fail(message: str) -> int:
        err.print(f"severa-sandbox up: error: {message}", markup=False)
        return 2

    options = UpOptions(
        plan=PortPlan.from_base(args.port_base),
        seed=args.seed,
        state_path=args.state,
        bundle_path=args.bundle,
        worker=not args.no_worker,
        interval=args.interval,
        env_file=args.env_file,
        delivery_seconds=args.delivery_seconds,
    )
    stop = threading.Event()
    signals = 0

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal signals
        signals += 1
        if signals > 1:
            err.print("severa-sandbox up: already stopping (the state is saved first, then everything stops)")
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    sandbox = Sandbox(options)
    try:
        try:
            sandbox.start()
        except (PortInUse, UpError) as exc:
            return fail(str(exc))
        if options.env_file is not None:
            try:
                write_atomically(options.env_file, sandbox.env_text())
            except OSError as exc:
                return fail(
                    f"cannot write {options.env_file}: {exc.strerror or exc} (choose another --env-file)"
                )
        for line in endpoint_lines(sandbox):
            out.print(line, soft_wrap=True, markup=False, highlight=False)
        if options.env_file is not None:
            out.print(f"The same in {options.env_file} (sandbox credentials).", soft_wrap=True)
        if options.state_path is not None:
            how = "loaded from" if sandbox.loaded_from == str(options.state_path) else "will be saved to"
            out.print(f"World state {how} {options.state_path}.", soft_wrap=True)
        if options.bundle_path is not None:
            out.print(f"Booted into the last state of the bundle {options.bundle_path}.", soft_wrap=True)
        if sandbox.worker is None:
            out.print("No bridge worker (--no-worker): the dashboard's 'Aja siirto nyt' runs a pass.")
        out.print(f"Open {sandbox.root_url('dashboard')} - Ctrl-C stops everything.", soft_wrap=True)
        next_save = time.monotonic() + args.save_every
        while not stop.wait(1.0):
            if options.state_path is not None and time.monotonic() >= next_save:
                try:
                    sandbox.save_state()
                except OSError as exc:
                    err.print(f"severa-sandbox up: warning: could not save {options.state_path}: {exc}")
                next_save = time.monotonic() + args.save_every
        out.print("stopping...")
        try:
            saved = sandbox.stop(save=True)
        except (OSError, UpError) as exc:
            return fail(
                f"could not save the state to {options.state_path}: {getattr(exc, 'strerror', None) or exc}"
            )
        if saved is not None:
            out.print(f"World state saved to {saved}.", soft_wrap=True)
        out.print("stopped.")
        return 0
    finally:
        sandbox.stop(save=False)
        for s, handler in previous.items():
            signal.signal(s, handler)
