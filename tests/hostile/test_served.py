"""Hostile clients over real sockets, against every served fake: no stalled client holds up
another, bodies over the limit are 413 however they are sent, junk on the wire gets an answer
(or a closed connection) and the fake goes on answering; cross-site calls are refused."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from simulators.kit import ThreadedServer
from tests.hostile.harness import FAKES, Fake, make

BOUND = 10.0


@contextmanager
def serving(name: str) -> Iterator[tuple[Fake, ThreadedServer, httpx.Client]]:
    fake = make(name, max_body_bytes=50_000)
    server = ThreadedServer(fake.sim.app, read_timeout=1.0, stopping=fake.sim.stopping).start()
    try:
        with httpx.Client(base_url=server.url, timeout=BOUND) as http:
            yield fake, server, http
    finally:
        server.stop()
        fake.http.close()


@pytest.fixture(params=FAKES)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Fake, ThreadedServer, httpx.Client]]:
    with serving(request.param) as triple:
        yield triple


def _connect(server: ThreadedServer) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=BOUND)


def _answer(sock: socket.socket) -> bytes:
    sock.settimeout(BOUND)
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    return out


def _write_path(fake: Fake) -> str:
    return fake.writes[0][1] if fake.writes else "/_sim/reset"


def _listing_ok(fake: Fake, http: httpx.Client) -> None:
    for method, path, params in fake.listings:
        r = http.request(method, path, params=params, headers=fake.auth)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])


def test_stalled_clients_hold_up_nobody(served: tuple[Fake, ThreadedServer, httpx.Client]) -> None:
    fake, server, http = served
    head = (
        f"POST {_write_path(fake)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 5000\r\n\r\n{"
    ).encode()
    stalled = [_connect(server) for _ in range(5)]
    half_headers = [_connect(server) for _ in range(5)]
    try:
        for sock in stalled:
            sock.sendall(head)
        for sock in half_headers:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # a slowloris
        time.sleep(0.1)
        started = time.monotonic()
        _listing_ok(fake, http)
        assert http.get("/_sim/state").status_code == 200
        assert time.monotonic() - started < BOUND
        for sock in stalled:  # the read timeout (1 s) answers them, in the fake's envelope
            answer = _answer(sock)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        for sock in half_headers:  # dropped after the read timeout
            assert select.select([sock], [], [], BOUND)[0]
            answer = _answer(sock)
            assert answer == b"" or answer.startswith(b"HTTP/1."), answer[:200]
    finally:
        for sock in stalled + half_headers:
            sock.close()
    _listing_ok(fake, http)


def _chunks(total: int) -> Iterator[bytes]:
    yield b'{"name": "'
    for _ in range(total // 1000):
        yield b"x" * 1000
    yield b'"}'


def test_a_chunked_body_over_the_limit_is_413_in_the_fakes_envelope(
    served: tuple[Fake, ThreadedServer, httpx.Client],
) -> None:
    fake, _, http = served
    path = _write_path(fake)
    method = fake.writes[0][0] if fake.writes else "POST"
    r = http.request(
        method, path, content=_chunks(80_000), headers={**fake.auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 413, r.text[:300]
    assert "50000" in r.text
    r = http.request(
        method, path, content=b"x" * 60_000, headers={**fake.auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    _listing_ok(fake, http)


JUNK = [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(50),  # a TLS hello on the HTTP port
    b"GARBAGE\r\n\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"h" * 70_000 + b"\r\n\r\n",
    b"GET /?\xff\xfe=\xed\xa0\x80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
]


@pytest.mark.parametrize(
    "name", ["severa", *(pytest.param(n, marks=pytest.mark.slow) for n in FAKES if n != "severa")]
)
def test_junk_on_the_wire_gets_an_answer_and_the_fake_goes_on(name: str) -> None:
    with serving(name) as (fake, server, http):
        for junk in JUNK:
            _send_junk(fake, server, http, junk)


def _send_junk(fake: Fake, server: ThreadedServer, http: httpx.Client, junk: bytes) -> None:
    with _connect(server) as sock:
        try:
            sock.sendall(junk)
        except OSError:
            pass
        answer = _answer(sock)
    # an HTTP/1.x status line, or (for a request line without a version) http.server's HTTP/0.9
    # error page; never a 5xx
    assert answer == b"" or answer.startswith(b"HTTP/1.") or b"Error code: 4" in answer, answer[:200]
    assert not answer.startswith((b"HTTP/1.1 5", b"HTTP/1.0 5")) and b"Error code: 5" not in answer, answer[
        :300
    ]
    _listing_ok(fake, http)


def test_cross_site_calls_are_refused(served: tuple[Fake, ThreadedServer, httpx.Client]) -> None:
    fake, _, http = served
    before = http.get("/_sim/state").json()["data"]
    assert (
        http.post(
            "/_sim/reset", content=b'{"preset": "empty"}', headers={"Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    assert http.post("/_sim/reset").status_code == 415
    foreign = http.get("/_sim/credentials", headers={"Host": "rebind.attacker.example"})
    assert foreign.status_code == 400
    listing = fake.listings[0]
    assert http.get(listing[1], headers={**fake.auth, "Host": "rebind.attacker.example"}).status_code == 400
    assert http.get("/_sim/state").json()["data"] == before
