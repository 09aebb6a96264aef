"""SeveraClient against scripted answers (httpx.MockTransport) and one real socket."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from bridge.errors import (
    ConfigurationError,
    MissingScopesError,
    SeveraError,
    SeveraMalformedResponse,
    TransportFailure,
)
from bridge.http import RetryPolicy
from bridge.severa import MAVENTA_SCOPES, SeveraClient
from tests.bridge.http_fakes import FakeClock, Recorder

FAST = RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=5, max_total=30)


def token_answer(
    n: int, *, expires: int = 3600, refresh: int = 86400, scope: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": f"access-{n}",
        "access_token_type": "Bearer",
        "access_token_expires_in": expires,
        "access_token_expires_utc": "2026-11-23T13:00:00Z",
        "refresh_token": f"refresh-{n}",
        "refresh_token_expires_in": refresh,
        "refresh_token_expires_utc": "2026-11-24T12:00:00Z",
    }
    body["scope"] = scope if scope is not None else ",".join(MAVENTA_SCOPES)
    return body


def envelope(status: int, type_: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "httpStatusCode": status,
            "type": type_,
            "details": [{"message": message, "url": None, "location": None}],
            "stack": None,
        }
    }


class FakeSevera:
    """A scripted Severa: tokens, a paged invoice list, statuses; hooks for odd answers."""

    def __init__(self, invoices: int = 5) -> None:
        self.issued = 0
        self.valid: set[str] = set()
        self.refresh_ok = True
        self.scope: str | None = None
        self.invoices: list[dict[str, Any]] = [
            {"guid": f"inv-{i}", "number": 1000 + i} for i in range(invoices)
        ]
        self.overrides: dict[str, list[httpx.Response]] = {}
        self.customers: list[dict[str, Any]] = [
            {"guid": f"cust-{n}", "number": n, "name": f"Asiakas {n} Oy"} for n in range(1, 301)
        ]

    def _issue(self) -> httpx.Response:
        self.issued += 1
        self.valid.add(f"access-{self.issued}")
        return httpx.Response(200, json=token_answer(self.issued, scope=self.scope))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/rest-api")
        queue = self.overrides.get(path)
        if queue:
            return queue.pop(0)
        if path == "/v1/token":
            return self._issue()
        if path == "/v1/refreshtoken":
            if not self.refresh_ok:
                return httpx.Response(
                    401, json=envelope(401, "AuthenticationRequired", "refresh token expired")
                )
            return self._issue()
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json=envelope(401, "AuthenticationRequired", "token expired"))
        if path == "/v1/invoices":
            start = int(request.url.params.get("pageToken", "0"))
            count = int(request.url.params["rowCount"])
            wanted = set(request.url.params.get_list("invoiceStatusGuids"))
            items = [i for i in self.invoices if not wanted or i.get("status", {}).get("guid") in wanted]
            page = items[start : start + count]
            headers = {"NextPageToken": str(start + count)} if start + count < len(items) else {}
            return httpx.Response(200, json=page, headers=headers)
        if path == "/v1/customers":
            numbers = {int(n) for n in request.url.params.get_list("numbers")}
            start = int(request.url.params.get("pageToken", "0"))
            count = int(request.url.params["rowCount"])
            found = [c for c in self.customers if not numbers or c["number"] in numbers]
            headers = {"NextPageToken": str(start + count)} if start + count < len(found) else {}
            return httpx.Response(200, json=found[start : start + count], headers=headers)
        if path == "/v1/invoicestatuses":
            first = int(request.url.params["firstRow"])
            count = int(request.url.params["rowCount"])
            statuses = [{"guid": f"st-{i}", "name": f"S{i}", "isSent": i % 2 == 0} for i in range(7)]
            return httpx.Response(200, json=statuses[first : first + count])
        if path.startswith("/v1/invoices/") and request.method == "PATCH":
            guid = path.split("/")[3]
            ops = json.loads(request.content)
            return httpx.Response(200, json=[{"guid": guid, "status": {"guid": ops[0]["value"]}}])
        if path.endswith("/pdf"):
            return httpx.Response(200, content=b"%PDF-1.4 fake", headers={"Content-Type": "application/pdf"})
        if path.startswith("/v1/invoices/"):
            return httpx.Response(200, json={"guid": path.split("/")[3]})
        return httpx.Response(404, json=envelope(404, "InvalidParameter", "Resource not found"))


def make(
    fake: FakeSevera, clock: FakeClock | None = None, **kwargs: Any
) -> tuple[SeveraClient, Recorder, FakeClock]:
    clock = clock or FakeClock()
    rec = Recorder(fake, clock)
    kwargs.setdefault("rate_limit", False)
    client = SeveraClient(
        rec.client(),
        "Acme_abc.apps.vismasevera.com",
        "s3cret",
        policy=FAST,
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 1.0,
        **kwargs,
    )
    return client, rec, clock


def test_token_request_is_json_and_calls_carry_bearer_and_client_id() -> None:
    client, rec, _ = make(FakeSevera())
    assert client.get_invoice("inv-1") == {"guid": "inv-1"}
    token_req, call = rec.requests
    assert token_req.url.path == "/rest-api/v1/token"
    assert token_req.headers["Content-Type"] == "application/json"
    body = json.loads(token_req.content)
    assert body["client_id"] == "Acme_abc.apps.vismasevera.com" and body["client_secret"] == "s3cret"
    assert set(body["scope"].split()) >= set(MAVENTA_SCOPES)
    assert call.headers["Authorization"] == "Bearer access-1"
    assert call.headers["Client_Id"] == "Acme_abc.apps.vismasevera.com"


def test_token_is_cached_between_calls() -> None:
    fake = FakeSevera()
    client, rec, _ = make(fake)
    for _ in range(3):
        client.get_invoice("inv-1")
    assert rec.paths().count("/rest-api/v1/token") == 1


def test_token_is_refreshed_before_expiry_with_a_bare_json_string() -> None:
    fake = FakeSevera()
    client, rec, clock = make(fake)
    client.get_invoice("inv-1")
    clock.advance(3600 - 59)  # inside the 60 s margin
    client.get_invoice("inv-1")
    refresh = next(r for r in rec.requests if r.url.path.endswith("/refreshtoken"))
    assert json.loads(refresh.content) == "refresh-1"
    assert refresh.headers["Client_Id"] == "Acme_abc.apps.vismasevera.com"
    assert rec.requests[-1].headers["Authorization"] == "Bearer access-2"


def test_expired_refresh_token_falls_back_to_a_new_token() -> None:
    fake = FakeSevera()
    fake.refresh_ok = False
    client, rec, clock = make(fake)
    client.get_invoice("inv-1")
    clock.advance(4000)
    assert client.get_invoice("inv-2") == {"guid": "inv-2"}
    assert rec.paths()[2:] == [
        "/rest-api/v1/refreshtoken",
        "/rest-api/v1/token",
        "/rest-api/v1/invoices/inv-2",
    ]


def test_401_refreshes_once_and_repeats_the_call() -> None:
    fake = FakeSevera()
    client, rec, _ = make(fake)
    client.get_invoice("inv-1")
    fake.valid.clear()  # the server forgot our token (e.g. its clock moved on)
    assert client.get_invoice("inv-1") == {"guid": "inv-1"}
    assert rec.paths()[2:] == [
        "/rest-api/v1/invoices/inv-1",
        "/rest-api/v1/refreshtoken",
        "/rest-api/v1/invoices/inv-1",
    ]


def test_persistent_401_raises_an_auth_error_after_one_renewal() -> None:
    fake = FakeSevera()
    client, rec, _ = make(fake)
    fake.overrides["/v1/invoices/inv-1"] = [
        httpx.Response(401, json=envelope(401, "AuthenticationRequired", "no")) for _ in range(5)
    ]
    with pytest.raises(SeveraError) as info:
        client.get_invoice("inv-1")
    assert info.value.status == 401 and info.value.is_auth and info.value.type == "AuthenticationRequired"
    assert rec.paths().count("/rest-api/v1/invoices/inv-1") == 2


def test_wrong_credentials_give_a_typed_error() -> None:
    fake = FakeSevera()
    fake.overrides["/v1/token"] = [
        httpx.Response(401, json=envelope(401, "AuthenticationRequired", "Invalid"))
    ]
    client, _, _ = make(fake)
    with pytest.raises(SeveraError) as info:
        client.get_invoice("x")
    assert info.value.is_auth and info.value.message == "Invalid"
    assert "s3cret" not in str(info.value)


def test_token_paging_across_three_pages_is_lazy() -> None:
    fake = FakeSevera(invoices=25)
    client, rec, _ = make(fake)
    it = client.iter_invoices(row_count=10)
    first = [next(it) for _ in range(10)]
    assert rec.paths().count("/rest-api/v1/invoices") == 1  # page 2 not fetched yet
    rest = list(it)
    assert [i["guid"] for i in first + rest] == [f"inv-{i}" for i in range(25)]
    pages = [r for r in rec.requests if r.url.path == "/rest-api/v1/invoices"]
    assert [r.url.params.get("pageToken") for r in pages] == [None, "10", "20"]
    assert all(r.url.params["rowCount"] == "10" for r in pages)


def test_invoice_filters_are_repeated_query_keys() -> None:
    fake = FakeSevera()
    fake.invoices = [
        {"guid": "a", "status": {"guid": "s1"}},
        {"guid": "b", "status": {"guid": "s2"}},
        {"guid": "c", "status": {"guid": "s3"}},
    ]
    client, rec, _ = make(fake)
    got = list(client.iter_invoices(["s1", "s3"], changed_since="2026-11-01T00:00:00+02:00"))
    assert [i["guid"] for i in got] == ["a", "c"]
    params = rec.requests[-1].url.params
    assert params.get_list("invoiceStatusGuids") == ["s1", "s3"]
    assert params["changedSince"] == "2026-11-01T00:00:00+02:00"


def test_offset_paging() -> None:
    client, _rec, _ = make(FakeSevera())
    statuses = client.list_invoice_statuses()
    assert [s["guid"] for s in statuses] == [f"st-{i}" for i in range(7)]
    client2, rec2, _ = make(FakeSevera())
    list(client2.iter_offset_pages("/v1/invoicestatuses", row_count=3))
    firsts = [r.url.params["firstRow"] for r in rec2.requests if r.url.path.endswith("invoicestatuses")]
    assert firsts == ["0", "3", "6"]


def test_offset_paging_stops_when_the_server_ignores_first_row() -> None:
    fake = FakeSevera()
    same = [{"guid": "x1"}, {"guid": "x2"}]
    fake.overrides["/v1/bankaccounts"] = [httpx.Response(200, json=same) for _ in range(5)]
    client, _, _ = make(fake)
    assert client.iter_offset_pages("/v1/bankaccounts", row_count=2).__next__() == {"guid": "x1"}
    assert list(make(fake)[0].iter_offset_pages("/v1/bankaccounts", row_count=2)) == same


def test_status_patch_sends_json_patch_and_reads_the_array_answer() -> None:
    client, rec, _ = make(FakeSevera())
    invoice = client.set_invoice_status("inv-3", "st-after")
    assert invoice == {"guid": "inv-3", "status": {"guid": "st-after"}}
    patch = rec.requests[-1]
    assert patch.method == "PATCH"
    assert json.loads(patch.content) == [{"op": "replace", "path": "/status/guid", "value": "st-after"}]


def test_status_patch_is_retried_after_a_connection_reset() -> None:
    fake = FakeSevera()
    client, rec, _ = make(fake)
    client.get_invoice("warm-up")
    real = fake.__call__
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and calls["n"] == 0:
            calls["n"] += 1
            raise httpx.RemoteProtocolError("reset")
        return real(request)

    rec.handler = flaky
    assert client.set_invoice_status("inv-1", "st-9")["status"]["guid"] == "st-9"
    assert [r.method for r in rec.requests[-2:]] == ["PATCH", "PATCH"]


def test_error_envelope_is_parsed() -> None:
    fake = FakeSevera()
    body = envelope(400, "InvalidParameter", "rowCount must be at most 100")
    body["error"]["details"][0]["location"] = {"type": "UriParameter", "name": "rowCount"}
    fake.overrides["/v1/invoices/bad"] = [httpx.Response(400, json=body)]
    client, _, _ = make(fake)
    with pytest.raises(SeveraError) as info:
        client.get_invoice("bad")
    err = info.value
    assert (err.status, err.type, err.message) == (400, "InvalidParameter", "rowCount must be at most 100")
    assert err.details[0]["location"]["name"] == "rowCount" and err.is_validation
    assert json.loads(err.body) == body


def test_plain_text_429_is_honoured() -> None:
    fake = FakeSevera()
    fake.overrides["/v1/invoices/inv-1"] = [
        httpx.Response(
            429,
            text="API calls quota exceeded! maximum admitted 10 per 1s.",
            headers={"Retry-After": "1", "Content-Type": "text/plain"},
        )
    ]
    client, _, clock = make(fake)
    assert client.get_invoice("inv-1") == {"guid": "inv-1"}
    assert clock.sleeps == [1.0]


def test_malformed_json_becomes_a_typed_error() -> None:
    fake = FakeSevera()
    fake.overrides["/v1/invoices/inv-1"] = [httpx.Response(200, text="<html>oops") for _ in range(4)]
    client, _, _ = make(fake)
    with pytest.raises(SeveraMalformedResponse) as info:
        client.get_invoice("inv-1")
    assert info.value.body == "<html>oops" and isinstance(info.value, SeveraError)


def test_wrong_shape_becomes_a_typed_error() -> None:
    fake = FakeSevera()
    fake.overrides["/v1/invoicestatuses"] = [httpx.Response(200, json={"not": "a list"}) for _ in range(4)]
    client, _, _ = make(fake)
    with pytest.raises(SeveraMalformedResponse):
        client.list_invoice_statuses()


def test_pdf_bytes_and_a_non_pdf_answer() -> None:
    fake = FakeSevera()
    client, rec, _ = make(fake)
    assert client.get_invoice_pdf("inv-1").startswith(b"%PDF")
    assert rec.requests[-1].url.params["pdfGetOptions"] == "All"
    fake.overrides["/v1/invoices/inv-2/pdf"] = [httpx.Response(200, content=b"nope") for _ in range(4)]
    with pytest.raises(SeveraMalformedResponse):
        client.get_invoice_pdf("inv-2")


def test_require_scopes_names_the_missing_ones() -> None:
    fake = FakeSevera()
    fake.scope = "invoices:read, customers:read settings:read"
    client, _, _ = make(fake)
    with pytest.raises(MissingScopesError) as info:
        client.require_scopes(MAVENTA_SCOPES, "the Maventa integration")
    missing = set(MAVENTA_SCOPES) - {"invoices:read", "customers:read", "settings:read"}
    assert info.value.missing == sorted(missing)
    for scope in missing:
        assert scope in str(info.value)
    client.require_scopes(["invoices:read", "settings:read"])  # granted: no error


def test_path_injection_is_refused() -> None:
    client, rec, _ = make(FakeSevera())
    with pytest.raises(Exception, match="invalid identifier"):
        client.get_invoice("../token")
    assert rec.requests == []


def test_the_rate_limiter_spaces_calls_100ms_apart() -> None:
    client, rec, _ = make(FakeSevera(), rate_limit=True)
    for i in range(12):
        client.get_invoice(f"inv-{i}")
    gaps = [b - a for a, b in zip(rec.times, rec.times[1:], strict=False)]
    assert min(gaps) >= 0.1 - 1e-9
    assert max(sum(1 for t in rec.times if s <= t < s + 1) for s in rec.times) <= 10


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=25))
def test_every_invoice_is_read_once_whatever_the_page_size(count: int, row_count: int) -> None:
    Faker.seed(count)
    fake = FakeSevera(invoices=count)
    names = Faker("fi_FI")
    for inv in fake.invoices:
        inv["customer"] = {"name": names.company()}
    client, rec, _ = make(fake)
    got = list(client.iter_invoices(row_count=row_count))
    assert got == fake.invoices
    assert rec.paths().count("/rest-api/v1/invoices") == max(1, -(-count // row_count))


# -- real socket ---------------------------------------------------------------------------


def test_over_a_real_socket_503_then_200(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/v1/token", method="POST").respond_with_json(token_answer(1))
    httpserver.expect_ordered_request("/v1/invoices/g1").respond_with_data("down", status=503)
    httpserver.expect_ordered_request("/v1/invoices/g1").respond_with_json({"guid": "g1"})
    clock = FakeClock()
    client = SeveraClient(
        httpserver.url_for("/"), "id", "secret", policy=FAST, sleep=clock.sleep, rate_limit=False
    )
    with client:
        assert client.get_invoice("g1") == {"guid": "g1"}
    httpserver.check_assertions()


def test_over_a_real_socket_nobody_listening_is_a_transport_failure() -> None:
    clock = FakeClock()
    client = SeveraClient(
        "http://127.0.0.1:9", "id", "secret", policy=FAST, sleep=clock.sleep, rate_limit=False
    )
    with client, pytest.raises(TransportFailure) as info:
        client.get_invoice("g1")
    assert not info.value.maybe_delivered


def test_auth_headers_give_the_token_and_client_id_for_a_raw_call() -> None:
    client, rec, _ = make(FakeSevera())
    headers = client.auth_headers()
    assert headers == {"Authorization": "Bearer access-1", "Client_Id": "Acme_abc.apps.vismasevera.com"}
    assert client.auth_headers() == headers and rec.paths() == ["/rest-api/v1/token"]
    assert "access-1" not in repr(client) and "s3cret" not in repr(client)


def test_customers_by_number_are_read_100_per_query_with_repeated_keys() -> None:
    client, rec, _ = make(FakeSevera())
    wanted = [*range(1, 251), 7, "12", 9999]  # a duplicate, a digit string, an unknown number
    got = list(client.iter_customers_by_number(wanted))
    assert sorted(c["number"] for c in got) == list(range(1, 251))
    lists = [r for r in rec.requests if r.url.path == "/rest-api/v1/customers"]
    sent = [r.url.params.get_list("numbers") for r in lists]
    assert [len(n) for n in sent] == [100, 100, 51]
    assert sent[0][:3] == ["1", "2", "3"] and "9999" in sent[2]
    assert b"numbers=1&numbers=2&" in lists[0].url.query  # explode: true, not a comma list
    assert all(r.url.params["rowCount"] == "100" for r in lists)


def test_customers_by_number_are_lazy_and_checked_before_any_request() -> None:
    client, rec, _ = make(FakeSevera())
    with pytest.raises(ConfigurationError, match="customer number"):
        client.iter_customers_by_number([1, "x1"])
    with pytest.raises(ConfigurationError):
        client.iter_customers_by_number([True])
    it = client.iter_customers_by_number(range(1, 151))
    assert rec.requests == []
    assert next(it)["number"] == 1
    assert rec.paths().count("/rest-api/v1/customers") == 1
    assert list(client.iter_customers_by_number([])) == []


@given(st.lists(st.integers(min_value=1, max_value=400), max_size=260))
@settings(max_examples=25, deadline=None)
def test_customers_by_number_return_each_known_customer_once(numbers: list[int]) -> None:
    client, rec, _ = make(FakeSevera())
    got = [c["number"] for c in client.iter_customers_by_number(numbers)]
    known = {n for n in numbers if n <= 300}
    assert sorted(got) == sorted(known)
    calls = rec.paths().count("/rest-api/v1/customers")
    assert calls == -(-len(set(numbers)) // 100)
