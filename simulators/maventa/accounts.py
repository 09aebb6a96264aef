"""Accounts (MV-1..MV-4): registering users and companies, and the company authorisation
(KYC: the approver signs the agreement after strong identification, an actor on the control
plane). `AccountsBackend` is a base of `backend.MaventaBackend`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .delivery import DeliveryBackend
from .errors import MaventaError, bad_request, not_found
from .models import Company, OutboxMessage, Token, User
from .presets import default_settings
from .routing import EMAIL_RE

COUNTRIES = ("FI", "SE", "NO", "DK", "NL", "EE", "BE", "IT", "DE")
LOCALES = ("FI", "NO", "SE", "EN", "NL", "BE")

INVITATION_SUBJECT = {
    "FI": "Allekirjoituspyyntö: Maventa-palvelun käyttöönotto ({company})",
    "SE": "Signeringsbegäran: ta Maventa i bruk ({company})",
    "NO": "Signeringsforespørsel: Maventa ({company})",
}


class AccountsBackend(DeliveryBackend):
    """Users, companies and their authorisation; the caller holds the simulator lock."""

    def user_of(self, tok: Token) -> User:
        return self.state.users[tok.user_id]

    # ------------------------------------------------------------------ registration (MV-1, MV-2)
    def create_user(self, body: dict[str, Any]) -> dict[str, str]:
        vendor = str(body.get("vendor_api_key") or "")
        if vendor not in self.state.vendor_keys:
            raise MaventaError(401, "invalid_credentials", "Invalid vendor API key")
        email = str(body.get("email") or "").strip()
        if not EMAIL_RE.fullmatch(email):
            raise bad_request("email is missing or invalid", [f"email: {email!r}"])
        if self.state.user_by_email(email) is not None:
            return {}  # MV-2: the user exists; no key is returned
        user = User(
            id=self.state.new_id("user"),
            email=email,
            first_name=str(body.get("first_name") or ""),
            last_name=str(body.get("last_name") or ""),
            api_key=self.state.new_id("user-api-key"),
        )
        self.state.users[user.id] = user
        return {"user_api_key": user.api_key}

    def create_company(self, form: dict[str, str], now: datetime) -> Company:
        vendor = form.get("vendor_api_key", "")
        if vendor not in self.state.vendor_keys:
            raise MaventaError(401, "invalid_credentials", "Invalid vendor API key")
        user = self.state.user_by_key(form.get("user_api_key", ""))
        if user is None:
            raise MaventaError(401, "invalid_credentials", "Invalid user API key")
        required = (
            "name",
            "bid",
            "no_vat",
            "address1",
            "post_code",
            "post_office",
            "city",
            "country",
            "email",
        )
        missing = [f for f in required if not form.get(f, "").strip()]
        if missing:
            raise bad_request("Missing required parameters", [f"{m} is missing" for m in missing])
        problems = []
        name = form["name"].strip()
        if len(name) < 3:
            problems.append("name must be at least 3 characters")
        country = form["country"].strip().upper()
        if country not in COUNTRIES:
            problems.append(f"country does not have a valid value ({', '.join(COUNTRIES)})")
        no_vat = form["no_vat"].strip().lower()
        if no_vat not in ("true", "false", "1", "0"):
            problems.append("no_vat is invalid (true or false)")
        if not EMAIL_RE.fullmatch(form["email"].strip()):
            problems.append("email is invalid")
        bid, vat = normalise_bid(form["bid"], country)
        if not bid:
            problems.append(f"bid {form['bid']!r} is not a valid business ID or VAT number")
        if problems:
            raise bad_request("Invalid parameters", problems)
        if self.state.company_by_bid(bid, country) is not None:
            raise MaventaError(
                422,
                "bid_already_taken",
                "BID ALREADY TAKEN",
                [f"A company with business ID {bid} is already registered in Maventa"],
            )
        company = Company(
            id=self.state.new_id("company"),
            name=name,
            bid=bid,
            vat=vat,
            no_vat=no_vat in ("true", "1"),
            country=country,
            address1=form["address1"].strip(),
            address2=form.get("address2", "").strip(),
            post_code=form["post_code"].strip(),
            post_office=form["post_office"].strip(),
            city=form["city"].strip(),
            state=form.get("state", "").strip(),
            email=form["email"].strip(),
            vendor_api_key=vendor,
            created_at=now,
        )
        company.settings = default_settings(company, user.email)
        self.state.companies[company.id] = company
        user.company_ids.append(company.id)
        return company

    # ------------------------------------------------------------------ authorisation (MV-3, MV-4)
    def request_authorization(self, company: Company, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        email = str(body.get("auth_email") or "").strip()
        locale = str(body.get("locale") or "").strip().upper()
        problems = []
        if not EMAIL_RE.fullmatch(email):
            problems.append("auth_email is missing or invalid")
        if locale not in LOCALES:
            problems.append(f"locale does not have a valid value ({', '.join(LOCALES)})")
        if problems:
            raise bad_request("Invalid parameters", problems)
        if company.company_state == "VERIFIED":
            return {"status": "ALREADY_AUTHORIZED", "count": 0}
        company.auth_state, company.auth_email, company.auth_locale = "PENDING", email, locale
        subject = INVITATION_SUBJECT.get(locale, "Signing request: taking Maventa into use ({company})")
        link = f"https://sign.visma.net/sim/invitation/{company.id}"
        self.outbox(
            OutboxMessage(
                id=self.state.new_id("outbox"),
                kind="email",
                purpose="authorization_invitation",
                at=now,
                company_id=company.id,
                to=[email],
                sender="noreply@vismasign.com",
                subject=subject.format(company=company.name),
                body=(
                    f"{company.name} ({company.bid}) has asked you to sign the Maventa service agreement.\n"
                    f"Open {link} and identify yourself strongly (bank ID or mobile certificate) to sign.\n"
                    f"Only a person with the right to sign for the company may sign."
                ),
            )
        )
        company.auth_state = "SENT"
        return {"status": "SENT", "count": 1}

    def sign(self, company: Company) -> None:
        if company.auth_state not in ("PENDING", "SENT"):
            raise ValueError(f"no signing invitation is open (auth_state {company.auth_state})")
        company.auth_state, company.company_state = "SIGNED", "VERIFIED"

    def cancel(self, company: Company) -> None:
        if company.auth_state not in ("PENDING", "SENT"):
            raise ValueError(f"no signing invitation is open (auth_state {company.auth_state})")
        company.auth_state = "CANCELED"

    # ------------------------------------------------------------------ company lookups
    def companies_of(self, tok: Token, bid: str | None, country: str | None) -> list[Company]:
        user = self.user_of(tok)
        return [
            c
            for c in (self.state.companies[cid] for cid in user.company_ids)
            if not (bid and c.bid != bid and c.vat != bid) and not (country and c.country != country.upper())
        ]

    def company_status(self, tok: Token, company_id: str) -> Company:
        if company_id not in self.user_of(tok).company_ids:
            raise not_found("Company")
        return self.state.companies[company_id]

    def bid_statuses(self, bids: list[str], country: str) -> list[dict[str, str]]:
        """``GET /v1/partner/lookups/companies``: is each business ID taken in Maventa?"""
        out = []
        for raw in bids:
            bid, _ = normalise_bid(raw, country)
            taken = bool(bid) and self.state.company_by_bid(bid, country) is not None
            out.append({"company_bid": raw, "company_status": "RESERVED" if taken else "FREE"})
        return out


def normalise_bid(raw: str, country: str) -> tuple[str, str]:
    """(business ID, VAT number) from a Y-tunnus or an FI VAT number; ("", "") when invalid."""
    from stdnum.fi import alv, ytunnus

    value = raw.strip().upper().replace(" ", "")
    if country != "FI":
        return (value, value) if len(value) >= 4 else ("", "")
    if value.startswith("FI") and alv.is_valid(value):
        digits = value[2:]
        return f"{digits[:7]}-{digits[7]}", value
    if ytunnus.is_valid(value):
        compact = ytunnus.compact(value)  # 8 digits, no hyphen
        return ytunnus.format(compact), "FI" + compact
    return "", ""
