"""Paging, rate limiting and invoice numbering as properties (Hypothesis)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.severa import SeveraSimulator
from simulators.severa.errors import SeveraError
from simulators.severa.paging import offset_page, token_page
from simulators.severa.ratelimit import SlidingWindowLimiter
from simulators.severa.references import is_valid_finnish_reference

BASE = "/rest-api"


@given(st.lists(st.integers(), max_size=60), st.integers(min_value=1, max_value=70))
def test_token_paging_yields_each_item_once_in_order(items: list[int], size: int) -> None:
    out: list[int] = []
    token: str | None = None
    pages = 0
    while True:
        page, token = token_page(items, token, size, "f")
        out += page
        pages += 1
        if token is None:
            break
    assert out == items
    assert pages == max(1, -(-len(items) // size))


@given(
    st.lists(st.integers(), max_size=40),
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=1, max_value=50),
)
def test_offset_page_is_a_slice(items: list[int], first: int, count: int) -> None:
    assert offset_page(items, first, count) == items[first : first + count]


def test_token_from_other_filters_is_refused() -> None:
    _, token = token_page(list(range(10)), None, 3, "a")
    assert token
    with pytest.raises(SeveraError):
        token_page(list(range(10)), token, 3, "b")


@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=80))
def test_sliding_window_never_admits_more_than_limit_per_second(gaps: list[float]) -> None:
    limiter = SlidingWindowLimiter(limit=10, window=1.0)
    now, admitted = 0.0, []
    for gap in gaps:
        now += gap / 10
        if limiter.hit("c", now) is None:
            admitted.append(now)
    for i, t in enumerate(admitted):
        assert sum(1 for u in admitted[i:] if u < t + 1.0) <= 10


def test_retry_after_says_when_the_window_has_room_again() -> None:
    limiter = SlidingWindowLimiter(limit=10, window=1.0)
    assert all(limiter.hit("a", 0.0 + i / 100) is None for i in range(10))
    assert limiter.hit("a", 0.5) == 1  # refused calls do not count
    assert limiter.hit("b", 0.5) is None  # per client
    assert limiter.hit("a", 1.0) is None  # the first call of the window has left it
    assert limiter.hit("a", 1.005) == 1


@pytest.fixture(scope="module")
def empty_sim() -> SeveraSimulator:
    return SeveraSimulator(preset="empty", seed=3)


def _token(http: Any, sim: SeveraSimulator) -> dict[str, str]:
    c = sim.client_credentials()
    r = http.post(f"{BASE}/v1/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=0, max_value=25), row_count=st.integers(min_value=1, max_value=30))
def test_paging_through_n_invoices_over_http_returns_each_once(
    empty_sim: SeveraSimulator, n: int, row_count: int
) -> None:
    empty_sim.reset("empty", 3)
    b = empty_sim.main
    cust = _customer(empty_sim)
    created = [b.create_invoice(cust, invoice_date=date(2026, 1, 1 + i % 28)).guid for i in range(n)]
    with empty_sim.client() as http:
        h = _token(http, empty_sim)
        seen: list[str] = []
        params: dict[str, Any] = {"rowCount": row_count}
        while True:
            r = http.get(f"{BASE}/v1/invoices", headers=h, params=params)
            assert r.status_code == 200
            assert len(r.json()) <= row_count
            seen += [i["guid"] for i in r.json()]
            if "NextPageToken" not in r.headers:
                break
            params["pageToken"] = r.headers["NextPageToken"]
    assert seen == created


def _customer(sim: SeveraSimulator) -> str:
    from simulators.severa.models import Address, Audit, Customer

    org = sim.main.org
    c = Customer(
        guid="c0000000-0000-4000-8000-000000000001",
        name="Testi Oy",
        number=1,
        vat_number="FI01234565",
        audit=Audit(sim.clock.now()),
    )
    a = Address(
        guid="a0000000-0000-4000-8000-000000000001",
        customer_guid=c.guid,
        addressline="Katu 1",
        postal_code="00100",
        city="Helsinki",
        country="Finland",
        audit=Audit(sim.clock.now()),
    )
    c.headquarter_address_guid = a.guid
    org.customers[c.guid], org.addresses[a.guid] = c, a
    return c.guid


@settings(max_examples=20, deadline=None)
@given(
    moves=st.lists(
        st.sampled_from(
            [
                "Luonnos",
                "Odottaa siirtoa Maventaan",
                "Maventa-virhe",
                "Siirretty Maventaan",
                "Odottaa siirtoa Maestroon",
                "Maksettu",
            ]
        ),
        min_size=1,
        max_size=8,
    ),
    pick=st.integers(min_value=0, max_value=1),
)
def test_numbers_are_assigned_once_and_stay_unique(moves: list[str], pick: int) -> None:
    sim = SeveraSimulator(seed=1)
    b = sim.main
    drafts = [i for i in b.org.invoices.values() if i.number is None]
    inv = drafts[pick]
    number = None
    for name in moves:
        b.set_status(inv.guid, name)
        st_ = b.status_by_name(name)
        if st_.has_invoice_number or number is not None:
            assert inv.number is not None and is_valid_finnish_reference(inv.reference_number or "")
            number = number or inv.number
            assert inv.number == number
        else:
            assert inv.number is None
    numbers = [i.number for i in b.org.invoices.values() if i.number is not None]
    assert len(numbers) == len(set(numbers))


@settings(max_examples=3, deadline=None)  # each example builds two demo worlds (~0.5 s)
@given(st.integers(min_value=0, max_value=10_000))
def test_same_seed_same_demo_and_snapshot_round_trip(seed: int) -> None:
    a, b = SeveraSimulator(seed=seed), SeveraSimulator(seed=seed)
    snap = a.export_state()
    assert snap["data"] == b.export_state()["data"]
    b.reset("empty", seed)
    b.import_state(snap)
    assert b.export_state()["data"] == snap["data"]
