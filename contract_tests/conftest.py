"""Contract-test wiring: each service's fixture is parametrised over the chosen modes."""

from __future__ import annotations

import pytest

from contract_tests.targets import modes_from_option


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "sim_mode" in metafunc.fixturenames:
        metafunc.parametrize("sim_mode", modes_from_option(metafunc.config), scope="module")
