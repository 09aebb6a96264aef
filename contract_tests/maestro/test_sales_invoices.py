"""Myyntilaskujen tuonti: row matching, the A/0 fallback with its log entry, idempotency, totals."""

from __future__ import annotations

from contract_tests.maestro.conftest import (
    MaestroTarget,
    assert_error,
    ensure_customer,
    invoice,
    new_guid,
    row,
    unique,
)


def test_acceptance_known_and_unknown_code_then_reimport_then_wrong_key(maestro: MaestroTarget) -> None:
    known, unknown = unique("K-"), unique("ZZ-")
    assert (
        maestro.put(f"/products/{known}", {"name": "Tunnettu", "unit": "h", "vat_rate": 25.5}).status_code
        == 201
    )
    customer = ensure_customer(maestro)
    body = invoice(customer, [row("work_type", [known]), row("travel_expense", [unknown], net=42.5)])

    first = maestro.post("/sales-invoices", body)
    assert first.status_code == 201, first.text
    result = first.json()
    assert result["duplicate"] is False
    rows = result["invoice"]["rows"]
    assert (rows[0]["product_code"], rows[0]["booking"], rows[0]["matched_code"]) == (known, "matched", known)
    assert (rows[1]["product_code"], rows[1]["booking"], rows[1]["reason"]) == (
        "A/0",
        "fallback",
        "unknown_code",
    )
    assert result["invoice"]["fallback_row_count"] == 1

    log = maestro.get("/import-log", params={"invoice": body["invoice_number"], "level": "warning"}).json()[
        "items"
    ]
    assert len(log) == 1
    entry = log[0]
    assert entry["source_code"] == unknown and entry["row_number"] == 2
    assert entry["source_kind"] == "travel_expense" and entry["product_code"] == "A/0"
    assert entry["invoice_number"] == body["invoice_number"] and unknown in entry["message"]

    log_total = maestro.get("/import-log").json()["total"]
    invoices_total = maestro.get("/sales-invoices").json()["total"]
    again = maestro.post("/sales-invoices", body)
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True and again.json()["log_entries"] == []
    assert again.json()["invoice"] == result["invoice"]
    assert maestro.get("/import-log").json()["total"] == log_total
    assert maestro.get("/sales-invoices").json()["total"] == invoices_total
    found = maestro.get("/sales-invoices", params={"severa_invoice_guid": body["severa_invoice_guid"]}).json()
    assert found["total"] == 1

    assert_error(maestro.post("/sales-invoices", body, key="not-a-key"), 401, "invalid_api_key")


def test_duplicate_wins_even_with_a_different_body(maestro: MaestroTarget) -> None:
    customer = ensure_customer(maestro)
    guid = new_guid()
    first = maestro.post("/sales-invoices", invoice(customer, [row("product", ["KONS"])], guid=guid))
    second = maestro.post(
        "/sales-invoices", invoice(customer, [row("product", ["X"]), row("product", [])], guid=guid.upper())
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["invoice"]["invoice_id"] == first.json()["invoice"]["invoice_id"]
    assert len(second.json()["invoice"]["rows"]) == 1


def test_demo_preset_leaves_one_code_of_each_kind_unmatched(maestro: MaestroTarget) -> None:
    maestro.require_control()
    maestro.reset()
    customer = ensure_customer(maestro)
    rows = [
        row("product", ["KONS"]),
        row("product", ["LEHTI"]),
        row("work_type", ["KEH"]),
        row("work_type", ["TUKI"]),
        row("travel_expense", ["KM"]),
        row("travel_expense", ["PVR"]),
        row("work_type", []),
    ]
    r = maestro.post("/sales-invoices", invoice(customer, rows))
    assert r.status_code == 201, r.text
    booked = [(x["product_code"], x["reason"]) for x in r.json()["invoice"]["rows"]]
    assert booked == [
        ("KONS", "code_matched"),
        ("A/0", "unknown_code"),
        ("KEH", "code_matched"),
        ("A/0", "unknown_code"),
        ("KM", "code_matched"),
        ("A/0", "unknown_code"),
        ("A/0", "empty_code"),
    ]
    warnings = [e for e in r.json()["log_entries"] if e["level"] == "warning"]
    assert [(e["source_kind"], e["source_code"]) for e in warnings] == [
        ("product", "LEHTI"),
        ("work_type", "TUKI"),
        ("travel_expense", "PVR"),
        ("work_type", ""),
    ]


def test_first_matching_code_of_a_grouped_row_wins_and_inactive_products_do_not_match(
    maestro: MaestroTarget,
) -> None:
    inactive, active = unique("OLD-"), unique("NEW-")
    maestro.put(f"/products/{inactive}", {"name": "Vanha", "unit": "kpl", "vat_rate": 24, "active": False})
    maestro.put(f"/products/{active}", {"name": "Uusi", "unit": "kpl", "vat_rate": 25.5})
    customer = ensure_customer(maestro)
    r = maestro.post(
        "/sales-invoices",
        invoice(customer, [row("product", ["nope", inactive, active]), row("product", [inactive])]),
    )
    rows = r.json()["invoice"]["rows"]
    assert (rows[0]["product_code"], rows[0]["matched_code"]) == (active, active)
    assert (rows[1]["product_code"], rows[1]["reason"]) == ("A/0", "inactive_product")


def test_totals_mismatch_is_422_naming_the_total(maestro: MaestroTarget) -> None:
    customer = ensure_customer(maestro)
    body = invoice(customer, [row("product", ["KONS"], net=100)])
    body["total_vat"] = round(body["total_vat"] + 0.02, 2)
    r = maestro.post("/sales-invoices", body)
    assert_error(r, 422, "totals_mismatch", field="total_vat")
    assert (
        maestro.get("/sales-invoices", params={"severa_invoice_guid": body["severa_invoice_guid"]}).json()[
            "total"
        ]
        == 0
    )
    logged = maestro.get(
        "/import-log", params={"invoice": body["severa_invoice_guid"], "level": "error"}
    ).json()
    assert logged["total"] == 1 and logged["items"][0]["event"] == "invoice_rejected"


def test_a_cent_of_rounding_is_tolerated(maestro: MaestroTarget) -> None:
    customer = ensure_customer(maestro)
    body = invoice(customer, [row("product", ["KONS"], net=33.33), row("product", ["KONS"], net=33.33)])
    body["total_excluding_vat"] = round(body["total_excluding_vat"] + 0.01, 2)
    body["total_including_vat"] = round(body["total_including_vat"] + 0.01, 2)
    assert maestro.post("/sales-invoices", body).status_code == 201


def test_row_that_does_not_add_up_is_named(maestro: MaestroTarget) -> None:
    customer = ensure_customer(maestro)
    bad = row("product", ["KONS"])
    bad["gross_amount"] += 5
    body = invoice(customer, [row("product", ["KONS"]), bad])
    assert_error(maestro.post("/sales-invoices", body), 422, "totals_mismatch", field="rows[1].gross_amount")


def test_unknown_customer_is_refused(maestro: MaestroTarget) -> None:
    r = maestro.post("/sales-invoices", invoice(unique("NOPE"), [row("product", ["KONS"])]))
    assert_error(r, 422, "customer_not_found", field="customer_number")


def test_malformed_invoice_names_the_fields(maestro: MaestroTarget) -> None:
    body = invoice("1", [row("salary", ["KONS"])])
    del body["due_date"]
    body["invoice_date"] = "20.11.2026"
    err = assert_error(maestro.post("/sales-invoices", body), 422, "validation_failed")
    fields = {d["field"] for d in err["details"]}
    assert {"due_date", "invoice_date", "rows[0].source_kind"} <= fields
    assert_error(
        maestro.post("/sales-invoices", {**invoice("1", [row("product", [])]), "rows": []}), 422, field="rows"
    )


def test_get_invoice_by_id(maestro: MaestroTarget) -> None:
    customer = ensure_customer(maestro)
    created = maestro.post("/sales-invoices", invoice(customer, [row("product", ["KONS"])])).json()["invoice"]
    assert maestro.get(f"/sales-invoices/{created['invoice_id']}").json() == created
    assert_error(maestro.get("/sales-invoices/999999999"), 404, "not_found")
    listed = maestro.get("/sales-invoices", params={"customer_number": customer}).json()["items"]
    assert [i["invoice_id"] for i in listed] == [created["invoice_id"]]
