"""MA-1 ... MA-8 end to end: Severa, the bridge and Maestro in the one world, as a person sees them.

Each test drives the world as the help article tells it (an invoice put in "Odottaa siirtoa
Maestroon", Maestro's settings, the codes of products, work types and travel expenses) and
checks what people look at: Maestro's sales invoices and the product each row was booked on,
Maestro's import log (tuontiloki), Severa's invoice statuses, the bridge's transfer log and the
preflight's message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bridge.connectors.maestro.audit import audit_codes
from bridge.connectors.maestro.customers import WATERMARK
from bridge.store import LedgerState, LogLevel
from scenarios.world import MAESTRO_SOURCE, MAESTRO_TRANSFERRED, World

S = LedgerState
DEMO_WAITING = ["10007", "10008"]  # the demo invoices in "Odottaa siirtoa Maestroon"


@pytest.fixture
def w() -> Iterator[World]:
    world = World.build(reuse=True)
    yield world
    world.close()


def maestro_log(w: World, event: str | None = None) -> list[Any]:
    return [e for e in w.maestro_log() if event is None or e.event == event]


def transfer_log(w: World, level: LogLevel | None = None) -> list[str]:
    return [
        e.message
        for e in w.store.log.entries(connector="maestro", limit=None, newest_first=False)
        if level is None or e.level is level
    ]


def journal(w: World, method: str, path: str) -> list[Any]:
    return [e for e in w.maestro_sim.journal.entries(method=method) if e.path.startswith(path)]


def new_invoice(w: World, *rows: tuple[str, str | None, float], status: str = MAESTRO_SOURCE) -> str:
    """An invoice in Severa with rows ``(kind, code, quantity)``; kind: fee | hours | travel."""
    return w.create_invoice(
        "einvoice-maventa",
        status=status,
        rows=[{"kind": kind, "ref": code, "quantity": qty} for kind, code, qty in rows],
    )


# ---------------------------------------------------------------------- MA-1, MA-3
def test_ma1_ma3_waiting_invoices_become_maestro_sales_invoices_and_get_the_transferred_status(
    w: World,
) -> None:
    waiting = w.invoice_guids_in(MAESTRO_SOURCE, unit=None)
    assert sorted(w.severa_number(g) for g in waiting) == DEMO_WAITING
    others = {g: w.severa_status(g) for g in w.severa_sim.main.org.invoices if g not in waiting}

    report = w.run_pass()

    assert not report.problems
    assert report.by_connector["maestro"].delivered == 2
    imported = {inv.invoice_number: inv for inv in w.maestro_invoices()}
    assert sorted(imported) == DEMO_WAITING
    for guid in waiting:
        number = w.severa_number(guid)
        assert w.severa_status(guid) == MAESTRO_TRANSFERRED  # MA-3: Maestro's transferred status
        severa = w.severa.get_invoice(guid)
        maestro = imported[number]
        # totals as Severa shows them, rows with Severa's codes, a customer Maestro knows
        assert (maestro.total_excluding_vat, maestro.total_vat, maestro.total_including_vat) == (
            severa["totalExcludingTax"]["amount"],
            severa["totalTax"]["amount"],
            severa["totalIncludingTax"]["amount"],
        )
        assert maestro.customer_number == str(severa["billingCustomer"]["number"])
        rows = list(w.severa.iter_invoice_rows(guid))
        assert [r.codes for r in maestro.rows] == [
            r["code"] for r in sorted(rows, key=lambda r: r["sortOrder"])
        ]
        assert w.maestro_ledger(guid).state is S.DELIVERED  # type: ignore[union-attr]
    assert {g: w.severa_status(g) for g in others} == others  # nothing else moved
    assert [e.event for e in maestro_log(w, "invoice_imported")] == ["invoice_imported"] * 2
    assert transfer_log(w, LogLevel.INFO)[0].startswith(
        "Invoice 10007 imported into Maestro as sales invoice"
    )
    assert w.run_pass().moved == 0  # the next pass has nothing to do


def test_ma3_an_invoice_moves_only_when_put_in_the_source_status(w: World) -> None:
    draft = new_invoice(w, ("fee", "KONS", 1), status="Luonnos")
    w.run_pass()
    assert w.maestro_invoice_for(draft) is None and w.severa_status(draft) == "Luonnos"
    w.set_status(draft, MAESTRO_SOURCE)  # the user: "Muuta laskun tila ... ja valitse Tallenna"
    w.run_pass()
    assert w.maestro_invoice_for(draft) is not None
    assert w.severa_status(draft) == MAESTRO_TRANSFERRED


def test_ma3_the_transferred_status_is_the_one_named_in_maestros_settings(w: World) -> None:
    w.severa_sim.main.add_status("Maestrossa", has_invoice_number=True)
    w.maestro.put_settings(MAESTRO_SOURCE, "Maestrossa")
    guid = new_invoice(w, ("fee", "KONS", 1))
    w.run_pass()
    assert w.severa_status(guid) == "Maestrossa"


def test_ma3_a_re_queued_invoice_is_not_imported_twice_and_the_log_says_why(w: World) -> None:
    guid = new_invoice(w, ("fee", "KONS", 1))
    w.run_pass()
    first = w.maestro_invoice_for(guid)
    w.set_status(guid, MAESTRO_SOURCE)  # the user puts it back
    w.run_pass()
    assert [i.severa_invoice_guid for i in w.maestro_invoices()].count(guid.lower()) == 1
    assert w.maestro_invoice_for(guid).invoice_id == first.invoice_id
    assert w.severa_status(guid) == MAESTRO_TRANSFERRED
    number = w.severa_number(guid)
    assert any(
        m.startswith(f"Invoice {number} was already in Maestro as sales invoice {first.invoice_id}")
        and "credit the invoice in Severa" in m
        for m in transfer_log(w)
    )
    assert w.maestro_ledger(guid).generation == 1  # type: ignore[union-attr]


# ---------------------------------------------------------------------- MA-2
def test_ma2_the_customer_register_moves_to_maestro_with_its_identifiers(w: World) -> None:
    w.run_pass()
    severa = {c["number"]: c for c in w.severa.iter_customers()}
    maestro = {c.customer_number: c for c in w.maestro_backend().customers.values()}
    assert sorted(maestro) == sorted(str(n) for n in severa)
    for number, c in severa.items():
        m = maestro[str(number)]
        assert m.name == c["name"] and m.severa_customer_guid == c["guid"].lower()
        assert m.einvoice_address == (c.get("eInvoiceAddress") or None)
        assert m.email == (c.get("email") or None)
        digits = c["vatNumber"].replace("FI", "").replace("-", "")
        assert m.business_id == f"{digits[:7]}-{digits[7]}" and m.vat_number == f"FI{digits}"
        hq = c["headquarterAddress"]
        assert m.billing_address == {
            "street": hq["addressline"],
            "postal_code": hq["postalCode"],
            "city": hq["city"],
            "country_code": "FI",
        }


def test_ma2_incremental_only_changed_customers_are_sent_again(w: World) -> None:
    w.run_pass()
    puts = len(journal(w, "PUT", "/api/v1/customers/"))
    assert w.store.state.get("maestro", w.engine.connector("maestro").account.key, WATERMARK)  # type: ignore[attr-defined]
    w.run_pass()
    assert len(journal(w, "PUT", "/api/v1/customers/")) == puts  # nothing changed, nothing sent
    customer = next(iter(w.severa_sim.main.org.customers.values()))
    w.advance(60)
    w.severa_sim.main.update_customer(customer.guid, email="uusi.osoite@example.fi")
    w.run_pass()
    sent = journal(w, "PUT", "/api/v1/customers/")[puts:]
    assert [e.path for e in sent] == [f"/api/v1/customers/{customer.number}"]
    assert w.maestro_backend().customers[str(customer.number)].email == "uusi.osoite@example.fi"


def test_ma2_a_customer_with_a_bad_business_id_is_logged_by_name_and_the_rest_move(w: World) -> None:
    customers = list(w.severa_sim.main.org.customers.values())
    bad = customers[1]
    w.severa_sim.main.update_customer(
        bad.guid, vat_number="1234567-2"
    )  # wrong check digit (1234567-1 is right)
    report = w.run_pass()
    assert str(bad.number) not in w.maestro_backend().customers
    assert len(w.maestro_backend().customers) == len(customers) - 1
    assert report.customers_failed == 1
    [warning] = [m for m in transfer_log(w, LogLevel.WARNING) if bad.name in m]
    assert (
        "business ID (Y-tunnus) is not valid" in warning and "Correct the customer card in Severa" in warning
    )
    w.run_pass()
    assert [m for m in transfer_log(w, LogLevel.WARNING) if bad.name in m] == [warning]  # said once


def test_ma2_an_invoice_of_a_customer_maestro_cannot_take_fails_with_the_customer_named(w: World) -> None:
    customer = next(iter(w.severa_sim.main.org.customers.values()))
    w.severa_sim.main.update_customer(customer.guid, vat_number="FI00000000X")
    guid = new_invoice(w, ("fee", "KONS", 1))
    w.run_pass()
    entry = w.maestro_ledger(guid)
    assert entry is not None and entry.state is S.NOTIFIED
    assert w.maestro_invoice_for(guid) is None
    assert w.severa_status(guid) == MAESTRO_SOURCE  # Maestro's settings have no error status
    [error] = [m for m in transfer_log(w, LogLevel.ERROR) if w.severa_number(guid) in m]
    assert "its customer cannot be transferred to Maestro" in error and customer.name in error
    w.run_pass()  # unchanged, so not retried on every pass
    assert len([m for m in transfer_log(w, LogLevel.ERROR) if w.severa_number(guid) in m]) == 1


@pytest.mark.parametrize("seconds", [60, 0])  # 0: fixed within the same second of Severa's clock
def test_ma2_fixing_the_customer_card_sends_the_failed_invoice_once(w: World, seconds: int) -> None:
    """The error says "Correct the customer card in Severa": doing so is enough, without touching
    the invoice (Maestro's settings have no error status to move it back from)."""
    customer = next(iter(w.severa_sim.main.org.customers.values()))
    good = customer.vat_number
    w.severa_sim.main.update_customer(customer.guid, vat_number="FI00000000X")
    guid = new_invoice(w, ("fee", "KONS", 1))
    w.run_pass()
    assert w.maestro_ledger(guid).state is S.NOTIFIED  # type: ignore[union-attr]
    w.advance(seconds)
    w.severa_sim.main.update_customer(customer.guid, vat_number=good)
    w.run_pass()
    assert w.maestro_ledger(guid).state is S.DELIVERED  # type: ignore[union-attr]
    assert w.maestro_invoice_for(guid) is not None
    assert w.severa_status(guid) == MAESTRO_TRANSFERRED
    number = w.severa_number(guid)
    assert (
        f"Invoice {number} failed, and its customer's card was changed in Severa since; "
        "it will be sent to Maestro again"
    ) in transfer_log(w)
    w.run_pass()
    assert len([i for i in w.maestro_invoices() if i.invoice_number == number]) == 1


# ---------------------------------------------------------------------- MA-4, MA-8
def test_ma4_missing_access_fails_early_naming_what_is_missing() -> None:
    w = World.build(severa_client=1)  # the API client without customers:read and users:read
    try:
        report = w.run_pass()
        assert w.maestro_invoices() == []
        assert w.severa_status(w.invoice_guids_in(MAESTRO_SOURCE, unit=None)[0]) == MAESTRO_SOURCE
        [problem] = report.problems
        assert problem == (
            "Maestro: The Severa → Maestro integration is not ready (1 problem(s)):\n"
            "  - the Severa API credentials lack access to customers (Asiakkaat), users (Käyttäjät) "
            "(missing scopes: customers:read, users:read); give the API user Asiakkaat, Työt and "
            "Käyttäjät => Kaikki and the invoice rights in Severa"
        )
    finally:
        w.close()


def test_ma8_both_statuses_must_exist_in_severa(w: World) -> None:
    w.maestro.put_settings("Odottaa Maestroa", "Maestrossa valmis")
    report = w.run_pass()
    [problem] = report.problems
    assert (
        "the source status 'Odottaa Maestroa' named in Maestro's settings does not exist in Severa" in problem
    )
    assert "the transferred status 'Maestrossa valmis' named in Maestro's settings does not exist" in problem
    assert "Asetukset > Laskun tilat" in problem
    assert w.maestro_invoices() == []
    # the user adds them in Severa (MA-8): the next pass transfers
    w.severa_sim.main.add_status("Odottaa Maestroa", has_invoice_number=True)
    w.severa_sim.main.add_status("Maestrossa valmis", has_invoice_number=True)
    guid = new_invoice(w, ("fee", "KONS", 1), status="Odottaa Maestroa")
    assert not w.run_pass().problems
    assert w.severa_status(guid) == "Maestrossa valmis"


# ---------------------------------------------------------------------- MA-5, MA-6, MA-7
@pytest.mark.parametrize(
    ("kind", "code", "kind_words", "where"),
    [
        ("fee", "LEHTI", "tuote / product", "product (Tuotteet)"),  # MA-5
        ("hours", "TUKI", "työlaji / work type", "work type (Työlajit)"),  # MA-6
        ("travel", "PVR", "matkakulu / travel expense", "travel expense (Matkakulut)"),  # MA-7
    ],
)
def test_ma5_ma6_ma7_a_row_maestro_cannot_match_is_booked_on_a0_and_logged(
    w: World, kind: str, code: str, kind_words: str, where: str
) -> None:
    guid = new_invoice(w, ("fee", "KONS", 1), (kind, code, 2))
    report = w.run_pass()
    invoice = w.maestro_invoice_for(guid)
    assert [(r.product_code, r.booking) for r in invoice.rows] == [("KONS", "matched"), ("A/0", "fallback")]
    number = w.severa_number(guid)
    [warning] = [e for e in maestro_log(w, "product_not_matched") if e.invoice_number == number]
    assert (warning.row_number, warning.source_code, warning.product_code) == (2, code, "A/0")
    assert f"rivi 2: tuotetta '{code}' ei löydy" in warning.message
    lines = [m for m in transfer_log(w, LogLevel.WARNING) if m.startswith(f"Invoice {number}, row 2")]
    assert lines == [
        f"Invoice {number}, row 2 ({kind_words} code '{code}'): Maestro has no active product with that code; "
        f"the row was booked on A/0. Give the {where} in Severa the code of a Maestro product (or add the "
        "product to Maestro)."
    ]
    assert report.fallback_rows >= 1 and report.by_connector["maestro"].fallback_rows == report.fallback_rows
    assert w.severa_status(guid) == MAESTRO_TRANSFERRED  # the invoice itself is imported


def test_a_row_without_a_code_goes_to_a0_too(w: World) -> None:
    no_code = next(t for t in w.severa_sim.main.org.work_types.values() if not t.code)  # Sisäinen palaveri
    guid = new_invoice(w, ("hours", no_code.guid, 1))
    w.run_pass()
    [row] = w.maestro_invoice_for(guid).rows
    assert (row.product_code, row.reason) == ("A/0", "empty_code")
    assert any("(työlaji / work type no code)" in m for m in transfer_log(w, LogLevel.WARNING))


# ---------------------------------------------------------------------- the code audit
def test_the_audit_names_exactly_the_codes_the_maestro_demo_lacks_and_then_comes_clean(w: World) -> None:
    report = audit_codes(w.engine.source, w.maestro)
    assert [(p.kind.value, p.code, p.problem) for p in report.catalogue] == [
        ("product", "LEHTI", "missing from Maestro"),
        ("work_type", "TUKI", "missing from Maestro"),
        ("travel_expense", "PVR", "missing from Maestro"),
    ]
    # the demo invoices waiting for Maestro: one LEHTI row (10007) and one PVR row (10008)
    assert [(r.invoice_number, r.row, r.codes) for r in report.rows] == [
        ("10007", 2, ("LEHTI",)),
        ("10008", 3, ("PVR",)),
    ]
    assert not report.clean
    for code, name, unit in (
        ("LEHTI", "Ammattilehti", "kpl"),
        ("TUKI", "Tukipalvelu", "h"),
        ("PVR", "Päiväraha", "pv"),
    ):
        w.maestro.put_product(code, name=name, unit=unit, vat_rate=25.5)
    again = audit_codes(w.engine.source, w.maestro)
    assert again.clean and again.to_json()["codes"] == [] and again.to_json()["rows"] == []
    w.run_pass()
    assert all(r.booking == "matched" for inv in w.maestro_invoices() for r in inv.rows)
    assert maestro_log(w, "product_not_matched") == []
