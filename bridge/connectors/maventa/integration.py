"""The Maventa/AutoInvoice settings page of Severa (Asetukset > Integraatiot > Maventa/AutoInvoice).

What a user does there, as code (SPEC §2, MV-1 ... MV-5, MV-13, MV-14):

* ``companies()``: the "Registered companies" list (Rekisteröidyt yritykset): one sending company
  per Severa business unit that has its own business ID (Y-tunnus). Units without one are listed
  by ``units_without_business_id()`` and refused with a clear message (MV-5).
* ``register(unit, registrant)``: "Register to Maventa" (Rekisteröidy Maventaan, MV-1): create the
  Maventa user for the chosen person and the company, store the company UUID and the user API key.
  When Maventa returns no key (the person already has a Maventa user, MV-2) the key stays empty
  and the result tells the user in words what to do next. The company cannot be created then:
  the AX API's ``POST /v1/companies`` requires a ``user_api_key``, and the help article says the
  user finishes the new organisation in Maventa and copies *both* the key and the company UUID
  from there after signing; so no UUID is stored in that case (state ``KEY_MISSING``).
* ``send_authentication_request(unit, approver_email, ...)``: "Send authentication request"
  (Lähetä autentikointipyyntö, MV-3); ``refresh(unit)`` is the "Refresh" (Päivitä) button.
* ``connect(unit, user_api_key, company_uuid)``: an existing account (MV-4): the key and UUID are
  verified against Maventa, then the authentication request goes out automatically when the
  company is not yet verified: to the approver given, else the one used before, else the Maventa
  user whose key was entered (the form asks for nothing else). ``prefill(unit)`` gives the values
  stored before.
* ``save_settings(unit, ...)`` (MV-6 ... MV-12); the statuses after transfer and after error must
  differ from the status to transfer (otherwise every invoice would be picked up and sent again on
  every pass); while synchronisation is on, a transfer status flagged "Sent" is refused with the
  MV-14 message (otherwise invoices already sent would go out again); and ``activate(unit)`` / ``deactivate(unit)``
  (MV-13); activation refuses a transfer status flagged "Sent" with exactly
  ``Status of invoices to be transferred can not be sent`` (MV-14).

Every refusal is an ``IntegrationError`` whose message is what the user should read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.connectors.maventa.client import LOCALES, MaventaClient
from bridge.errors import BridgeError, MaventaError, ServiceError, TransportFailure
from bridge.severa.client import SeveraClient
from bridge.store import (
    AuthState,
    CompanySettings,
    CompanyState,
    LogLevel,
    MissingBusinessIdError,
    RegistrationState,
    SendingCompany,
    StatusRef,
    Store,
)

SENT_FLAG_ERROR = "Status of invoices to be transferred can not be sent"

MV2_INSTRUCTIONS = (
    "Maventa returned no user API key: {email} already has a Maventa user, so for security reasons the "
    "key is not shown here. Log in to Maventa with that existing account, finish setting up the new "
    "organisation there, and after the documents are signed copy the user API key (Käyttäjän API-avain) "
    "and the company UUID (Yrityksen UUID) from Maventa into these settings."
)


class IntegrationError(BridgeError):
    """A refusal of the settings page; `str(error)` is the message the user sees."""


@dataclass(frozen=True)
class RegistrationResult:
    company: SendingCompany
    key_returned: bool
    message: str


def normalize_business_id(value: str | None) -> str | None:
    """Severa keeps the business ID as ``1234567-8`` or as a VAT number ``FI12345678``."""
    if not value:
        return None
    text = re.sub(r"\s", "", value).upper()
    if text.startswith("FI") and text[2:].isdigit() and len(text) == 10:
        return f"{text[2:9]}-{text[9]}"
    return text or None


def _auth_states(status: Mapping[str, Any]) -> tuple[AuthState, CompanyState]:
    try:
        auth = AuthState(str(status.get("auth_state") or "NONE").upper())
    except ValueError:
        auth = AuthState.NONE
    try:
        company = CompanyState(str(status.get("company_state") or "UNKNOWN").upper())
    except ValueError:
        company = CompanyState.UNKNOWN
    return auth, company


class MaventaIntegration:
    """The settings page for one Severa organisation.

    ``maventa`` is a vendor-level client (vendor API key, no company yet); per-company clients are
    derived from it with the stored credentials.
    """

    def __init__(
        self,
        severa: SeveraClient,
        maventa: MaventaClient,
        store: Store,
        *,
        organization: str = "",
    ) -> None:
        self.severa = severa
        self.maventa = maventa
        self.store = store
        self.organization = organization

    # ------------------------------------------------------------------ companies (MV-5)
    def _units(self) -> list[dict[str, Any]]:
        return [u for u in self.severa.list_business_units() if u.get("isActive", True) is not False]

    def companies(self) -> list[SendingCompany]:
        """Every business unit with its own business ID, as a sending company (created on first sight)."""
        out = []
        for unit in self._units():
            bid = normalize_business_id(unit.get("vatNumber"))
            if bid:
                out.append(
                    self.store.companies.upsert(
                        unit["guid"],
                        name=unit.get("name") or "",
                        business_id=bid,
                        severa_organization=self.organization,
                    )
                )
        return out

    def units_without_business_id(self) -> list[str]:
        return [
            u.get("name") or u["guid"] for u in self._units() if not normalize_business_id(u.get("vatNumber"))
        ]

    def company(self, unit: str) -> SendingCompany:
        """The sending company of a business unit, by GUID or name (case-insensitive)."""
        wanted = unit.strip().lower()
        for u in self._units():
            if wanted in {str(u["guid"]).lower(), str(u.get("name") or "").lower()}:
                try:
                    return self.store.companies.upsert(
                        u["guid"],
                        name=u.get("name") or "",
                        business_id=normalize_business_id(u.get("vatNumber")),
                        severa_organization=self.organization,
                    )
                except MissingBusinessIdError as exc:
                    raise IntegrationError(str(exc)) from exc
        known = ", ".join(sorted(str(u.get("name")) for u in self._units()))
        raise IntegrationError(f"No business unit {unit!r} in Severa; known units: {known}")

    def client_for(self, company: SendingCompany) -> MaventaClient:
        if not company.maventa_company_uuid or not company.maventa_api_key:
            raise IntegrationError(
                f"{company.name}: the Maventa user API key and company UUID are not set; register or connect "
                "the company first"
            )
        return self.maventa.for_company(company.maventa_company_uuid, company.maventa_api_key.reveal())

    # ------------------------------------------------------------------ registration (MV-1, MV-2)
    def register(self, unit: str, registrant: str) -> RegistrationResult:
        """Register the unit's company at Maventa with `registrant` (a Severa user GUID or e-mail)."""
        company = self.company(unit)
        if company.registration_state in {RegistrationState.REGISTERED, RegistrationState.CONNECTED}:
            raise IntegrationError(
                f"{company.name} is already registered to Maventa (company UUID "
                f"{company.maventa_company_uuid}): go on with the authentication request and the settings, "
                "or connect another Maventa account with its user API key and company UUID"
            )
        person = self._user(registrant)
        email = person.get("email")
        if not email:
            raise IntegrationError(
                f"The chosen person {person.get('firstName')} {person.get('lastName')} has no "
                "e-mail address in Severa; Maventa needs one for the user"
            )
        details = self.severa.get_organization_details()
        address = str(details.get("address") or "").strip()
        post_code = str(details.get("postalCode") or "").strip()
        city = str(details.get("city") or "").strip()
        missing = [n for n, v in (("address", address), ("postal code", post_code), ("city", city)) if not v]
        if missing:
            raise IntegrationError(
                f"The organisation's {', '.join(missing)} is missing in Severa "
                "(Asetukset > Organisaation tiedot); Maventa needs it to register the company"
            )
        kept = (
            company.maventa_api_key.reveal()
            if company.registration_state is RegistrationState.USER_CREATED and company.maventa_api_key
            else None
        )
        try:
            key = kept or self.maventa.create_user(email, person.get("firstName"), person.get("lastName"))
            if key and not kept:  # keep the new user's key at once: a failure below must not lose it
                company = self.store.companies.set_credentials(
                    company.id,
                    company_uuid=None,
                    api_key=key,
                    registration_state=RegistrationState.USER_CREATED,
                )
            company_uuid = None
            if key:  # without a key nobody can create the company through the API (MV-2)
                bid = company.business_id or ""
                company_uuid = self.maventa.create_company(
                    user_api_key=key,
                    name=company.name,
                    bid="FI" + bid.replace("-", "") if re.fullmatch(r"\d{7}-\d", bid) else bid,
                    address1=address,
                    post_code=post_code,
                    post_office=city,
                    city=city,
                    country=str((details.get("country") or {}).get("code") or "FI"),
                    email=email,
                )
        except MaventaError as exc:
            message = f"Registration to Maventa failed: {exc.message}"
            if company.registration_state is RegistrationState.USER_CREATED:
                message += (
                    ". The Maventa user was created and its API key is kept: correct the problem and "
                    "register again, or connect an existing Maventa company"
                )
            self._log(company, LogLevel.ERROR, message)
            raise IntegrationError(message) from exc
        except (ServiceError, TransportFailure) as exc:
            raise IntegrationError(f"Registration to Maventa failed, try again: {exc}") from exc
        state = RegistrationState.REGISTERED if key else RegistrationState.KEY_MISSING
        company = self.store.companies.set_credentials(
            company.id, company_uuid=company_uuid, api_key=key, registration_state=state
        )
        if key:
            message = (
                f"{company.name} registered to Maventa. The user API key and the company UUID were filled in; "
                "next, send the authentication request."
            )
        else:
            message = MV2_INSTRUCTIONS.format(email=email)
        self._log(company, LogLevel.INFO if key else LogLevel.WARNING, message)
        return RegistrationResult(company, bool(key), message)

    def _user(self, registrant: str) -> dict[str, Any]:
        if "@" in registrant:
            users = list(self.severa.iter_users(email=registrant))
            if users:
                return users[0]
            raise IntegrationError(f"No Severa user with the e-mail {registrant}; {self._users_hint()}")
        try:
            return self.severa.get_user(registrant)
        except ServiceError as exc:
            raise IntegrationError(
                f"No Severa user {registrant} ({exc.message}); {self._users_hint()}"
            ) from exc

    def _users_hint(self, shown: int = 8) -> str:
        """The people who could register (active Severa users with an e-mail), for a refusal."""
        emails = sorted(
            str(u["email"]) for u in self.severa.iter_users() if u.get("email") and u.get("isActive", True)
        )
        if not emails:
            return "no active Severa user has an e-mail address (Käyttäjät): add one first"
        more = f" and {len(emails) - shown} more" if len(emails) > shown else ""
        return f"choose a user with an e-mail address: {', '.join(emails[:shown])}{more}"

    # ------------------------------------------------------------------ existing account (MV-4)
    def prefill(self, unit: str) -> dict[str, str | None]:
        """The values the form shows when the integration was used before (key masked)."""
        company = self.company(unit)
        return {
            "company_uuid": company.maventa_company_uuid,
            "user_api_key": str(company.maventa_api_key) if company.maventa_api_key else None,
        }

    def connect(
        self,
        unit: str,
        user_api_key: str | None = None,
        company_uuid: str | None = None,
        *,
        approver_email: str | None = None,
        locale: str = "FI",
    ) -> SendingCompany:
        """Connect an existing Maventa account; empty values mean "keep what was stored"."""
        company = self.company(unit)
        key = (user_api_key or "").strip() or (
            company.maventa_api_key.reveal() if company.maventa_api_key else ""
        )
        uuid = (company_uuid or "").strip() or (company.maventa_company_uuid or "")
        if not key or not uuid:
            raise IntegrationError("Enter the user API key and the company UUID from Maventa's settings")
        client = self.maventa.for_company(uuid, key)
        try:
            current = client.current()
        except MaventaError as exc:
            if exc.is_auth or exc.status in (400, 401, 403):
                raise IntegrationError(
                    "Maventa did not accept the user API key and company UUID: check that both are copied from "
                    f"the settings of this company's own Maventa account ({exc.message})"
                ) from exc
            raise IntegrationError(f"Maventa could not be reached: {exc.message}") from exc
        bid_there = normalize_business_id(str((current.get("company") or {}).get("bid") or ""))
        if bid_there and company.business_id and bid_there != company.business_id:
            raise IntegrationError(
                f"The Maventa account belongs to business ID {bid_there}, but {company.name} has {company.business_id}"
            )
        company = self.store.companies.set_credentials(
            company.id, company_uuid=uuid, api_key=key, registration_state=RegistrationState.CONNECTED
        )
        company = self.refresh(unit)
        if not company.verified and company.auth_state not in {AuthState.PENDING, AuthState.SENT}:
            # "the authentication request goes to Maventa automatically": when nobody was chosen, to
            # the approver used before, else to the Maventa user whose key was entered
            maventa_user = str((current.get("user") or {}).get("email") or "") or None
            company = self.send_authentication_request(
                unit, approver_email or company.auth_email or maventa_user, locale=locale
            )
        return company

    # ------------------------------------------------------------------ authentication (MV-3)
    def send_authentication_request(
        self, unit: str, approver_email: str | None, extra_email: str | None = None, *, locale: str = "FI"
    ) -> SendingCompany:
        company = self.company(unit)
        if company.verified:
            raise IntegrationError(f"{company.name} is already authenticated at Maventa")
        if not approver_email:
            raise IntegrationError("Choose the approver (a person with the right to sign) and their e-mail")
        emails = [approver_email] + ([extra_email] if extra_email else [])
        bad = [e for e in emails if not _is_email(e)]
        if bad:  # checked before anything is sent: never half a request
            raise IntegrationError(f"{', '.join(repr(e) for e in bad)} is not an e-mail address")
        if locale.upper() not in LOCALES:
            raise IntegrationError(f"The language must be one of {', '.join(LOCALES)}, not {locale!r}")
        locale = locale.upper()
        client = self.client_for(company)
        try:
            for email in emails:
                client.request_authorization(email, locale=locale)
            status = client.authorization_status()
        except MaventaError as exc:
            raise IntegrationError(
                f"The authentication request was refused by Maventa: {exc.message}"
            ) from exc
        auth, state = _auth_states(status)
        company = self.store.companies.set_authorization(
            company.id, auth_state=auth, company_state=state, auth_email=approver_email
        )
        self._log(company, LogLevel.INFO, f"Authentication request sent to {', '.join(emails)}")
        return company

    def refresh(self, unit: str) -> SendingCompany:
        """The "Refresh" button: ask Maventa for the authentication state."""
        company = self.company(unit)
        try:
            status = self.client_for(company).authorization_status()
        except MaventaError as exc:
            if exc.is_auth:
                raise IntegrationError(
                    f"Maventa refused the stored user API key and company UUID of {company.name} "
                    f"({exc.message}): connect the company again with the key and UUID from its own Maventa "
                    "account"
                ) from exc
            raise IntegrationError(f"Maventa refused the status query: {exc.message}") from exc
        auth, state = _auth_states(status)
        return self.store.companies.set_authorization(company.id, auth_state=auth, company_state=state)

    def _require_verified(self, company: SendingCompany, what: str) -> None:
        if not company.verified:
            raise IntegrationError(
                f"{company.name} is not authenticated at Maventa yet (state {company.auth_state.value}); {what} "
                "can be done only after the approver has signed. Send the authentication request or press Refresh."
            )

    # ------------------------------------------------------------------ settings (MV-6 ... MV-12)
    def statuses(self) -> list[dict[str, Any]]:
        return self.severa.list_invoice_statuses()

    def _status(self, wanted: str | None, label: str, statuses: list[dict[str, Any]]) -> StatusRef | None:
        if not wanted:
            return None
        for s in statuses:
            if wanted.strip().lower() in {str(s["guid"]).lower(), str(s.get("name") or "").lower()}:
                return StatusRef(str(s["guid"]), str(s.get("name") or ""))
        names = ", ".join(str(s.get("name")) for s in statuses)
        raise IntegrationError(f"{label}: no invoice status {wanted!r} in Severa; existing statuses: {names}")

    @staticmethod
    def _is_sent(ref: StatusRef, statuses: list[dict[str, Any]]) -> bool:
        return any(str(x["guid"]).lower() == ref.guid.lower() and x.get("isSent") for x in statuses)

    def save_settings(
        self,
        unit: str,
        *,
        send_original_pdf: bool = False,
        send_by_email: bool = False,
        notification_email: str | None = None,
        status_to_transfer: str | None = None,
        status_after_transfer: str | None = None,
        status_after_error: str | None = None,
    ) -> SendingCompany:
        """Save the settings; statuses by name or GUID, and they must exist in Severa."""
        company = self.refresh(unit) if self.company(unit).has_credentials else self.company(unit)
        self._require_verified(company, "the settings")
        if notification_email and not _is_email(notification_email):
            raise IntegrationError(f"Notification address {notification_email!r} is not an e-mail address")
        statuses = self.statuses()
        to_transfer = self._status(status_to_transfer, "Status to transfer", statuses)
        for label, wanted in (
            ("Status after transfer", status_after_transfer),
            ("Status after error", status_after_error),
        ):
            ref = self._status(wanted, label, statuses)
            if to_transfer is not None and ref is not None and ref.guid.lower() == to_transfer.guid.lower():
                raise IntegrationError(
                    f"{label}: it must differ from the status to transfer ({to_transfer.name}), "
                    "or every transferred invoice would be sent again"
                )
        if company.active and to_transfer is not None and self._is_sent(to_transfer, statuses):
            # MV-14 holds while the toggle is on too: else already sent invoices would go out again
            self._log(company, LogLevel.ERROR, SENT_FLAG_ERROR)
            raise IntegrationError(SENT_FLAG_ERROR)
        settings = CompanySettings(
            send_original_pdf=send_original_pdf,
            send_by_email=send_by_email,
            notification_email=notification_email or None,
            status_to_transfer=to_transfer,
            status_after_transfer=self._status(status_after_transfer, "Status after transfer", statuses),
            status_after_error=self._status(status_after_error, "Status after error", statuses),
        )
        company = self.store.companies.save_settings(company.id, settings)
        self._log(company, LogLevel.INFO, "Settings saved")
        return company

    # ------------------------------------------------------------------ activation (MV-13, MV-14)
    def activate(self, unit: str) -> SendingCompany:
        company = self.company(unit)
        self._require_verified(company, "activation")
        s = company.settings
        missing = [
            label
            for label, ref in (
                ("status to transfer", s.status_to_transfer),
                ("status after transfer", s.status_after_transfer),
                ("status after error", s.status_after_error),
            )
            if ref is None
        ]
        if missing:
            raise IntegrationError(f"Save the settings first: {', '.join(missing)} not chosen")
        assert s.status_to_transfer is not None
        try:
            source = self.severa.get_invoice_status(s.status_to_transfer.guid)
        except ServiceError as exc:
            raise IntegrationError(
                f"The status to transfer ({s.status_to_transfer.name}) no longer exists in Severa: {exc}"
            ) from exc
        if source.get("isSent"):
            self._log(company, LogLevel.ERROR, SENT_FLAG_ERROR)
            raise IntegrationError(SENT_FLAG_ERROR)
        company = self.store.companies.set_active(company.id, True)
        self._log(company, LogLevel.INFO, "Synchronisation switched on")
        return company

    def deactivate(self, unit: str) -> SendingCompany:
        company = self.store.companies.set_active(self.company(unit).id, False)
        self._log(company, LogLevel.INFO, "Synchronisation switched off")
        return company

    def _log(self, company: SendingCompany, level: LogLevel, message: str) -> None:
        self.store.log.add(message, level=level, connector="maventa", account=str(company.id))


def _is_email(text: str) -> bool:
    """A plausible e-mail address (one @, a dot in the domain, no spaces); Maventa checks the rest."""
    return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text) is not None
