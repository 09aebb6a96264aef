"""The bridge per connector: API calls per invoice against the minimum, invoices/s, time against a bare replay, memory, before/after.

Connectors: Maventa with the original PDF off and on (sending company "Ranta Oy", e-mail route
on), and Maestro (the demo's "Odottaa siirtoa Maestroon" → "Siirretty Maestroon"). For each size
N the world is built afresh (`scenarios.world`: in-process fakes on one frozen clock), the demo's
waiting invoices are put back to draft and N invoices of the unit are created straight in the
Severa simulator's backend (`bench._bridge_driver.add_invoices`): spread evenly, in shuffled
order, over C = ⌈N/5⌉ new customers with valid business IDs (a third each with a Maventa
e-invoice address, another operator's e-invoice address, e-mail only), 3-4 rows each of all three
kinds (work hours, fees, travel) with codes Maestro knows. Then a *cold* bridge (`build_bridge`
over the same store: a new process, no tokens yet) runs passes, the clock moving 120 s between
them, until all N are DELIVERED (no idle pass after). Every request of its clients is recorded.

1. **Calls per invoice against the minimum.** The minimum is what any correct client must call
   for the run, derived from the APIs (the fakes follow the vendor notes). It is printed per run
   as a formula, and the bridge's count over it is the ratio, per target service (SPEC §6:
   ≤ 1.05). Calls are classed by method + path (GUIDs as {id}, numbers as {n}); every class the
   bridge called more (or fewer) times than its minimum is listed with both counts.

   *Maventa* takes two passes at least: the upload pass, and a later one that sees the delivery
   (Maventa delivers after the upload's answer; nothing tells earlier). Severa:
   - rows N (`GET /v1/invoices/{id}/invoicerows`: the listing carries no rows; the bulk
     `GET /v1/invoicerows` cannot select by invoice or status);
   - status PATCH N (one invoice a PATCH), + PDF N with the original PDF on (`…/pdf`);
   - invoice list ⌈N/100⌉ (100 is the largest `rowCount`; the listing carries the whole
     invoice, so none is read again) + 1 in the delivery pass (every pass looks for new ones);
   - customers ⌈C/100⌉ (`GET /v1/customers?numbers=`, 100 numbers a call: a client that holds
     back the invoices of unknown customers until 100 numbers are gathered needs no more, its
     memory bounded by the invoices of 100 customers);
   - statuses 1 a pass × 2 (the account's three statuses may have been deleted or renamed);
     organisation 1, business unit 1, bank accounts 1 (the seller's name, address, IBAN and BIC
     in the Finvoice; once, in the pass that builds invoices);
   - token 1 (a token lives 3600 s; the run lasts a few simulated minutes).
   Maventa: uploads N (`POST /v1/invoices`, one invoice each) + delivery polls ⌈N/100⌉ per poll
   round (`GET /v1/invoices?ids=`, 100 ids a query; one round here) + token 1.

   *Maestro* imports synchronously: one pass. Severa: rows N + PATCH N + invoice list ⌈N/100⌉ +
   changed customers ⌈R/100⌉ (`GET /v1/customers?changedSince=`; R = Severa's whole customer
   register at the first sync: the demo's 6 + C) + statuses 1 + token 1 (the token answer names
   the scopes, so the preflight needs no probe). Maestro: imports N (`POST /api/v1/sales-invoices`)
   + customer upserts R (`PUT /api/v1/customers/{n}`: MA-2 copies the register, one customer a
   call) + company 1 + settings 1 (the preflight: the key's company and the statuses it names).

2. **Invoices per second** in-process: N / the CPU seconds of this process inside the passes
   (`time.process_time`: the fakes run in this thread too, and on a shared machine wall time
   mostly measures the neighbours; the recording hooks are included, building the data and
   moving the clock are not). Every process first makes a throwaway run of 5 invoices, so lazy
   imports and first-time costs of the bridge and the fakes fall outside the measured runs.
   At 100 invoices a run is about a second of CPU and its figures move by ±25 % between runs on a
   loaded machine; 1,000 and 10,000 are steadier.

3. **Time against a bare replay** of the minimal calls, same run, same in-process fakes: the
   fakes are put back to their state before the passes (`export_state` / `import_state`) and the
   recorded requests (method, URL, headers, body) are sent again with bare `httpx` clients: every
   write, and of each class of read (and of token calls) only as many as the minimum allows,
   fresh tokens from the replayed token calls swapped in, the clock moved between passes as in
   the run, timed the same way. Printed: bridge seconds / replay seconds (SPEC §6: ≤ 1.3). A
   replayed call answered with another status than the bridge got is counted and printed. A
   bridge that never called a class of the minimum (the old one read customers by GUID) leaves
   those calls out of its replay, which then is a little cheaper than the true minimum.

4. **Memory of the bridge alone**: the same world built again is served from this process on
   threaded servers (port 0); the bridge runs in a fresh child process (`bench._memory_child`:
   imports only `bridge`, built from base URLs like the CLI, with a copy of the store in a file)
   that samples its own resident set every 20 ms. Printed: the peak above the set before the
   first pass, in MiB and KiB per invoice (flat memory: KiB/inv falls as N grows).
   `BENCH_BRIDGE_MEMORY=0` skips it.

5. **Before vs after**: `BENCH_BRIDGE_BASELINE=<git ref>` (default `cc41ff4`, the bridge before
   issue 8; `none` skips) is exported with `git archive` into a temporary directory, where
   `bench/_bridge_driver.py` runs in a child process with `PYTHONPATH` set to that tree (it
   imports nothing of this tree): the old Maventa transfer (`tests.bridge.world`), cold, on the
   same data, measured and replayed by the same code. Maestro did not exist then.

Sizes: 100, 1,000 and 10,000 by default; `BENCH_BRIDGE_SIZES=100,1000` picks others;
`BENCH_BRIDGE_CONNECTORS=maventa,maventa-pdf,maestro` picks connectors. On a shared 2-core
machine 100 + 1,000 take about 5 minutes per connector; the whole default run (three connectors,
100, 1,000 and 10,000) took 41 minutes, most of it the 10,000 runs and their baselines (the fakes
answer in time that grows with the invoices they hold, and importing a snapshot is slow).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._bridge_driver import (
    MAX_PASSES,
    STEP_SECONDS,
    WARM_UP,
    Recorder,
    Run,
    add_invoices,
    customers_for,
    measure,
    park,
)
from bridge.app import build_bridge
from bridge.store import LedgerState
from scenarios.world import (
    MAESTRO_SOURCE,
    ROOTS,
    TO_TRANSFER,
    World,
    fast_policy,
    setup_company,
)

DEFAULT_SIZES = (100, 1_000, 10_000)
DEFAULT_BASELINE = "cc41ff4"
UNIT = "Ranta Oy"
ROOT = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).with_name("_bridge_driver.py")
DEMO_CUSTOMERS = 6  # the Severa demo preset's customers (simulators/severa/presets.py)


@dataclass(frozen=True)
class Connector:
    key: str
    title: str
    target: str  # "maventa" | "maestro"
    pdf: bool = False


CONNECTORS = (
    Connector("maventa", "Maventa, original PDF off", "maventa"),
    Connector("maventa-pdf", "Maventa, original PDF on", "maventa", pdf=True),
    Connector("maestro", "Maestro", "maestro"),
)
SERVICES = {"maventa": ("severa", "maventa"), "maestro": ("severa", "maestro")}


# ---------------------------------------------------------------------- the minimum
@dataclass(frozen=True)
class Term:
    """One term of the minimum: ``count`` calls of one class (``"severa GET /v1/invoices"``)."""

    klass: str
    count: int
    words: str

    @property
    def service(self) -> str:
        return self.klass.split(" ", 1)[0]


def _pages(items: int) -> int:
    return max(1, math.ceil(items / 100))


def minimum(connector: Connector, n: int, customers: int, register: int) -> list[Term]:
    """The fewest calls any correct client makes for the run (see the module docstring)."""
    if connector.target == "maestro":
        return [
            Term("severa GET /v1/invoices/{id}/invoicerows", n, f"rows {n:,}"),
            Term("severa PATCH /v1/invoices/{id}", n, f"PATCH {n:,}"),
            Term("severa GET /v1/invoices", _pages(n), f"invoice list ⌈{n:,}/100⌉={_pages(n)}"),
            Term(
                "severa GET /v1/customers",
                _pages(register),
                f"changed customers ⌈{register:,}/100⌉={_pages(register)}",
            ),
            Term("severa GET /v1/invoicestatuses", 1, "statuses 1"),
            Term("severa POST /v1/token", 1, "token 1"),
            Term("maestro POST /api/v1/sales-invoices", n, f"imports {n:,}"),
            Term("maestro PUT /api/v1/customers/{n}", register, f"customer upserts {register:,}"),
            Term("maestro GET /api/v1/company", 1, "company 1"),
            Term("maestro GET /api/v1/integrations/severa/settings", 1, "settings 1"),
        ]
    terms = [
        Term("severa GET /v1/invoices/{id}/invoicerows", n, f"rows {n:,}"),
        Term("severa PATCH /v1/invoices/{id}", n, f"PATCH {n:,}"),
    ]
    if connector.pdf:
        terms.append(Term("severa GET /v1/invoices/{id}/pdf", n, f"PDF {n:,}"))
    return [
        *terms,
        Term(
            "severa GET /v1/invoices",
            _pages(n) + 1,
            f"invoice list ⌈{n:,}/100⌉+1 (delivery pass)={_pages(n) + 1}",
        ),
        Term(
            "severa GET /v1/customers",
            _pages(customers),
            f"customers ⌈{customers:,}/100⌉={_pages(customers)}",
        ),
        Term("severa GET /v1/invoicestatuses", 2, "statuses 1/pass×2"),
        Term("severa GET /v1/organizationdetails", 1, "organisation 1"),
        Term("severa GET /v1/businessunits/{id}", 1, "business unit 1"),
        Term("severa GET /v1/bankaccounts", 1, "bank accounts 1"),
        Term("severa POST /v1/token", 1, "token 1"),
        Term("maventa POST /v1/invoices", n, f"uploads {n:,}"),
        Term("maventa GET /v1/invoices", _pages(n), f"delivery polls ⌈{n:,}/100⌉×1 round={_pages(n)}"),
        Term("maventa POST /oauth2/token", 1, "token 1"),
    ]


def keep_of(terms: list[Term]) -> dict[str, int]:
    return {t.klass: t.count for t in terms}


# ---------------------------------------------------------------------- after: this tree
@dataclass
class Memory:
    base: int
    peak: int
    delivered: int
    passes: int

    @property
    def growth(self) -> int:
        return max(0, self.peak - self.base)


def _cold_bridge(world: World, recorder: Recorder) -> None:
    """Replace the world's bridge with a new one over the same store (a new process: no tokens
    yet), whose clients the recorder hears."""
    old = world.bridge
    clients = {name: sim.client(base_url=ROOTS[name]) for name, sim in world.sims.items()}
    for client in clients.values():
        recorder.attach(client)
    for service in (old.severa, old.maventa, old.maestro):
        if service is not None:
            service.close()
    world.bridge = build_bridge(
        old.config,
        transports=clients,
        store=world.store,
        severa_rate_limit=False,
        policy=fast_policy(),
        sleep=lambda _: None,
        now=world.clock.now,
        notifier=None,
    )


def _backup_store(world: World, path: Path) -> None:
    target = sqlite3.connect(path)
    try:
        with world.store.db.read() as conn:
            conn.backup(target)
    finally:
        target.close()


def _delivered(world: World) -> int:
    return int(world.store.ledger.counts().get(LedgerState.DELIVERED, 0))


def _prepare(connector: Connector, n: int) -> tuple[World, int, int]:
    """A world with the connector's account ready and ``n`` invoices waiting; the customers the
    invoices are spread over and the size of Severa's customer register."""
    world = World.build(maestro=connector.target == "maestro")
    if connector.target == "maventa":
        setup_company(world, UNIT, send_by_email=True, send_original_pdf=connector.pdf)
    backend = world.severa_sim.main
    with world.severa_sim.lock:
        park(backend, (TO_TRANSFER, MAESTRO_SOURCE))
        customers = add_invoices(
            backend,
            unit_guid=world.unit_guid(UNIT),
            status=TO_TRANSFER if connector.target == "maventa" else MAESTRO_SOURCE,
            n=n,
            when=world.clock.now(),
        )
        register = len(backend.org.customers)
    return world, customers, register


def after(connector: Connector, n: int) -> tuple[Run, int]:
    """This tree in-process: the run and the size R of Severa's customer register."""
    world, customers, register = _prepare(connector, n)
    try:
        recorder = Recorder()
        _cold_bridge(world, recorder)
        run = measure(
            dict(world.sims),
            world.run_pass,
            world.advance,
            lambda: _delivered(world),
            recorder,
            Run(n, customers),
            keep_of(minimum(connector, n, customers, register)),
            lambda sim: sim.client(),
        )
        return run, register
    finally:
        world.close()


def memory_of(connector: Connector, n: int, workdir: Path) -> Memory:
    """The bridge alone in a child process, over HTTP to the fakes served from here (a world
    built afresh the same way: importing a snapshot costs more than building it)."""
    world, _, _ = _prepare(connector, n)
    try:
        store = workdir / f"store-{connector.key}-{n}.sqlite3"
        _backup_store(world, store)
        return _memory(world, connector, n, store)
    finally:
        world.close()


def _memory(world: World, connector: Connector, n: int, store: Path) -> Memory:
    """The bridge alone in a child process, over HTTP to the fakes served from here."""
    servers = {name: sim.serve() for name, sim in world.sims.items()}
    try:
        severa = world.severa_sim.credentials()["clients"][0]
        maestro_key = world.maestro_sim.credentials()["companies"][0]["api_key"]
        job = {
            "urls": {
                "severa": servers["severa"].url + "/rest-api",
                "maventa": servers["maventa"].url,
                "maestro": servers["maestro"].url,
            },
            "credentials": {
                "severa_id": severa["client_id"],
                "severa_secret": severa["client_secret"],
                "maventa": world.maventa_sim.credentials()["vendor_api_keys"][0],
                "maestro": maestro_key if connector.target == "maestro" else None,
            },
            "store": str(store),
            "now": world.clock.now().isoformat(),
            "invoices": n,
            "step": STEP_SECONDS,
            "max_passes": MAX_PASSES,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench._memory_child"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(job) + "\n")
        proc.stdin.flush()
        result: dict[str, Any] | None = None
        for line in proc.stdout:
            if line.startswith("advance"):
                world.advance(STEP_SECONDS)
                proc.stdin.write("ok\n")
                proc.stdin.flush()
            elif line.startswith("result "):
                result = json.loads(line.removeprefix("result "))
        proc.stdin.close()
        if proc.wait() != 0 or result is None:
            raise RuntimeError(f"the bridge's child process failed (exit {proc.returncode})")
        if result["delivered"] < n:
            raise RuntimeError(f"over HTTP only {result['delivered']} of {n:,} were delivered")
        return Memory(result["base"], result["peak"], result["delivered"], result["passes"])
    finally:
        for server in servers.values():
            server.stop()


# ---------------------------------------------------------------------- before: an older tree
@contextmanager
def exported(ref: str) -> Iterator[tuple[Path, str]]:
    """The tree of ``ref`` in a temporary directory, and its short commit."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", f"{ref}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield Path(tmp), commit


def before(tree: Path, connector: Connector, n: int, keep: dict[str, int]) -> Run:
    job = {"tree": str(tree), "invoices": n, "pdf": connector.pdf, "keep": keep}
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(DRIVER)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=tree,
        env=env,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Run(n, customers_for(n), error=f"the baseline driver failed: {tail}")
    data = json.loads(lines[-1])
    if set(data) == {"error"}:
        return Run(n, customers_for(n), error=data["error"])
    return Run.from_json(data)


# ---------------------------------------------------------------------- printing
def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def _row(label: str, run: Run, terms: list[Term], services: tuple[str, ...], mem: Memory | None) -> str:
    n = run.invoices
    if run.error:
        return f"  {n:>7,} {label:<15} {run.error}"
    cells = [f"  {n:>7,} {label:<15} {run.passes:>6}"]
    for service in services:
        got = sum(v for k, v in run.calls.items() if k.startswith(service + " "))
        least = sum(t.count for t in terms if t.service == service)
        cells.append(f"{got / n:>7.3f} {least / n:>6.3f} {_ratio(got, least):>6}")
    cells.append(f"{n / run.seconds:>7.1f}" if run.seconds else f"{'-':>7}")
    cells.append(f"{_ratio(run.seconds, run.replay_seconds):>7}")
    if mem is not None:
        cells.append(f"{mem.growth / 2**20:>6.1f} {mem.growth / 1024 / n:>7.1f}")
    else:
        cells.append(f"{'-':>6} {'-':>7}")
    return " ".join(cells)


def _header(services: tuple[str, ...]) -> list[str]:
    calls = "  ".join(f"{s.capitalize() + ' calls/inv':<20}" for s in services)
    return [
        f"  {'':>7} {'':<15} {'':>6} {calls}  {'':>7} {'÷bare':>7} {'memory (alone)':<14}",
        f"  {'invoices':>7} {'bridge':<15} {'passes':>6}"
        + "".join(f" {'bridge':>7} {'min':>6} {'ratio':>6}" for _ in services)
        + f" {'inv/s':>7} {'replay':>7} {'+MiB':>6} {'KiB/inv':>7}",
    ]


def _formula(terms: list[Term], service: str, n: int) -> str:
    mine = [t for t in terms if t.service == service]
    total = sum(t.count for t in mine)
    return (
        f"{service.capitalize()} = "
        + " + ".join(t.words for t in mine)
        + f" = {total:,} ({total / n:.3f}/inv)"
    )


def _differences(run: Run, terms: list[Term]) -> list[str]:
    least = keep_of(terms)
    out = []
    for klass in sorted(set(run.calls) | set(least)):
        got, want = run.calls.get(klass, 0), least.get(klass, 0)
        if got != want:
            out.append(f"{klass} {got:,} (min {want:,}, {got - want:+,})")
    return out


def _notes(label: str, run: Run, terms: list[Term]) -> list[str]:
    if run.error:
        return []
    out = []
    diff = _differences(run, terms)
    picked = "/".join(str(p) for p in run.picked_up)
    head = f"    {label} {run.invoices:,}: picked up per pass {picked}; calls {sum(run.calls.values()):,}"
    head += f"; {run.replay_calls:,} replayed (the minimum: {sum(t.count for t in terms):,})"
    if run.replay_differ:
        head += f"; {run.replay_differ} replayed calls answered with another status than recorded"
    out.append(head)
    out += [f"      {d}" for d in diff] or ["      every class at its minimum"]
    return out


# ---------------------------------------------------------------------- the benchmark
def _env_list(name: str) -> list[str]:
    return [s for s in os.environ.get(name, "").replace(" ", "").split(",") if s]


def sizes_from_env() -> tuple[int, ...]:
    raw = _env_list("BENCH_BRIDGE_SIZES")
    return tuple(int(s) for s in raw) if raw else DEFAULT_SIZES


def connectors_from_env() -> tuple[Connector, ...]:
    wanted = _env_list("BENCH_BRIDGE_CONNECTORS")
    if not wanted:
        return CONNECTORS
    known = {c.key: c for c in CONNECTORS}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise SystemExit(f"BENCH_BRIDGE_CONNECTORS: unknown {unknown}; known: {list(known)}")
    return tuple(known[w] for w in wanted)


def run(sizes: tuple[int, ...] | None = None) -> None:
    sizes = sizes or sizes_from_env()
    memory = os.environ.get("BENCH_BRIDGE_MEMORY", "rss").strip().lower() not in ("0", "no", "off", "false")
    ref = os.environ.get("BENCH_BRIDGE_BASELINE", DEFAULT_BASELINE).strip()
    baseline = ref.lower() not in ("", "0", "none", "no", "off")
    with (
        tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp,
        _maybe_exported(ref if baseline else None) as old,
    ):
        for connector in connectors_from_env():
            services = SERVICES[connector.target]
            print(
                f"\n  {connector.title}: N invoices over ⌈N/5⌉ customers (e-invoice Maventa / other "
                "operator / e-mail), 3-4 rows of all three kinds each",
                flush=True,
            )
            for line in _header(services):
                print(line)
            after(connector, WARM_UP)  # imports, caches and first-time costs out of the way
            notes: list[str] = []
            for n in sizes:
                runs: list[tuple[str, Run, Memory | None]] = []
                this, register = after(connector, n)
                mem = None
                if memory and this.error is None:
                    try:
                        mem = memory_of(connector, n, Path(tmp))
                    except RuntimeError as exc:  # a failed child costs the memory figure, not the table
                        notes.append(f"    memory at {n:,}: {exc}")
                terms = minimum(connector, n, this.customers, register)
                if old is not None and connector.target == "maventa":
                    tree, commit = old
                    runs.append((f"before {commit}", before(tree, connector, n, keep_of(terms)), None))
                runs.append(("after", this, mem))
                for label, r, m in runs:
                    print(_row(label, r, terms, services, m), flush=True)
                notes.append(
                    f"    minimum at {n:,} invoices, {this.customers:,} customers"
                    + (f", register {register:,}" if connector.target == "maestro" else "")
                    + ":"
                )
                notes += [f"      {_formula(terms, s, n)}" for s in services]
                for label, r, _ in runs:
                    notes += _notes(label, r, terms)
            print("  per run (class = method + path, GUIDs as {id}; bridge count vs minimum):")
            for line in notes:
                print(line)
    print(
        "\n  ratio = bridge calls / minimum calls; ÷bare replay = the bridge's CPU seconds / a bare replay of "
        "the minimal calls (same run, same in-process fakes); memory: peak resident set of the bridge alone "
        "in a child process over HTTP, above its set before the first pass"
        + ("" if memory else " (not measured: BENCH_BRIDGE_MEMORY=0)")
    )


@contextmanager
def _maybe_exported(ref: str | None) -> Iterator[tuple[Path, str] | None]:
    with ExitStack() as stack:
        tree = None
        if ref is not None:
            try:
                tree = stack.enter_context(exported(ref))
            except subprocess.CalledProcessError as exc:
                print(f"  baseline {ref!r} could not be exported ({exc}); measuring this tree only")
        yield tree
