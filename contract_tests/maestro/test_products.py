"""Tuotteet: list, upsert by code, the protected fallback product A/0."""

from __future__ import annotations

from contract_tests.maestro.conftest import MaestroTarget, assert_error, unique


def test_fallback_product_always_exists(maestro: MaestroTarget) -> None:
    r = maestro.get("/products/A%2F0")
    assert r.status_code == 200, r.text
    assert r.json()["code"] == "A/0" and r.json()["active"] and r.json()["fallback"]
    listed = maestro.get("/products", params={"code": "A/0"}).json()
    assert [p["code"] for p in listed["items"]] == ["A/0"]


def test_fallback_product_cannot_be_deleted_or_deactivated(maestro: MaestroTarget) -> None:
    assert_error(maestro.delete("/products/A%2F0"), 409, "fallback_product_protected")
    r = maestro.put(
        "/products/A%2F0", {"name": "Kohdistamattomat", "unit": "kpl", "vat_rate": 25.5, "active": False}
    )
    assert_error(r, 409, "fallback_product_protected", field="active")
    assert maestro.get("/products/A%2F0").json()["active"] is True


def test_upsert_creates_then_updates(maestro: MaestroTarget) -> None:
    code = unique("T-")
    body = {"name": "Testituote", "unit": "h", "vat_rate": 25.5}
    created = maestro.put(f"/products/{code}", body)
    assert created.status_code == 201, created.text
    assert created.json() | {"updated_at": None} == {
        "code": code,
        "name": "Testituote",
        "unit": "h",
        "vat_rate": 25.5,
        "active": True,
        "fallback": False,
        "updated_at": None,
    }
    assert created.headers["location"].endswith(f"/products/{code}")
    updated = maestro.put(f"/products/{code}", {**body, "name": "Uusi nimi", "active": False})
    assert updated.status_code == 200, updated.text
    assert maestro.get(f"/products/{code}").json()["name"] == "Uusi nimi"
    inactive = maestro.get("/products", params={"active": "false", "limit": 500}).json()["items"]
    assert code in [p["code"] for p in inactive]


def test_codes_with_a_slash_round_trip(maestro: MaestroTarget) -> None:
    code = unique("B/")
    assert (
        maestro.put(
            f"/products/{code.replace('/', '%2F')}", {"name": "x", "unit": "kpl", "vat_rate": 0}
        ).status_code
        == 201
    )
    assert maestro.get(f"/products/{code.replace('/', '%2F')}").json()["code"] == code


def test_delete_then_gone(maestro: MaestroTarget) -> None:
    code = unique("D-")
    maestro.put(f"/products/{code}", {"name": "Poistettava", "unit": "kpl", "vat_rate": 14})
    assert maestro.delete(f"/products/{code}").status_code == 204
    assert_error(maestro.get(f"/products/{code}"), 404, "not_found")
    assert_error(maestro.delete(f"/products/{code}"), 404, "not_found")


def test_bad_product_names_the_field(maestro: MaestroTarget) -> None:
    assert_error(
        maestro.put("/products/X1", {"name": "x", "unit": "kpl", "vat_rate": 120}),
        422,
        "validation_failed",
        field="vat_rate",
    )
    assert_error(
        maestro.put("/products/X1", {"name": "x", "vat_rate": 10}), 422, "validation_failed", field="unit"
    )
    assert_error(
        maestro.put("/products/X1", {"name": "x", "unit": "kpl", "vat_rate": 10, "price": 1}),
        422,
        "validation_failed",
        field="price",
    )


def test_non_json_body_is_refused(maestro: MaestroTarget) -> None:
    r = maestro.http.put(
        "/api/v1/products/X1", content="name=x", headers={**maestro.headers(), "content-type": "text/plain"}
    )
    assert_error(r, 415, "unsupported_media_type")
    r = maestro.http.put(
        "/api/v1/products/X1",
        content="{not json",
        headers={**maestro.headers(), "content-type": "application/json"},
    )
    assert_error(r, 400, "bad_request")


def test_paging(maestro: MaestroTarget) -> None:
    everything = maestro.get("/products", params={"limit": 500}).json()
    page = maestro.get("/products", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == everything["total"] and page["limit"] == 2 and page["offset"] == 1
    assert page["items"] == everything["items"][1:3]
    assert_error(maestro.get("/products", params={"limit": 0}), 400, "bad_request", field="limit")


def test_a_missing_resource_names_its_path_parameter_and_an_unknown_route_does_not(
    maestro: MaestroTarget,
) -> None:
    """So a client tells "no such product" (None) from a wrong base URL (an error)."""
    assert_error(maestro.get("/products/NOPE-1"), 404, "not_found", field="code")
    assert_error(maestro.get("/customers/NOPE-1"), 404, "not_found", field="customer_number")
    assert_error(maestro.get("/sales-invoices/999999"), 404, "not_found", field="invoice_id")
    body = assert_error(maestro.get("/prodcts/A%2F0"), 404, "not_found")
    assert all(d["field"] is None for d in body["details"]), body
