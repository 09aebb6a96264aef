"""Generated hostile requests against every fake: 0 5xx, 0 hangs, 0 poisoned states.

The default run sends 1,000 per fake (seed 11); ``make test-all`` adds 2 x 3,000 per fake with
other seeds. Each test prints its counts (``pytest -s``)."""

from __future__ import annotations

import pytest

from tests.hostile.harness import FAKES, attack, make

QUICK = 1000
THOROUGH = 3000


def _run(name: str, seed: int, n: int) -> None:
    fake = make(name)
    out = attack(fake, seed, n)
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(out.by_status.items()))
    print(
        f"\n[hostile] {name}: {out.sent} requests, {len(out.failures)} failures, "
        f"{out.poison_checks} poison checks; statuses {statuses}"
    )
    assert out.sent == n
    assert not out.failures, "\n".join(out.failures[:20])
    journal = fake.sim.journal
    assert journal.bytes <= journal.max_bytes  # memory stays bounded


@pytest.mark.parametrize("name", FAKES)
def test_generated_hostile_requests(name: str) -> None:
    _run(name, seed=11, n=QUICK)


@pytest.mark.slow
@pytest.mark.parametrize("name", FAKES)
@pytest.mark.parametrize("seed", [1, 2])
def test_many_generated_hostile_requests(name: str, seed: int) -> None:
    _run(name, seed=seed * 1000, n=THOROUGH)
