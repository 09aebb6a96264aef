"""The browser alone moves an invoice to Maestro: the code audit finds the rows that would land on
``A/0``, one code is fixed in Maestro, the transfer books the other row on ``A/0`` and the Maestro
page shows it highlighted (MA-1 ... MA-8)."""

from __future__ import annotations

import re

from sandbox.up import Sandbox

from .conftest import Watched
from .test_maventa_flow import notice, option_value, submit, wait_until

MAESTRO_INTEGRATION = "/severa/asetukset/integraatiot/maestro/"


def test_invoice_to_maestro_with_an_a0_row_found_by_the_audit_and_fixed(
    web: Watched, sandbox: Sandbox
) -> None:
    page = web.page
    # the two statuses (MA-3, MA-8) and the preflight (MA-4)
    web.go(MAESTRO_INTEGRATION)
    assert "Odottaa siirtoa Maestroon" in web.testid("source-status").inner_text()
    assert "Siirretty Maestroon" in web.testid("transferred-status").inner_text()
    submit(web, web.testid("preflight-run"))
    assert "Maestro integration ready" in web.testid("preflight-result").inner_text()
    web.shot("20-maestro-integration-preflight")

    # Maestro fetched the demo's waiting invoices at start; the next one waits for the audit first
    submit(web, web.testid("fetch-toggle"))
    assert "paused" in notice(web)

    # a Severa user makes an invoice in the source status: a book, a magazine (LEHTI) and a daily allowance (PVR)
    web.go("/severa/laskut")
    web.testid("new-customer").select_option(option_value(web, "new-customer", "Nylund Oy"))
    web.testid("new-unit").select_option(label="Ranta Oy")
    web.testid("new-status").select_option(label="Odottaa siirtoa Maestroon")
    web.testid("new-row1-item").select_option(label="Alan kirjallisuus (KIRJA)")
    web.testid("new-row2-item").select_option(label="Ammattilehden vuositilaus (LEHTI)")
    web.testid("new-row3-item").select_option(label="Kotimaan päiväraha (PVR)")
    submit(web, web.testid("new-invoice-submit"))
    number = re.search(r"new invoice (\d+)", notice(web)).group(1)  # type: ignore[union-attr]
    web.shot("21-laskut-new-invoice-for-maestro")

    # the code audit: the codes Maestro does not know, and this invoice's rows that would land on A/0
    web.go(MAESTRO_INTEGRATION)
    submit(web, web.testid("audit-run"))
    codes = {r.get_attribute("data-code") for r in web.testid("audit-code-row").all()}
    assert {"LEHTI", "TUKI", "PVR"} <= codes
    rows = page.locator(f'[data-testid="audit-row"][data-invoice="{number}"]')
    assert sorted(r.get_attribute("data-code") for r in rows.all()) == ["LEHTI", "PVR"]
    web.shot("22-maestro-audit-finds-a0-rows")

    # the fix: the accountant adds the magazine product to Maestro (a bad VAT first: refused next to it)
    web.go("/maestro/")
    web.testid("product-code").fill("LEHTI")
    web.testid("product-name").fill("Ammattilehden vuositilaus")
    web.testid("product-unit").fill("kpl")
    web.testid("product-vat").fill("kymmenen")
    submit(web, web.testid("product-save"))
    assert "expected a number" in web.testid("error-product-vat_rate").inner_text()
    web.testid("product-vat").fill("10")
    submit(web, web.testid("product-save"))
    assert "LEHTI" in notice(web)
    assert page.locator('[data-testid="maestro-product"][data-code="LEHTI"]').count() == 1
    web.shot("23-maestro-product-added")

    # the audit again: only the daily allowance is left
    web.go(MAESTRO_INTEGRATION)
    submit(web, web.testid("audit-run"))
    rows = page.locator(f'[data-testid="audit-row"][data-invoice="{number}"]')
    assert [r.get_attribute("data-code") for r in rows.all()] == ["PVR"]
    web.shot("24-maestro-audit-after-the-fix")

    # the transfer (MA-1, MA-3): Siirrä nyt; the PVR row is on A/0, highlighted
    submit(web, web.testid("transfer-now"))
    assert "sent 1" in notice(web)
    log = " ".join(web.testid("log-row").all_inner_texts())
    assert f"Invoice {number}, row 3" in log and "A/0" in log
    web.go("/maestro/")
    invoice = page.locator(f'[data-testid="maestro-invoice"][data-number="{number}"]')
    assert invoice.get_attribute("data-fallback-rows") == "1"
    products = [r.get_attribute("data-product") for r in invoice.get_by_test_id("maestro-row").all()]
    assert products == ["KIRJA", "LEHTI", "A/0"]
    a0 = invoice.locator('[data-testid="maestro-row"][data-product="A/0"]')
    assert "fallback" in (a0.get_attribute("class") or "")
    assert a0.evaluate("e => getComputedStyle(e.querySelector('td')).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert "PVR" in " ".join(web.testid("import-log-row").all_inner_texts())
    web.shot("25-maestro-invoice-with-a0-row")

    # Severa shows the transferred status named in Maestro's settings; fetching resumes
    statuses = {s["name"]: s["guid"] for s in _statuses(sandbox)}
    wait_until(
        web,
        f"/severa/laskut?tila={statuses['Siirretty Maestroon']}",
        lambda: page.locator(f'[data-testid="invoice-row"][data-number="{number}"]').count() == 1,
        what=f"{number} in Siirretty Maestroon",
    )
    web.shot("26-laskut-siirretty-maestroon")
    web.go(MAESTRO_INTEGRATION)
    submit(web, web.testid("fetch-toggle"))
    assert "fetches the waiting invoices again" in notice(web)

    # the invoice's journey shows the Maestro import with each row's product
    web.go(f"/severa/laskut?tila={statuses['Siirretty Maestroon']}")
    submit(
        web,
        page.locator(f'[data-testid="invoice-row"][data-number="{number}"]').get_by_test_id("journey-link"),
    )
    products = [r.inner_text().split("\t")[-1] for r in web.testid("journey-maestro-row").all()]
    assert any("A/0" in p for p in products)
    assert "maestro" in [e.get_attribute("data-service") for e in web.testid("journey-event").all()]
    web.shot("27-journey-to-maestro")


def _statuses(sandbox: Sandbox) -> list[dict[str, str]]:
    from sandbox.dashboard import readouts

    return readouts.severa_statuses(sandbox.w)
