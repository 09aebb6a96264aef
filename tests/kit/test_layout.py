"""One shape for every fake (simulators/README.md): the same modules with the same jobs, routes on a
module-level blueprint that reach the domain through the app, short modules, no import circles.

The import graph is read from the source (every ``import``, also inside functions and under
``if TYPE_CHECKING:``), so a circle that only type checking would walk still counts.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from flask import Blueprint

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "simulators"
FAKES = ("severa", "maventa", "maestro", "mailbox")
# the modules every fake has, and what each must define
LAYOUT = {
    "service": "the Simulator subclass with its options, kit hooks and Python API",
    "routes": "`bp`, a module-level Blueprint of the service's API",
    "actors": "`bp`, a module-level Blueprint of the control-plane actors",
    "backend": "the domain root the routes reach (`kit.current_backend`) and the per-tenant rules",
    "models": "the dataclasses of the state",
    "views": "the serialisers: models -> the service's JSON",
    "errors": "the error envelope: `error_response` and a `ServiceError` subclass",
    "auth": "credentials and their checks",
    "presets": "the seeded preset data: `build(preset, seed, ...)`",
}
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of `simulators` that `name` imports, wherever in the file the import stands."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from package import module` imports that module; `from module import name` the module
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in known and t != name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_there_is_no_import_circle_even_under_type_checking() -> None:
    known = _modules()
    graph = {name: _imports(name, path, known) for name, path in known.items()}
    assert sum(len(v) for v in graph.values()) > 100  # the reader sees the imports
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_one() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("fake", FAKES)
def test_every_fake_has_the_same_modules_with_the_same_jobs(fake: str) -> None:
    have = {p.stem for p in (PACKAGE / fake).glob("*.py")}
    missing = sorted(set(LAYOUT) - have)
    assert not missing, f"simulators/{fake} lacks {missing}: " + "; ".join(
        f"{m}: {LAYOUT[m]}" for m in missing
    )
    routes = importlib.import_module(f"simulators.{fake}.routes")
    actors = importlib.import_module(f"simulators.{fake}.actors")
    assert isinstance(routes.bp, Blueprint) and isinstance(actors.bp, Blueprint)
    service = importlib.import_module(f"simulators.{fake}.service")
    sims = [v for v in vars(service).values() if isinstance(v, type) and v.__module__ == service.__name__]
    from simulators.kit import ServiceError, Simulator

    (sim,) = [s for s in sims if issubclass(s, Simulator)]
    assert sim.blueprint is routes.bp and sim.actors is actors.bp
    errors = importlib.import_module(f"simulators.{fake}.errors")
    assert callable(errors.error_response)
    assert any(isinstance(v, type) and issubclass(v, ServiceError) for v in vars(errors).values())
    assert callable(importlib.import_module(f"simulators.{fake}.presets").build)
    package = importlib.import_module(f"simulators.{fake}")
    assert getattr(package, sim.__name__) is sim


@pytest.mark.parametrize("fake", FAKES)
def test_routes_never_close_over_the_simulator(fake: str) -> None:
    """Routes reach the domain through the app; they never import the service module."""
    for module in ("routes", "actors", "backend"):
        imported = _imports(f"simulators.{fake}.{module}", PACKAGE / fake / f"{module}.py", _modules())
        assert f"simulators.{fake}.service" not in imported, module


def test_no_module_is_over_the_line_budget() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
