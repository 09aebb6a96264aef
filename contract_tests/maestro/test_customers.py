"""Asiakkaat: upsert by customer number, list, changed-since, business ID check digit."""

from __future__ import annotations

from typing import Any

from contract_tests.maestro.conftest import MaestroTarget, assert_error, unique

FULL: dict[str, Any] = {
    "name": "Esimerkki Oy",
    "business_id": "01120389",  # accepted without the dash, stored with it
    "vat_number": "FI01120389",
    "einvoice_address": "003701120389",
    "einvoice_operator": "003721291126",
    "email": "laskut@esimerkki.fi",
    "billing_address": {"street": "Mannerheimintie 1", "postal_code": "00100", "city": "Helsinki"},
    "severa_customer_guid": "0B6F3C1E-2D4A-4C5B-9E8F-1A2B3C4D5E6F",
}


def test_upsert_creates_then_updates(maestro: MaestroTarget) -> None:
    number = unique("")
    created = maestro.put(f"/customers/{number}", FULL)
    assert created.status_code == 201, created.text
    c = created.json()
    assert c["customer_number"] == number and c["business_id"] == "0112038-9"
    assert c["billing_address"]["country_code"] == "FI"
    assert c["severa_customer_guid"] == FULL["severa_customer_guid"].lower()
    updated = maestro.put(f"/customers/{number}", {**FULL, "email": None, "name": "Esimerkki Oyj"})
    assert updated.status_code == 200, updated.text
    got = maestro.get(f"/customers/{number}").json()
    assert got["name"] == "Esimerkki Oyj" and got["email"] is None
    assert got["created_at"] == c["created_at"]


def test_bad_business_id_is_422_naming_the_field(maestro: MaestroTarget) -> None:
    number = unique("")
    body = assert_error(
        maestro.put(f"/customers/{number}", {"name": "X Oy", "business_id": "0112038-8"}),
        422,
        "validation_failed",
        field="business_id",
    )
    assert "0112038-8" in body["details"][0]["message"]
    assert_error(maestro.get(f"/customers/{number}"), 404)  # nothing stored


def test_vat_number_must_match_business_id(maestro: MaestroTarget) -> None:
    r = maestro.put(
        f"/customers/{unique('')}", {"name": "X Oy", "business_id": "0112038-9", "vat_number": "FI15728600"}
    )
    assert_error(r, 422, "validation_failed", field="vat_number")


def test_unknown_customer_is_404(maestro: MaestroTarget) -> None:
    assert_error(maestro.get(f"/customers/{unique('NOPE')}"), 404, "not_found")


def test_changed_since_and_business_id_filters(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    maestro.put("/customers/1", {"name": "Vanha Oy"})
    maestro.control("POST", "/clock", json={"advance": 3600})
    cutoff = maestro.control("GET", "/clock").json()["now"]
    maestro.put("/customers/2", {"name": "Uusi Oy", "business_id": "1572860-0"})
    changed = maestro.get("/customers", params={"changed_since": cutoff}).json()
    assert [c["customer_number"] for c in changed["items"]] == ["2"]
    assert [c["customer_number"] for c in maestro.get("/customers").json()["items"]] == ["1", "2"]
    by_id = maestro.get("/customers", params={"business_id": "1572860-0"}).json()["items"]
    assert [c["customer_number"] for c in by_id] == ["2"]
    assert_error(
        maestro.get("/customers", params={"changed_since": "yesterday"}),
        400,
        "bad_request",
        field="changed_since",
    )


def test_a_misspelt_filter_is_refused_not_ignored(maestro: MaestroTarget) -> None:
    r = maestro.get("/customers", params={"chagned_since": "2026-01-01T00:00:00Z"})
    assert_error(r, 400, "bad_request", field="chagned_since")
