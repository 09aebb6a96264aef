"""Rate limit: 10 requests/s per client; 429 text/plain with Retry-After (severa-api.md §8.3)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from simulators.severa import SeveraSimulator

from .conftest import BASE, ParityState, SeveraTarget, make_target

TEXT = "API calls quota exceeded! maximum admitted 10 per 1s."


@pytest.fixture(scope="module")
def limited(sim_mode: str, parity: ParityState) -> Iterator[SeveraTarget]:
    if sim_mode == "external":
        pytest.skip("exercising the real rate limit would spend the tenant's quota")
    yield from make_target(sim_mode, parity, lambda: SeveraSimulator(seed=0, rate_limit=True))


@pytest.fixture
def one_instant(limited: SeveraTarget, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The simulator's limiter reads real time, and a loaded machine cannot promise a dozen calls
    within one real second: here every call lands at one pinned instant instead."""
    limiter = limited.sim.limiter
    real_hit, instant = type(limiter).hit, time.monotonic()
    monkeypatch.setattr(limiter, "hit", lambda key, now=None: real_hit(limiter, key, instant))
    yield
    limiter.clear()


@pytest.mark.usefixtures("one_instant")
def test_eleventh_call_within_a_second_is_429(limited: SeveraTarget) -> None:
    limited.sim.limiter.clear()
    h = limited.headers()  # the token call counts too
    limited.sim.limiter.clear()
    answers = [limited.http.get(f"{BASE}/v1/invoicestatuses", headers=h) for _ in range(12)]
    codes = [r.status_code for r in answers]
    assert codes == [200] * 10 + [429, 429], codes
    r = next(r for r in answers if r.status_code == 429)
    assert r.text == TEXT
    assert r.headers["content-type"] == "text/plain"  # AspNetCoreRateLimit's answer, not the JSON envelope
    assert r.headers["Retry-After"] == "1"  # whole seconds; a 1 s window frees up within one


@pytest.mark.usefixtures("one_instant")
def test_limit_is_per_client(limited: SeveraTarget) -> None:
    limited.sim.limiter.clear()
    a = limited.headers()
    b = limited.headers("no customers:read / users:read")
    limited.sim.limiter.clear()
    for _ in range(10):
        assert limited.http.get(f"{BASE}/heartbeat/authorized", headers=a).status_code == 204
    assert limited.http.get(f"{BASE}/heartbeat/authorized", headers=a).status_code == 429
    assert limited.http.get(f"{BASE}/heartbeat/authorized", headers=b).status_code == 204


def test_rate_limit_fault_has_the_same_shape(limited: SeveraTarget) -> None:
    limited.sim.limiter.clear()
    h = limited.headers()
    rule = {
        "match": {"method": "GET", "path": "/rest-api/v1/invoices"},
        "effect": {"type": "rate_limit", "retry_after": 3},
        "trigger": {"type": "next", "count": 1},
    }
    assert limited.control("POST", "/faults", json=rule).status_code == 201
    r = limited.http.get(f"{BASE}/v1.0/invoices", headers=h)
    assert r.status_code == 429 and r.text == TEXT and r.headers["Retry-After"] == "3"
    assert r.headers["content-type"].startswith("text/plain")
    limited.control("DELETE", "/faults")


def test_rate_limit_is_off_by_default_in_the_python_api() -> None:
    sim = SeveraSimulator()
    c = sim.client_credentials()
    with sim.client() as http:
        tok = http.post(
            f"{BASE}/v1/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]}
        ).json()["access_token"]
        codes = {
            http.get(f"{BASE}/heartbeat/authorized", headers={"Authorization": f"Bearer {tok}"}).status_code
            for _ in range(25)
        }
    assert codes == {204}
