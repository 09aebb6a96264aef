"""Schemathesis over the fake's own document (in process, WSGI): no 5xx, no schema violation.

Runs the generated cases against an in-process simulator with a valid API key. Each operation's
test starts from the same state (demo preset, seed 0, a frozen clock), so a run does not depend
on which operations ran before it (xdist splits them across workers in any order). The fast
variant is bounded and derandomised (a few examples per operation, the same ones every run); the
`slow` variant digs deeper.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from simulators.kit import SimClock
from simulators.maestro import MaestroSimulator

SIM = MaestroSimulator(seed=0, clock=SimClock(frozen_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC)))
KEY = SIM.credentials()["companies"][0]["api_key"]
schema = schemathesis.openapi.from_wsgi("/openapi.json", SIM.app)

CHECKS: list[Any] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SUPPRESS = [
    HealthCheck.too_slow,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
    HealthCheck.data_too_large,
]


@pytest.fixture(autouse=True)
def _same_start() -> Iterator[None]:
    """Runs once per operation (not per example): every operation starts from the demo state."""
    SIM.reset("demo", 0)
    assert SIM.credentials()["companies"][0]["api_key"] == KEY
    yield


def _run(case: Any) -> None:
    # Schemathesis knows the key's header but not its value: send the real key, unless this
    # negative case leaves the header out on purpose (then 401 is the expected answer).
    meta = case.meta
    negative = meta is not None and meta.generation.mode.is_negative
    leaves_key_out = negative and "x-maestro-api-key" not in {h.lower() for h in (case.headers or {})}
    headers = None if leaves_key_out else {"X-Maestro-Api-Key": KEY}
    case.call_and_validate(headers=headers, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=SUPPRESS, derandomize=True)
def test_api_conforms_to_its_document(case: Any) -> None:
    _run(case)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=SUPPRESS)
def test_api_conforms_to_its_document_thoroughly(case: Any) -> None:
    _run(case)
