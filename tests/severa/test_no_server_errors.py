"""Whatever a client sends, the Severa fake answers 2xx/4xx in its own envelope, never a 5xx."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.severa import SeveraSimulator

BASE = "/rest-api"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
patch_ops = st.lists(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(["replace", "Add", "remove", "copy", "test", "x"]),
            "path": st.sampled_from(
                [
                    "/status/guid",
                    "/status",
                    "/notes",
                    "/paymentTerm",
                    "/date",
                    "/dueDate",
                    "/isSent",
                    "/name",
                    "/sortOrder",
                    "/",
                    "/x/y",
                    "notes",
                ]
            ),
            "value": json_values,
        }
    ),
    max_size=4,
)


@pytest.fixture(scope="module")
def world() -> tuple[SeveraSimulator, httpx.Client, dict[str, str], dict[str, str]]:
    sim = SeveraSimulator(seed=2)
    http = sim.client()
    c = sim.client_credentials()
    tok = http.post(
        f"{BASE}/v1/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]}
    )
    h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
    inv = http.get(f"{BASE}/v1/invoices", headers=h).json()[0]["guid"]
    st_ = http.get(f"{BASE}/v1/invoicestatuses", headers=h).json()[-1]["guid"]
    return sim, http, h, {"invoice": inv, "status": st_}


def _check(r: httpx.Response) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400 and r.status_code != 429:
        err = r.json()["error"]
        assert err["httpStatusCode"] == r.status_code and err["type"] and err["details"]


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=st.one_of(patch_ops, json_values))
def test_patch_invoice_and_status(world: Any, body: Any) -> None:
    _, http, h, ids = world
    _check(http.patch(f"{BASE}/v1/invoices/{ids['invoice']}", json=body, headers=h))
    _check(http.patch(f"{BASE}/v1/invoicestatuses/{ids['status']}", json=body, headers=h))
    _check(http.post(f"{BASE}/v1/invoicestatuses", json=body, headers=h))


@FUZZ
@given(body=json_values, raw=st.binary(max_size=40))
def test_token_and_refresh(world: Any, body: Any, raw: bytes) -> None:
    _, http, _, _ = world
    _check(http.post(f"{BASE}/v1/token", json=body))
    _check(http.post(f"{BASE}/v1/refreshtoken", json=body))
    _check(http.post(f"{BASE}/v1/token", content=raw, headers={"Content-Type": "application/json"}))


@FUZZ
@given(
    path=st.sampled_from(
        [
            "/v1/invoices",
            "/v1/customers",
            "/v1/products",
            "/v1/users",
            "/v1/worktypes",
            "/v1/invoicestatuses",
            "/v1/travelexpensetypes",
            "/v1/businessunits",
            "/v1/bankaccounts",
        ]
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "rowCount",
                "pageToken",
                "firstRow",
                "changedSince",
                "startDate",
                "endDate",
                "numbers",
                "invoiceStatusGuids",
                "customerGuids",
                "active",
                "isActive",
                "type",
                "code",
                "minimumTotalExcludingTax",
                "textToSearch",
                "businessUnitGuids",
                "companyGuid",
            ]
        ),
        st.text(max_size=30),
        max_size=4,
    ),
)
def test_list_queries(world: Any, path: str, params: dict[str, str]) -> None:
    _, http, h, _ = world
    _check(http.get(BASE + path, params=params, headers=h))


@FUZZ
@given(segment=st.text(min_size=1, max_size=30).filter(lambda s: "/" not in s and s not in (".", "..")))
def test_odd_path_segments(world: Any, segment: str) -> None:
    _, http, h, _ = world
    for template in (
        "/v1/invoices/{}",
        "/v1/invoices/{}/invoicerows",
        "/v1/invoicerows/{}/workhours",
        "/v1/customers/{}/addresses",
        "/v1/{}",
        "/v1/invoices/{}/pdf",
    ):
        _check(http.get(BASE + template.format(quote(segment, safe="")), headers=h))
