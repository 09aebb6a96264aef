"""Every scenario file of the catalogue is a pytest test (loaded by the root ``conftest.py``).

* the test id is the scenario id (``scenarios/catalogue/mv14-....yaml::mv14-...``);
* its tags are markers (``-m demo``, ``-m support``, ``-m ci``) and its behaviour IDs keywords
  (``-k MV-14``);
* scenarios tagged ``server`` also run against threaded servers (``...::<id>[server]``);
* a file with mistakes fails as one test listing every mistake (``file:line:column``);
* a failure shows the failing step's YAML or the expectation's field-by-field diff and the
  timeline around it, never engine internals.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scenarios.loader import ScenarioError
from scenarios.model import TAGS, Scenario, parse_scenario

CATALOGUE = Path(__file__).parent / "catalogue"


def pytest_configure(config: pytest.Config) -> None:
    for tag in TAGS:
        config.addinivalue_line("markers", f"{tag}: scenarios tagged {tag}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and file_path.parent == CATALOGUE:
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = parse_scenario(self.path)
        except ScenarioError as exc:
            yield BrokenScenario.from_parent(self, name=self.path.stem, error=exc)
            return
        yield ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario, transport="inprocess")
        if "server" in scenario.tags:
            yield ScenarioItem.from_parent(
                self, name=f"{scenario.id}[server]", scenario=scenario, transport="server"
            )


class ScenarioFailed(Exception):
    pass


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, transport: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.transport = transport
        for tag in scenario.tags:
            self.add_marker(tag)
        if "slow" in scenario.tags:
            self.add_marker("slow")
        for behaviour in scenario.covers:
            self.extra_keyword_matches.add(behaviour)

    def runtest(self) -> None:
        from scenarios.engine import run_scenario
        from scenarios.render import failure_text

        result = run_scenario(self.scenario, self.transport)  # type: ignore[arg-type]
        self.user_properties.append(("seconds", round(result.seconds, 3)))
        if not result.passed:
            raise ScenarioFailed(failure_text(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.scenario.id}: {self.scenario.title}"


class BrokenScenario(pytest.Item):
    def __init__(self, *, error: ScenarioError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return f"{len(self.error.problems)} mistake(s) in the scenario file:\n" + "\n".join(
            f"  {p}" for p in self.error.problems
        )

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario file {self.path.name}"
