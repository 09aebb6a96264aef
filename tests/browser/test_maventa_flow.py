"""The browser alone takes a new company from registration to its first invoices delivered by
e-invoice, e-mail and print (MV-1 ... MV-14), as a salesperson would click it on ``severa-sandbox up``.

Each step asserts what the page shows and saves a screenshot (``test-artifacts/screenshots``).
"""

from __future__ import annotations

import re
import time
from typing import Any

from sandbox.up import Sandbox

from .conftest import Watched

MAVENTA_SETTINGS = "/severa/asetukset/integraatiot/maventa/"


def submit(web: Watched, locator: Any) -> None:
    """Click a submit button and wait for the page it leads to."""
    with web.page.expect_navigation(wait_until="load"):
        locator.click()


def option_value(web: Watched, select: str, text: str) -> str:
    """The value of the first option of a select whose visible text contains ``text``."""
    value = web.testid(select).locator("option", has_text=text).first.get_attribute("value")
    assert value, f"no option {text!r} in {select}"
    return value


def open_company(web: Watched, name: str) -> None:
    web.go(MAVENTA_SETTINGS)
    submit(web, web.page.get_by_test_id("company-link").filter(has_text=name))
    assert web.testid("company-title").inner_text().startswith(name)


def notice(web: Watched) -> str:
    return " ".join(web.page.locator(".notice").all_inner_texts())


def wait_until(web: Watched, path: str, check: Any, timeout: float = 30.0, what: str = "") -> None:
    """Reload ``path`` until ``check()`` holds (the worker runs every half second)."""
    deadline = time.monotonic() + timeout
    while True:
        web.go(path)
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or path}")
        web.page.wait_for_timeout(400)


def maventa_invoice(web: Watched, number: int) -> Any:
    return web.page.locator(f'[data-testid="maventa-invoice"][data-number="{number}"]')


def set_sent_flag(web: Watched, status: str, sent: bool) -> None:
    web.go("/severa/asetukset/laskun-tilat")
    row = web.page.locator(f'[data-testid="status-row"][data-name="{status}"]')
    box = row.get_by_test_id("flag-is-sent")
    box.set_checked(sent)
    submit(web, row.get_by_test_id("status-flags-save"))
    row = web.page.locator(f'[data-testid="status-row"][data-name="{status}"]')
    assert row.get_by_test_id("flag-is-sent").is_checked() is sent


def test_new_company_from_registration_to_invoices_delivered(web: Watched, sandbox: Sandbox) -> None:
    page = web.page
    web.go("/")
    assert "hiekkalaatikkoon" in web.testid("page-title").inner_text()
    web.shot("00-home")

    # Asetukset > Integraatiot > Maventa/AutoInvoice: the registered companies (MV-5: units with a Y-tunnus)
    web.go(MAVENTA_SETTINGS)
    names = web.testid("company-link").all_inner_texts()
    assert names == ["Ranta Oy", "Hämäläinen ry Oy"]
    assert "Konsultointi" in web.testid("units-without-business-id").inner_text()
    web.shot("01-maventa-settings-companies")

    # MV-5: a unit without a business ID cannot be registered; the message is next to the field
    submit(web, web.testid("open-register"))
    web.testid("register-unit").select_option(label="Konsultointi (ei Y-tunnusta / no business ID)")
    web.testid("register-person").select_option(label="Tuomo Hannula (tuomo.hannula@ranta.fi)")
    submit(web, web.testid("register-submit"))
    error = web.testid("error-register-unit").inner_text()
    assert "Konsultointi" in error and "business ID" in error
    web.shot("02-mv5-unit-without-business-id")

    # MV-1: Rekisteröidy Maventaan: the key and the UUID are filled in automatically
    web.testid("register-unit").select_option(label="Ranta Oy")
    web.testid("register-person").select_option(label="Tuomo Hannula (tuomo.hannula@ranta.fi)")
    submit(web, web.testid("register-submit"))
    assert "Ranta Oy registered to Maventa" in notice(web)
    assert web.testid("company-title").inner_text().startswith("Ranta Oy")
    assert web.testid("api-key-state").inner_text() == "Täytetty / filled in"
    ranta_uuid = web.testid("company-uuid").input_value()
    assert re.fullmatch(r"[0-9a-f-]{36}", ranta_uuid)
    assert "REGISTERED" in web.testid("registration-state").inner_text()
    web.shot("03-mv1-registered")

    # MV-2: the registrant already has a Maventa user: the key stays empty, the message says what to do
    web.go(MAVENTA_SETTINGS + "?rekisteroidy=1")
    web.testid("register-unit").select_option(label="Hämäläinen ry Oy")
    web.testid("register-person").select_option(label="Taru Moilanen (taru.moilanen@ranta.fi)")
    submit(web, web.testid("register-submit"))
    assert "already has a Maventa user" in notice(web)
    assert web.testid("api-key-state").inner_text() == "Tyhjä / empty"
    assert "Käyttäjän API-avain jäi tyhjäksi" in web.testid("mv2-message").inner_text()
    web.shot("04-mv2-api-key-stays-empty")

    # MV-4: the user copies the key and the UUID from Maventa and connects the existing account
    web.go("/maventa/")
    hamalainen = page.locator('[data-testid="maventa-company"][data-name="Hämäläinen ry Oy"]')
    key = hamalainen.get_by_test_id("maventa-user-api-key").first.inner_text()
    uuid = hamalainen.get_by_test_id("maventa-company-uuid").inner_text()
    open_company(web, "Hämäläinen ry Oy")
    web.testid("user-api-key").fill("not-the-key")
    web.testid("company-uuid").fill(uuid)
    submit(web, web.testid("connect-submit"))
    assert "did not accept" in web.testid("error-connect-user_api_key").inner_text()  # next to the field
    web.testid("user-api-key").fill(key)
    web.testid("company-uuid").fill(uuid)
    submit(web, web.testid("connect-submit"))
    assert "accepted by Maventa" in notice(web)
    assert "CONNECTED" in web.testid("registration-state").inner_text()
    assert "VERIFIED" in web.testid("company-state").inner_text()
    web.shot("05-mv4-existing-account-connected")

    # MV-3: Lähetä autentikointipyyntö (bad address first: refused next to the field)
    open_company(web, "Ranta Oy")
    web.testid("approver").select_option(label="Tuomo Hannula (tuomo.hannula@ranta.fi)")
    web.testid("auth-extra-email").fill("not an address")
    submit(web, web.testid("auth-request-submit"))
    assert "is not an e-mail address" in web.testid("error-auth-extra_email").inner_text()
    web.testid("auth-extra-email").fill("")
    web.testid("auth-email").fill("tuomo.hannula@ranta.fi")
    web.testid("auth-language").select_option("FI")
    submit(web, web.testid("auth-request-submit"))
    assert "authentication request was sent to tuomo.hannula@ranta.fi" in notice(web)
    assert web.testid("auth-state").inner_text().split()[0] in ("SENT", "PENDING")
    assert web.testid("settings-locked").is_visible()
    web.shot("06-mv3-authentication-request-sent")

    # the invitation to sign is in the one inbox (Maventa's outbox)
    web.go("/posti/")
    web.page.get_by_test_id("mail-item").filter(has_text="Allekirjoituspyyntö").first.click()
    page.wait_for_load_state("load")
    assert "Allekirjoituspyyntö" in web.testid("mail-subject").inner_text()
    assert "tuomo.hannula@ranta.fi" in web.testid("mail-to").inner_text()
    web.shot("07-mail-invitation-to-sign")

    # the approver signs at Maventa (the actor), then Päivitä in Severa
    web.go("/maventa/")
    ranta = page.locator(f'[data-testid="maventa-company"][data-id="{ranta_uuid}"]')
    submit(web, ranta.get_by_test_id("sign-as-approver"))
    ranta = page.locator(f'[data-testid="maventa-company"][data-id="{ranta_uuid}"]')
    assert "VERIFIED" in ranta.get_by_test_id("maventa-company-state").inner_text()
    web.shot("08-maventa-approver-signed")
    open_company(web, "Ranta Oy")
    submit(web, web.testid("refresh"))
    assert "is authenticated" in notice(web)
    assert web.testid("verified-note").is_visible()
    web.shot("09-mv3-refreshed-verified")

    # MV-7: Maventa's own setting "Käytä omia PDF:iä tulostuspalvelussa" and the print service
    web.go("/maventa/")
    ranta = page.locator(f'[data-testid="maventa-company"][data-id="{ranta_uuid}"]')
    ranta.get_by_test_id("maventa-settings-open").click()
    ranta.get_by_test_id("print-enabled").check()
    ranta.get_by_test_id("use-own-pdf").check()
    submit(web, ranta.get_by_test_id("maventa-settings-save"))
    assert "sending settings saved" in notice(web)

    # MV-6 ... MV-12: the settings (a bad notification address first, refused next to the field)
    open_company(web, "Ranta Oy")
    web.testid("send-original-pdf").check()
    web.testid("send-by-email").check()
    web.testid("notification-email").fill("virheet")
    web.testid("status-to-transfer").select_option(label="Odottaa siirtoa Maventaan")
    web.testid("status-after-transfer").select_option(label="Siirretty Maventaan (Lähetetty)")
    web.testid("status-after-error").select_option(label="Maventa-virhe")
    submit(web, web.testid("settings-submit"))
    assert "is not an e-mail address" in web.testid("error-settings-notification_email").inner_text()
    assert web.testid("send-original-pdf").is_checked()  # what was entered is kept
    web.testid("notification-email").fill("virheet@ranta.fi")
    submit(web, web.testid("settings-submit"))
    assert "settings saved" in notice(web)
    assert web.testid("notification-email").input_value() == "virheet@ranta.fi"
    web.shot("10-mv6-mv12-settings-saved")

    # MV-14: the status to transfer is flagged "Lähetetty": the toggle shows Severa's error
    set_sent_flag(web, "Odottaa siirtoa Maventaan", True)
    web.shot("11-laskun-tilat-sent-flag-on")
    open_company(web, "Ranta Oy")
    assert web.testid("sent-flag-warning").is_visible()
    submit(web, web.testid("activation-toggle"))
    assert (
        web.testid("error-activation-active").inner_text()
        == "Status of invoices to be transferred can not be sent"
    )
    assert web.testid("activation-toggle").get_attribute("aria-checked") == "false"
    web.shot("12-mv14-activation-refused")

    # ... the fix: clear the flag, save, switch on (MV-13)
    submit(web, web.testid("sent-flag-help-link"))
    set_sent_flag(web, "Odottaa siirtoa Maventaan", False)
    open_company(web, "Ranta Oy")
    submit(web, web.testid("activation-toggle"))
    assert "synchronisation on" in notice(web)
    assert web.testid("activation-toggle").get_attribute("aria-checked") == "true"
    web.shot("13-mv13-synchronisation-on")

    # the worker sends the waiting invoices: e-invoice, e-mail and print (own PDF: cover page)
    expected = {10001: "EINVOICE", 10002: "EMAIL", 10003: "PRINT"}

    def delivered() -> bool:
        return all(
            maventa_invoice(web, n).count() == 1
            and maventa_invoice(web, n).get_attribute("data-status") == "DELIVERED"
            for n in expected
        )

    wait_until(web, "/maventa/", delivered, what="10001-10003 delivered at Maventa")
    for number, channel in expected.items():
        assert maventa_invoice(web, number).get_attribute("data-channel") == channel
    job = page.locator('[data-testid="print-job"][data-invoice="10003"]')
    assert int(job.get_by_test_id("print-pages").inner_text()) >= 2
    assert job.get_by_test_id("print-cover").inner_text().startswith("kyllä")
    assert "EUR" in job.get_by_test_id("print-charge").inner_text()
    assert page.locator('[data-testid="outbox-email"][data-purpose="invoice"]').count() >= 1
    web.shot("14-maventa-delivered-einvoice-email-print")

    # Severa: the invoices are in the status after transfer (filter by status)
    def transferred() -> bool:
        return {r.get_attribute("data-number") for r in web.testid("invoice-row").all()} >= {
            "10001",
            "10002",
            "10003",
        }

    statuses = {s["name"]: s["guid"] for s in _statuses(sandbox)}
    wait_until(
        web, f"/severa/laskut?tila={statuses['Siirretty Maventaan']}", transferred, what="Siirretty Maventaan"
    )
    web.shot("15-laskut-siirretty-maventaan")

    # the transfer log of the company tells the same
    open_company(web, "Ranta Oy")
    log = " ".join(web.testid("log-row").all_inner_texts())
    assert "Synchronisation switched on" in log
    assert "Status of invoices to be transferred can not be sent" in log
    web.shot("16-company-transfer-log")

    # MV-12 and MV-9: a new invoice; the recipient's network fails it; the error status and the mail
    web.go("/severa/laskut")
    web.testid("new-customer").select_option(option_value(web, "new-customer", "Salo Oy"))
    web.testid("new-unit").select_option(label="Ranta Oy")
    web.testid("new-status").select_option(label="Odottaa siirtoa Maventaan")
    web.testid("new-row1-item").select_option(label="Konsultointi, kiinteä hinta (KONS)")
    web.testid("new-row1-quantity").fill("kaksi")
    submit(web, web.testid("new-invoice-submit"))
    assert "expected a number" in web.testid("error-new-row1_quantity").inner_text()
    web.testid("new-row1-quantity").fill("2")
    submit(web, web.testid("new-invoice-submit"))
    number = int(re.search(r"new invoice (\d+)", notice(web)).group(1))  # type: ignore[union-attr]
    wait_until(
        web,
        "/maventa/",
        lambda: (
            maventa_invoice(web, number).count() == 1
            and maventa_invoice(web, number).get_by_test_id("fail-delivery").count() == 1
        ),
        what=f"{number} pending at Maventa",
    )
    row = maventa_invoice(web, number)
    row.get_by_test_id("fail-message").fill("Vastaanottajan verkkolaskuosoite ei ole käytössä")
    submit(web, row.get_by_test_id("fail-delivery"))
    wait_until(
        web,
        f"/severa/laskut?tila={statuses['Maventa-virhe']}",
        lambda: web.page.locator(f'[data-testid="invoice-row"][data-number="{number}"]').count() == 1,
        what=f"{number} in Maventa-virhe",
    )
    web.shot("17-mv12-invoice-in-error-status")
    web.go("/posti/")
    item = web.testid("mail-item").filter(has_text=str(number)).filter(has_text="virheet@ranta.fi").first
    submit(web, item.locator("a"))
    assert "virheet@ranta.fi" in web.testid("mail-to").inner_text()
    assert "Vastaanottajan verkkolaskuosoite ei ole käytössä" in web.testid("mail-body").inner_text()
    web.shot("18-mv9-error-notification-mail")

    # one invoice's journey across the services, in time order
    guid = next(g for g, i in sandbox.w.severa_sim.main.org.invoices.items() if i.number == 10003)
    web.go(f"/severa/laskut/{guid}")
    services = [e.get_attribute("data-service") for e in web.testid("journey-event").all()]
    text = " ".join(web.testid("journey-event").all_inner_texts())
    assert {"severa", "bridge", "maventa"} <= set(services)
    assert "print job" in text and "Siirretty Maventaan" in text
    web.shot("19-journey-of-10003")


def _statuses(sandbox: Sandbox) -> list[dict[str, Any]]:
    from sandbox.dashboard import readouts

    return readouts.severa_statuses(sandbox.w)
