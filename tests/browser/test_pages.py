"""Every screen renders without a console error or a failed request, each form refuses bad input
with a message next to the field, and the tools (journal, faults, scenarios, reset) work."""

from __future__ import annotations

from typing import Any

from sandbox.up import Sandbox

from .conftest import Watched
from .test_maventa_flow import notice, submit


def test_every_screen_renders_cleanly(web: Watched, sandbox: Sandbox) -> None:
    guid = next(g for g, i in sandbox.w.severa_sim.main.org.invoices.items() if i.number == 10008)
    unit = sandbox.w.unit_guid("Ranta Oy")
    screens = [
        ("/", "30-page-home"),
        ("/severa/asetukset/integraatiot/maventa/", "31-page-severa-maventa"),
        (f"/severa/asetukset/integraatiot/maventa/?yksikko={unit}", "32-page-severa-maventa-company"),
        ("/severa/asetukset/integraatiot/maestro/", "33-page-severa-maestro"),
        ("/severa/laskut", "34-page-laskut"),
        ("/severa/asetukset/laskun-tilat", "35-page-laskun-tilat"),
        ("/severa/asetukset/koodit", "36-page-koodit"),
        (f"/severa/laskut/{guid}", "37-page-journey"),
        ("/maventa/", "38-page-maventa"),
        ("/maestro/", "39-page-maestro"),
        ("/posti/", "40-page-posti"),
        ("/tyokalut/loki", "41-page-loki"),
        ("/tyokalut/viat", "42-page-viat"),
        ("/tyokalut/skenaariot", "43-page-skenaariot"),
        ("/tyokalut/nollaus", "44-page-nollaus"),
    ]
    for path, name in screens:
        web.go(path)
        assert web.page.locator("h1").is_visible(), path
        web.shot(name)
    # the PDF of an invoice opens (Severa's own rendering)
    response = web.page.request.get(web.base + f"/severa/laskut/{guid}/pdf")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_codes_and_statuses_are_editable(web: Watched, sandbox: Sandbox) -> None:
    web.go("/severa/asetukset/koodit")
    row = web.page.locator('[data-testid="code-row"][data-name="Kotimaan päiväraha"]')
    row.get_by_test_id("code-input").fill("PVR ERR")
    submit(web, row.get_by_test_id("code-save"))
    row = web.page.locator('[data-testid="code-row"][data-name="Kotimaan päiväraha"]')
    assert "no spaces" in row.locator(".field-error").inner_text()  # next to the field
    row.get_by_test_id("code-input").fill("KM")
    submit(web, row.get_by_test_id("code-save"))
    row = web.page.locator('[data-testid="code-row"][data-name="Kotimaan päiväraha"]')
    assert "Kilometrikorvaus already has the code 'KM'" in row.locator(".field-error").inner_text()
    web.shot("45-koodit-refused-next-to-the-field")
    row.get_by_test_id("code-input").fill("PVR-1")
    submit(web, row.get_by_test_id("code-save"))
    assert "PVR-1" in notice(web)
    assert (
        web.page.locator('[data-testid="code-row"][data-name="Kotimaan päiväraha"]').get_attribute(
            "data-code"
        )
        == "PVR-1"
    )

    web.go("/severa/asetukset/laskun-tilat")
    submit(web, web.testid("add-status-submit"))
    assert "is required" in web.testid("error-add-status-name").inner_text()
    web.testid("add-status-name").fill("Luonnos")
    submit(web, web.testid("add-status-submit"))
    assert "already has an invoice status" in web.testid("error-add-status-name").inner_text()
    web.testid("add-status-name").fill("Tarkastettava")
    submit(web, web.testid("add-status-submit"))
    assert web.page.locator('[data-testid="status-row"][data-name="Tarkastettava"]').count() == 1
    web.shot("46-laskun-tilat-added")


def test_journal_faults_scenarios_and_reset(web: Watched, sandbox: Sandbox) -> None:
    page = web.page
    # Loki: a bad filter is refused next to the field; a good one lists exchanges with "copy as curl"
    web.go("/tyokalut/loki?tila=abc")
    assert "expected a whole number" in web.testid("error-journal-tila").inner_text()
    web.go("/tyokalut/loki?palvelu=maestro&metodi=POST")
    entry = web.testid("journal-entry").first
    entry.locator("summary").click()
    curl = entry.get_by_test_id("curl").inner_text()
    assert curl.startswith("curl -X POST") and "/api/v1/" in curl
    assert "mae_" not in curl  # the Maestro API key is redacted in the journal
    entry.get_by_test_id("copy-curl").click()
    web.shot("47-loki-copy-as-curl")

    # Viat: a bad rule is refused next to the field; a good one is listed and counts how often it fired
    web.go("/tyokalut/viat")
    web.testid("fault-service").select_option("maestro")
    web.testid("fault-path").fill("api/v1/company")
    submit(web, web.testid("fault-submit"))
    assert "starts with '/'" in web.testid("error-fault-path").inner_text()
    web.testid("fault-path").fill("/api/v1/company")
    web.testid("fault-status").fill("700")
    submit(web, web.testid("fault-submit"))
    assert "expected 400 ... 599" in web.testid("error-fault-status").inner_text()
    web.testid("fault-status").fill("503")
    web.testid("fault-trigger").select_option("always")
    submit(web, web.testid("fault-submit"))
    assert "fault rule added" in notice(web)
    web.go("/severa/asetukset/integraatiot/maestro/")
    submit(web, web.testid("preflight-run"))
    web.go("/tyokalut/viat")
    rule = page.locator('[data-testid="fault-rule"][data-service="maestro"]')
    fired = int(rule.get_by_test_id("fault-fired").inner_text().split("/")[0])
    assert fired >= 1
    web.shot("48-viat-rule-fired")
    submit(web, rule.get_by_test_id("fault-delete"))
    assert page.locator('[data-testid="fault-rule"]').count() == 0

    # Skenaariot: run one from the catalogue; its timeline and verdicts
    web.go("/tyokalut/skenaariot")
    item = page.locator('[data-testid="scenario-item"][data-id="mv14-activation-refused-sent-flag"]')
    submit(web, item.get_by_test_id("scenario-run"))
    assert "passed" in web.testid("scenario-outcome").inner_text()
    verdicts = web.testid("scenario-verdict").all_inner_texts()
    assert verdicts and all(v.startswith("✔") for v in verdicts)
    events = " ".join(web.testid("scenario-event").all_inner_texts())
    assert "Status of invoices to be transferred can not be sent" in events
    web.shot("49-skenaario-mv14")

    # Nollaus: a bad seed is refused next to the field; a good one gives a fresh world
    web.go("/tyokalut/nollaus")
    web.testid("reset-seed").fill("-1")
    submit(web, web.testid("reset-submit"))
    assert "expected 0" in web.testid("error-reset-seed").inner_text()
    web.testid("reset-seed").fill("3")
    submit(web, web.testid("reset-submit"))
    assert "seed 3" in notice(web)
    assert sandbox.seed == 3
    web.go("/severa/asetukset/integraatiot/maventa/")
    assert web.testid("company-row").count() >= 1
    web.shot("50-nollaus-seed-3")


def test_auto_refresh_updates_the_live_parts(browser: Any, sandbox: Sandbox) -> None:
    """With auto-refresh on (the default), the worker's passes appear without a reload."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(sandbox.root_url("dashboard") + "/")
        before = page.get_by_test_id("worker-card").inner_text()
        assert page.get_by_test_id("autorefresh").is_checked()
        page.wait_for_function(
            "before => document.querySelector('[data-testid=worker-card]').innerText !== before",
            arg=before,
            timeout=15_000,
        )
    finally:
        context.close()
    assert not errors, errors
