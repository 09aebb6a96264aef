"""The bridge alone in a fresh process, over HTTP, for `bench_bridge`'s memory figure.

The parent serves the fakes (with the prepared state) on threaded servers and starts this with a
JSON job on stdin: base URLs, credentials, a copy of the store, the clock's time and the number
of invoices. This process imports only the bridge, builds it the way the CLI does
(``bridge.app.build_bridge`` from a ``Config``), samples its own resident set every 20 ms from
``/proc`` and runs passes until every invoice is delivered. Between passes it writes ``advance``
and waits for the parent's ``ok`` (the parent moves the fakes' clock). Last line: ``result {json}``.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from datetime import datetime, timedelta


def rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> int:
    job = json.loads(sys.stdin.readline())
    from bridge.app import build_bridge
    from bridge.config import Config, MaestroConfig, MaventaConfig, Secret, SeveraConfig, StoreConfig
    from bridge.store import LedgerState

    start = datetime.fromisoformat(job["now"])
    offset = [0.0]

    def now() -> datetime:
        return start + timedelta(seconds=offset[0])

    urls, keys = job["urls"], job["credentials"]
    config = Config(
        severa=SeveraConfig(
            base_url=urls["severa"], client_id=keys["severa_id"], client_secret=Secret(keys["severa_secret"])
        ),
        maventa=MaventaConfig(base_url=urls["maventa"], vendor_api_key=Secret(keys["maventa"])),
        maestro=MaestroConfig(
            base_url=urls["maestro"], api_key=Secret(keys["maestro"]) if keys["maestro"] else None
        ),
        store=StoreConfig(job["store"]),
    )
    bridge = build_bridge(config, severa_rate_limit=False, now=now, notifier=None)
    n = int(job["invoices"])
    gc.collect()
    base = peak = rss()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    delivered, passes, seconds = 0, 0, 0.0
    try:
        for passes in range(1, int(job["max_passes"]) + 1):  # noqa: B007 (passes is reported)
            started = time.perf_counter()
            bridge.engine.run_once()
            seconds += time.perf_counter() - started
            delivered = int(bridge.store.ledger.counts().get(LedgerState.DELIVERED, 0))
            if delivered >= n:
                break
            offset[0] += float(job["step"])
            print("advance", flush=True)
            if sys.stdin.readline().strip() != "ok":
                break
    finally:
        done.set()
        sampler.join()
        peak = max(peak, rss())
        bridge.close()
    result = {"base": base, "peak": peak, "delivered": delivered, "passes": passes, "seconds": seconds}
    print("result " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
