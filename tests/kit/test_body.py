"""Bodies are read completely, within their limits, before a fake takes its lock (kit.body).

A client that sends half a body, or trickles it, holds only its own thread; a chunked body
over the limit is a 413, not a body cut at the limit and reported as bad JSON.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from simulators.kit import ThreadedServer
from simulators.severa import SeveraSimulator
from tests.kit.toy import ToySimulator

BOUND = 10.0  # seconds: far beyond any answer on a loaded machine, far below "blocked"


def _half_body(server: ThreadedServer, path: str, length: int = 1000) -> socket.socket:
    """Open a request that announces `length` bytes and sends 9: the server now waits for the rest."""
    sock = socket.create_connection((server.host, server.port), timeout=BOUND)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"rows": ')
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(BOUND)
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


@pytest.fixture
def severa_server() -> Iterator[ThreadedServer]:
    sim = SeveraSimulator(seed=0)
    server = sim.serve()
    try:
        yield server
    finally:
        server.stop()


def test_a_half_sent_body_to_an_actor_does_not_block_the_fake(severa_server: ThreadedServer) -> None:
    """The regression: Severa's UI actors read their body holding the lock, so this hung every call."""
    stalled = _half_body(severa_server, "/_sim/severa/invoices")
    try:
        time.sleep(0.2)  # let the server start reading the stalled body
        with httpx.Client(base_url=severa_server.url, timeout=BOUND) as http:
            assert http.get("/rest-api/heartbeat/server").status_code == 200
            assert http.get("/rest-api/v1/invoices").status_code == 401  # a locked route answers too
            assert http.get("/_sim/state").status_code == 200
    finally:
        stalled.close()


def test_a_client_that_stops_sending_gets_408_after_the_read_timeout() -> None:
    sim = ToySimulator()
    server = ThreadedServer(sim.app, read_timeout=0.3).start()
    try:
        stalled = _half_body(server, "/api/items")
        with stalled:
            started = time.monotonic()
            answer = _answer(stalled).decode("latin-1")
            assert answer.startswith("HTTP/1.1 408"), answer[:200]
            assert '"toy_error"' in answer and "stopped sending" in answer
            assert time.monotonic() - started < BOUND
        assert sim.journal.entries()[-1].status == 408
    finally:
        server.stop()


def test_a_body_slower_than_the_deadline_is_refused() -> None:
    sim = ToySimulator(body_deadline=0.5)
    server = ThreadedServer(sim.app, read_timeout=5).start()
    try:
        with _half_body(server, "/api/items", 10_000) as sock:
            for _ in range(100):  # a byte every 0.1 s never hits the read timeout, only the deadline
                if select.select([sock], [], [], 0.1)[0]:
                    break  # the server answered
                sock.sendall(b" ")
            answer = _answer(sock)
        assert answer.startswith(b"HTTP/1.1 408") and b"within 0.5 s" in answer
    finally:
        server.stop()


def _chunks(total: int, size: int = 1000) -> Iterator[bytes]:
    sent = 0
    yield b'{"id": "'
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


@pytest.mark.parametrize("transport", ["inprocess", "server"])
def test_a_chunked_body_over_the_limit_is_413_not_bad_json(transport: str) -> None:
    sim = ToySimulator(max_body_bytes=5000)
    server = sim.serve() if transport == "server" else None
    try:
        with httpx.Client(base_url=server.url, timeout=BOUND) if server else sim.client() as http:
            big = http.post("/api/items", content=_chunks(6000), headers={"Content-Type": "application/json"})
            assert big.status_code == 413, big.text
            assert "5000" in big.json()["toy_error"]["message"]
            small = http.post(
                "/api/items", content=_chunks(3000), headers={"Content-Type": "application/json"}
            )
            assert small.status_code == 201, small.text  # a chunked body under the limit arrives whole
            control = http.put(
                "/_sim/state", content=_chunks(6000), headers={"Content-Type": "application/json"}
            )
            assert (
                control.status_code == 413 and control.json()["error"]["code"] == "request_entity_too_large"
            )
    finally:
        if server:
            server.stop()


def test_a_content_length_over_the_limit_is_refused_before_reading() -> None:
    sim = ToySimulator(max_body_bytes=100)
    with sim.client() as http:
        r = http.post("/api/items", content=b"x" * 101)
    assert r.status_code == 413 and "limit is 100 bytes" in r.json()["toy_error"]["message"]


def test_a_content_length_that_is_not_a_number_is_400() -> None:
    sim = ToySimulator()
    server = sim.serve()
    try:
        with socket.create_connection((server.host, server.port), timeout=BOUND) as sock:
            sock.sendall(b"POST /api/items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1e3\r\n\r\n")
            answer = _answer(sock)
        assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length" in answer
    finally:
        server.stop()
