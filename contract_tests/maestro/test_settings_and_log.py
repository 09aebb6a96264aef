"""Severa-liittymän asetukset (MA-3) and the import log's filters."""

from __future__ import annotations

from typing import Any

from contract_tests.maestro.conftest import MaestroTarget, assert_error, ensure_customer, invoice, row, unique


def test_demo_settings_name_the_two_statuses(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    s = maestro.get("/integrations/severa/settings").json()
    assert (s["source_status_name"], s["transferred_status_name"], s["fallback_product_code"]) == (
        "Odottaa siirtoa Maestroon",
        "Siirretty Maestroon",
        "A/0",
    )


def test_put_settings_and_a_new_fallback_product(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    maestro.put("/products/MUUT", {"name": "Muut", "unit": "kpl", "vat_rate": 25.5})
    r = maestro.put(
        "/integrations/severa/settings",
        {
            "source_status_name": "Maestroon",
            "transferred_status_name": "Maestrossa",
            "fallback_product_code": "MUUT",
        },
    )
    assert r.status_code == 200, r.text
    assert maestro.get("/integrations/severa/settings").json()["transferred_status_name"] == "Maestrossa"
    assert_error(maestro.delete("/products/MUUT"), 409, "fallback_product_protected")
    customer = ensure_customer(maestro)
    booked = maestro.post("/sales-invoices", invoice(customer, [row("product", ["NOPE"])])).json()
    assert booked["invoice"]["rows"][0]["product_code"] == "MUUT"
    assert booked["log_entries"][-1]["product_code"] == "MUUT"


def test_bad_settings_name_the_field(maestro: MaestroTarget) -> None:
    same = {"source_status_name": "Siirto", "transferred_status_name": "siirto"}
    assert_error(
        maestro.put("/integrations/severa/settings", same),
        422,
        "validation_failed",
        field="transferred_status_name",
    )
    missing = {
        "source_status_name": "A",
        "transferred_status_name": "B",
        "fallback_product_code": unique("NO-"),
    }
    assert_error(
        maestro.put("/integrations/severa/settings", missing),
        422,
        "validation_failed",
        field="fallback_product_code",
    )
    assert_error(
        maestro.put("/integrations/severa/settings", {"source_status_name": "A"}),
        422,
        field="transferred_status_name",
    )


def test_import_log_filters(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    customer = ensure_customer(maestro)
    first = invoice(customer, [row("product", ["NOPE1"])])
    maestro.post("/sales-invoices", first)
    maestro.control("POST", "/clock", json={"advance": 60})
    cutoff = maestro.control("GET", "/clock").json()["now"]
    second = invoice(customer, [row("product", ["KONS"])])
    imported = maestro.post("/sales-invoices", second).json()

    everything = maestro.get("/import-log").json()
    assert [e["event"] for e in everything["items"]] == [
        "invoice_imported",
        "product_not_matched",
        "invoice_imported",
    ]
    assert [e["id"] for e in everything["items"]] == sorted(e["id"] for e in everything["items"])
    since = maestro.get("/import-log", params={"since": cutoff}).json()["items"]
    assert [e["invoice_number"] for e in since] == [second["invoice_number"]]
    by_id = maestro.get("/import-log", params={"invoice": str(imported["invoice"]["invoice_id"])}).json()[
        "items"
    ]
    assert {e["invoice_number"] for e in by_id} == {second["invoice_number"]}
    warnings = maestro.get("/import-log", params={"level": "warning"}).json()["items"]
    assert [e["source_code"] for e in warnings] == ["NOPE1"]
    assert_error(maestro.get("/import-log", params={"level": "debug"}), 400, "bad_request", field="level")


def _fallbacks(maestro: MaestroTarget) -> list[str]:
    items = maestro.get("/products", params={"limit": 500}).json()["items"]
    return [p["code"] for p in items if p["fallback"]]


def test_exactly_one_product_is_the_fallback_the_one_the_settings_name(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    assert _fallbacks(maestro) == ["A/0"]
    maestro.put("/products/MUUT", {"name": "Muut", "unit": "kpl", "vat_rate": 25.5})
    settings = {"source_status_name": "Maestroon", "transferred_status_name": "Maestrossa"}
    r = maestro.put("/integrations/severa/settings", {**settings, "fallback_product_code": "MUUT"})
    assert r.status_code == 200, r.text
    assert _fallbacks(maestro) == ["MUUT"]
    assert maestro.get("/products/A%2F0").json()["fallback"] is False
    assert maestro.get("/products/MUUT").json()["fallback"] is True
    # A/0 stays protected although it is not the fallback now
    assert_error(maestro.delete("/products/A%2F0"), 409, "fallback_product_protected")
    off = {"name": "Kohdistamattomat", "unit": "kpl", "vat_rate": 25.5, "active": False}
    assert_error(maestro.put("/products/A%2F0", off), 409, "fallback_product_protected", field="active")
    assert maestro.put("/integrations/severa/settings", settings).status_code == 200  # default A/0 again
    assert _fallbacks(maestro) == ["A/0"]
    assert maestro.delete("/products/MUUT").status_code == 204  # no longer protected


def _imported(maestro: MaestroTarget, customer: str, number: str, codes: list[str]) -> dict[str, Any]:
    r = maestro.post("/sales-invoices", invoice(customer, [row("product", codes)], number=number))
    assert r.status_code == 201, r.text
    return dict(r.json()["invoice"])


def _log(maestro: MaestroTarget, **params: Any) -> list[tuple[int | None, str]]:
    r = maestro.get("/import-log", params=params)
    assert r.status_code == 200, r.text
    return [(e["invoice_id"], e["event"]) for e in r.json()["items"]]


def _three_invoices(maestro: MaestroTarget, prefix: str, first_codes: list[str]) -> list[dict[str, Any]]:
    """Three imports on a fresh company; the second one's Severa number is the third one's Maestro id."""
    maestro.require_control()
    maestro.reset()
    customer = ensure_customer(maestro)
    first = _imported(maestro, customer, f"{prefix}01", first_codes)
    second = _imported(maestro, customer, str(first["invoice_id"] + 2), ["KONS"])
    third = _imported(maestro, customer, f"{prefix}03", first_codes)
    assert third["invoice_id"] == int(second["invoice_number"])
    return [first, second, third]


def test_import_log_by_invoice_number_guid_and_id(maestro: MaestroTarget) -> None:
    first, second, third = _three_invoices(maestro, "70", ["NOPE"])

    first_entries = [(first["invoice_id"], "invoice_imported"), (first["invoice_id"], "product_not_matched")]
    assert _log(maestro, invoice_number="7001") == first_entries
    assert _log(maestro, invoice_id=first["invoice_id"]) == first_entries
    assert _log(maestro, severa_invoice_guid=first["severa_invoice_guid"].upper()) == first_entries
    assert _log(maestro, invoice_number=second["invoice_number"]) == [
        (second["invoice_id"], "invoice_imported")
    ]
    assert _log(maestro, invoice_id=third["invoice_id"])[0] == (third["invoice_id"], "invoice_imported")
    # filters combine with AND
    assert _log(maestro, invoice_number="7001", level="warning") == first_entries[1:]
    assert _log(maestro, invoice_number="7001", invoice_id=third["invoice_id"]) == []
    assert _log(maestro, invoice_number="no-such") == []
    assert_error(
        maestro.get("/import-log", params={"invoice_id": "x"}), 400, "bad_request", field="invoice_id"
    )
    assert_error(
        maestro.get("/import-log", params={"severa_invoice_guid": "1001"}),
        400,
        "bad_request",
        field="severa_invoice_guid",
    )


def test_the_deprecated_invoice_parameter_follows_its_documented_precedence(maestro: MaestroTarget) -> None:
    first, second, third = _three_invoices(maestro, "71", ["KONS"])
    ambiguous = second["invoice_number"]  # also the third invoice's Maestro id
    assert _log(maestro, invoice=ambiguous) == [(second["invoice_id"], "invoice_imported")]  # number first
    assert _log(maestro, invoice=str(first["invoice_id"])) == [(first["invoice_id"], "invoice_imported")]
    assert _log(maestro, invoice=third["severa_invoice_guid"].upper()) == [
        (third["invoice_id"], "invoice_imported")
    ]
    assert _log(maestro, invoice="7103") == [(third["invoice_id"], "invoice_imported")]
    assert _log(maestro, invoice="no-such-invoice") == []
    assert _log(maestro, invoice="7101", invoice_id=third["invoice_id"]) == []  # AND with the explicit ones
    param = next(
        p
        for p in maestro.http.get("/openapi.json").json()["paths"]["/api/v1/import-log"]["get"]["parameters"]
        if p.get("name") == "invoice"
    )
    assert param["deprecated"] is True and "precedence" in param["description"]
