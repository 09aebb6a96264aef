"""The bridge's HTTP clients against the Severa and Maventa simulators, in process.

The bridge never imports the simulators; these tests wire the two sides together over the
wire format only (``sim.client()`` is an ``httpx.Client`` on an in-process transport). They
skip with a reason while a simulator is not importable. Credentials are read from the
simulator's ``credentials()`` (the sandbox secrets of the current preset).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.connectors.maventa import MaventaClient
from bridge.errors import MaventaError
from bridge.http import RetryPolicy
from bridge.severa import SeveraClient
from tests.bridge.http_fakes import FakeClock

NO_WAIT = RetryPolicy(max_attempts=5, base_delay=0.0, max_delay=5, max_total=60)


def _simulator(module: str, name: str) -> Any:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the parallel work
        pytest.skip(f"{module} is not importable yet: {exc}")
    cls = getattr(mod, name, None)
    if cls is None:  # pragma: no cover
        pytest.skip(f"{module}.{name} does not exist yet")
    return cls


def _dicts(obj: Any) -> Iterator[dict[str, Any]]:
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from _dicts(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from _dicts(value)


def _find(obj: Any, *keys: str) -> dict[str, Any]:
    for d in _dicts(obj):
        if all(isinstance(d.get(k), str) and d.get(k) for k in keys):
            return d
    pytest.skip(f"the simulator's credentials() has no entry with {keys}")


@pytest.fixture
def severa_sim() -> Any:
    return _simulator("simulators.severa", "SeveraSimulator")(seed=0)


@pytest.fixture
def maventa_sim() -> Any:
    return _simulator("simulators.maventa", "MaventaSimulator")(seed=0)


def severa_client(sim: Any, clock: FakeClock | None = None) -> SeveraClient:
    clock = clock or FakeClock()
    creds = _find(sim.credentials(), "client_id", "client_secret")
    base = "http://sim.local"
    http = sim.client(base + "/rest-api") if _serves_under_rest_api(sim) else sim.client(base)
    return SeveraClient(
        http,
        creds["client_id"],
        creds["client_secret"],
        policy=NO_WAIT,
        rate_limit=False,
        clock=clock,
        sleep=clock.sleep,
    )


def _serves_under_rest_api(sim: Any) -> bool:
    rules = [str(r) for r in sim.app.url_map.iter_rules()]
    return any(r.startswith("/rest-api/") for r in rules)


def maventa_client(sim: Any) -> MaventaClient:
    """A client for the demo preset's verified company, from the simulator's documented credentials."""
    creds = sim.credentials()
    company = next(c for c in creds["companies"] if c.get("company_state") == "VERIFIED" and c.get("users"))
    clock = FakeClock()
    return MaventaClient(
        sim.client(),
        creds["vendor_api_keys"][0],
        company["id"],
        company["users"][0]["user_api_key"],
        policy=NO_WAIT,
        clock=clock,
        sleep=clock.sleep,
    )


# -- Severa ------------------------------------------------------------------------------------


def test_severa_token_paging_gives_the_same_invoices_whatever_the_page_size(severa_sim: Any) -> None:
    client = severa_client(severa_sim)
    everything = list(client.iter_invoices(row_count=100))
    assert everything, "the demo preset should hold invoices"
    small = list(client.iter_invoices(row_count=2))
    assert [i["guid"] for i in small] == [i["guid"] for i in everything]
    statuses = client.list_invoice_statuses()
    assert statuses and all("isSent" in s for s in statuses)


def test_severa_status_patch_survives_faults_and_an_expired_token(severa_sim: Any) -> None:
    client = severa_client(severa_sim)
    invoice = next(iter(client.iter_invoices()))
    statuses = client.list_invoice_statuses()
    target = next(s for s in statuses if s["guid"] != invoice["status"]["guid"])
    severa_sim.add_fault(
        {
            "match": {"method": "PATCH", "path": "*/v1/invoices/*"},
            "effect": {"type": "reset", "after_processing": True},
            "trigger": {"type": "next", "count": 1},
        }
    )
    severa_sim.add_fault(
        {
            "match": {"method": "GET", "path": "*/v1/invoices/*"},
            "effect": {"type": "status", "status": 503},
            "trigger": {"type": "next", "count": 2},
        }
    )
    severa_sim.clock.advance(2 * 3600)  # the cached token has expired on the server
    updated = client.set_invoice_status(invoice["guid"], target["guid"])
    assert updated["status"]["guid"] == target["guid"]
    assert client.get_invoice(invoice["guid"])["status"]["guid"] == target["guid"]


def test_severa_rate_limit_answer_is_honoured(severa_sim: Any) -> None:
    clock = FakeClock()
    client = severa_client(severa_sim, clock)
    severa_sim.add_fault(
        {
            "match": {"method": "GET", "path": "*/v1/invoicestatuses*"},
            "effect": {"type": "rate_limit", "retry_after": 0},
            "trigger": {"type": "next", "count": 2},
        }
    )
    assert client.list_invoice_statuses()
    assert len(clock.sleeps) == 2  # waited as told (Retry-After), without sleeping for real


# -- Maventa -----------------------------------------------------------------------------------


def test_maventa_token_company_and_settings(maventa_sim: Any) -> None:
    client = maventa_client(maventa_sim)
    current = client.current()
    assert current["company"]["id"] == client.company_id
    status = client.authorization_status()
    assert {"auth_state", "company_state", "auth_email"} <= set(status)
    assert isinstance(client.get_settings(), dict)


def test_maventa_unknown_uuid_is_not_found_and_faults_are_retried(maventa_sim: Any) -> None:
    client = maventa_client(maventa_sim)
    maventa_sim.add_fault(
        {
            "match": {"method": "GET", "path": "/v1/invoices/*"},
            "effect": {"type": "status", "status": 502},
            "trigger": {"type": "next", "count": 2},
        }
    )
    assert client.find_invoice_by_uuid("00000000-0000-4000-8000-0000000000ff") is None
    assert isinstance(client.list_invoices(), list)


def test_maventa_wrong_key_is_an_auth_error(maventa_sim: Any) -> None:
    good = maventa_client(maventa_sim)
    bad = good.for_company(good.company_id or "", "not-the-key")
    with pytest.raises(MaventaError) as info:
        bad.authenticate()
    assert info.value.is_auth and "not-the-key" not in str(info.value)


def test_severa_customers_by_number_against_the_simulator(severa_sim: Any) -> None:
    client = severa_client(severa_sim)
    everyone = list(client.iter_customers())
    numbers = [c["number"] for c in everyone if isinstance(c.get("number"), int)]
    assert len(numbers) >= 2, "the demo preset should hold numbered customers"
    wanted = [*numbers[:2], 987654321]
    before = client.http.calls
    got = list(client.iter_customers_by_number(wanted))
    assert sorted(c["guid"] for c in got) == sorted(c["guid"] for c in everyone if c["number"] in wanted)
    assert client.http.calls == before + 1  # one batch call for all of them


def test_maventa_polls_sent_invoices_in_one_batch(maventa_sim: Any) -> None:
    from tests.maventa.finvoice_factory import build_finvoice

    client = maventa_client(maventa_sim)
    sent = [
        client.send_invoice(
            f"{n}.xml", build_finvoice(number=str(n)), uuid=f"00000000-0000-4000-8000-0000000{n}"
        )
        for n in (71001, 71002, 71003)
    ]
    before = client.http.calls
    unknown = "00000000-0000-4000-8000-0000000000ff"
    got = client.get_invoices([sent[0]["id"], sent[2]["id"], unknown])
    assert sorted(i["id"] for i in got) == sorted([sent[0]["id"], sent[2]["id"]])
    assert client.http.calls == before + 1
    ids = [s["id"] for s in sent] + [f"00000000-0000-4000-8000-{n:012d}" for n in range(150)]
    assert sorted(i["id"] for i in client.get_invoices(ids)) == sorted(s["id"] for s in sent)
    assert client.http.calls == before + 3  # 153 ids: two queries (the simulator refuses > 100)
