"""API-key authentication and company isolation (tenants = Maestro companies)."""

from __future__ import annotations

import pytest

from contract_tests.maestro.conftest import API, KEY_HEADER, MaestroTarget, assert_error, ensure_customer
from simulators.maestro.openapi import document


def _api_operations() -> list[tuple[str, str]]:
    ops = []
    for path, item in document()["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method in item:
            if method in {"get", "put", "post", "delete"}:
                concrete = path.replace("{code}", "KONS").replace("{customer_number}", "1001")
                ops.append((method.upper(), concrete.replace("{invoice_id}", "100001")))
    return ops


@pytest.mark.parametrize(("method", "path"), _api_operations())
def test_missing_key_is_401_on_every_operation(maestro: MaestroTarget, method: str, path: str) -> None:
    r = maestro.http.request(method, path, json={} if method in {"PUT", "POST"} else None)
    assert_error(r, 401, "missing_api_key", field=KEY_HEADER)


@pytest.mark.parametrize("key", ["wrong-key", "mae_" + "x" * 32, ""])
def test_wrong_key_is_401_in_maestros_error_body(maestro: MaestroTarget, key: str) -> None:
    r = maestro.http.get(f"{API}/products", headers={KEY_HEADER: key})
    code = "missing_api_key" if not key.strip() else "invalid_api_key"
    assert_error(r, 401, code)


def test_right_key_names_its_company(maestro: MaestroTarget) -> None:
    r = maestro.get("/company")
    assert r.status_code == 200, r.text
    assert r.json()["company_id"] and r.json()["name"]


def test_a_company_never_sees_another_companys_data(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    first, second = (c["api_key"] for c in maestro.companies()[:2])
    number = ensure_customer(maestro)
    assert maestro.get(f"/customers/{number}", key=first).status_code == 200
    assert_error(maestro.get(f"/customers/{number}", key=second), 404, "not_found")
    assert number not in [c["customer_number"] for c in maestro.get("/customers", key=second).json()["items"]]
    assert maestro.get("/company", key=first).json() != maestro.get("/company", key=second).json()


def test_the_journal_records_the_company_but_never_the_key(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    maestro.get("/company")
    maestro.get("/company", key="not-a-key")
    r = maestro.control("GET", "/journal", params={"path": f"{API}/company"})
    entries = r.json()["entries"]
    assert [(e["status"], e["tenant"]) for e in entries] == [
        (200, maestro.companies()[0]["company_id"]),
        (401, None),
    ]
    assert maestro.key not in r.text and "not-a-key" not in r.text
