"""The control plane cannot be driven from another web site (SPEC §6; kit.hosts).

Served fakes refuse a Host that is not their bound address or a loopback name (DNS rebinding),
and state-changing control calls that are not JSON (what a cross-site form or a no-cors fetch
sends). The in-process transport is not reachable from a browser and is not checked.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.cli import main
from simulators.kit import ThreadedServer
from simulators.kit.hosts import HostPolicy, hostname, is_loopback
from tests.kit.toy import ToySimulator


@pytest.fixture
def served_sim() -> Iterator[tuple[ToySimulator, ThreadedServer]]:
    sim = ToySimulator(seed=7)
    server = sim.serve()
    try:
        yield sim, server
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"preset": "empty"}', {"Content-Type": "text/plain"}),  # a cross-site fetch / form
        (b"preset=empty", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b"", {}),  # fetch(url, {method: "POST", mode: "no-cors"}): no body, no Content-Type
        (b"--b\r\n\r\n--b--", {"Content-Type": "multipart/form-data; boundary=b"}),
    ],
)
def test_a_state_change_that_is_not_json_is_refused(
    served_sim: tuple[ToySimulator, ThreadedServer], content: bytes, headers: dict[str, str]
) -> None:
    sim, server = served_sim
    before = sim.export_data()
    r = httpx.post(f"{server.url}/_sim/reset", content=content, headers=headers, timeout=10)
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    assert "application/json" in r.json()["error"]["message"]
    assert sim.export_data() == before
    assert (
        httpx.post(f"{server.url}/_sim/toy/poke", content=content, headers=headers, timeout=10).status_code
        == 415
    )


def test_json_state_changes_and_reads_work(served_sim: tuple[ToySimulator, ThreadedServer]) -> None:
    _, server = served_sim
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.post("/_sim/reset", json={"preset": "empty"}).status_code == 200
        assert http.post("/_sim/toy/poke", json={}).status_code == 200
        assert http.post("/_sim/toy/poke", headers={"Content-Type": "application/json"}).status_code == 200
        assert http.get("/_sim/credentials").status_code == 200
        assert http.delete("/_sim/journal").status_code == 204  # DELETE: a browser must preflight it


def test_no_preflight_is_ever_granted(served_sim: tuple[ToySimulator, ThreadedServer]) -> None:
    _, server = served_sim
    r = httpx.options(
        f"{server.url}/_sim/reset",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert not any(k.lower().startswith("access-control-allow") for k in r.headers)


@pytest.mark.parametrize("path", ["/_sim/credentials", "/_sim/state", "/api/items"])
def test_a_foreign_host_is_refused_everywhere(
    served_sim: tuple[ToySimulator, ThreadedServer], path: str
) -> None:
    sim, server = served_sim
    r = httpx.get(server.url + path, headers={"Host": f"attacker.example:{server.port}"}, timeout=10)
    assert r.status_code == 400 and "attacker.example" in r.text and "--allow-host" in r.text
    assert sim.api_key not in r.text


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2", "app.localhost", "[::1]"])
def test_loopback_names_are_answered(served_sim: tuple[ToySimulator, ThreadedServer], host: str) -> None:
    _, server = served_sim
    r = httpx.get(f"{server.url}/_sim/credentials", headers={"Host": f"{host}:{server.port}"}, timeout=10)
    assert r.status_code == 200


def test_allowed_hosts_are_configurable() -> None:
    sim = ToySimulator(allowed_hosts=["sandbox.example", ".corp.example"])
    server = sim.serve()
    try:
        for host, status in (
            ("sandbox.example", 200),
            ("a.corp.example", 200),
            ("corp.example", 200),
            ("other.example", 400),
        ):
            r = httpx.get(f"{server.url}/_sim/credentials", headers={"Host": host}, timeout=10)
            assert r.status_code == status, host
    finally:
        server.stop()


def test_in_process_clients_are_not_cross_site() -> None:
    """The pytest plugin and the scenarios use hosts like http://severa.sim with no Content-Type."""
    with ToySimulator().client(base_url="http://severa.sim") as http:
        assert http.post("/_sim/toy/poke").status_code == 200
        assert http.get("/_sim/credentials").status_code == 200


def test_the_policy() -> None:
    assert hostname("[::1]:8080") == "::1" and hostname("Example.COM.:80") == "example.com"
    assert is_loopback("127.9.9.9") and is_loopback("localhost") and not is_loopback("10.0.0.1")
    wildcard, bound = HostPolicy(), HostPolicy()
    assert wildcard.allows("192.168.1.20:8701", "0.0.0.0") and not wildcard.allows("evil.example", "0.0.0.0")
    assert bound.allows("10.1.2.3:8701", "10.1.2.3") and not bound.allows("10.1.2.4", "10.1.2.3")
    assert HostPolicy(["*"]).allows("anything.example", "127.0.0.1")
    assert HostPolicy().allows("", "127.0.0.1")  # HTTP/1.0 without a Host header


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.2", False), ("localhost", False), ("0.0.0.0", True)])
def test_serve_warns_only_when_other_machines_can_reach_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], host: str, warned: bool
) -> None:
    def stop_at_once(self: ThreadedServer) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ThreadedServer, "serve_forever", stop_at_once)
    monkeypatch.setattr(ThreadedServer, "__init__", _fake_server_init)
    assert main(["serve", "maestro", "--host", host, "--port", "0", "--allow-host", "x.example"]) == 0
    assert ("other machines can reach" in capsys.readouterr().err) == warned


def _fake_server_init(self: ThreadedServer, app: object, host: str = "", port: int = 0, **kw: object) -> None:
    """No socket: the warning is about the address asked for, not about binding it."""
    self.host, self.port = host, 1234
    self.stopping = kw.get("stopping")  # type: ignore[assignment]
