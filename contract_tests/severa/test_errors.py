"""Bad input never gives a 500: malformed JSON, wrong types, unknown paths, wrong methods."""

from __future__ import annotations

import pytest

from .conftest import BASE, SeveraTarget, assert_envelope


@pytest.fixture(scope="module")
def invoice_guid(severa: SeveraTarget) -> str:
    return str(severa.get("/v1/invoices", params={"rowCount": 1}).json()[0]["guid"])


DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads alone raises RecursionError on it


@pytest.mark.parametrize("raw", [b"{", b"[{]", b"\xff\xfe", b"null", b"", DEEP, b"[" * 65 + b"]" * 65])
def test_malformed_token_body(severa: SeveraTarget, raw: bytes) -> None:
    r = severa.http.post(f"{BASE}/v1/token", content=raw, headers={"Content-Type": "application/json"})
    assert_envelope(r, 400)


@pytest.mark.parametrize("raw", [b'[{"op": "replace",', b"not json", b"{}", b'"text"', b"[1, 2]", DEEP])
def test_malformed_patch_body(severa: SeveraTarget, invoice_guid: str, raw: bytes) -> None:
    severa.require_writes()
    r = severa.http.patch(
        f"{BASE}/v1/invoices/{invoice_guid}",
        content=raw,
        headers={**severa.headers(), "Content-Type": "application/json"},
    )
    assert_envelope(r, 400)


@pytest.mark.parametrize(
    "params",
    [
        {"rowCount": "1.5"},
        {"rowCount": "-3"},
        {"changedSince": "2026-02-30T00:00:00Z"},
        {"customerGuids": "1234"},
        {"minimumTotalExcludingTax": "lots"},
        {"rowCount": "99999999999999"},
    ],
)
def test_wrong_query_types(severa: SeveraTarget, params: dict[str, str]) -> None:
    err = assert_envelope(severa.get("/v1/invoices", params=params), 400, "InvalidParameter")
    assert err["details"][0]["location"]["type"] == "UriParameter"
    assert err["details"][0]["location"]["name"] in params


def test_unknown_path_is_a_near_miss_404_envelope(severa: SeveraTarget) -> None:
    severa.require_control()
    r = severa.http.get(f"{BASE}/v1/invoice", headers=severa.headers())
    err = assert_envelope(r, 404)
    assert "/rest-api/v1/invoices" in err["details"][0]["message"]
    assert_envelope(severa.http.get("/rest-api/v2/invoices"), 404)


def test_wrong_method_is_405_envelope(severa: SeveraTarget) -> None:
    severa.require_control()
    r = severa.http.put(f"{BASE}/v1/invoicestatuses", json={}, headers=severa.headers())
    assert_envelope(r, 405)
    assert "GET" in r.headers["Allow"]


def test_unknown_guid_is_404_envelope(severa: SeveraTarget) -> None:
    err = assert_envelope(severa.get("/v1/invoices/not-a-guid/invoicerows"), 404)
    assert err["details"][0]["location"]["type"] == "PathParameter"
    assert_envelope(severa.get("/v1/invoicerows/not-a-guid/workhours"), 404)
    assert_envelope(severa.get("/v1/customers/not-a-guid"), 404)


def test_huge_body_is_refused_in_the_envelope(severa: SeveraTarget) -> None:
    severa.require_control()
    big = b"[" + b" " * (severa.sim.max_body_bytes + 10) + b"]"
    r = severa.http.post(f"{BASE}/v1/token", content=big, headers={"Content-Type": "application/json"})
    assert_envelope(r, 413)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/refreshtoken"), ("POST", "/v1/invoicestatuses"), ("PATCH", "/v1/invoicestatuses/x")],
)
def test_deeply_nested_json_is_a_400_envelope(severa: SeveraTarget, method: str, path: str) -> None:
    severa.require_control()  # sends 200 KB of brackets: not something to do to a real tenant
    r = severa.http.request(
        method, BASE + path, content=DEEP, headers={**severa.headers(), "Content-Type": "application/json"}
    )
    err = assert_envelope(r, 400)
    assert "depth" in err["details"][0]["message"]


def test_page_token_of_nested_json_is_a_400_envelope(severa: SeveraTarget) -> None:
    import base64

    token = base64.urlsafe_b64encode(b"[" * 30_000).decode()
    assert_envelope(severa.get("/v1/invoices", params={"pageToken": token}), 400, "InvalidParameter")
