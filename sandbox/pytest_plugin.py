"""The severa-sandbox pytest plugin (entry point ``pytest11``), usable by any project.

After ``pip install severa-sandbox`` every test session has these fixtures (each test gets a
fresh world from the ``demo`` preset; ``pytest --fixtures`` shows each one's docstring):

* ``severa_sim``, ``maventa_sim``, ``maestro_sim``: the fakes, with their Python control API
  (``docs/python-api.md``: ``credentials()``, ``add_fault``, ``clock``, ``journal``, ``reset``,
  ``export_state`` ...);
* ``severa_url``, ``maventa_url``, ``maestro_url``: each fake served on 127.0.0.1 (a free port),
  the URL of its API root, for code that opens its own connections;
* ``severa_http``, ``maventa_http``, ``maestro_http``: ``httpx.Client`` at each API root, in-process
  or over a socket (``--sim-mode``);
* ``mailbox``: the SMTP catcher, listening (``mailbox.smtp_port``; ``mailbox.find(to=...)``);
* ``sandbox_world`` and ``bridge``: the three fakes, the mailbox and the real bridge wired to them
  (``scenarios.world.World``; ``bridge`` is its ``bridge.app.Bridge``); the ``*_sim`` fixtures of
  the same test are that world's fakes;
* ``journal``: assertions on a fake's journal whose failures show the closest requests (method,
  path, query, status and a JSON body diff);
* ``sim_factory``, ``sim_server``, ``sim_transport``: build a fake with options, serve one, and
  the transport of this test;
* ``run_scenario``: runs a YAML scenario file of your repository (the format of
  ``scenarios/REFERENCE.md``) in a fresh world, fails the test with the failing step, the diff and
  the timeline when it does not pass, and returns the result (``.timeline``, ``.verdicts``).

Ini option ``sandbox_scenarios`` (paths, relative to the ini file): every ``*.yaml`` scenario
file under them is collected as a test of its own, as this project's catalogue is.

Options: ``--sim-mode`` (or the ini option ``sim_mode``, or ``$SEVERA_SANDBOX_SIM_MODE``):
``inprocess`` (default: no sockets), ``server`` (every fake on a threaded server on a free port,
clients over real HTTP), ``all`` or a comma list (the tests that use a fake run once per mode);
``external`` is for this project's contract tests (the fakes' fixtures skip). Marker:
``@pytest.mark.sim_seed(N)`` sets the seed of the demo data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from sandbox.journal_assertions import JournalAssertions
from sandbox.services import SERVICES

if TYPE_CHECKING:
    from scenarios.engine import RunResult
    from scenarios.world import World
    from simulators.kit import Simulator, ThreadedServer
    from simulators.mailbox import MailboxSimulator

__all__ = ["JournalAssertions", "sim_modes"]

MODES = ("inprocess", "server", "external")
FIXTURE_MODES = ("inprocess", "server")  # what the fakes' fixtures can be
ENV = "SEVERA_SANDBOX_SIM_MODE"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("severa-sandbox")
    group.addoption(
        "--sim-mode",
        default=None,
        help="how tests reach the severa-sandbox fakes: inprocess (default), server (threaded server on a "
        f"free port), external (contract tests only), a comma list, or 'all' (inprocess,server); "
        f"also the ini option sim_mode or ${ENV}",
    )
    parser.addini("sim_mode", "default of --sim-mode (severa-sandbox)", default="inprocess")
    parser.addini(
        "sandbox_scenarios",
        "folders (or files) of severa-sandbox YAML scenarios to collect as tests",
        type="paths",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sim_seed(n): seed of the severa-sandbox fakes' demo data")
    raw = config.option.sim_mode or os.environ.get(ENV) or str(config.getini("sim_mode") or "inprocess")
    _modes(raw)  # a typo stops the session at once, with the choices
    config.option.sim_mode = raw  # resolved: what `config.getoption("--sim-mode")` reads everywhere


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    roots = [Path(p) for p in parent.config.getini("sandbox_scenarios")]
    if not any(file_path == root or root in file_path.parents for root in roots):
        return None
    from scenarios.pytest_catalogue import CATALOGUE, ScenarioFile

    if file_path.parent == CATALOGUE:  # collected already when this project's catalogue is loaded
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


def _modes(raw: str) -> list[str]:
    if raw.strip() == "all":
        return list(FIXTURE_MODES)
    modes = [m.strip() for m in raw.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise pytest.UsageError(
            f"--sim-mode {raw!r}: unknown mode(s) {', '.join(bad) or '(none given)'}; choose from "
            f"{', '.join(MODES)}, a comma list, or 'all'"
        )
    return modes


def sim_modes(config: pytest.Config) -> list[str]:
    """The modes ``--sim-mode`` asks for (``all`` = inprocess and server)."""
    return _modes(str(config.getoption("--sim-mode") or "inprocess"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "sim_transport" in metafunc.fixturenames:
        modes = [m for m in sim_modes(metafunc.config) if m in FIXTURE_MODES] or ["external"]
        if len(modes) > 1:  # one run per mode; a single mode keeps the test ids as they are
            metafunc.parametrize("sim_transport", modes, indirect=True, scope="function")


def _seed(request: pytest.FixtureRequest) -> int:
    marker = request.node.get_closest_marker("sim_seed")
    return int(marker.args[0]) if marker else 0


# ---------------------------------------------------------------------------------- plumbing
@pytest.fixture
def sim_transport(request: pytest.FixtureRequest) -> str:
    """How this test reaches the fakes: ``"inprocess"`` or ``"server"`` (from ``--sim-mode``; with
    ``all`` or a list, the test runs once per mode)."""
    mode = getattr(request, "param", None)
    if mode is None:
        usable = [m for m in sim_modes(request.config) if m in FIXTURE_MODES]
        mode = usable[0] if usable else "external"
    if mode == "external":
        pytest.skip(
            "--sim-mode=external: the severa-sandbox fake fixtures run their own fakes; use inprocess or server"
        )
    return str(mode)


@pytest.fixture
def sim_factory() -> Callable[..., Simulator]:
    """Build any fake with options: ``sim_factory("severa", seed=3, rate_limit=True)``; names are
    ``severa``, ``maventa``, ``maestro``, ``mailbox``. Not served: pass it to ``sim_server``."""

    def make(name: str, **options: Any) -> Simulator:
        if name not in SERVICES:
            raise KeyError(f"unknown simulator {name!r}; known: {', '.join(SERVICES)}")
        return SERVICES[name].create(**options)

    return make


@pytest.fixture
def sim_server() -> Iterator[Callable[[Simulator], ThreadedServer]]:
    """Serve a fake on 127.0.0.1 on a free port: ``server = sim_server(sim)``; ``server.url`` is the
    server root (add the API's base path: Severa ``/rest-api``, Maestro ``/api``). Stopped after the test."""
    servers: list[ThreadedServer] = []

    def serve(sim: Simulator) -> ThreadedServer:
        server = sim.serve()
        servers.append(server)
        return server

    yield serve
    for s in servers:
        s.stop()


class _Served:
    """The servers of one test's fakes, started on first use."""

    def __init__(self) -> None:
        self.servers: dict[int, ThreadedServer] = {}

    def url(self, sim: Simulator) -> str:
        if id(sim) not in self.servers:
            self.servers[id(sim)] = sim.serve()
        return self.servers[id(sim)].url

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


@pytest.fixture
def _sim_servers() -> Iterator[_Served]:
    served = _Served()
    yield served
    served.stop()


def _uses_world(request: pytest.FixtureRequest) -> bool:
    return "sandbox_world" in request.fixturenames


def _sim_fixture(name: str) -> Any:
    def fixture(request: pytest.FixtureRequest) -> Simulator:
        if _uses_world(request):
            world: World = request.getfixturevalue("sandbox_world")
            sim: Simulator = world.sims[name]
            return sim
        return SERVICES[name].create(seed=_seed(request))

    fixture.__name__ = f"{name}_sim"
    fixture.__doc__ = f"""A fresh {name.capitalize()} fake ({SERVICES[name].summary}), demo preset, seed 0
    or ``@pytest.mark.sim_seed(N)``. Its Python control API (docs/python-api.md): ``credentials()``,
    ``add_fault(rule)``, ``clock.advance(s)``, ``journal.entries(...)``, ``reset()``,
    ``export_state()`` / ``import_state()``, ``client()``, ``serve()``. In a test that uses
    ``sandbox_world`` or ``bridge``: that world's own fake."""
    return pytest.fixture(name=f"{name}_sim")(fixture)


def _url_fixture(name: str) -> Any:
    base = SERVICES[name].base_path

    def fixture(request: pytest.FixtureRequest, _sim_servers: _Served) -> str:
        sim: Simulator = request.getfixturevalue(f"{name}_sim")
        if _uses_world(request):
            world: World = request.getfixturevalue("sandbox_world")
            if name in world.servers:
                return world.servers[name].url + base
        return _sim_servers.url(sim) + base

    fixture.__doc__ = f"""The URL of the {name.capitalize()} fake's API root, ``http://127.0.0.1:<port>{base}``:
    ``{name}_sim`` served on a threaded server on a free port for this test, in every --sim-mode
    (code that opens its own connections needs a socket). The control plane is ``<root>/_sim``."""
    return pytest.fixture(name=f"{name}_url")(fixture)


def _http_fixture(name: str) -> Any:
    base = SERVICES[name].base_path

    def fixture(request: pytest.FixtureRequest, sim_transport: str) -> Iterator[httpx.Client]:
        sim: Simulator = request.getfixturevalue(f"{name}_sim")
        if sim_transport == "server":
            url: str = request.getfixturevalue(f"{name}_url")
            client = httpx.Client(base_url=url, timeout=10.0)
        else:
            client = sim.client(base_url=f"http://{name}.sim{base}")
        with client:
            yield client

    fixture.__doc__ = f"""An ``httpx.Client`` at the {name.capitalize()} fake's API root ({base or "/"}):
    in-process (no sockets) by default, over real HTTP with ``--sim-mode=server``. The control
    plane answers at ``/_sim/...`` of the same host."""
    return pytest.fixture(name=f"{name}_http")(fixture)


severa_sim = _sim_fixture("severa")
maventa_sim = _sim_fixture("maventa")
maestro_sim = _sim_fixture("maestro")
severa_url = _url_fixture("severa")
maventa_url = _url_fixture("maventa")
maestro_url = _url_fixture("maestro")
severa_http = _http_fixture("severa")
maventa_http = _http_fixture("maventa")
maestro_http = _http_fixture("maestro")


@pytest.fixture
def mailbox() -> Iterator[MailboxSimulator]:
    """The sandbox mailbox, its SMTP listener on 127.0.0.1 (``mailbox.smtp_port``, a free port):
    point the code under test at it and read what it sent with ``mailbox.find(to=..., subject=...)``
    (each message: ``subject``, ``text``, ``rcpt_tos``, ``attachments`` ...). Stopped after the test."""
    from simulators.mailbox import MailboxSimulator

    box = MailboxSimulator()
    box.start_smtp()
    try:
        yield box
    finally:
        box.stop_smtp()


@pytest.fixture
def sandbox_world(
    request: pytest.FixtureRequest, sim_transport: str, mailbox: MailboxSimulator
) -> Iterator[World]:
    """The whole sandbox for one test: the Severa, Maventa and Maestro fakes on one frozen clock,
    the ``mailbox``, and the real bridge wired to them (``scenarios.world.World``). Drive it with
    ``run_pass()``, ``settle()``, ``advance(seconds)``, ``create_invoice(...)``, ``set_status(...)``
    and ``scenarios.world.setup_company(world)`` (register, sign, configure, activate a unit)."""
    from scenarios.world import World

    world = World.build(seed=_seed(request), mailbox=mailbox, transport=sim_transport)  # type: ignore[arg-type]
    try:
        yield world
    finally:
        world.close()


@pytest.fixture
def bridge(sandbox_world: World) -> Any:
    """The real bridge (``bridge.app.Bridge``) wired to this test's fakes, as ``severa-sandbox
    bridge`` builds it: ``bridge.integration`` (the Maventa settings page), ``bridge.engine``
    (``run_once()`` is one ``bridge sync --once``), ``bridge.maestro`` / ``bridge.maestro_connector``
    (``check(...)`` is the preflight), ``bridge.store`` (ledger, transfer log)."""
    return sandbox_world.bridge


@pytest.fixture
def run_scenario(request: pytest.FixtureRequest, sim_transport: str) -> Callable[..., RunResult]:
    """Runs a YAML scenario file of your repository end to end: ``result =
    run_scenario("scenarios/activation-refused.yaml")``. The path is taken relative to the test
    file, then to the rootdir. Each run gets a fresh world (the scenario's ``given``) over this
    test's transport (``--sim-mode``). A file with mistakes, or a scenario that does not pass,
    fails the test with the mistakes (``file:line:column``), the failing step, the expectation's
    diff and the timeline around it; ``expect_pass=False`` returns the result instead."""
    from scenarios.engine import run_scenario as run
    from scenarios.loader import ScenarioError
    from scenarios.model import parse_scenario
    from scenarios.render import failure_text

    def runner(path: str | Path, *, transport: str | None = None, expect_pass: bool = True) -> RunResult:
        given = Path(path)
        candidates = (
            [given] if given.is_absolute() else [request.path.parent / given, request.config.rootpath / given]
        )
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            pytest.fail(
                f"run_scenario: no scenario file {str(path)!r} (looked at {', '.join(map(str, candidates))})",
                pytrace=False,
            )
        try:
            scenario = parse_scenario(found)
        except ScenarioError as exc:
            pytest.fail(str(exc), pytrace=False)
        result = run(scenario, transport or sim_transport)  # type: ignore[arg-type]
        if expect_pass and not result.passed:
            pytest.fail(failure_text(result), pytrace=False)
        return result

    return runner


@pytest.fixture
def journal() -> JournalAssertions:
    """Assertions on a fake's request journal: ``journal.assert_called(severa_sim, "GET",
    "/v1/invoices", query={...}, json={...}, status=200, count=1)``, ``assert_not_called(...)``,
    ``calls(...)``. A failure lists the closest requests the fake saw (method, path, query,
    status, what differs, and a diff of the JSON body)."""
    return JournalAssertions()
