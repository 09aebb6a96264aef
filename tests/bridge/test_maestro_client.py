"""MaestroClient: every method against the Maestro simulator in process, edge cases scripted.

The bridge never imports the simulator; these tests wire the two over the wire format only
(``sim.client()`` is an ``httpx.Client`` on an in-process WSGI transport).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from bridge.connectors.maestro import API_KEY_HEADER, MaestroClient
from bridge.errors import ConfigurationError, MaestroError, MaestroMalformedResponse, TransportFailure
from bridge.http import RetryPolicy
from simulators.kit import SimClock
from simulators.maestro import MaestroSimulator
from tests.bridge.http_fakes import FakeClock, Recorder, seams, sequence

FAST = RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=5, max_total=30)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# the document's ProductCode pattern (simulators/maestro/openapi.yaml), copied to generate codes
PRODUCT_CODE = r"[A-Za-z0-9ÅÄÖåäö]([A-Za-z0-9ÅÄÖåäö/_.+-]{0,18}[A-Za-z0-9ÅÄÖåäö])?"


def make_sim() -> MaestroSimulator:
    return MaestroSimulator(seed=0, clock=SimClock(frozen_at=NOW))


def key_of(sim: MaestroSimulator, company: int = 0) -> str:
    return str(sim.credentials()["companies"][company]["api_key"])


def client_for(sim: MaestroSimulator, key: str | None = None, **kw: Any) -> tuple[MaestroClient, FakeClock]:
    clock = FakeClock()
    client = MaestroClient(sim.client(), key or key_of(sim), policy=FAST, **seams(clock), **kw)
    return client, clock


@pytest.fixture
def sim() -> MaestroSimulator:
    return make_sim()


@pytest.fixture
def maestro(sim: MaestroSimulator) -> MaestroClient:
    return client_for(sim)[0]


def customer_body(name: str = "Testiasiakas Oy", **extra: Any) -> dict[str, Any]:
    return {"name": name, "business_id": "0112038-9", **extra}


def invoice_body(
    customer: str, codes: list[str], *, number: str = "5001", guid: str | None = None
) -> dict[str, Any]:
    return {
        "severa_invoice_guid": guid or str(uuid.uuid4()),
        "invoice_number": number,
        "invoice_date": "2026-11-20",
        "due_date": "2026-12-04",
        "customer_number": customer,
        "total_excluding_vat": 100.0,
        "total_vat": 25.5,
        "total_including_vat": 125.5,
        "rows": [
            {
                "source_kind": "product",
                "codes": codes,
                "description": "rivi",
                "quantity": 1,
                "unit": "kpl",
                "unit_price": 100.0,
                "vat_rate": 25.5,
                "net_amount": 100.0,
                "vat_amount": 25.5,
                "gross_amount": 125.5,
            }
        ],
    }


# -- company and settings ------------------------------------------------------------------------


def test_company_is_the_keys_company(sim: MaestroSimulator, maestro: MaestroClient) -> None:
    expected = {k: v for k, v in sim.credentials()["companies"][0].items() if k != "api_key"}
    assert maestro.company() == expected
    other = client_for(sim, key_of(sim, 1))[0].company()
    assert other["company_id"] != expected["company_id"]


def test_settings_round_trip_and_the_fallback_product_moves(maestro: MaestroClient) -> None:
    demo = maestro.get_settings()
    assert (demo["source_status_name"], demo["transferred_status_name"], demo["fallback_product_code"]) == (
        "Odottaa siirtoa Maestroon",
        "Siirretty Maestroon",
        "A/0",
    )
    maestro.put_product("MUUT", name="Muut", unit="kpl", vat_rate=25.5)
    saved = maestro.put_settings("Maestroon", "Maestrossa", "MUUT")
    assert saved["fallback_product_code"] == "MUUT" and maestro.get_settings() == saved
    assert [p["code"] for p in maestro.iter_products() if p["fallback"]] == ["MUUT"]
    assert maestro.put_settings("Maestroon", "Maestrossa")["fallback_product_code"] == "A/0"  # left out


def test_bad_settings_are_a_typed_error_naming_the_field(maestro: MaestroClient) -> None:
    with pytest.raises(MaestroError) as info:
        maestro.put_settings("Siirto", "siirto")
    err = info.value
    assert (err.status, err.code, err.fields) == (422, "validation_failed", ["transferred_status_name"])
    assert err.is_validation and "transferred_status_name: must differ" in str(err)


# -- products --------------------------------------------------------------------------------------


def test_products_page_lazily_in_code_order(sim: MaestroSimulator) -> None:
    everything = list(client_for(sim)[0].iter_products())
    assert [p["code"] for p in everything] == sorted(p["code"] for p in everything)
    small, _ = client_for(sim, page_size=3)
    it = small.iter_products()
    first = next(it)
    assert first == everything[0] and small.calls == 1  # one page read, not the rest
    assert [first, *it] == everything
    assert small.calls == -(-len(everything) // 3)


def test_products_filtered_by_active(maestro: MaestroClient) -> None:
    before = {p["code"] for p in maestro.iter_products(active=False)}
    maestro.put_product("VANHA-X", name="Vanha", unit="kpl", vat_rate=14, active=False)
    inactive = {p["code"] for p in maestro.iter_products(active=False)}
    assert inactive - before == {"VANHA-X"} and all(
        not p["active"] for p in maestro.iter_products(active=False)
    )
    assert all(p["active"] for p in maestro.iter_products(active=True))


def test_get_product_percent_encodes_the_code_and_missing_is_none(maestro: MaestroClient) -> None:
    fallback = maestro.get_product("A/0")
    assert fallback is not None and fallback["code"] == "A/0" and fallback["fallback"] is True
    assert maestro.get_product("NOPE-1") is None


def test_put_product_creates_then_updates(maestro: MaestroClient) -> None:
    created, was_new = maestro.put_product("T/1", name="Testi", unit="h", vat_rate=25.5)
    assert was_new and created["code"] == "T/1" and created["active"] and not created["fallback"]
    updated, was_new = maestro.put_product("T/1", name="Uusi", unit="h", vat_rate=14, active=False)
    assert not was_new and (updated["name"], updated["vat_rate"], updated["active"]) == ("Uusi", 14, False)
    assert maestro.get_product("T/1") == updated


def test_the_fallback_product_cannot_be_deactivated(maestro: MaestroClient) -> None:
    with pytest.raises(MaestroError) as info:
        maestro.put_product("A/0", name="Kohdistamattomat", unit="kpl", vat_rate=25.5, active=False)
    assert info.value.status == 409 and info.value.code == "fallback_product_protected"
    assert info.value.is_conflict and info.value.fields == ["active"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=st.from_regex(PRODUCT_CODE, fullmatch=True), name=st.text(min_size=1, max_size=40).filter(str.strip)
)
def test_any_product_code_round_trips_through_the_path(maestro: MaestroClient, code: str, name: str) -> None:
    product, _ = maestro.put_product(code, name=name, unit="kpl", vat_rate=0)
    assert product["code"] == code
    fetched = maestro.get_product(code)
    assert fetched is not None and fetched["code"] == code and fetched["name"] == name.strip()


@given(st.text(min_size=1, max_size=30).filter(lambda t: t not in (".", "..")))
def test_any_code_is_one_percent_encoded_path_segment_on_the_wire(code: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            404,
            json={
                "code": "not_found",
                "message": "x",
                "details": [{"field": "code", "message": "unknown product"}],
            },
        )

    client = MaestroClient(
        httpx.Client(base_url="https://erp.example.test", transport=httpx.MockTransport(handler)), "k"
    )
    assert client.get_product(code) is None
    raw = seen[0].url.raw_path.decode("ascii")
    assert raw.startswith("/api/v1/products/") and raw.count("/") == 4
    assert seen[0].url.path == f"/api/v1/products/{code}"


# -- customers -------------------------------------------------------------------------------------


def test_customers_upsert_get_and_list(sim: MaestroSimulator, maestro: MaestroClient) -> None:
    assert maestro.get_customer("1001") is None
    created, was_new = maestro.put_customer("1001", customer_body(email="laskut@asiakas.fi"))
    assert was_new and created["customer_number"] == "1001" and created["business_id"] == "0112038-9"
    sim.clock.advance(60)
    cutoff = sim.clock.now()
    updated, was_new = maestro.put_customer("1002", customer_body("Toinen Oy", business_id="76543212"))
    assert was_new and updated["business_id"] == "7654321-2"
    again, was_new = maestro.put_customer("1001", customer_body("Uusi nimi Oy"))
    assert not was_new and again["name"] == "Uusi nimi Oy" and maestro.get_customer("1001") == again
    assert [c["customer_number"] for c in maestro.iter_customers()] == ["1001", "1002"]
    assert [c["customer_number"] for c in maestro.iter_customers(changed_since=cutoff)] == ["1001", "1002"]
    later = cutoff + timedelta(seconds=1)
    assert list(maestro.iter_customers(changed_since=later)) == []
    assert [c["customer_number"] for c in maestro.iter_customers(business_id="7654321-2")] == ["1002"]
    text = (cutoff - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert len(list(maestro.iter_customers(changed_since=text))) == 2


def test_a_bad_business_id_names_the_field(maestro: MaestroClient) -> None:
    with pytest.raises(MaestroError) as info:
        maestro.put_customer("1003", customer_body(business_id="0112038-8"))
    assert info.value.status == 422 and info.value.fields == ["business_id"] and info.value.is_validation


# -- sales invoices and the import log -------------------------------------------------------------


def test_import_is_idempotent_and_can_be_found(maestro: MaestroClient) -> None:
    maestro.put_customer("1001", customer_body())
    body = invoice_body("1001", ["NOPE", "KONS"], number="5001")
    first = maestro.import_sales_invoice(body)
    assert first["duplicate"] is False and first["invoice"]["rows"][0]["product_code"] == "KONS"
    again = maestro.import_sales_invoice({**body, "invoice_number": "9999"})
    assert again["duplicate"] is True and again["invoice"] == first["invoice"] and again["log_entries"] == []
    invoice_id = first["invoice"]["invoice_id"]
    assert maestro.find_sales_invoice(body["severa_invoice_guid"].upper()) == first["invoice"]
    assert maestro.find_sales_invoice(str(uuid.uuid4())) is None
    assert maestro.get_sales_invoice(invoice_id) == first["invoice"]
    assert [i["invoice_id"] for i in maestro.iter_sales_invoices(customer_number="1001")] == [invoice_id]
    assert list(maestro.iter_sales_invoices(customer_number="1002")) == []


def test_a_missing_sales_invoice_is_an_error_and_a_refused_import_is_typed(maestro: MaestroClient) -> None:
    with pytest.raises(MaestroError) as info:
        maestro.get_sales_invoice(999999)
    assert info.value.is_not_found
    with pytest.raises(MaestroError) as refused:
        maestro.import_sales_invoice(invoice_body("NO-SUCH", ["KONS"]))
    assert refused.value.code == "customer_not_found" and refused.value.is_validation


def test_import_log_filters(sim: MaestroSimulator, maestro: MaestroClient) -> None:
    maestro.put_customer("1001", customer_body())
    first = maestro.import_sales_invoice(invoice_body("1001", ["NOPE"], number="6001"))["invoice"]
    sim.clock.advance(60)
    cutoff = sim.clock.now()
    second = maestro.import_sales_invoice(invoice_body("1001", ["KONS"], number="6002"))["invoice"]
    events = [(e["invoice_number"], e["event"]) for e in maestro.iter_import_log()]
    assert events == [
        ("6001", "invoice_imported"),
        ("6001", "product_not_matched"),
        ("6002", "invoice_imported"),
    ]
    assert [e["invoice_number"] for e in maestro.iter_import_log(since=cutoff)] == ["6002"]
    assert [e["event"] for e in maestro.iter_import_log(invoice_number="6001", level="warning")] == [
        "product_not_matched"
    ]
    assert [e["invoice_id"] for e in maestro.iter_import_log(invoice_id=second["invoice_id"])] == [
        second["invoice_id"]
    ]
    by_guid = list(maestro.iter_import_log(severa_invoice_guid=first["severa_invoice_guid"]))
    assert {e["invoice_id"] for e in by_guid} == {first["invoice_id"]} and len(by_guid) == 2
    assert [e["source_code"] for e in maestro.iter_import_log(level="warning")] == ["NOPE"]


def test_import_is_retried_after_a_503_and_after_a_lost_answer(
    sim: MaestroSimulator, maestro: MaestroClient
) -> None:
    maestro.put_customer("1001", customer_body())
    sim.add_fault(
        {
            "match": {"method": "POST", "path": "/api/v1/sales-invoices"},
            "effect": {"type": "status", "status": 503},
            "trigger": {"type": "next", "count": 1},
        }
    )
    sim.add_fault(
        {
            "match": {"method": "POST", "path": "/api/v1/sales-invoices"},
            "effect": {"type": "reset", "after_processing": True},
            "trigger": {"type": "next", "count": 1},
        }
    )
    body = invoice_body("1001", ["KONS"])
    before = maestro.calls
    result = maestro.import_sales_invoice(body)
    assert maestro.calls == before + 3  # 503, then imported but the answer lost, then the repeat
    assert result["duplicate"] is True  # the lost first import won
    assert len(list(maestro.iter_sales_invoices(severa_invoice_guid=body["severa_invoice_guid"]))) == 1


def test_calls_count_every_request(maestro: MaestroClient) -> None:
    maestro.company()
    maestro.get_settings()
    list(maestro.iter_products())
    assert maestro.calls == maestro.http.calls == 3


# -- authentication and secrets ------------------------------------------------------------------


def test_a_wrong_key_is_a_typed_auth_error_that_never_shows_the_key(
    sim: MaestroSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = client_for(sim, "wrong-key-123")
    with caplog.at_level(logging.DEBUG), pytest.raises(MaestroError) as info:
        client.company()
    err = info.value
    assert err.status == 401 and err.code == "invalid_api_key" and err.is_auth and err.attempts == 1
    good = key_of(sim)
    texts = [str(err), repr(err), err.body, repr(client), repr(client.auth), caplog.text]
    assert not any("wrong-key-123" in t or good in t for t in texts)
    assert client_for(sim)[0].auth_headers() == {API_KEY_HEADER: good}


def test_every_call_is_made_as_the_keys_company(sim: MaestroSimulator, maestro: MaestroClient) -> None:
    maestro.company()
    maestro.get_product("A/0")
    list(maestro.iter_import_log())
    entries = sim.journal.entries(path_prefix="/api/")
    company = sim.credentials()["companies"][0]["company_id"]
    assert len(entries) == 3 and {e.tenant for e in entries} == {company}  # the key named the company
    assert all(e.status == 200 for e in entries)


def test_an_empty_key_and_odd_arguments_are_refused_before_any_request() -> None:
    rec = Recorder(sequence(httpx.Response(200, json={})))
    with pytest.raises(ConfigurationError):
        MaestroClient(rec.client(), " ")
    client = MaestroClient(rec.client(), "k")
    with pytest.raises(ConfigurationError, match="aware datetime"):
        client.iter_customers(changed_since=datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError, match="level"):
        client.iter_import_log(level="debug")
    with pytest.raises(ConfigurationError):
        client.get_sales_invoice(0)
    with pytest.raises(ConfigurationError, match="severa_invoice_guid"):
        client.import_sales_invoice({"invoice_number": "1"})
    with pytest.raises(ConfigurationError):
        client.get_product("..")
    with pytest.raises(ConfigurationError):
        MaestroClient(rec.client(), "k", page_size=501)
    assert rec.requests == []


# -- scripted edge cases ---------------------------------------------------------------------------


def scripted(*steps: Any) -> tuple[MaestroClient, Recorder, FakeClock]:
    clock = FakeClock()
    rec = Recorder(sequence(*steps), clock)
    client = MaestroClient(rec.client("https://erp.example.test"), "key-1", policy=FAST, **seams(clock))
    return client, rec, clock


def error(status: int, code: str, message: str = "x", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "details": []}, headers=headers)


COMPANY = {"company_id": "1001", "name": "Demo Oy", "business_id": "0112038-9"}


def test_429_waits_as_long_as_retry_after_says() -> None:
    client, rec, clock = scripted(
        error(429, "rate_limited", **{"Retry-After": "2"}), httpx.Response(200, json=COMPANY)
    )
    assert client.company() == COMPANY
    assert clock.sleeps == [2.0] and len(rec.requests) == 2


def test_503_is_retried_with_backoff() -> None:
    client, rec, clock = scripted(
        error(503, "service_unavailable"),
        error(503, "service_unavailable"),
        httpx.Response(200, json=COMPANY),
    )
    assert client.company() == COMPANY
    assert len(rec.requests) == 3 and clock.sleeps == [0.1, 0.2]


def test_a_persistent_503_ends_in_the_typed_error() -> None:
    client, _, _ = scripted(error(503, "service_unavailable", "Huoltokatko"))
    with pytest.raises(MaestroError) as info:
        client.get_settings()
    assert info.value.retryable and info.value.code == "service_unavailable" and info.value.attempts == 4
    assert "Huoltokatko" in str(info.value)


def test_malformed_json_is_a_typed_error() -> None:
    client, rec, _ = scripted(httpx.Response(200, text="{not json"))
    with pytest.raises(MaestroMalformedResponse) as info:
        client.company()
    assert isinstance(info.value, MaestroError) and info.value.body == "{not json" and len(rec.requests) == 4


@pytest.mark.parametrize(
    "body",
    [{"items": [{"code": "A/0"}]}, {"items": [1], "total": 1, "limit": 100, "offset": 0}, [{"code": "A/0"}]],
    ids=["no-total", "not-objects", "bare-array"],
)
def test_a_list_answer_of_the_wrong_shape_is_a_typed_error(body: Any) -> None:
    client, _, _ = scripted(httpx.Response(200, json=body))
    with pytest.raises(MaestroMalformedResponse):
        list(client.iter_products())


def test_the_duplicate_answer_of_an_import_is_returned_as_it_is() -> None:
    result = {"duplicate": True, "invoice": {"invoice_id": 100001}, "log_entries": []}
    client, rec, _ = scripted(httpx.Response(200, json=result))
    assert client.import_sales_invoice(invoice_body("1001", ["KONS"])) == result
    assert rec.requests[0].method == "POST" and rec.requests[0].url.path == "/api/v1/sales-invoices"
    assert rec.requests[0].headers[API_KEY_HEADER] == "key-1"


def test_an_import_whose_answer_is_lost_is_sent_again() -> None:
    result = {"duplicate": True, "invoice": {"invoice_id": 100001}, "log_entries": []}
    client, rec, _ = scripted(httpx.ReadTimeout("slow"), httpx.Response(200, json=result))
    assert client.import_sales_invoice(invoice_body("1001", ["KONS"]))["duplicate"] is True
    assert len(rec.requests) == 2 and rec.requests[0].content == rec.requests[1].content


def test_an_import_answer_without_its_fields_is_malformed() -> None:
    client, _, _ = scripted(httpx.Response(201, json={"invoice": {}}))
    with pytest.raises(MaestroMalformedResponse):
        client.import_sales_invoice(invoice_body("1001", ["KONS"]))


def test_a_404_of_an_unknown_route_is_an_error_not_a_missing_product() -> None:
    wrong_url = httpx.Response(
        404,
        json={
            "code": "not_found",
            "message": "No route matches",
            "details": [{"field": None, "message": "did you mean?"}],
        },
    )
    client, _, _ = scripted(wrong_url)
    with pytest.raises(MaestroError) as info:
        client.get_product("A/0")
    assert info.value.is_not_found


def test_paging_follows_total_and_stops_on_an_empty_page() -> None:
    def page(items: list[dict[str, Any]], total: int, offset: int) -> httpx.Response:
        return httpx.Response(200, json={"items": items, "total": total, "limit": 2, "offset": offset})

    client, rec, _ = scripted(
        page([{"c": 1}, {"c": 2}], 5, 0), page([{"c": 3}, {"c": 4}], 5, 2), page([], 5, 4)
    )
    client.page_size = 2
    assert [p["c"] for p in client.iter_products(active=True)] == [1, 2, 3, 4]
    assert [(r.url.params["offset"], r.url.params["active"]) for r in rec.requests] == [
        ("0", "true"),
        ("2", "true"),
        ("4", "true"),
    ]
    assert all(r.url.params["limit"] == "2" for r in rec.requests)


def test_filters_are_sent_only_when_given() -> None:
    empty = httpx.Response(200, json={"items": [], "total": 0, "limit": 100, "offset": 0})
    client, rec, _ = scripted(empty)
    list(client.iter_import_log())
    list(
        client.iter_import_log(invoice_id=100001, severa_invoice_guid="G", invoice_number="5", level="error")
    )
    list(client.iter_customers(changed_since=datetime(2026, 1, 1, tzinfo=UTC)))
    assert set(rec.requests[0].url.params) == {"limit", "offset"}
    assert dict(rec.requests[1].url.params) == {
        "invoice_id": "100001",
        "severa_invoice_guid": "G",
        "invoice_number": "5",
        "level": "error",
        "limit": "100",
        "offset": "0",
    }
    assert rec.requests[2].url.params["changed_since"] == "2026-01-01T00:00:00+00:00"


def test_over_a_real_socket(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(
        "/api/v1/company", headers={API_KEY_HEADER: "sock-key"}
    ).respond_with_data(
        json.dumps({"code": "service_unavailable", "message": "x", "details": []}),
        status=503,
        content_type="application/json",
    )
    httpserver.expect_ordered_request(
        "/api/v1/company", headers={API_KEY_HEADER: "sock-key"}
    ).respond_with_json(COMPANY)
    clock = FakeClock()
    with MaestroClient(httpserver.url_for("/"), "sock-key", policy=FAST, sleep=clock.sleep) as client:
        assert client.company() == COMPANY
    httpserver.check_assertions()


def test_nobody_listening_is_a_transport_failure() -> None:
    clock = FakeClock()
    with (
        MaestroClient("http://127.0.0.1:9", "k", policy=FAST, sleep=clock.sleep) as client,
        pytest.raises(TransportFailure) as info,
    ):
        client.company()
    assert not info.value.maybe_delivered and re.search(r"after \d attempt", str(info.value))
