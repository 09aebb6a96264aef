"""The severa-sandbox pytest plugin (entry point ``pytest11``), usable by other projects.

Fixtures (all function-scoped, each test gets a fresh world from the ``demo`` preset):

* ``severa_sim``, ``maventa_sim``, ``maestro_sim``: the simulator objects (Python control API:
  ``reset``, ``add_fault``, ``clock``, ``journal``, ``export_state``...);
* ``severa_http``, ``maventa_http``, ``maestro_http``: in-process ``httpx.Client`` for each, with the
  service's base path in the base URL (Severa: ``http://severa.sim/rest-api``);
* ``sim_factory``: build any registered simulator with options, e.g.
  ``sim_factory("severa", seed=3, rate_limit=True)``;
* ``sim_server``: serve a simulator on a threaded server on a free port, stopped after the test;
* ``journal``: assertions on a simulator's journal (``journal.assert_called(sim, "GET", "/v1/invoices")``),
  failing with the closest requests it did see.

Marker: ``@pytest.mark.sim_seed(N)`` sets the seed of the simulator fixtures.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sandbox.services import SERVICES
from simulators.kit import Simulator, ThreadedServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sim_seed(n): seed of the severa-sandbox simulator fixtures")


def _seed(request: pytest.FixtureRequest) -> int:
    marker = request.node.get_closest_marker("sim_seed")
    return int(marker.args[0]) if marker else 0


@pytest.fixture
def sim_factory() -> Callable[..., Simulator]:
    def make(name: str, **options: Any) -> Simulator:
        if name not in SERVICES:
            raise KeyError(f"unknown simulator {name!r}; known: {', '.join(SERVICES)}")
        return SERVICES[name].create(**options)

    return make


@pytest.fixture
def sim_server() -> Iterator[Callable[[Simulator], ThreadedServer]]:
    servers: list[ThreadedServer] = []

    def serve(sim: Simulator) -> ThreadedServer:
        server = sim.serve()
        servers.append(server)
        return server

    yield serve
    for s in servers:
        s.stop()


def _sim_fixture(name: str) -> Any:
    @pytest.fixture
    def fixture(request: pytest.FixtureRequest) -> Simulator:
        return SERVICES[name].create(seed=_seed(request))

    fixture.__doc__ = f"A fresh {SERVICES[name].summary} simulator (demo preset)."
    return fixture


def _http_fixture(name: str) -> Any:
    @pytest.fixture
    def fixture(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
        sim: Simulator = request.getfixturevalue(f"{name}_sim")
        with sim.client(base_url=f"http://{name}.sim{SERVICES[name].base_path}") as client:
            yield client

    fixture.__doc__ = f"An in-process httpx client for the {name} simulator, base URL at its API root."
    return fixture


severa_sim = _sim_fixture("severa")
maventa_sim = _sim_fixture("maventa")
maestro_sim = _sim_fixture("maestro")
severa_http = _http_fixture("severa")
maventa_http = _http_fixture("maventa")
maestro_http = _http_fixture("maestro")


class JournalAssertions:
    """Assertions over a simulator's journal that explain themselves on failure."""

    def calls(self, sim: Simulator, method: str, path: str) -> int:
        return len([e for e in sim.journal.entries(method=method) if e.path.endswith(path) or e.path == path])

    def assert_called(self, sim: Simulator, method: str, path: str, count: int | None = None) -> None:
        n = self.calls(sim, method, path)
        if (count is None and n > 0) or n == count:
            return
        seen = [f"{e.method} {e.path} -> {e.status}" for e in sim.journal.entries()]
        near = difflib.get_close_matches(f"{method.upper()} {path}", seen, n=5, cutoff=0.3)
        want = "at least once" if count is None else f"{count} time(s)"
        raise AssertionError(
            f"expected {method.upper()} {path} {want}, saw it {n} time(s); closest requests: {near or seen[-5:]}"
        )

    def assert_not_called(self, sim: Simulator, method: str, path: str) -> None:
        self.assert_called(sim, method, path, count=0)


@pytest.fixture
def journal() -> JournalAssertions:
    return JournalAssertions()
