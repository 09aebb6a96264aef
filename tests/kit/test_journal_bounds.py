"""The journal is bounded by bytes as well as entries; what it cuts, it says (kit.journal)."""

from __future__ import annotations

import gc
import tracemalloc

import httpx

from simulators.kit.journal import BODY_LIMIT, HEADER_LIMIT, MAX_HEADERS
from tests.kit.toy import ToySimulator


def test_large_headers_are_cut_and_noted_with_their_length(client: httpx.Client) -> None:
    client.get("/api/items", headers={"X-Big": "b" * 50_000})
    (entry,) = client.get("/_sim/journal").json()["entries"]
    assert entry["request_headers"]["X-Big"] == "b" * HEADER_LIMIT
    assert f"request header 'X-Big' cut from 50000 to {HEADER_LIMIT} characters" in entry["notes"]


def test_at_most_max_headers_are_kept(client: httpx.Client) -> None:
    client.get("/api/items", headers={f"X-H{i}": "v" for i in range(100)})
    (entry,) = client.get("/_sim/journal").json()["entries"]
    assert len(entry["request_headers"]) == MAX_HEADERS
    assert any("not kept" in n for n in entry["notes"])


def test_bodies_are_cut_with_the_original_length_recorded(client: httpx.Client) -> None:
    body = '{"id": "big", "value": "' + "z" * 40_000 + '"}'
    client.post("/api/items", content=body, headers={"Content-Type": "application/json"})
    (entry,) = client.get("/_sim/journal").json()["entries"]
    assert entry["request_body_length"] == len(body) and entry["response_body_length"] > BODY_LIMIT
    assert entry["request_body"].endswith(f"... [{len(body) - BODY_LIMIT} chars more]")
    assert len(entry["request_body"]) < BODY_LIMIT + 40


def test_the_journal_is_bounded_by_bytes_as_well_as_entries() -> None:
    sim = ToySimulator(journal_capacity=1000, journal_max_bytes=200_000)
    with sim.client() as http:
        for _ in range(100):
            http.get("/api/items", headers={f"X-H{j}": "x" * 2000 for j in range(20)})
        body = http.get("/_sim/journal").json()
    assert body["bytes"] <= body["max_bytes"] == 200_000
    assert 0 < len(body["entries"]) < 100 and body["dropped"] == 100 - len(body["entries"])
    assert body["entries"][-1]["id"] == 100  # the newest are kept


def test_a_hundred_requests_with_large_headers_do_not_grow_memory_with_the_headers() -> None:
    """The issue: 100 requests with large headers took a fake from 80 MB to 700 MB."""
    sim = ToySimulator()
    headers = {f"X-H{j}": "h" * 32_000 for j in range(20)}  # 640 KB of headers per request
    with sim.client() as http:
        http.get("/api/items")
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(100):
                http.get("/api/items", headers=headers)
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert len(sim.journal) == 101
    assert kept < 8 * 1024 * 1024, f"{kept / 1e6:.1f} MB kept for 64 MB of headers sent"
