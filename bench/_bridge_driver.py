"""The part of the bridge benchmark that runs against *any* tree of this project, old or new.

`bench_bridge` imports it for the current tree and also runs this very file in a child process
with ``PYTHONPATH`` set to an exported older tree (``BENCH_BRIDGE_BASELINE``), so before and after
are measured by the same code on the same data. It therefore imports nothing of the project at
module level, only ``simulators.severa`` inside the functions (the same preset and backend in every
tree since the bench has existed) and, when run as a script, the old tree's ``tests.bridge.world``.

* ``add_invoices``: the realistic data, straight into the Severa simulator's backend;
* ``Recorder``: every request a bridge client sends (method, URL, headers, body) and its status;
* ``measure``: cold bridge → passes until every invoice is delivered, timed pass by pass and
  recorded → the fakes put back as they were → the recording replayed with bare ``httpx``
  clients (all of it, then only the minimal calls), timed the same way;
* ``__main__``: the baseline driver for the old tree (Maventa only); a JSON job on stdin, a JSON
  result on stdout.
"""

from __future__ import annotations

import gc
import importlib
import itertools
import json
import math
import random
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

#: Customers by how Maventa routes them: e-invoice (Maventa's operator, another operator), e-mail.
ROUTES = ("einvoice-maventa", "einvoice-opentext", "email")
INVOICES_PER_CUSTOMER = 5
#: Codes the Maestro demo company knows (simulators/maestro/presets.py: MIRRORED_*).
WORK_TYPES = ("SUUN", "KEH", "PM")
PRODUCTS = ("KONS", "LIS-01", "KIRJA", "ALIH")
TRAVEL = ("KM", "MATKALIPPU", "HOTELLI")
STEP_SECONDS = 120.0  # simulated time between passes (Maventa delivers 60 s after an upload)
MAX_PASSES = 25
WARM_UP = 5  # invoices of a throwaway run before the measured ones, in every process
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")


def customers_for(n: int) -> int:
    """How many customers ``n`` invoices are spread over."""
    return max(1, math.ceil(n / INVOICES_PER_CUSTOMER))


# ---------------------------------------------------------------------- data
def park(backend: Any, statuses: tuple[str, ...], draft: str = "Luonnos") -> None:
    """Move the demo invoices waiting in ``statuses`` back to draft, so a run sees only its own."""
    wanted = {backend.status_by_name(s).guid for s in statuses}
    for inv in list(backend.org.invoices.values()):
        if inv.status_guid in wanted:
            backend.set_status(inv.guid, draft, force=True)


def add_invoices(backend: Any, *, unit_guid: str, status: str, n: int, when: datetime, seed: int = 1) -> int:
    """``n`` invoices of the unit in ``status``, spread evenly (in shuffled order) over
    ``customers_for(n)`` new customers with valid business IDs, a third each reached by a Maventa
    e-invoice address, another operator's and e-mail; 3-4 rows each of all three kinds (work
    hours, fees, travel) with codes Maestro knows. Returns the number of customers added."""
    from faker import Faker

    from simulators.severa.presets import _add_customer
    from simulators.severa.references import finnish_reference

    rng = random.Random(seed)
    fake = Faker("fi_FI")
    fake.seed_instance(seed)
    customers = [
        _add_customer(backend, fake, rng, ROUTES[i % len(ROUTES)], unit_guid) for i in range(customers_for(n))
    ]
    project_of = {p.customer_guid: p.guid for p in backend.org.projects.values()}
    order = [k % len(customers) for k in range(n)]
    rng.shuffle(order)
    # numbered up front: the simulator's numbering scans every invoice (quadratic for 10,000)
    number = max((i.number or 0 for i in backend.org.invoices.values()), default=0) + 1
    for k, c in enumerate(order):
        rows: list[dict[str, Any]] = [
            {"kind": "hours", "ref": WORK_TYPES[k % 3], "quantity": float(rng.randint(2, 40))},
            {"kind": "fee", "ref": PRODUCTS[k % 4], "quantity": float(rng.randint(1, 3))},
        ]
        travel = TRAVEL[k % 3]
        if travel == "KM":
            rows.append({"kind": "travel", "ref": travel, "quantity": float(rng.randint(20, 400))})
        else:
            rows.append(
                {"kind": "travel", "ref": travel, "quantity": 1.0, "unit_price": float(rng.randint(40, 160))}
            )
        if k % 3 == 0:
            rows.append({"kind": "fee", "ref": "KIRJA", "quantity": 2.0})
        backend.create_invoice(
            customers[c].guid,
            status=status,
            business_unit_guid=unit_guid,
            project_guid=project_of[customers[c].guid],
            when=when,
            number=number + k,
            reference_number=finnish_reference(number + k),
            order_number=f"PO-{rng.randint(1000, 9999)}",
            rows=rows,
        )
    backend.org.next_invoice_number = number + n
    return len(customers)


# ---------------------------------------------------------------------- recording
def call_class(method: str, url: str) -> str:
    """``"severa GET /v1/invoices/{id}/invoicerows"``: the service (URL host), the method and the
    path with GUIDs as ``{id}`` and numbers as ``{n}`` (Severa's ``/rest-api`` root left out)."""
    parts = urlsplit(url)
    path = parts.path.removeprefix("/rest-api")
    segments = ["{id}" if _GUID.match(s) else "{n}" if s.isdigit() else s for s in path.split("/")]
    return f"{parts.hostname} {method} {'/'.join(segments)}"


def is_token_call(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("token")  # /v1/token, /v1/refreshtoken, /oauth2/token


@dataclass
class Call:
    method: str
    url: str
    headers: list[tuple[str, str]]
    content: bytes
    status: int = 0
    tokens: tuple[str, ...] = ()  # the access (and refresh) token a token call answered

    @property
    def klass(self) -> str:
        return call_class(self.method, self.url)


_SKIP_HEADERS = frozenset({"content-length", "host", "transfer-encoding"})


@dataclass
class Recorder:
    """Event hooks for the bridge's ``httpx`` clients; requests are sequential (one thread)."""

    calls: list[Call] = field(default_factory=list)
    passes: list[int] = field(default_factory=list)  # index of each pass's first call

    def attach(self, client: httpx.Client) -> None:
        client.event_hooks["request"].append(self._request)
        client.event_hooks["response"].append(self._response)

    def new_pass(self) -> None:
        self.passes.append(len(self.calls))

    def _request(self, request: httpx.Request) -> None:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _SKIP_HEADERS]
        self.calls.append(Call(request.method, str(request.url), headers, request.read()))

    def _response(self, response: httpx.Response) -> None:
        call = self.calls[-1]
        call.status = response.status_code
        if is_token_call(call.url) and response.status_code == 200:
            response.read()
            call.tokens = _tokens(response)

    def counts(self) -> Counter[str]:
        return Counter(c.klass for c in self.calls)

    def segments(self) -> list[list[Call]]:
        bounds = [*self.passes, len(self.calls)]
        return [self.calls[a:b] for a, b in itertools.pairwise(bounds)]


def _tokens(response: httpx.Response) -> tuple[str, ...]:
    try:
        data = response.json()
    except ValueError:
        return ()
    if not isinstance(data, dict):
        return ()
    return tuple(str(data[k]) for k in ("access_token", "refresh_token") if data.get(k))


# ---------------------------------------------------------------------- replay
def snapshot(sims: dict[str, Any]) -> dict[str, Any]:
    return {name: sim.export_state() for name, sim in sims.items()}


def restore(sims: dict[str, Any], snap: dict[str, Any]) -> None:
    for name, sim in sims.items():
        sim.import_state(snap[name])
        sim.journal.clear()


def minimal_plan(calls: list[Call], keep: dict[str, int] | None) -> list[bool]:
    """Which recorded calls a minimal client makes: every write, and of each kind of read (and of
    token calls) only as many as the minimum allows (``keep``; None: every call)."""
    if keep is None:
        return [True] * len(calls)
    seen: Counter[str] = Counter()
    plan = []
    for c in calls:
        if c.method != "GET" and not is_token_call(c.url):
            plan.append(True)
            continue
        seen[c.klass] += 1
        plan.append(seen[c.klass] <= keep.get(c.klass, 0))
    return plan


def replay(
    recorder: Recorder,
    clients: dict[str, httpx.Client],
    advance: Callable[[float], None],
    keep: dict[str, int] | None = None,
) -> tuple[float, int, int]:
    """Send the recorded requests again with bare clients (by URL host), moving the clock between
    passes as the run did; fresh tokens replace the recorded ones. Returns (seconds spent in the
    requests, calls sent, calls whose status differs from the recording)."""
    plan = iter(minimal_plan(recorder.calls, keep))
    new_token: dict[str, str] = {}  # recorded token -> the replay's
    latest: dict[tuple[str, bytes], tuple[str, ...]] = {}  # a token call's (URL, body) -> its last tokens
    seconds, sent, differ = 0.0, 0, 0
    for i, segment in enumerate(recorder.segments()):
        if i:
            advance(STEP_SECONDS)
        started = time.process_time()
        for call in segment:
            token_call = is_token_call(call.url)
            if not next(plan):
                if token_call and (call.url, call.content) in latest:
                    new_token.update(zip(call.tokens, latest[(call.url, call.content)], strict=False))
                continue
            headers = [
                (k, _swap(v, new_token)) if k.lower() == "authorization" else (k, v) for k, v in call.headers
            ]
            content = call.content
            if token_call and new_token:
                for old, new in new_token.items():
                    content = content.replace(old.encode(), new.encode())
            response = clients[urlsplit(call.url).hostname or ""].request(
                call.method, call.url, headers=headers, content=content
            )
            sent += 1
            differ += response.status_code != call.status
            if token_call and response.status_code == 200:
                fresh = _tokens(response)
                new_token.update(zip(call.tokens, fresh, strict=False))
                latest[(call.url, call.content)] = fresh
        seconds += time.process_time() - started
    return seconds, sent, differ


def _swap(value: str, tokens: dict[str, str]) -> str:
    scheme, _, token = value.partition(" ")
    return f"{scheme} {tokens.get(token, token)}" if token else value


# ---------------------------------------------------------------------- one measured run
@dataclass
class Run:
    """What one connector did for ``invoices`` invoices, and the replays of its calls."""

    invoices: int
    customers: int
    passes: int = 0
    picked_up: list[int] = field(default_factory=list)
    seconds: float = 0.0
    delivered: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    replay_seconds: float = 0.0  # the bare replay of the minimal calls
    replay_calls: int = 0
    replay_differ: int = 0  # replayed calls whose status differs from the recording
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        return cls(**data)


def measure(
    sims: dict[str, Any],
    run_pass: Callable[[], Any],
    advance: Callable[[float], None],
    delivered: Callable[[], int],
    recorder: Recorder,
    run: Run,
    keep: dict[str, int] | None,
    bare_client: Callable[[Any], httpx.Client],
    before: dict[str, Any] | None = None,
) -> Run:
    """Passes (the recorder already on the bridge's clients) until all ``run.invoices`` are
    delivered, then the replays. ``sims``: the fakes by URL host; ``bare_client(sim)``: a plain
    in-process client for one; ``before``: their state now, when the caller has it already."""
    before = before or snapshot(sims)
    gc.collect()
    for passes in range(1, MAX_PASSES + 1):
        recorder.new_pass()
        started = time.process_time()
        report = run_pass()
        run.seconds += time.process_time() - started
        run.passes = passes
        run.picked_up.append(int(getattr(report, "picked_up", 0) or 0))
        run.delivered = delivered()
        if run.delivered >= run.invoices:
            break
        advance(STEP_SECONDS)
    run.calls = dict(recorder.counts())
    if run.delivered < run.invoices:
        run.error = f"only {run.delivered} of {run.invoices} delivered after {run.passes} passes"
        return run
    clients = {name: bare_client(sim) for name, sim in sims.items()}
    try:
        restore(sims, before)
        gc.collect()
        run.replay_seconds, run.replay_calls, run.replay_differ = replay(recorder, clients, advance, keep)
    finally:
        for c in clients.values():
            c.close()
    return run


# ---------------------------------------------------------------------- the baseline driver (old tree)
def _baseline(job: dict[str, Any]) -> Run:
    """The old tree's Maventa transfer (``tests.bridge.world``), cold, on the same data."""
    from bridge.connectors.maventa import MaventaClient
    from bridge.connectors.maventa.integration import MaventaIntegration
    from bridge.severa import SeveraClient
    from bridge.store import LedgerState
    from tests.bridge.world import MAVENTA_ROOT, SEVERA_ROOT, TO_TRANSFER, World, fast_policy, setup_company

    # the engine lived beside the Maventa client then (not a module of this tree)
    TransferEngine = importlib.import_module("bridge.connectors.maventa.transfer").TransferEngine

    n = int(job["invoices"])
    world = World.build()
    setup_company(world, "Ranta Oy", send_by_email=True, send_original_pdf=bool(job["pdf"]))
    backend = world.severa_sim.main
    with world.severa_sim.lock:
        park(backend, ("Odottaa siirtoa Maventaan", "Odottaa siirtoa Maestroon"))
        customers = add_invoices(
            backend,
            unit_guid=world.unit_guid("Ranta Oy"),
            status=TO_TRANSFER,
            n=n,
            when=world.severa_sim.clock.now(),
        )
    # a cold bridge (a new process over the same store): its tokens are part of the run
    recorder = Recorder()
    sc = world.severa_sim.credentials()["clients"][0]
    severa_http = world.severa_sim.client(base_url=SEVERA_ROOT)
    maventa_http = world.maventa_sim.client(base_url=MAVENTA_ROOT)
    recorder.attach(severa_http)
    recorder.attach(maventa_http)

    def no_sleep(_: float) -> None:
        return None

    severa = SeveraClient(
        severa_http,
        sc["client_id"],
        sc["client_secret"],
        rate_limit=False,
        policy=fast_policy(),
        sleep=no_sleep,
    )
    maventa = MaventaClient(
        maventa_http,
        world.maventa_sim.credentials()["vendor_api_keys"][0],
        policy=fast_policy(),
        sleep=no_sleep,
    )
    world.severa, world.maventa = severa, maventa
    world.integration = MaventaIntegration(severa, maventa, world.store)
    world.engine = TransferEngine(world.integration)
    sims = {"severa": world.severa_sim, "maventa": world.maventa_sim}

    def delivered() -> int:
        return int(world.store.ledger.counts().get(LedgerState.DELIVERED, 0))

    return measure(
        sims,
        world.run_pass,
        world.advance,
        delivered,
        recorder,
        Run(n, customers),
        job.get("keep"),
        lambda sim: sim.client(),
    )


def main() -> int:
    job = json.loads(sys.stdin.read())
    root = str(job["tree"])
    import bridge

    if not str(bridge.__file__).startswith(root):
        print(json.dumps({"error": f"bridge imported from {bridge.__file__}, not from {root}"}))
        return 1
    try:
        _baseline({**job, "invoices": WARM_UP})  # imports, caches and first-time costs out of the way
        run = _baseline(job)
    except Exception as exc:
        # the old tree may not work as this driver expects: say so, do not crash the bench
        run = Run(int(job["invoices"]), customers_for(int(job["invoices"])), error=f"{exc!r}")
        traceback.print_exc(file=sys.stderr)
    print(json.dumps(run.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
