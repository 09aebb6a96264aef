"""Root pytest wiring: options shared by the unit tests, the contract tests and the scenarios."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["scenarios.pytest_catalogue"]  # every scenarios/catalogue/*.yaml is a test

settings.register_profile(
    "ci", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    # --sim-mode comes from the severa-sandbox plugin (sandbox/pytest_plugin.py, so other projects
    # have it too); this project's default, "all", is the ini option sim_mode in pyproject.toml
    group = parser.getgroup("severa-sandbox")
    group.addoption(
        "--specs-dir",
        default=None,
        help="folder with the vendor OpenAPI documents and the Finvoice XSD (default $SEVERA_SANDBOX_SPECS "
        "or ../shared/specs)",
    )
