"""The kit's control plane on the Maestro fake: presets, credentials, snapshots, faults, actors."""

from __future__ import annotations

from contract_tests.maestro.conftest import (
    API,
    MaestroTarget,
    assert_error,
    ensure_customer,
    invoice,
    row,
)


def test_presets_and_credentials(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset("empty")
    companies = maestro.companies()
    assert len(companies) == 1 and companies[0]["api_key"]
    key = companies[0]["api_key"]
    assert [p["code"] for p in maestro.get("/products", key=key).json()["items"]] == ["A/0"]
    maestro.reset("demo")
    demo = maestro.companies()
    assert len(demo) == 2 and len({c["api_key"] for c in demo}) == 2
    assert (
        maestro.get("/customers", key=demo[0]["api_key"]).json()["total"] == 0
    )  # customers come from Severa
    maestro.reset("demo")
    assert maestro.companies() == demo  # same seed, same keys


def test_snapshot_round_trip_keeps_invoices_and_log(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    ensure_customer(maestro, "42")
    body = invoice("42", [row("product", ["KONS"]), row("work_type", ["TUKI"])])
    assert maestro.post("/sales-invoices", body).status_code == 201
    before = [maestro.get(p).json() for p in ("/customers", "/sales-invoices", "/import-log")]
    snap = maestro.control("GET", "/state").json()
    maestro.reset("empty")
    assert maestro.get("/sales-invoices", key=maestro.companies()[0]["api_key"]).json()["total"] == 0
    assert maestro.control("PUT", "/state", json=snap).status_code == 200
    assert [maestro.get(p).json() for p in ("/customers", "/sales-invoices", "/import-log")] == before
    again = maestro.post("/sales-invoices", body)  # the restored invoice still counts as imported
    assert again.status_code == 200 and again.json()["duplicate"] is True
    redacted = maestro.control("GET", "/state", params={"redact": "1"}).text
    assert maestro.key not in redacted


def test_injected_fault_uses_maestros_error_body(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    rule = {
        "match": {"method": "POST", "path": f"{API}/sales-invoices"},
        "effect": {"type": "status", "status": 503, "message": "Huoltokatko"},
        "trigger": {"type": "next", "count": 1},
    }
    assert maestro.control("POST", "/faults", json=rule).status_code == 201
    r = maestro.post("/sales-invoices", {})
    assert_error(r, 503, "service_unavailable")  # validated against the document by the hook
    limited = {
        "match": {"path": f"{API}/products"},
        "effect": {"type": "rate_limit", "retry_after": 2},
        "trigger": {"type": "next", "count": 1},
    }
    maestro.control("POST", "/faults", json=limited)
    r = maestro.get("/products")
    assert_error(r, 429, "rate_limited")
    assert r.headers["retry-after"] == "2"


def test_fault_rules_can_target_one_company(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    first, second = maestro.companies()[:2]
    rule = {"match": {"tenant": second["company_id"]}, "effect": {"type": "status", "status": 503}}
    maestro.control("POST", "/faults", json=rule)
    assert maestro.get("/company", key=first["api_key"]).status_code == 200
    assert maestro.get("/company", key=second["api_key"]).status_code == 503
    maestro.control("DELETE", "/faults")


def test_actor_adds_a_company_with_its_own_key(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    r = maestro.control("POST", "/companies", json={"name": "Uusi Yritys Oy", "business_id": "1572860-0"})
    assert r.status_code == 201, r.text
    key = r.json()["api_key"]
    assert maestro.get("/company", key=key).json()["name"] == "Uusi Yritys Oy"
    assert [p["code"] for p in maestro.get("/products", key=key).json()["items"]] == ["A/0"]
    assert maestro.control("POST", "/companies", json={"name": ""}).status_code == 400


def test_unknown_route_gets_near_miss_help_in_maestros_body(maestro: MaestroTarget) -> None:
    r = maestro.http.get(f"{API}/product", headers=maestro.headers())
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert any("/api/v1/products" in d["message"] for d in r.json()["details"])
