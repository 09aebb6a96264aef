"""The kit's overheads: in-process vs threaded-server requests, reset and snapshot costs.

Figures are per request / per item and as ratios, so they compare across machines.
"""

from __future__ import annotations

import time

import httpx

from tests.kit.toy import ToySimulator


def _rate(client: httpx.Client, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        client.get("/api/items")
    return (time.perf_counter() - t) / n


def run(n: int = 500) -> None:
    sim = ToySimulator()
    with sim.client() as c:
        _rate(c, 20)
        inproc = _rate(c, n)
    server = sim.serve()
    try:
        with httpx.Client(base_url=server.url) as c:
            _rate(c, 20)
            served = _rate(c, n)
    finally:
        server.stop()
    print(f"  in-process request: {inproc * 1e6:8.0f} µs  ({1 / inproc:7.0f} req/s)")
    print(f"  threaded server:    {served * 1e6:8.0f} µs  ({1 / served:7.0f} req/s)")
    print(f"  ratio server / in-process: {served / inproc:.1f}x")
    sim.journal.clear()
    t = time.perf_counter()
    for _ in range(100):
        sim.reset()
    print(f"  reset: {(time.perf_counter() - t) * 10:.2f} ms")
    for _ in range(1000):
        sim.items[str(len(sim.items))] = {"id": "x", "value": 1}
    t = time.perf_counter()
    snap = sim.export_state()
    sim.import_state(snap)
    per = (time.perf_counter() - t) / len(sim.items)
    print(f"  snapshot export+import: {per * 1e6:.1f} µs per item ({len(sim.items)} items)")
    sim.journal.clear()
    with sim.client() as c:
        t = time.perf_counter()
        for _ in range(n):
            c.get("/api/items/1")
        journalled = (time.perf_counter() - t) / n
    print(
        f"  journal stays bounded: {len(sim.journal)} entries kept of {n} (capacity {sim.journal.capacity}); "
        f"{journalled * 1e6:.0f} µs per journalled request"
    )
    _journal_cost(n)


def _post_rate(sim: ToySimulator, n: int, body: bytes) -> float:
    with sim.client() as c:
        for _ in range(20):
            c.post("/api/items", content=body, headers={"Content-Type": "application/json"})
        t = time.perf_counter()
        for _ in range(n):
            c.post("/api/items", content=body, headers={"Content-Type": "application/json"})
        return (time.perf_counter() - t) / n


def _journal_cost(n: int) -> None:
    """What recording one exchange costs on the request path: the same JSON POST (a ~2 KB body
    with nested secret-named fields, as a token or registration call sends) with the journal
    on and with recording switched off, measured side by side (best of 3 rounds each)."""
    import json

    body = json.dumps(
        {
            "id": "bench",
            "client_id": "client-0001",
            "client_secret": "s3cr3t-" + "x" * 40,
            "rows": [{"description": f"row {i} " + "y" * 40, "api_key": "k" * 24} for i in range(20)],
        }
    ).encode()
    on_sim, off_sim = ToySimulator(), ToySimulator()
    off_sim._record = lambda *a, **k: None  # type: ignore[method-assign]
    on, off = float("inf"), float("inf")
    for _ in range(5):  # interleaved, best of five: a shared machine's noise hits both alike
        on = min(on, _post_rate(on_sim, n, body))
        off = min(off, _post_rate(off_sim, n, body))
    print(
        f"  journal cost per request ({len(body)} B JSON body): {(on - off) * 1e6:.0f} µs "
        f"(request with journal {on * 1e6:.0f} µs, without {off * 1e6:.0f} µs; ratio {on / off:.2f}x)"
    )
    _record_vs_eager(body.decode())


def _record_vs_eager(body: str, n: int = 2000) -> None:
    """The journal's own work per exchange, side by side: recording raw (now) against recording
    with redaction on the way in (before: every JSON body parsed and dumped again, every known
    secret searched), and what reading one entry back costs now (redaction moved there)."""
    from simulators.kit.journal import Journal
    from simulators.kit.redact import Redactor, redact_headers, redact_secret_values, redact_text

    secrets = [f"token-{i:04d}-" + "s" * 40 for i in range(20)]
    redactor = Redactor(secrets)
    headers = [("Authorization", "Bearer " + secrets[0]), ("Content-Type", "application/json")] * 4
    journal = Journal(capacity=n)
    journal.redactor = lambda: redactor

    def record(req: str, resp: str, hdrs: list[tuple[str, str]]) -> None:
        journal.record(
            at="2026-11-02T08:00:00Z",
            method="POST",
            path="/api/items",
            query="",
            tenant=None,
            status=201,
            duration_ms=1.0,
            request_headers=hdrs,
            request_body=req,
            request_content_type="application/json",
            response_headers=hdrs,
            response_body=resp,
            response_content_type="application/json",
        )

    t = time.perf_counter()
    for _ in range(n):
        record(body, body, headers)
    raw = (time.perf_counter() - t) / n
    journal.clear()
    t = time.perf_counter()
    for _ in range(n):  # what the journal did per request before (both bodies, the headers)
        req = redact_secret_values(redact_text(body, "application/json"), secrets)
        resp = redact_secret_values(redact_text(body, "application/json"), secrets)
        record(req, resp, list(redact_headers(headers).items()))
    eager = (time.perf_counter() - t) / n
    journal.clear()
    for _ in range(200):
        record(body, body, headers)
    t = time.perf_counter()
    journal.entries()
    read = (time.perf_counter() - t) / 200
    print(
        f"  journal record: raw {raw * 1e6:.0f} µs vs redacted on the way in {eager * 1e6:.0f} µs "
        f"({eager / raw:.1f}x); reading an entry back (redacted once, then cached): {read * 1e6:.0f} µs"
    )
