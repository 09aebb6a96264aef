"""The service layer: every state change of the Maventa fake, independent of HTTP.

Answers chosen where the public material is silent (documented here and in ``describe()``):

* **MV-2, e-mail that already has a user:** ``POST /v1/users`` answers ``201 {}`` – the
  ``user_api_key`` field is simply absent (the docs: "for security reasons no API key is
  returned"); the response still validates against ``API_Entities_ApiUser``.
* **Repeated ``uuid`` on ``POST /v1/invoices``:** never creates a second invoice; answers
  ``201`` with the *existing* invoice (same id, current status) and the header
  ``X-Sim-Idempotent-Replay: true``. A uuid used by another company answers 409
  ``uuid_conflict``.
* **Unverified company sending:** 403 ``{"code": "company_unverified", "message": "Unauthorized"}``.
* **Lifecycle:** an invoice is PENDING (action CREATED) until it *settles*: after
  ``polls_to_deliver`` reads of the invoice, after ``delivery_seconds`` of simulated time, or
  when an actor delivers/fails it. Settling sends it on the planned channel (SENT action,
  outbox e-mail or print job) and marks it DELIVERED, or marks it FAILED (ERROR action) and
  e-mails ``on_send_errors`` (``to_user`` = the sending user, plus ``to_emails``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import printing
from .errors import MaventaError, bad_request, not_found
from .finvoice import InvoiceData
from .models import Action, Company, Invoice, InvoiceFile, MaventaState, OutboxMessage, RoutePlan, User
from .presets import default_settings

UPLOADED_FILE_TYPES = frozenset({"INVOICE_XML", "INVOICE_IMAGE", "ATTACHMENT"})
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
COUNTRIES = ("FI", "SE", "NO", "DK", "NL", "EE", "BE", "IT", "DE")
LOCALES = ("FI", "NO", "SE", "EN", "NL", "BE")

INVITATION_SUBJECT = {
    "FI": "Allekirjoituspyyntö: Maventa-palvelun käyttöönotto ({company})",
    "SE": "Signeringsbegäran: ta Maventa i bruk ({company})",
    "NO": "Signeringsforespørsel: Maventa ({company})",
}
ERROR_SUBJECT = "Maventa: laskun {number} lähetys epäonnistui / sending invoice {number} failed"


@dataclass
class Options:
    polls_to_deliver: int = 1
    delivery_seconds: float = 60.0
    require_vendor_key: bool = False
    print_prices: dict[str, Any] | None = None


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


class Backend:
    """Operations on one ``MaventaState``; the caller holds the simulator lock."""

    def __init__(self, state: MaventaState, options: Options) -> None:
        self.state = state
        self.options = options
        self._stored: dict[str, int] = {}  # company id -> bytes of uploaded files (a cache)

    # ------------------------------------------------------------------ storage
    def reserve_storage(self, company: Company, nbytes: int, cap: int) -> None:
        """Count `nbytes` of new uploaded files against the company's cap, or refuse (413).

        [inferred] Maventa publishes no quota; the fake keeps every file in memory, so it keeps
        at most `cap` bytes of uploads per company (``MaventaSimulator(max_company_storage=...)``)."""
        used = self._stored.get(company.id)
        if used is None:
            used = sum(
                len(f.content)
                for inv in self.state.invoices.values()
                if inv.company_id == company.id
                for f in inv.files
                if f.type in UPLOADED_FILE_TYPES
            )
        if used + nbytes > cap:
            raise MaventaError(
                413,
                "storage_limit_exceeded",
                "The company's stored files would exceed the simulator's limit",
                [
                    f"{used} bytes stored, {nbytes} more sent, at most {cap} bytes per company (reset the simulator)"
                ],
            )
        self._stored[company.id] = used + nbytes

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

    # ------------------------------------------------------------------ outbox
    def outbox(self, msg: OutboxMessage) -> OutboxMessage:
        self.state.outbox.append(msg)
        return msg

    # ------------------------------------------------------------------ invoices
    def new_invoice(
        self,
        *,
        company: Company,
        user: User,
        data: InvoiceData,
        source_format: str,
        route: RoutePlan,
        files: list[InvoiceFile],
        lang: str,
        sender_comment: str,
        print_options: dict[str, Any],
        now: datetime,
        invoice_id: str | None = None,
    ) -> Invoice:
        inv = Invoice(
            id=invoice_id or self.state.new_id("invoice"),
            company_id=company.id,
            user_id=user.id,
            status="PENDING",
            number=data.number,
            reference=data.reference,
            sender={
                "eia": "0037" + company.bid.replace("-", "") if company.country == "FI" else "",
                "bid": company.bid,
                "name": company.name,
                "country": company.country,
            },
            recipient={
                "eia": route.eia or data.buyer.eia,
                "bid": data.buyer.bid,
                "name": data.buyer.name,
                "country": data.buyer.country or "FI",
                "operator": route.operator or data.buyer.operator,
            },
            created_at=now,
            date=data.date,
            date_due=data.due_date,
            source_format=source_format,
            sum=data.sum,
            sum_tax=data.sum_tax,
            currency=data.currency,
            lang=lang,
            sender_comment=sender_comment,
            route=route,
            settles_at=now + timedelta(seconds=self.options.delivery_seconds),
            files=files,
            print_options=print_options,
        )
        inv.actions.append(
            Action(type="CREATED", happened_at=now, message="Invoice created", key="action_created")
        )
        for note in route.notes:
            inv.actions.append(Action(type="INFO", happened_at=now, message=note))
        self.state.invoices[inv.id] = inv
        return inv

    def progress(self, inv: Invoice, now: datetime, *, poll: bool = False) -> None:
        """Settle a PENDING invoice when its time or poll budget is used up."""
        if inv.status == "PENDING" and (
            now >= inv.settles_at or (poll and inv.polls >= self.options.polls_to_deliver)
        ):
            self.settle(inv, now)
        if poll:
            inv.polls += 1

    def progress_all(self, now: datetime) -> None:
        for inv in list(self.state.invoices.values()):
            self.progress(inv, now)

    def settle(self, inv: Invoice, now: datetime) -> None:
        if inv.status != "PENDING":
            return
        route = inv.route
        company = self.state.companies[inv.company_id]
        if route.channel is None:
            inv.actions.append(
                Action(type="ERROR", happened_at=now, message=route.error, key="action_route_failed")
            )
            self._fail(inv, company, route.error, now)
            return
        if route.channel == "EINVOICE":
            key = "action_internal_sent" if route.operator == "003721291126" else None
            inv.actions.append(
                Action(
                    type="SENT",
                    channel="EINVOICE",
                    happened_at=now,
                    key=key,
                    message=f"Sent as e-invoice to {route.eia} via operator {route.operator}",
                )
            )
        elif route.channel == "EMAIL":
            self._send_email(inv, company, now)
        elif route.channel == "PRINT":
            self._send_print(inv, company, now)
        inv.destination = route.channel
        inv.status = "DELIVERED"
        inv.actions.append(
            Action(
                type="DELIVERED",
                channel=route.channel,
                happened_at=now,
                key="action_delivered",
                message="Invoice delivered",
            )
        )

    def fail(self, inv: Invoice, message: str, now: datetime) -> None:
        """The recipient's network (or the post) reports a failed delivery."""
        if inv.status == "FAILED":
            raise ValueError("the invoice has already failed")
        if inv.status == "PENDING" and inv.route.channel is not None:
            inv.actions.append(
                Action(
                    type="SENT",
                    channel=inv.route.channel,
                    happened_at=now,
                    key={"EMAIL": "action_sent_email", "PRINT": "action_sent_print"}.get(inv.route.channel),
                    message=f"Sent via {inv.route.channel}",
                )
            )
        inv.actions.append(
            Action(
                type="ERROR",
                channel=inv.route.channel,
                happened_at=now,
                message=message,
                key="action_delivery_failed",
            )
        )
        self._fail(inv, self.state.companies[inv.company_id], message, now)

    def _fail(self, inv: Invoice, company: Company, message: str, now: datetime) -> None:
        inv.status = "FAILED"
        notify = company.settings.get("invoice_notifications", {}).get("on_send_errors", {})
        to = [str(e) for e in notify.get("to_emails", [])]
        user = self.state.users.get(inv.user_id)
        if notify.get("to_user", True) and user is not None and user.email not in to:
            to.insert(0, user.email)
        if to:
            self.outbox(
                OutboxMessage(
                    id=self.state.new_id("outbox"),
                    kind="email",
                    purpose="send_error",
                    at=now,
                    company_id=company.id,
                    invoice_id=inv.id,
                    to=to,
                    subject=ERROR_SUBJECT.format(number=inv.number),
                    body=(
                        f"Invoice {inv.number} to {inv.recipient.get('name', '')} could not be sent.\n"
                        f"Error: {message}\nInvoice id: {inv.id}"
                    ),
                )
            )

    def reroute(self, inv: Invoice, route: RoutePlan, now: datetime) -> None:
        if inv.status == "PENDING":
            raise MaventaError(
                409,
                "invoice_in_invalid_state",
                "Invoice is still being processed",
                ["Only a delivered or failed invoice can be rerouted"],
            )
        inv.route = route
        inv.status = "PENDING"
        inv.polls = 0
        inv.settles_at = now + timedelta(seconds=self.options.delivery_seconds)
        inv.revision = {"rerouted_at": iso(now), "channel": route.channel}
        inv.actions.append(
            Action(
                type="INFO",
                happened_at=now,
                channel=route.channel,
                message=f"Invoice rerouted to {route.channel}",
            )
        )

    # ------------------------------------------------------------------ channels
    def image(self, inv: Invoice) -> InvoiceFile:
        """The invoice image: the sender's own PDF, or Maventa's rendering (generated once)."""
        return self.own_image(inv) or self.generated_image(inv)

    def generated_image(self, inv: Invoice) -> InvoiceFile:
        """Maventa's own rendering of the invoice data (generated once), whatever PDF the sender sent."""
        for f in inv.files:
            if f.type == "GENERATED_IMAGE":
                return f
        pdf = printing.render_invoice_image(
            {
                "number": inv.number,
                "lines": [
                    f"{inv.sender.get('name', '')} -> {inv.recipient.get('name', '')}",
                    f"Date {inv.date}, due {inv.date_due or '-'}",
                    f"Reference {inv.reference}",
                    f"Total {inv.sum_tax:.2f} {inv.currency}",
                ],
            },
            inv.created_at,
        )
        f = InvoiceFile(
            id=self.state.new_id("file"),
            filename=f"{inv.number or inv.id}.pdf",
            type="GENERATED_IMAGE",
            mimetype="application/pdf",
            content=pdf,
        )
        inv.files.append(f)
        return f

    def own_image(self, inv: Invoice) -> InvoiceFile | None:
        return next((f for f in inv.files if f.type == "INVOICE_IMAGE"), None)

    def _send_email(self, inv: Invoice, company: Company, now: datetime) -> None:
        how = company.settings.get("send_invoice_email", {}).get("how_to_send", "EMBEDDED")
        image = self.image(inv)
        attachments = (
            [image] + [f for f in inv.files if f.type == "ATTACHMENT"] if how.startswith("EMBEDDED") else []
        )
        contact = company.settings.get("send_invoice_email", {}).get("content_data", {}).get("contact", {})
        body = f"Lasku {inv.number} / Invoice {inv.number} from {company.name}.\nTotal {inv.sum_tax:.2f} {inv.currency}"
        if how in ("WITH_LINK", "WITH_OBJECTIONS"):
            body += f"\nView the invoice: https://invoice.maventa.com/sim/{inv.id}"
        if inv.sender_comment:
            body += f"\n\n{inv.sender_comment}"
        self.outbox(
            OutboxMessage(
                id=self.state.new_id("outbox"),
                kind="email",
                purpose="invoice",
                at=now,
                company_id=company.id,
                invoice_id=inv.id,
                to=[inv.route.email],
                subject=f"Lasku {inv.number} - {company.name}",
                body=body,
                attachments=attachments,
                print_job={"reply_to": contact.get("email", "")} if contact else {},
            )
        )
        inv.actions.append(
            Action(
                type="SENT",
                channel="EMAIL",
                happened_at=now,
                key="action_sent_email",
                message=f"Sent by e-mail to {inv.route.email}",
            )
        )

    def _send_print(self, inv: Invoice, company: Company, now: datetime) -> None:
        ps = company.settings.get("send_invoice_print", {})
        opts = inv.print_options
        use_own = bool(opts["print_own_image"]) if "print_own_image" in opts else bool(ps.get("use_own_pdf"))
        own = self.own_image(inv) if use_own else None
        color = bool(opts["color"]) if "color" in opts else ps.get("color_scheme") == "COLORED"
        letter_class = str(opts.get("letter_class") or ps.get("letter_class") or "ECONOMY")
        image = own or self.generated_image(inv)  # without own PDFs Maventa prints its rendering
        image_pages = printing.count_pages(image.content) or 1
        atts = [
            (f.filename, printing.count_pages(f.content) or 0)
            for f in inv.files
            if f.type == "ATTACHMENT" and f.mimetype == "application/pdf"
        ]
        job = printing.plan_print_job(
            image_pages=image_pages,
            own_image=own is not None,
            color=color,
            letter_class=letter_class,
            attachments=atts,
            print_attachments=bool(ps.get("attachment_print")),
            prices=self.options.print_prices,
        )
        a = inv.route.address
        recipient_lines = [
            a.get("name", ""),
            a.get("street", ""),
            f"{a.get('post_code', '')} {a.get('town', '')}",
            a.get("country", ""),
        ]
        parts: list[InvoiceFile] = []
        if own is not None:
            sender_lines = [company.name, company.address1, f"{company.post_code} {company.post_office}"]
            cover = printing.render_cover_page(recipient_lines, sender_lines, inv.created_at)
            parts.append(
                InvoiceFile(
                    id=self.state.new_id("file"),
                    filename="cover_page.pdf",
                    type="COVER_PAGE",
                    mimetype="application/pdf",
                    content=cover,
                )
            )
        parts.append(image)
        self.outbox(
            OutboxMessage(
                id=self.state.new_id("outbox"),
                kind="print",
                purpose="print_job",
                at=now,
                company_id=company.id,
                invoice_id=inv.id,
                to=recipient_lines,
                sender=company.name,
                subject=f"Invoice {inv.number}",
                body="\n".join(recipient_lines),
                attachments=parts,
                print_job=job.to_json(),
            )
        )
        inv.actions.append(
            Action(
                type="SENT",
                channel="PRINT",
                happened_at=now,
                key="action_sent_print",
                message=f"Sent to the print service ({job.pages} pages, {job.sheets} sheets)",
            )
        )

    # ------------------------------------------------------------------ lookups
    def company_of(self, company_id: str) -> Company:
        company = self.state.companies.get(company_id)
        if company is None:
            raise not_found("Company")
        return company


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
