"""The bridge benchmark's helpers work (no timing asserted): call classes, the minimum, the replay
plan, and one tiny recorded run whose replay gets the answers the bridge got."""

from __future__ import annotations

from bench._bridge_driver import Call, call_class, customers_for, minimal_plan
from bench.bench_bridge import CONNECTORS, after, minimum

GUID = "0a5d2f34-6baa-4455-a3e7-0682c2094cac"


def test_a_call_class_is_the_service_the_method_and_the_path_template() -> None:
    url = f"http://severa/rest-api/v1/invoices/{GUID}/invoicerows?rowCount=100"
    assert call_class("GET", url) == "severa GET /v1/invoices/{id}/invoicerows"
    assert call_class("PUT", "http://maestro/api/v1/customers/1017") == "maestro PUT /api/v1/customers/{n}"
    assert call_class("POST", "http://maventa/oauth2/token") == "maventa POST /oauth2/token"


def test_invoices_are_spread_five_to_a_customer() -> None:
    assert [customers_for(n) for n in (1, 5, 6, 1000)] == [1, 1, 2, 200]


def _totals(key: str, n: int, customers: int, register: int) -> dict[str, int]:
    connector = next(c for c in CONNECTORS if c.key == key)
    out: dict[str, int] = {}
    for term in minimum(connector, n, customers, register):
        out[term.service] = out.get(term.service, 0) + term.count
    return out


def test_the_minimum_adds_up_as_the_docstring_derives_it() -> None:
    # rows + PATCH 2,000, list 10+1, customers 2, statuses 2, organisation/unit/bank accounts 3, token 1
    assert _totals("maventa", 1000, 200, 206) == {"severa": 2019, "maventa": 1000 + 10 + 1}
    assert _totals("maventa-pdf", 1000, 200, 206) == {"severa": 3019, "maventa": 1011}
    # rows + PATCH 2,000, list 10, changed customers 3, statuses 1, token 1; imports, upserts, company, settings
    assert _totals("maestro", 1000, 200, 206) == {"severa": 2015, "maestro": 1000 + 206 + 2}


def test_the_minimal_plan_keeps_every_write_and_no_more_reads_than_the_minimum() -> None:
    listing = Call("GET", "http://severa/rest-api/v1/invoices?rowCount=100", [], b"")
    patch = Call("PATCH", f"http://severa/rest-api/v1/invoices/{GUID}", [], b"{}")
    token = Call("POST", "http://severa/rest-api/v1/token", [], b"{}")
    calls = [token, listing, patch, listing, patch, token, listing, patch]
    keep = {"severa GET /v1/invoices": 2, "severa POST /v1/token": 1}
    assert minimal_plan(calls, keep) == [True, True, True, True, True, False, False, True]
    assert minimal_plan(calls, None) == [True] * len(calls)


def test_a_tiny_run_is_delivered_and_its_replay_gets_the_same_answers() -> None:
    run, _ = after(CONNECTORS[0], 3)
    assert run.error is None and run.delivered == 3
    assert run.calls["maventa POST /v1/invoices"] == 3
    assert run.replay_calls > 0 and run.replay_differ == 0
