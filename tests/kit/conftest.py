from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.kit.toy import ToySimulator


@pytest.fixture
def sim() -> ToySimulator:
    return ToySimulator(seed=7)


@pytest.fixture
def client(sim: ToySimulator) -> Iterator[httpx.Client]:
    with sim.client() as c:
        yield c


@pytest.fixture
def served(sim: ToySimulator) -> Iterator[httpx.Client]:
    server = sim.serve()
    try:
        with httpx.Client(base_url=server.url, timeout=5) as c:
            yield c
    finally:
        server.stop()
