"""End-to-end details of the Severa → Maventa behaviours (SPEC §2, MV-1 ... MV-14) against the simulators.

The plain story of each behaviour is a scenario (`scenarios/catalogue/mv*.yaml`); these tests pin
the details a scenario would only clutter (exact form fields, PDF contents, refusals of bad input).
Each test drives the bridge the way a user drives Severa's settings page (Asetukset >
Integraatiot > Maventa/AutoInvoice) and the transfer passes, and asserts what a person can see:
statuses in Severa, invoices, channels and documents in Maventa, the e-mails and print jobs in
Maventa's outbox, the notification e-mails in the SMTP mailbox, the transfer log (siirtoloki) and
the exact texts of refusals. Test names start with the behaviour ID they cover.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from bridge.connectors.maventa.integration import SENT_FLAG_ERROR, IntegrationError, MaventaIntegration
from bridge.store import (
    AuthState,
    CompanyState,
    LedgerEntry,
    LedgerState,
    LogLevel,
    RegistrationState,
    SendingCompany,
)
from simulators.mailbox import MailboxSimulator
from simulators.maventa import MaventaSimulator
from simulators.severa import SeveraSimulator
from tests.bridge.world import (
    AFTER_ERROR,
    AFTER_TRANSFER,
    DRAFT,
    SEVERA_ROOT,
    TO_TRANSFER,
    World,
    connect_demo_unit,
)

RANTA = "Ranta Oy"  # the main unit (Y-tunnus 2615835-9), not yet at Maventa in the demo
HAMALAINEN = "Hämäläinen ry Oy"  # the second unit acting as its own company, VERIFIED at Maventa
KONSULTOINTI = "Konsultointi"  # a unit without a business ID
EXISTING_MAVENTA_USER = "juhani.huuskonen@ranta.fi"  # has a Maventa user already (MV-2)
HAMALAINEN_USER = "taru.moilanen@ranta.fi"  # the Maventa user of Hämäläinen ry Oy
RANTA_BID = "2615835-9"
HAMALAINEN_BID = "1916215-7"
PRINT_NOT_ENABLED = "The invoice could not be sent to the print service. Print service is not enabled"
# the demo invoices waiting in the transfer status, by what their customer can receive
EINVOICE_CUSTOMER, EMAIL_CUSTOMER, PAPER_CUSTOMER = 10001, 10002, 10003
HAMALAINEN_INVOICE = 10004  # issued by the second unit


@pytest.fixture(scope="module")
def sims() -> Iterator[tuple[SeveraSimulator, MaventaSimulator, MailboxSimulator]]:
    """One set of simulators per module (their Flask apps are the slow part); reset per test."""
    box = MailboxSimulator()
    box.start_smtp()
    try:
        yield SeveraSimulator(seed=0), MaventaSimulator(), box
    finally:
        box.stop_smtp()


def _fresh_world(sims: tuple[SeveraSimulator, MaventaSimulator, MailboxSimulator], *, mailbox: bool) -> World:
    """A fresh world (demo presets, new bridge store) on this process's reused simulators; the
    Maventa integration only (these tests count every status change in Severa)."""
    return World.build(mailbox=sims[2] if mailbox else None, reuse=True, maestro=False)


@pytest.fixture
def w(sims: tuple[SeveraSimulator, MaventaSimulator, MailboxSimulator]) -> World:
    return _fresh_world(sims, mailbox=False)


@pytest.fixture
def wm(sims: tuple[SeveraSimulator, MaventaSimulator, MailboxSimulator]) -> World:
    """A world whose notifier talks SMTP to the sandbox mailbox."""
    return _fresh_world(sims, mailbox=True)


# ---------------------------------------------------------------------- what a person sees
def outbox(w: World, **filters: str) -> list[dict[str, Any]]:
    """Maventa's outbox (``GET /_sim/outbox``): e-mails and print jobs it sent."""
    resp = w.maventa_actor("GET", "/_sim/outbox", params=filters)
    assert resp.status_code == 200, resp.text
    messages: list[dict[str, Any]] = resp.json()["messages"]
    return messages


def invitations(w: World) -> list[dict[str, Any]]:
    return outbox(w, purpose="authorization_invitation")


def outbox_file(w: World, message: dict[str, Any], index: int) -> bytes:
    href = str(message["attachments"][index]["href"])
    resp = w.maventa_actor("GET", href[href.index("/_sim/") :])
    assert resp.status_code == 200
    return bytes(resp.content)


def sign(w: World, company_uuid: str | None) -> int:
    """The approver signs the agreement with strong identification (Maventa actor)."""
    return int(w.maventa_actor("POST", f"/_sim/companies/{company_uuid}/authorization/sign").status_code)


def cancel(w: World, company_uuid: str | None) -> int:
    """The approver declines to sign (Maventa actor)."""
    return int(w.maventa_actor("POST", f"/_sim/companies/{company_uuid}/authorization/cancel").status_code)


def maventa_credentials(w: World, email: str) -> tuple[str, str | None]:
    """(user API key, first company UUID) of a Maventa user, as Maventa's settings show them."""
    for user in w.maventa_sim.credentials()["users"]:
        if user["email"] == email:
            ids = user["company_ids"]
            return str(user["user_api_key"]), (str(ids[0]) if ids else None)
    raise KeyError(email)


def maventa_company_uuid(w: World, bid: str) -> str | None:
    found = [c["id"] for c in w.maventa_sim.credentials()["companies"] if c["bid"] == bid]
    return str(found[0]) if found else None


def maventa_invoices(w: World, company_uuid: str | None = None) -> list[Any]:
    return [i for i in w.maventa_invoices() if company_uuid is None or i.company_id == company_uuid]


def maventa_invoice(w: World, number: int | str) -> Any:
    found = [i for i in w.maventa_invoices() if i.number == str(number)]
    assert len(found) == 1, f"expected one Maventa invoice number {number}, found {len(found)}"
    return found[0]


def maventa_uploads(w: World) -> dict[str, dict[str, list[str]]]:
    """The form fields of every invoice upload Maventa accepted (``POST /v1/invoices``, 201), by
    send uuid, as Maventa's request journal recorded them (``GET /_sim/journal``): what Maventa
    actually received, not what the bridge meant to send. ``disabled_routes[]`` and the repeated
    ``disabled_routes`` style are both listed under ``disabled_routes``."""
    resp = w.maventa_actor("GET", "/_sim/journal", params={"method": "POST", "path": "/v1/invoices"})
    assert resp.status_code == 200, resp.text
    uploads: dict[str, dict[str, list[str]]] = {}
    for entry in resp.json()["entries"]:
        if entry["path"] != "/v1/invoices" or entry["status"] != 201:
            continue
        body = str(entry["request_body"])
        assert body.startswith("multipart: "), body
        fields: dict[str, list[str]] = {}
        for part in body.removeprefix("multipart: ").split("&"):
            name, _, value = part.partition("=")
            if name != "file":
                fields.setdefault(name.removesuffix("[]"), []).append(value)
        [uuid] = fields.pop("uuid")
        assert uuid not in uploads, f"Maventa accepted two uploads with the uuid {uuid}"
        uploads[uuid] = fields
    return uploads


def upload_of(w: World, number: int | str) -> dict[str, list[str]]:
    """The form fields of the upload Maventa accepted for the current send of an invoice."""
    uploads = maventa_uploads(w)
    uuid = ledger(w, number).idempotency_key
    assert uuid in uploads, f"Maventa accepted no upload of invoice {number} (uuid {uuid})"
    return uploads[uuid]


def severa_invoice(w: World, number: int | str) -> dict[str, Any]:
    """A Severa invoice by number, over the REST API."""
    for inv in w.severa.iter_invoices():
        if str(inv.get("number")) == str(number):
            return w.severa.get_invoice(str(inv["guid"]))
    raise KeyError(number)


def pdf_in_severa(w: World, number: int) -> bytes:
    return w.severa.get_invoice_pdf(str(severa_invoice(w, number)["guid"]))


def pdf_text(pdf: bytes) -> list[str]:
    """The text of every page (Severa stamps each rendering with its time, so bytes differ)."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def customer_of(w: World, number: int) -> dict[str, Any]:
    return w.severa.get_customer(str(severa_invoice(w, number)["customer"]["guid"]))


def status_guid(w: World, name: str) -> str:
    return next(str(s["guid"]) for s in w.severa.list_invoice_statuses() if s["name"] == name)


def move_invoice(w: World, guid_or_number: int | str, status: str) -> int:
    """The user changes an invoice's status in Severa; returns its number."""
    guid = (
        str(guid_or_number)
        if isinstance(guid_or_number, str)
        else str(severa_invoice(w, guid_or_number)["guid"])
    )
    return int(w.severa.set_invoice_status(guid, status_guid(w, status))["number"])


def ledger(w: World, number: int | str) -> LedgerEntry:
    found = [e for e in w.store.ledger.in_state() if e.invoice_number == str(number)]
    assert len(found) == 1, f"expected one ledger row for invoice {number}, found {found}"
    return found[0]


def log_texts(w: World, company: SendingCompany | None = None) -> list[str]:
    entries = w.store.log.entries(
        connector="maventa" if company else None,
        account=str(company.id) if company else None,
        limit=None,
        newest_first=False,
    )
    return [e.message for e in entries]


def drain(w: World) -> None:
    """Transfer passes, with Maventa's delivery time passing, until everything has settled."""
    w.settle()


def severa_admin(w: World, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A Severa REST call by the organisation's admin (every scope), e.g. invoice status settings."""
    client = w.severa_sim.credentials()["clients"][0]
    with w.severa_sim.client(base_url=SEVERA_ROOT) as http:
        answer = http.post(
            SEVERA_ROOT + "/v1/token",
            json={
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "scope": " ".join(client["scopes"]),
            },
        )
        assert answer.status_code == 200, answer.text
        headers = {
            "Authorization": f"Bearer {answer.json()['access_token']}",
            "Client_Id": client["client_id"],
        }
        return http.request(method, SEVERA_ROOT + path, headers=headers, **kwargs)


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(IntegrationError) as info:
        call(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------- the settings page, step by step
def severa_user_email(w: World) -> str:
    """A Severa user of the demo organisation who has no Maventa user yet."""
    return next(
        str(u["email"])
        for u in w.severa.iter_users()
        if u.get("email") and u["email"] not in (EXISTING_MAVENTA_USER, HAMALAINEN_USER)
    )


def register_verified(w: World, unit: str = RANTA, *, approver: str = "hyvaksyja@ranta.fi") -> SendingCompany:
    """MV-1 + MV-3: register, send the authentication request, the approver signs, Refresh."""
    result = w.integration.register(unit, severa_user_email(w))
    assert result.key_returned, result.message
    company = w.integration.send_authentication_request(unit, approver)
    assert sign(w, company.maventa_company_uuid) == 200
    return w.integration.refresh(unit)


def configure(
    w: World,
    unit: str = RANTA,
    *,
    send_original_pdf: bool = False,
    send_by_email: bool = False,
    notification_email: str | None = None,
    status_to_transfer: str = TO_TRANSFER,
    status_after_transfer: str = AFTER_TRANSFER,
    status_after_error: str = AFTER_ERROR,
) -> SendingCompany:
    return w.integration.save_settings(
        unit,
        send_original_pdf=send_original_pdf,
        send_by_email=send_by_email,
        notification_email=notification_email,
        status_to_transfer=status_to_transfer,
        status_after_transfer=status_after_transfer,
        status_after_error=status_after_error,
    )


def ready(w: World, unit: str = RANTA, **settings: Any) -> SendingCompany:
    """Registered (Ranta Oy) or connected (Hämäläinen ry Oy), verified, configured, switched on."""
    if unit == HAMALAINEN:
        connect_demo_unit(w, unit)
    else:
        register_verified(w, unit)
    configure(w, unit, **settings)
    company = w.integration.activate(unit)
    w.companies[unit] = company
    return company


def maventa_settings(w: World, company: SendingCompany, changes: dict[str, Any]) -> None:
    """The company's admin changes its settings in Maventa (PATCH /v1/company/settings)."""
    w.integration.client_for(company).update_settings(changes)


# ====================================================================== MV-1 register a new account


def test_mv1_user_api_key_never_appears_in_logs_or_repr(w: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    company = register_verified(w)
    configure(w, notification_email="virheet@ranta.fi")
    w.integration.activate(RANTA)
    drain(w)
    with pytest.raises(IntegrationError) as refusal:
        w.integration.register(RANTA, severa_user_email(w))
    assert company.maventa_api_key is not None
    key = company.maventa_api_key.reveal()
    stored = w.store.companies.get(company.id)
    shown = [
        repr(company),
        str(company),
        repr(stored),
        repr(w.integration.client_for(stored)),
        str(w.integration.prefill(RANTA)),
        str(refusal.value),
        caplog.text,
        *log_texts(w),
        *(repr(e) for e in w.store.ledger.in_state()),
    ]
    assert caplog.records, "the bridge logged nothing: the check would be empty"
    assert not [text for text in shown if key in text]


# ====================================================================== MV-2 registrant already has a Maventa user


def test_mv2_then_mv4_copying_key_and_uuid_from_maventa_completes_the_setup(w: World) -> None:
    w.integration.register(RANTA, EXISTING_MAVENTA_USER)
    # in Maventa, with the existing account: finish the new organisation (stand-in for Maventa's UI)
    key, _ = maventa_credentials(w, EXISTING_MAVENTA_USER)
    uuid = w.maventa.create_company(
        user_api_key=key,
        name=RANTA,
        bid="FI26158359",
        address1="Rantatie 1",
        post_code="00100",
        post_office="HELSINKI",
        city="Helsinki",
        country="FI",
        email=EXISTING_MAVENTA_USER,
    )
    company = w.integration.connect(RANTA, key, uuid, approver_email="hyvaksyja@ranta.fi")

    assert company.registration_state is RegistrationState.CONNECTED
    assert company.auth_state is AuthState.SENT and company.company_state is CompanyState.UNVERIFIED
    assert [m["to"] for m in invitations(w)] == [["hyvaksyja@ranta.fi"]]
    assert sign(w, uuid) == 200
    assert w.integration.refresh(RANTA).verified
    configure(w)
    w.integration.activate(RANTA)
    drain(w)
    assert maventa_invoice(w, EINVOICE_CUSTOMER).company_id == uuid
    assert w.severa_status_of(EINVOICE_CUSTOMER) == AFTER_TRANSFER


# ====================================================================== MV-3 authentication request
@pytest.mark.parametrize(
    ("locale", "subject_start"),
    [("FI", "Allekirjoituspyyntö"), ("SE", "Signeringsbegäran"), ("EN", "Signing request")],
)
def test_mv3_invitation_goes_to_the_approver_and_a_second_address_in_the_chosen_language(
    w: World, locale: str, subject_start: str
) -> None:
    w.integration.register(RANTA, severa_user_email(w))
    company = w.integration.send_authentication_request(
        RANTA, "toimitusjohtaja@ranta.fi", "talous@ranta.fi", locale=locale
    )

    assert company.auth_state is AuthState.SENT and company.company_state is CompanyState.UNVERIFIED
    assert company.auth_email == "toimitusjohtaja@ranta.fi"
    sent_to = invitations(w)
    assert sorted(r for m in sent_to for r in m["to"]) == ["talous@ranta.fi", "toimitusjohtaja@ranta.fi"]
    for m in sent_to:
        assert str(m["subject"]).startswith(subject_start) and RANTA in str(m["subject"])
        assert m["company_id"] == company.maventa_company_uuid
    assert "Authentication request sent to toimitusjohtaja@ranta.fi, talous@ranta.fi" in log_texts(w, company)


def test_mv3_cancelled_signing_gives_canceled_and_a_new_request_can_be_sent(w: World) -> None:
    w.integration.register(RANTA, severa_user_email(w))
    company = w.integration.send_authentication_request(RANTA, "hyvaksyja@ranta.fi")
    assert company.maventa_company_uuid
    assert cancel(w, company.maventa_company_uuid) == 200

    cancelled = w.integration.refresh(RANTA)
    assert cancelled.auth_state is AuthState.CANCELED and not cancelled.verified
    assert "(state CANCELED)" in refused(configure, w)
    again = w.integration.send_authentication_request(RANTA, "toinen.hyvaksyja@ranta.fi")
    assert again.auth_state is AuthState.SENT
    assert [m["to"] for m in invitations(w)][-1] == ["toinen.hyvaksyja@ranta.fi"]
    assert sign(w, company.maventa_company_uuid) == 200
    assert w.integration.refresh(RANTA).verified


def test_mv3_the_approver_is_required(w: World) -> None:
    w.integration.register(RANTA, severa_user_email(w))
    message = refused(w.integration.send_authentication_request, RANTA, None)
    assert message == "Choose the approver (a person with the right to sign) and their e-mail"
    assert invitations(w) == []


# ====================================================================== MV-4 connect an existing account
def test_mv4_connecting_the_verified_demo_account_needs_no_new_authentication(w: World) -> None:
    key, uuid = maventa_credentials(w, HAMALAINEN_USER)
    company = w.integration.connect(HAMALAINEN, key, uuid)

    assert company.registration_state is RegistrationState.CONNECTED
    assert company.verified and company.auth_state is AuthState.SIGNED
    assert company.maventa_company_uuid == uuid
    assert invitations(w) == []  # already verified: no request goes out
    # "used before": both fields prefilled, the key masked; connecting with them as they are works
    shown = w.integration.prefill(HAMALAINEN)
    assert shown == {"company_uuid": uuid, "user_api_key": "***"}
    assert key not in str(shown)
    again = w.integration.connect(HAMALAINEN, "", "")
    assert again.maventa_company_uuid == uuid and again.verified


@pytest.mark.parametrize("wrong", ["key", "uuid", "both"])
def test_mv4_wrong_key_or_uuid_is_refused_clearly_and_nothing_is_stored(w: World, wrong: str) -> None:
    key, uuid = maventa_credentials(w, HAMALAINEN_USER)
    bad_key = "0" * 36 if wrong in ("key", "both") else key
    bad_uuid = "11111111-2222-4333-8444-555555555555" if wrong in ("uuid", "both") else uuid
    message = refused(w.integration.connect, HAMALAINEN, bad_key, bad_uuid)

    assert message.startswith(
        "Maventa did not accept the user API key and company UUID: check that both are copied from the "
        "settings of this company's own Maventa account"
    )
    assert bad_key not in message
    assert w.integration.prefill(HAMALAINEN) == {"company_uuid": None, "user_api_key": None}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad_key=st.text(alphabet="0123456789abcdef-", min_size=1, max_size=40))
def test_mv4_any_other_key_isrefused(w: World, bad_key: str) -> None:
    key, uuid = maventa_credentials(w, HAMALAINEN_USER)
    if bad_key.strip() == key:
        return
    message = refused(w.integration.connect, HAMALAINEN, bad_key, uuid)
    assert message.startswith("Maventa did not accept the user API key and company UUID")
    assert w.integration.prefill(HAMALAINEN)["user_api_key"] is None


def test_mv4_an_account_of_another_business_id_isrefused(w: World) -> None:
    key, uuid = maventa_credentials(w, HAMALAINEN_USER)
    message = refused(w.integration.connect, RANTA, key, uuid)
    assert (
        message == f"The Maventa account belongs to business ID {HAMALAINEN_BID}, but {RANTA} has {RANTA_BID}"
    )


def test_mv4_an_unverified_account_gets_the_authentication_request_automatically(w: World) -> None:
    # registered earlier (say from another Severa environment), never signed
    w.integration.register(RANTA, severa_user_email(w))
    key, uuid = maventa_credentials(w, severa_user_email(w))
    assert uuid is not None
    fresh = World.build()  # a new Severa settings page: only the key and UUID are known
    page = MaventaIntegration(fresh.severa, w.maventa, fresh.store)

    company = page.connect(RANTA, key, uuid)

    assert company.auth_state is AuthState.SENT and not company.verified
    sent_to = invitations(w)
    assert len(sent_to) == 1
    # no approver was chosen: the request goes to the Maventa user whose key was given
    assert sent_to[0]["to"] == [severa_user_email(w)]
    assert company.auth_email == severa_user_email(w)


# ====================================================================== MV-5 organisation-unit hierarchy
def test_mv5_only_units_with_a_business_id_are_sending_companies(w: World) -> None:
    companies = {c.name: c.business_id for c in w.integration.companies()}
    assert companies == {RANTA: RANTA_BID, HAMALAINEN: HAMALAINEN_BID}
    assert w.integration.units_without_business_id() == [KONSULTOINTI]
    expected = (
        f"business unit {KONSULTOINTI!r} has no business ID (Y-tunnus); only a unit with its own business ID "
        "can be set up as a sending company in Maventa. Add the business ID in Severa first."
    )
    assert refused(w.integration.company, KONSULTOINTI) == expected
    assert refused(w.integration.register, KONSULTOINTI, severa_user_email(w)) == expected
    key, uuid = maventa_credentials(w, HAMALAINEN_USER)
    assert refused(w.integration.connect, KONSULTOINTI, key, uuid) == expected
    assert "No business unit 'Ei ole' in Severa" in refused(w.integration.company, "Ei ole")


def test_mv5_an_inactive_unit_does_not_send_the_other_units_invoices(w: World) -> None:
    ready(w, RANTA)
    connect_demo_unit(w)  # connected and verified, but not configured or active
    drain(w)
    assert sorted(i.number for i in w.maventa_invoices()) == ["10001", "10002", "10003"]
    assert w.severa_status_of(HAMALAINEN_INVOICE) == TO_TRANSFER


def test_mv5_a_unit_without_business_id_invoices_through_its_company(w: World) -> None:
    """Konsultointi has no business ID: its invoice goes out under its company's (Ranta Oy's)
    Maventa account and business ID. The one outcome is the error status: the demo draft of
    Konsultointi is for demo customer 5 (Liukkonen Oy, kind "none" in the Severa preset: no
    e-invoice address, no e-mail), so with no e-invoice address or e-mail Maventa's only route is
    its print service, which a newly registered account (``ready``) has off: Maventa takes the
    invoice, fails it with its "Print service is not enabled" message, and the bridge moves it to
    the after-error status. (AFTER_TRANSFER here would mean the bridge lost a delivery error.)"""
    draft = w.invoice_guids_in("Luonnos", unit=KONSULTOINTI)[0]
    ready(w, RANTA, send_by_email=True)
    number = move_invoice(w, draft, TO_TRANSFER)
    drain(w)

    sent = maventa_invoice(w, number)
    assert sent.company_id == w.companies[RANTA].maventa_company_uuid
    assert sent.sender["bid"] == RANTA_BID
    assert ledger(w, number).account == str(w.companies[RANTA].id)
    # the transfer itself went through Ranta Oy's account; the delivery then fails at Maventa
    customer = customer_of(w, number)
    assert not customer.get("email") and not customer.get("eInvoiceAddress")
    assert sent.status == "FAILED"
    assert ledger(w, number).last_error == PRINT_NOT_ENABLED
    assert w.severa_status_of(number) == AFTER_ERROR


# ====================================================================== MV-6 send the original invoice PDF
def test_mv6_pdf_on_maventa_gets_the_severa_pdf_as_the_invoice_image(w: World) -> None:
    severa_pdf = pdf_text(pdf_in_severa(w, EMAIL_CUSTOMER))  # as Severa shows it when it is sent
    assert f"Laskun numero {EMAIL_CUSTOMER}" in severa_pdf[0]
    ready(w, send_original_pdf=True, send_by_email=True)
    drain(w)

    sent = maventa_invoice(w, EMAIL_CUSTOMER)
    images = [f for f in sent.files if f.type == "INVOICE_IMAGE"]
    assert len(images) == 1 and images[0].mimetype == "application/pdf"
    assert pdf_text(images[0].content) == severa_pdf
    assert [f.type for f in sent.files if f.type == "INVOICE_XML"] == ["INVOICE_XML"]
    # the customer sees the invoice as in Severa: the e-mail carries Severa's own PDF
    mail = outbox(w, purpose="invoice", invoice_id=sent.id)
    assert len(mail) == 1
    assert pdf_text(outbox_file(w, mail[0], 0)) == severa_pdf


def test_mv6_pdf_off_only_the_invoice_data_goes_and_maventa_renders_it(w: World) -> None:
    ready(w, send_original_pdf=False, send_by_email=True)
    drain(w)

    sent = maventa_invoice(w, EMAIL_CUSTOMER)
    assert [f.type for f in sent.files if f.type != "GENERATED_IMAGE"] == ["INVOICE_XML"]
    assert sent.files[0].content.lstrip().startswith(b"<?xml")
    mail = outbox(w, purpose="invoice", invoice_id=sent.id)
    attachment = outbox_file(w, mail[0], 0)
    assert attachment.startswith(b"%PDF")
    assert pdf_text(attachment) != pdf_text(pdf_in_severa(w, EMAIL_CUSTOMER))


def test_mv6_the_upload_is_a_zip_of_xml_and_pdf_only_when_on(w: World) -> None:
    uploads: list[bytes] = []
    original = w.maventa.http.request

    def spy(method: str, path: str, **kwargs: object) -> object:
        if method == "POST" and path == "/v1/invoices":
            files = kwargs["files"]
            assert isinstance(files, list)
            uploads.append(files[0][1][1])
        return original(method, path, **kwargs)  # type: ignore[arg-type]

    w.maventa.http.request = spy  # type: ignore[method-assign]
    ready(w, send_original_pdf=True)
    w.engine.run_once()
    assert len(uploads) == 3
    for blob in uploads:
        names = zipfile.ZipFile(io.BytesIO(blob)).namelist()
        assert len(names) == 2 and {n.rsplit(".", 1)[1] for n in names} == {"xml", "pdf"}
        assert names[0].rsplit(".", 1)[0] == names[1].rsplit(".", 1)[0]


# ====================================================================== MV-7 print service with own PDFs
def _print_world(w: World, *, use_own_pdf: bool) -> list[str]:
    """Print enabled in Maventa, the Severa PDF sent (MV-6), the passes run; returns the text of
    the paper customer's invoice PDF as Severa showed it when it was sent."""
    severa_pdf = pdf_text(pdf_in_severa(w, PAPER_CUSTOMER))
    company = register_verified(w)
    maventa_settings(w, company, {"send_invoice_print": {"enabled": True, "use_own_pdf": use_own_pdf}})
    configure(w, send_original_pdf=True)
    w.integration.activate(RANTA)
    drain(w)
    return severa_pdf


def test_mv7_own_pdfs_in_print_service_add_a_cover_page_and_every_page_is_charged(w: World) -> None:
    severa_pdf = _print_world(w, use_own_pdf=True)

    sent = maventa_invoice(w, PAPER_CUSTOMER)
    assert sent.status == "DELIVERED" and sent.destination == "PRINT"
    assert ledger(w, PAPER_CUSTOMER).remote_detail == "PRINT"
    assert w.severa_status_of(PAPER_CUSTOMER) == AFTER_TRANSFER
    jobs = outbox(w, kind="print", invoice_id=sent.id)
    assert len(jobs) == 1
    job = jobs[0]["print_job"]
    assert job["cover_page"] is True and job["own_image"] is True
    assert job["pages"] >= 2
    assert job["charge"]["pages_billed"] == job["pages"]
    names = [a["filename"] for a in jobs[0]["attachments"]]
    assert names[0] == "cover_page.pdf"
    assert pdf_text(outbox_file(w, jobs[0], 1)) == severa_pdf
    customer_address = w.severa.list_customer_addresses(
        str(severa_invoice(w, PAPER_CUSTOMER)["customer"]["guid"])
    )
    assert str(customer_address[0]["addressline"]) in jobs[0]["to"]


def test_mv7_without_the_own_pdf_setting_maventa_prints_its_own_rendering(w: World) -> None:
    _print_world(w, use_own_pdf=False)

    sent = maventa_invoice(w, PAPER_CUSTOMER)
    job = outbox(w, kind="print", invoice_id=sent.id)[0]
    assert job["print_job"]["cover_page"] is False and job["print_job"]["own_image"] is False
    assert [a["filename"] for a in job["attachments"]] != ["cover_page.pdf"]
    assert all(a["filename"] != "cover_page.pdf" for a in job["attachments"])


# ====================================================================== MV-8 send invoices by e-mail
def test_mv8_on_the_customer_email_goes_with_the_invoice(w: World) -> None:
    ready(w, send_by_email=True)
    drain(w)

    customer = w.severa.get_customer(str(severa_invoice(w, EMAIL_CUSTOMER)["customer"]["guid"]))
    sent = maventa_invoice(w, EMAIL_CUSTOMER)
    assert sent.destination == "EMAIL" and ledger(w, EMAIL_CUSTOMER).remote_detail == "EMAIL"
    assert customer["email"].encode() in sent.files[0].content  # in the Finvoice too
    mails = outbox(w, purpose="invoice", invoice_id=sent.id)
    assert [m["to"] for m in mails] == [[customer["email"]]]
    # a customer with an e-invoice address still gets an e-invoice
    assert maventa_invoice(w, EINVOICE_CUSTOMER).destination == "EINVOICE"


def test_mv8_off_customers_without_einvoice_address_go_to_print(w: World) -> None:
    company = register_verified(w)
    maventa_settings(w, company, {"send_invoice_print": {"enabled": True}})
    configure(w, send_by_email=False)
    w.integration.activate(RANTA)
    drain(w)

    sent = maventa_invoice(w, EMAIL_CUSTOMER)
    assert sent.destination == "PRINT" and ledger(w, EMAIL_CUSTOMER).remote_detail == "PRINT"
    customer = w.severa.get_customer(str(severa_invoice(w, EMAIL_CUSTOMER)["customer"]["guid"]))
    assert customer["email"].encode() not in sent.files[0].content
    assert outbox(w, purpose="invoice") == []  # no invoice went by e-mail
    assert len(outbox(w, kind="print")) == 2  # the e-mail customer and the paper customer
    assert maventa_invoice(w, EINVOICE_CUSTOMER).destination == "EINVOICE"


def test_mv8_on_maventa_receives_each_customers_email_as_recipient_email_and_no_disabled_route(
    w: World,
) -> None:
    """MV-8 on ("Lähetä laskut sähköpostilla"): the upload itself names the customer's e-mail
    (``recipient_email``), so Maventa can e-mail the invoice whatever the Finvoice carries, and no
    route is switched off. A customer without an e-mail address gets no ``recipient_email``."""
    ready(w, send_by_email=True)
    drain(w)

    for number in (EINVOICE_CUSTOMER, EMAIL_CUSTOMER):
        email = customer_of(w, number)["email"]
        assert email, f"the demo customer of invoice {number} has an e-mail address"
        fields = upload_of(w, number)
        assert fields.get("recipient_email") == [email], (number, fields)
        assert "disabled_routes" not in fields, (number, fields)
    assert not customer_of(w, PAPER_CUSTOMER).get("email")
    paper = upload_of(w, PAPER_CUSTOMER)
    assert "recipient_email" not in paper and "disabled_routes" not in paper
    assert len(maventa_uploads(w)) == 3


def test_mv8_off_every_upload_switches_the_email_route_off_and_names_no_email(w: World) -> None:
    """MV-8 off ("Lähetä laskut sähköpostilla"): every upload carries ``disabled_routes[]=email`` (so
    Maventa never e-mails, even to an address it finds in the invoice or its own data) and no
    ``recipient_email``, whatever the customer has."""
    ready(w, send_by_email=False)
    drain(w)

    uploads = maventa_uploads(w)
    assert len(uploads) == 3
    for number in (EINVOICE_CUSTOMER, EMAIL_CUSTOMER, PAPER_CUSTOMER):
        fields = upload_of(w, number)
        assert fields.get("disabled_routes") == ["email"], (number, fields)
        assert "recipient_email" not in fields, (number, fields)
    assert customer_of(w, EMAIL_CUSTOMER)["email"]  # the customer does have one
    assert maventa_invoice(w, EMAIL_CUSTOMER).destination != "EMAIL"


# ====================================================================== MV-9 notification address
def test_mv9_a_sending_error_is_emailed_to_the_notification_address(wm: World) -> None:
    ready(wm, send_by_email=True, notification_email="virheet@ranta.fi")
    drain(wm)
    drain(wm)  # more passes send nothing more

    assert wm.mailbox is not None
    mails = wm.mailbox.find(to="virheet@ranta.fi")
    assert len(mails) == 1
    mail = mails[0]
    assert mail.rcpt_tos == ["virheet@ranta.fi"]
    assert mail.subject == (
        f"Laskun {PAPER_CUSTOMER} lähetys epäonnistui / Sending invoice {PAPER_CUSTOMER} failed: {PRINT_NOT_ENABLED}"
    )
    assert f"Virhe:       {PRINT_NOT_ENABLED}" in mail.text
    assert f'The invoice was moved to the status "{AFTER_ERROR}"' in mail.text
    assert RANTA in mail.text
    assert f"Invoice {PAPER_CUSTOMER}: notification sent to virheet@ranta.fi" in log_texts(wm)


def test_mv9_the_notification_names_the_customer(wm: World) -> None:
    ready(wm, send_by_email=True, notification_email="virheet@ranta.fi")
    drain(wm)
    customer = customer_of(wm, PAPER_CUSTOMER)
    assert wm.mailbox is not None
    [mail] = wm.mailbox.find(to="virheet@ranta.fi")
    assert f"Customer:    {customer['name']}" in mail.text


def test_mv9_without_a_notification_address_nothing_is_mailed_and_the_log_says_so(wm: World) -> None:
    ready(wm, send_by_email=True)
    drain(wm)
    assert wm.mailbox is not None and wm.mailbox.find() == []
    assert f"Invoice {PAPER_CUSTOMER}: no notification address is set" in log_texts(wm)


def test_mv9_a_notification_address_must_be_an_email_address(w: World) -> None:
    register_verified(w)
    message = refused(configure, w, notification_email="virheet.ranta.fi")
    assert message == "Notification address 'virheet.ranta.fi' is not an e-mail address"


# ====================================================================== MV-10 status to transfer
def test_mv10_every_invoice_in_the_status_to_transfer_is_sent_and_no_other(w: World) -> None:
    waiting = sorted(i["number"] for i in w.invoices_in(TO_TRANSFER) if i["number"] != HAMALAINEN_INVOICE)
    others = {i["guid"]: i["status"]["name"] for i in w.severa.iter_invoices() if i["number"] not in waiting}
    ready(w, send_by_email=True)
    drain(w)

    assert sorted(int(i.number) for i in w.maventa_invoices()) == waiting == [10001, 10002, 10003]
    assert {i["guid"]: i["status"]["name"] for i in w.severa.iter_invoices() if i["guid"] in others} == others
    # an invoice the user moves into the status later goes on the next pass
    draft = next(
        i
        for i in w.invoices_in("Luonnos")
        if i["invoiceNumberBusinessUnitGuid"] == w.integration.company(RANTA).business_unit_guid
    )
    w.severa.set_invoice_status(str(draft["guid"]), status_guid(w, TO_TRANSFER))
    number = w.severa.get_invoice(str(draft["guid"]))["number"]
    drain(w)
    assert maventa_invoice(w, number).status == "DELIVERED"
    assert w.severa_status_of(number) == AFTER_TRANSFER


def test_mv10_a_status_created_for_the_integration_can_be_the_status_to_transfer(w: World) -> None:
    created = severa_admin(
        w, "POST", "/v1/invoicestatuses", json={"name": "Lähetä Maventaan", "hasInvoiceNumber": True}
    )
    assert created.status_code == 201, created.text
    move_invoice(w, EINVOICE_CUSTOMER, "Lähetä Maventaan")
    ready(w, status_to_transfer="Lähetä Maventaan")
    drain(w)
    assert [i.number for i in w.maventa_invoices()] == [str(EINVOICE_CUSTOMER)]
    assert w.severa_status_of(EINVOICE_CUSTOMER) == AFTER_TRANSFER
    assert w.severa_status_of(EMAIL_CUSTOMER) == TO_TRANSFER  # the old status is not watched


def test_mv10_an_unknown_status_is_refused_with_the_existing_ones_listed(w: World) -> None:
    register_verified(w)
    message = refused(configure, w, status_to_transfer="Ei tällaista")
    assert message.startswith(
        "Status to transfer: no invoice status 'Ei tällaista' in Severa; existing statuses: "
    )
    assert TO_TRANSFER in message and AFTER_ERROR in message


# ====================================================================== MV-11 status after transfer
def test_mv11_the_status_after_transfer_is_set_after_a_successful_transfer(w: World) -> None:
    created = severa_admin(
        w, "POST", "/v1/invoicestatuses", json={"name": "Maventassa", "hasInvoiceNumber": True}
    )
    assert created.status_code == 201, created.text
    ready(w, send_by_email=True, status_after_transfer="Maventassa")
    w.engine.run_once()
    # transferred but not yet delivered: Severa already shows the status after transfer
    assert ledger(w, EINVOICE_CUSTOMER).state is LedgerState.STATUS_PATCHED
    assert w.severa_status_of(EINVOICE_CUSTOMER) == "Maventassa"
    drain(w)
    assert [w.severa_status_of(n) for n in (EINVOICE_CUSTOMER, EMAIL_CUSTOMER)] == ["Maventassa"] * 2
    assert w.severa_status_of(PAPER_CUSTOMER) == AFTER_ERROR
    lines = log_texts(w)
    assert f"Invoice {EINVOICE_CUSTOMER} delivered by Maventa (EINVOICE)" in lines
    assert f"Invoice {EMAIL_CUSTOMER} delivered by Maventa (EMAIL)" in lines


def test_mv11_the_status_after_transfer_must_differ_from_the_status_to_transfer(w: World) -> None:
    register_verified(w)
    message = refused(configure, w, status_after_transfer=TO_TRANSFER)
    assert message == (
        f"Status after transfer: it must differ from the status to transfer ({TO_TRANSFER}), "
        "or every transferred invoice would be sent again"
    )
    message = refused(configure, w, status_after_error=TO_TRANSFER)
    assert message.startswith("Status after error: it must differ from the status to transfer")


# ====================================================================== MV-12 status after error
def test_mv12_a_refused_invoice_gets_the_error_status_and_the_exact_error_is_logged(w: World) -> None:
    ready(w, send_by_email=True)
    drain(w)
    assert w.severa_status_of(PAPER_CUSTOMER) == AFTER_ERROR
    errors = w.store.log.entries(level=LogLevel.ERROR, limit=None)
    assert [e.message for e in errors] == [
        f"Invoice {PAPER_CUSTOMER}: sending to Maventa failed: {PRINT_NOT_ENABLED}"
    ]
    assert errors[0].invoice_number == str(PAPER_CUSTOMER)


def test_mv12_an_invoice_put_back_after_fixing_the_error_is_sent_again(w: World) -> None:
    company = ready(w)
    drain(w)
    assert w.severa_status_of(PAPER_CUSTOMER) == AFTER_ERROR
    maventa_settings(w, company, {"send_invoice_print": {"enabled": True}})  # the fix
    move_invoice(w, PAPER_CUSTOMER, TO_TRANSFER)
    drain(w)
    assert w.severa_status_of(PAPER_CUSTOMER) == AFTER_TRANSFER
    assert ledger(w, PAPER_CUSTOMER).state is LedgerState.DELIVERED
    assert sorted(i.status for i in w.maventa_invoices() if i.number == str(PAPER_CUSTOMER)) == [
        "DELIVERED",
        "FAILED",
    ]


def _invoice_for_a_customer_without_address(w: World, name: str) -> int:
    """A customer card with no address at all (no billing address, so the invoice has no
    receiver address either), an invoice for it drafted in Ranta Oy, and the user moving it into
    the status to transfer; returns its number."""
    backend = w.severa_sim.main
    with w.severa_sim.lock:
        customer = backend.add_customer(name, email="laskut@osoitteeton.fi", address=None)
        product = next(iter(backend.org.products.values()))
        draft = backend.create_invoice(
            customer.guid,
            status=DRAFT,
            business_unit_guid=w.unit_guid(RANTA),
            when=w.severa_sim.clock.now(),
            rows=[{"kind": "fee", "ref": product.code, "quantity": 2.0}],
        )
    return move_invoice(w, str(draft.guid), TO_TRANSFER)


def test_mv12_an_invoice_that_cannot_become_a_finvoice_gets_the_error_status_log_and_one_mail(
    wm: World,
) -> None:
    """The Finvoice builder refuses an invoice whose customer has no billing address: nothing goes
    to Maventa, the invoice gets the after-error status, the transfer log has one ERROR line with
    the builder's own per-field message, and the notification address gets one e-mail about it."""
    ready(wm, send_by_email=True, notification_email="virheet@ranta.fi")
    number = _invoice_for_a_customer_without_address(wm, "Osoitteeton Oy")
    assert customer_of(wm, number).get("email") == "laskut@osoitteeton.fi"
    assert wm.severa.list_customer_addresses(str(severa_invoice(wm, number)["customer"]["guid"])) == []
    drain(wm)
    drain(wm)  # more passes change nothing

    problem = (
        "Customer 'Osoitteeton Oy' has no billing address (laskutusosoite); add one on the customer card "
        "and mark it as the billing address."
    )
    assert wm.severa_status_of(number) == AFTER_ERROR
    entry = ledger(wm, number)
    assert entry.state is LedgerState.NOTIFIED and entry.last_error == problem
    errors = [
        e for e in wm.store.log.entries(level=LogLevel.ERROR, limit=None) if e.invoice_number == str(number)
    ]
    assert [e.message for e in errors] == [f"Invoice {number}: sending to Maventa failed: {problem}"]
    # never sent: Maventa holds no such invoice and accepted no upload for it
    assert [i for i in wm.maventa_invoices() if i.number == str(number)] == []
    assert entry.idempotency_key not in maventa_uploads(wm)
    assert wm.mailbox is not None
    mails = [m for m in wm.mailbox.find(to="virheet@ranta.fi") if str(number) in m.subject]
    assert len(mails) == 1
    mail = mails[0]
    assert mail.subject.startswith(
        f"Laskun {number} lähetys epäonnistui / Sending invoice {number} failed: Customer 'Osoitteeton Oy'"
    )
    assert f"Invoice:     {number}" in mail.text and "Customer:    Osoitteeton Oy" in mail.text
    assert f"Error:       {problem}" in mail.text
    assert f'The invoice was moved to the status "{AFTER_ERROR}"' in mail.text
    assert f"Invoice {number}: notification sent to virheet@ranta.fi" in log_texts(wm)


# ====================================================================== MV-13 activation


def test_mv13_activation_needs_saved_settings(w: World) -> None:
    register_verified(w)
    message = refused(w.integration.activate, RANTA)
    assert (
        message
        == "Save the settings first: status to transfer, status after transfer, status after error not chosen"
    )


def test_mv13_nothing_moves_after_deactivation_and_it_resumes_when_switched_on(w: World) -> None:
    ready(w)
    drain(w)
    assert len(w.maventa_invoices()) == 3
    assert not w.integration.deactivate(RANTA).active
    draft = next(i for i in w.invoices_in("Luonnos") if i["number"] is None or True)
    w.severa.set_invoice_status(str(draft["guid"]), status_guid(w, TO_TRANSFER))
    number = w.severa.get_invoice(str(draft["guid"]))["number"]
    drain(w)
    assert len(w.maventa_invoices()) == 3
    assert w.severa_status_of(number) == TO_TRANSFER
    assert log_texts(w)[-1] == "Synchronisation switched off"

    w.integration.activate(RANTA)
    drain(w)
    assert len(w.maventa_invoices()) == 4 and w.severa_status_of(number) in (AFTER_TRANSFER, AFTER_ERROR)


# ====================================================================== MV-14 sent-flag error
def _set_is_sent(w: World, status: str, value: bool) -> None:
    resp = severa_admin(
        w,
        "PATCH",
        f"/v1/invoicestatuses/{status_guid(w, status)}",
        json=[{"op": "replace", "path": "/isSent", "value": value}],
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()[0]["isSent"] is value


def test_mv14_choosing_a_sent_status_as_the_transfer_status_refuses_activation(w: World) -> None:
    register_verified(w)
    configure(w, status_to_transfer="Lähetetty")
    assert refused(w.integration.activate, RANTA) == SENT_FLAG_ERROR


def test_mv14_a_sent_transfer_status_is_refused_while_synchronisation_is_on(w: World) -> None:
    company = ready(w, send_by_email=True)
    drain(w)
    sent_before = sorted(i.number for i in w.maventa_invoices())

    message = refused(configure, w, send_by_email=True, status_to_transfer="Lähetetty")

    assert message == SENT_FLAG_ERROR
    assert (
        w.store.companies.get(company.id).settings.status_to_transfer == company.settings.status_to_transfer
    )
    drain(w)
    assert sorted(i.number for i in w.maventa_invoices()) == sent_before  # nothing already sent goes again
