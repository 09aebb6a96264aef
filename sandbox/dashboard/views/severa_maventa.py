"""Severa › Asetukset › Integraatiot › Maventa/AutoInvoice (the seed article, MV-1 ... MV-14).

The page as the help article tells it: "Rekisteröidy Maventaan" (company and person; MV-1, with
the MV-2 message when the key stays empty), "Yritykset, jotka ovat rekisteröity" (click a
company: MV-4, each business unit with a Y-tunnus its own company, MV-5), the user API key and
company UUID fields, "Lähetä autentikointipyyntö" and "Päivitä" (MV-3), the settings (MV-6 ...
MV-12), the synchronisation toggle in the top right corner with the MV-14 error under it, and
the transfer log. Every button calls ``world.integration`` (``MaventaIntegration``), the object
``severa-sandbox bridge maventa ...`` calls.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from bridge.connectors.maventa.integration import MV2_INSTRUCTIONS, SENT_FLAG_ERROR, IntegrationError
from bridge.errors import BridgeError
from bridge.store import RegistrationState, SendingCompany

from .. import readouts
from ..forms import Form
from . import back, notice, sb, wake_worker

bp = Blueprint("severa_maventa", __name__, url_prefix="/severa/asetukset/integraatiot/maventa")

LANGUAGES = {
    "FI": "suomi / Finnish",
    "SE": "ruotsi / Swedish",
    "EN": "englanti / English",
    "NO": "norja / Norwegian",
}
#: Which field a refusal of the settings page belongs to (by the start of its message).
SETTINGS_FIELDS = (
    ("Status to transfer", "status_to_transfer"),
    ("Status after transfer", "status_after_transfer"),
    ("Status after error", "status_after_error"),
    ("Notification address", "notification_email"),
    (SENT_FLAG_ERROR, "status_to_transfer"),
)


def _page(
    unit: str | None = None,
    *,
    forms: dict[str, Form] | None = None,
    register_open: bool = False,
) -> str:
    forms = forms or {}
    with sb().driving() as w:
        integ = w.integration
        companies = integ.companies()
        without_bid = integ.units_without_business_id()
        selected: SendingCompany | None = None
        if unit:
            selected = next((c for c in companies if c.business_unit_guid.lower() == unit.lower()), None)
        log = []
        transfers = []
        if selected is not None:
            log = w.store.log.entries(connector="maventa", account=str(selected.id), limit=60)
            transfers = w.store.ledger.in_state(connector="maventa", account=str(selected.id))
        statuses = readouts.severa_statuses(w)
        users = readouts.severa_users(w)
        units = readouts.severa_units(w)
        maventa_company = None
        if selected is not None and selected.maventa_company_uuid:
            maventa_company = next(
                (c for c in readouts.maventa_companies(w) if c["id"] == selected.maventa_company_uuid), None
            )
    sent_flagged = None
    if selected is not None and selected.settings.status_to_transfer is not None:
        guid = selected.settings.status_to_transfer.guid.lower()
        sent_flagged = next((s for s in statuses if s["guid"].lower() == guid and s["is_sent"]), None)
    return render_template(
        "severa/maventa.html",
        companies=companies,
        without_bid=without_bid,
        selected=selected,
        maventa_company=maventa_company,
        log=log,
        transfers=sorted(transfers, key=lambda e: e.updated_at or e.created_at or 0, reverse=True),
        statuses=statuses,
        users=users,
        units=units,
        languages=LANGUAGES,
        forms=forms,
        register_open=register_open or "register" in forms,
        mv2_instructions=selected is not None
        and selected.registration_state is RegistrationState.KEY_MISSING,
        mv2_text=MV2_INSTRUCTIONS.format(email=_registrant_hint(selected)),
        sent_flagged=sent_flagged,
        sent_flag_error=SENT_FLAG_ERROR,
        RegistrationState=RegistrationState,
    )


def _registrant_hint(company: SendingCompany | None) -> str:
    return "the chosen person" if company is None else (company.auth_email or "the chosen person")


@bp.get("/")
def page() -> str:
    return _page(request.args.get("yksikko"), register_open=request.args.get("rekisteroidy") == "1")


def _unit_guids() -> list[str]:
    return [u["guid"] for u in readouts.severa_units(sb().w)]


def _refused(form: Form, exc: BridgeError, default_field: str = "_form") -> None:
    message = str(exc)
    if form.name == "settings":
        for prefix, field in SETTINGS_FIELDS:
            if message.startswith(prefix):
                form.fail(field, message)
                return
    form.fail(default_field, message)


@bp.post("/register")
def register() -> str | Response:
    """Rekisteröidy Maventaan (MV-1; MV-2 when the person already has a Maventa user)."""
    form = Form("register")
    unit = form.choice("unit", _unit_guids(), label="yritys / company")
    users = {u["guid"]: u for u in readouts.severa_users(sb().w)}
    person = form.choice("registrant", users, label="henkilö / person")
    if form.ok and unit and person:
        try:
            with sb().driving() as w:
                result = w.integration.register(unit, person)
        except IntegrationError as exc:
            form.fail("unit" if "business ID" in str(exc) or "Y-tunnus" in str(exc) else "_form", str(exc))
        except BridgeError as exc:
            _refused(form, exc)
        else:
            sb().record(f"Rekisteröity Maventaan / registered to Maventa: {result.company.name}")
            notice(result.message, "ok" if result.key_returned else "warning")
            return back("severa_maventa.page", yksikko=unit)
    return _page(unit, forms={"register": form})


@bp.post("/connect")
def connect() -> str | Response:
    """An existing account (MV-4): user API key + company UUID; the authentication request goes
    to Maventa automatically."""
    form = Form("connect")
    unit = form.choice("unit", _unit_guids(), label="yritys / company")
    key = form.text("user_api_key", label="Käyttäjän API-avain / user API key", max_length=200)
    uuid = form.text("company_uuid", label="Yrityksen UUID / company UUID", max_length=200)
    if form.ok and unit:
        try:
            with sb().driving() as w:
                company = w.integration.connect(unit, key, uuid)
        except IntegrationError as exc:
            message = str(exc)
            field = "user_api_key" if "API key" in message or "did not accept" in message else "_form"
            if "business ID" in message and "Maventa account" in message:
                field = "company_uuid"
            form.fail(field, message)
        except BridgeError as exc:
            _refused(form, exc)
        else:
            sb().record(f"Maventa-tili liitetty / account connected: {company.name}")
            notice(
                f"{company.name}: the key and UUID were accepted by Maventa (authentication "
                f"{company.auth_state.value}, company {company.company_state.value})."
            )
            return back("severa_maventa.page", yksikko=unit)
    return _page(unit or None, forms={"connect": form})


@bp.post("/auth-request")
def auth_request() -> str | Response:
    """Lähetä autentikointipyyntö (MV-3): approver, e-mail for authentication, language."""
    form = Form("auth")
    unit = form.choice("unit", _unit_guids(), label="yritys / company")
    users = {u["guid"]: u for u in readouts.severa_users(sb().w)}
    approver = form.choice("approver", users, label="Todennuksen hyväksyjä / approver")
    email = form.email("email", label="Sähköpostiosoite todennusta varten / e-mail for authentication")
    extra = form.email("extra_email", label="toinen osoite / another address")
    language = form.choice("language", LANGUAGES, label="Sähköpostin kieli / e-mail language")
    if form.ok and unit and approver and language:
        address = email or users[approver]["email"]
        try:
            with sb().driving() as w:
                w.integration.send_authentication_request(unit, address, extra, locale=language)
        except IntegrationError as exc:
            message = str(exc)
            field = (
                "email" if "not an e-mail" in message else ("language" if "language" in message else "_form")
            )
            form.fail(field, message)
        except BridgeError as exc:
            _refused(form, exc)
        else:
            sb().record(f"Autentikointipyyntö lähetetty / authentication request sent to {address}")
            notice(
                f"The authentication request was sent to {address}"
                + (f" and {extra}" if extra else "")
                + ": the approver signs with strong identification; then press Päivitä / Refresh."
            )
            return back("severa_maventa.page", yksikko=unit)
    return _page(unit or None, forms={"auth": form})


@bp.post("/refresh")
def refresh() -> str | Response:
    """Päivitä (MV-3): the authentication state from Maventa."""
    form = Form("refresh")
    unit = form.choice("unit", _unit_guids(), label="yritys / company")
    if form.ok and unit:
        try:
            with sb().driving() as w:
                company = w.integration.refresh(unit)
        except BridgeError as exc:
            _refused(form, exc)
        else:
            if company.verified:
                notice(f"{company.name} is authenticated: the other settings can be made now.")
            else:
                notice(
                    f"{company.name}: authentication {company.auth_state.value}, company "
                    f"{company.company_state.value}; the approver has not signed yet.",
                    "warning",
                )
            return back("severa_maventa.page", yksikko=unit)
    return _page(unit or None, forms={"refresh": form})


@bp.post("/settings")
def settings() -> str | Response:
    """Asetukset (MV-6 ... MV-12)."""
    form = Form("settings")
    unit = form.choice("unit", _unit_guids(), label="yritys / company")
    statuses = [s["guid"] for s in readouts.severa_statuses(sb().w)]
    notify = form.email(
        "notification_email", label="Sähköpostiosoite ilmoituksia varten / notification address"
    )
    picked: dict[str, str | None] = {}
    for field, label in (
        ("status_to_transfer", "Laskujen tila, jotka halutaan siirtää / status to transfer"),
        ("status_after_transfer", "Laskujen tila siirron jälkeen / status after transfer"),
        ("status_after_error", "Laskujen tila virheilmoituksen jälkeen / status after error"),
    ):
        picked[field] = form.choice(field, statuses, label=label)
    if form.ok and unit:
        try:
            with sb().driving() as w:
                company = w.integration.save_settings(
                    unit,
                    send_original_pdf=form.flag("send_original_pdf"),
                    send_by_email=form.flag("send_by_email"),
                    notification_email=notify,
                    **picked,
                )
        except BridgeError as exc:
            _refused(form, exc)
        else:
            sb().record(f"Maventa-asetukset tallennettu / settings saved: {company.name}")
            notice(
                "Asetukset tallennettu / settings saved."
                + (
                    ""
                    if company.active
                    else " Switch the synchronisation on with the toggle in the top right corner."
                )
            )
            return back("severa_maventa.page", yksikko=unit)
    return _page(unit or None, forms={"settings": form})


@bp.post("/activation")
def activation() -> str | Response:
    """The synchronisation toggle (MV-13); activation refuses a transfer status flagged Sent (MV-14)."""
    form = Form("activation")
    unit = form.choice("unit", _unit_guids(), label="yritys / company")
    wanted = form.choice("active", ("on", "off"), label="tila / state")
    if form.ok and unit and wanted:
        try:
            with sb().driving() as w:
                company = w.integration.activate(unit) if wanted == "on" else w.integration.deactivate(unit)
        except BridgeError as exc:
            form.fail("active", str(exc))
        else:
            sb().record(
                f"Synkronointi {'päälle' if company.active else 'pois'} / switched {wanted}: {company.name}"
            )
            if company.active:
                wake_worker()  # the waiting invoices go now, not at the end of the interval
            notice(
                f"{company.name}: synkronointi päällä / synchronisation on."
                if company.active
                else f"{company.name}: synkronointi pois / synchronisation off: nothing is sent."
            )
            return back("severa_maventa.page", yksikko=unit)
    return _page(unit or None, forms={"activation": form})
