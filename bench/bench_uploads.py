"""A small Maventa request's latency while a worst-case upload is being validated (served fake).

The worst case is a Finvoice with `BENCH_UPLOAD_ATTRIBUTES` (default 80,000) unknown attributes
(~870 KB): one XSD error each. The fake is served on a threaded server on a free port; a
background client sends the upload again and again while the foreground measures
`GET /v1/company/settings` (a small, locked call). Printed: the small call's median and worst
latency alone and during the uploads, their ratio, and how long one upload takes. Without the
Finvoice XSD (`severa-sandbox specs fetch`) unknown attributes are not errors and the figures
say little; the benchmark says so.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import httpx
from lxml import etree

from simulators.maventa import MaventaSimulator
from tests.maventa.finvoice_factory import build_finvoice


def worst_case(attributes: int) -> bytes:
    root = etree.fromstring(build_finvoice())
    details = root.find("InvoiceDetails")
    assert details is not None
    for i in range(attributes):
        details.set(f"a{i}", "x")
    return bytes(etree.tostring(root))


def _token(http: httpx.Client) -> dict[str, str]:
    c = http.get("/_sim/credentials").json()
    company = next(x for x in c["companies"] if x["company_state"] == "VERIFIED")
    r = http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": company["id"],
            "client_secret": company["users"][0]["user_api_key"],
            "vendor_api_key": c["vendor_api_keys"][0],
            "scope": "eui",
        },
    )
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def _latencies(http: httpx.Client, auth: dict[str, str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        http.get("/v1/company/settings", headers=auth)
        out.append(time.perf_counter() - t)
    return out


def run(samples: int = 40) -> None:
    attributes = int(os.environ.get("BENCH_UPLOAD_ATTRIBUTES", "80000"))
    sim = MaventaSimulator(seed=0)
    if sim.xsd.status != "ok":
        print("  (no Finvoice XSD: unknown attributes are not errors; run `severa-sandbox specs fetch`)")
    upload = worst_case(attributes)
    server = sim.serve()
    try:
        with httpx.Client(base_url=server.url, timeout=600) as http:
            auth = _token(http)
            _latencies(http, auth, 5)
            alone = _latencies(http, auth, samples)
            durations: list[float] = []
            stop = threading.Event()

            def uploader() -> None:
                with httpx.Client(base_url=server.url, timeout=600) as up:
                    while not stop.is_set():
                        t = time.perf_counter()
                        r = up.post("/v1/invoices", headers=auth, files={"file": ("lasku.xml", upload)})
                        durations.append(time.perf_counter() - t)
                        assert r.status_code == 400, r.text[:200]

            thread = threading.Thread(target=uploader, daemon=True)
            thread.start()
            time.sleep(0.2)
            loaded = _latencies(http, auth, samples)
            stop.set()
            thread.join()
    finally:
        server.stop()
    a, b = statistics.median(alone), statistics.median(loaded)
    print(f"  worst-case upload: {len(upload) / 1024:.0f} KB, {attributes} unknown attributes")
    print(f"  one upload answered (400 validation_failed) in {statistics.median(durations):.2f} s")
    print(f"  small request alone:          median {a * 1e3:7.1f} ms, worst {max(alone) * 1e3:8.1f} ms")
    print(f"  small request during uploads: median {b * 1e3:7.1f} ms, worst {max(loaded) * 1e3:8.1f} ms")
    print(f"  ratio during / alone: median {b / a:.1f}x, worst {max(loaded) / max(alone):.1f}x")
