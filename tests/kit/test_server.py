"""The threaded server (port 0, ready signal, clean stop) and the in-process transport."""

from __future__ import annotations

import errno
import socket

import httpx
import pytest

from simulators.kit import InProcessTransport, ThreadedServer
from tests.kit.toy import ToySimulator


def test_port_zero_picks_a_free_port_and_signals_ready() -> None:
    sim = ToySimulator()
    server = ThreadedServer(sim.app, port=0)
    assert server.port > 0 and not server.ready.is_set()
    assert server.url == f"http://127.0.0.1:{server.port}"
    with server:
        assert server.ready.is_set()
        assert httpx.get(server.url + "/api/items", timeout=5).status_code == 200
    with pytest.raises(httpx.ConnectError):  # stopped means the port is closed
        httpx.get(server.url + "/api/items", timeout=2)


def test_two_servers_on_port_zero_get_different_ports() -> None:
    a, b = ToySimulator().serve(), ToySimulator().serve()
    try:
        assert a.port != b.port
        assert httpx.get(a.url + "/_sim", timeout=5).json()["service"] == "toy"
        assert httpx.get(b.url + "/_sim", timeout=5).json()["service"] == "toy"
    finally:
        a.stop()
        b.stop()


def test_a_taken_port_is_an_oserror_not_a_process_exit() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError) as info:
            ThreadedServer(ToySimulator().app, port=busy.getsockname()[1])
    assert info.value.errno == errno.EADDRINUSE


def test_in_process_and_served_answers_are_the_same(served: httpx.Client, sim: ToySimulator) -> None:
    with httpx.Client(transport=InProcessTransport(sim.app), base_url="http://sim.local") as local:
        for path in ("/api/items", "/api/items/1", "/api/items/nope", "/api/itemz", "/_sim/credentials"):
            a, b = local.get(path), served.get(path)
            assert (a.status_code, a.json()) == (b.status_code, b.json()), path


def test_in_process_transport_takes_non_latin1_paths(client: httpx.Client) -> None:
    r = client.get("/api/items/åäö€")
    assert r.status_code == 404 and "åäö€" in r.json()["toy_error"]["message"]
