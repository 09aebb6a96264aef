"""Severa-liittymän asetukset (MA-3) and the import log's filters."""

from __future__ import annotations

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
