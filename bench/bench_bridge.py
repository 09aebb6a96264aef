"""The bridge end to end in-process: Severa and Maventa calls per invoice, invoices/s, peak memory.

For each size N: a Severa demo organisation with N new invoices (one fee row and one hours row,
to a customer with a Maventa e-invoice address) in the transfer status of "Ranta Oy", a Maventa
company registered, signed and activated; then passes of `TransferEngine.run_once()`, with
Maventa's clock moved between passes, until every invoice is DELIVERED and a pass moves nothing.

Calls are counted with a request hook on each client's transport (the simulators' journals are
bounded), from the first pass on: setting the company up is not counted. Memory is the peak of
the process's resident set during the passes above what it was before them (sampled every 20 ms
from /proc; the simulators' N invoices already exist then, but Maventa's copies of the sent ones
and the ledger rows are made during the passes, so some growth with N is the data, not a leak).
`BENCH_BRIDGE_MEMORY=tracemalloc` uses tracemalloc's peak instead (exact Python allocations, but
it makes the run 3-5x slower, so invoices/s then means little); `=0` measures no memory.
No Finvoice XSD validation (the CLI does it when it finds the XSD).

Sizes: `python -m bench bridge` runs 100, 1,000 and 10,000 (minutes); `BENCH_BRIDGE_SIZES=100,1000`
picks others.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from bridge.store import LedgerState
from simulators.severa.references import finnish_reference
from tests.bridge.world import DRAFT, TO_TRANSFER, World, setup_company

DEFAULT_SIZES = (100, 1_000, 10_000)
UNIT = "Ranta Oy"


@dataclass
class Measure:
    invoices: int
    passes: int
    seconds: float
    calls: Counter[str]
    peak_bytes: int | None

    @property
    def per_second(self) -> float:
        return self.invoices / self.seconds if self.seconds else float("inf")

    def per_invoice(self, service: str) -> float:
        return self.calls[service] / self.invoices


def _count_calls(client: httpx.Client, service: str, calls: Counter[str]) -> None:
    def hook(request: httpx.Request) -> None:
        calls[service] += 1

    client.event_hooks["request"].append(hook)


def _prepare(world: World, n: int) -> None:
    """Clear the unit's demo invoices out of the transfer status and add `n` new ones."""
    backend = world.severa_sim.main
    unit = world.unit_guid(UNIT)
    customer = world.customer_guid("einvoice-maventa")
    product = next(p for p in backend.org.products.values() if p.code)
    work_type = next(w for w in backend.org.work_types.values() if w.code)
    with world.severa_sim.lock:
        waiting = backend.status_by_name(TO_TRANSFER).guid
        for inv in list(backend.org.invoices.values()):
            if inv.status_guid == waiting and inv.business_unit_guid == unit:
                backend.set_status(inv.guid, DRAFT, force=True)
        number = max((i.number or 0 for i in backend.org.invoices.values()), default=0) + 1
        now = world.severa_sim.clock.now()
        for k in range(n):
            backend.create_invoice(
                customer,
                status=TO_TRANSFER,
                business_unit_guid=unit,
                when=now,
                # numbered up front: the simulator's numbering scans every invoice (quadratic for 10,000)
                number=number + k,
                reference_number=finnish_reference(number + k),
                rows=[
                    {"kind": "fee", "ref": product.code, "quantity": 2.0},
                    {"kind": "hours", "ref": work_type.code, "quantity": 7.5},
                ],
            )
        backend.org.next_invoice_number = number + n


def _rss() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def _peak_memory(how: str, result: list[int]) -> Iterator[None]:
    """Appends the peak bytes above the start to `result` ("rss", "tracemalloc" or "0": nothing)."""
    if how == "tracemalloc":
        tracemalloc.start()
        try:
            yield
        finally:
            result.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        return
    base = _rss() if how == "rss" else None
    if base is None:
        yield
        return
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _rss() or 0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        done.set()
        sampler.join()
        result.append(max(peak, _rss() or 0) - base)


def measure(n: int, *, memory: str = "rss", max_passes: int = 20) -> Measure:
    world = World.build()
    try:
        setup_company(world, UNIT, send_by_email=False)
        _prepare(world, n)
        calls: Counter[str] = Counter()
        _count_calls(world.severa.http.client, "severa", calls)
        _count_calls(world.maventa.http.client, "maventa", calls)
        gc.collect()
        peaks: list[int] = []
        passes = 0
        with _peak_memory(memory, peaks):
            started = time.perf_counter()
            for passes in range(1, max_passes + 1):  # noqa: B007 (passes is reported)
                report = world.run_pass()
                if report.moved == 0 and not world.store.ledger.unfinished():
                    break
                world.advance(120.0)
            seconds = time.perf_counter() - started
        peak = peaks[0] if peaks else None
        counts = world.store.ledger.counts()
        delivered = counts.get(LedgerState.DELIVERED, 0)
        if delivered != n:
            raise AssertionError(f"{n} invoices: only {delivered} delivered after {passes} passes: {counts}")
        return Measure(n, passes, seconds, calls, peak)
    finally:
        world.store.close()
        world.severa.close()
        world.maventa.close()


def sizes_from_env() -> tuple[int, ...]:
    raw = os.environ.get("BENCH_BRIDGE_SIZES", "").strip()
    if not raw:
        return DEFAULT_SIZES
    return tuple(int(s) for s in raw.replace(" ", "").split(",") if s)


def run(sizes: tuple[int, ...] | None = None) -> None:
    memory = os.environ.get("BENCH_BRIDGE_MEMORY", "rss").strip().lower() or "rss"
    if memory not in ("rss", "tracemalloc", "0"):
        raise SystemExit(f"BENCH_BRIDGE_MEMORY: expected rss, tracemalloc or 0, got {memory!r}")
    print(
        f"  {'invoices':>9} {'passes':>6} {'Severa/inv':>10} {'Maventa/inv':>11} {'inv/s':>8} "
        f"{'seconds':>8} {'+MiB peak':>9} {'KiB/inv':>8}"
    )
    for n in sizes or sizes_from_env():
        m = measure(n, memory=memory)
        peak = f"{m.peak_bytes / 2**20:9.1f}" if m.peak_bytes is not None else f"{'-':>9}"
        per = f"{m.peak_bytes / 1024 / n:8.1f}" if m.peak_bytes is not None else f"{'-':>8}"
        print(
            f"  {n:>9,} {m.passes:>6} {m.per_invoice('severa'):>10.2f} {m.per_invoice('maventa'):>11.2f} "
            f"{m.per_second:>8.1f} {m.seconds:>8.1f} {peak} {per}",
            flush=True,
        )
    what = {"rss": "resident set", "tracemalloc": "tracemalloc (slows the run)", "0": "not measured"}[memory]
    print(f"  memory: peak above the start of the passes, {what}")
