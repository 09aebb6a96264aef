"""Delivering an invoice on its channel (lähetys): the e-invoice network, e-mail, the print
service; and what a failure sends (the sending-error e-mail to ``on_send_errors``).

`DeliveryBackend` is the base of `backend.MaventaBackend`. Settling a PENDING invoice sends it
on its planned route (a SENT action, an outbox e-mail or print job) and marks it DELIVERED, or
marks it FAILED (ERROR action) and e-mails ``on_send_errors`` (``to_user`` = the sending user,
plus ``to_emails``). Print (MV-7): with ``use_own_pdf`` (or ``print_settings[print_own_image]``)
the sender's PDF is printed behind a one-page address cover page; otherwise Maventa prints its
own rendering (``GENERATED_IMAGE``) without one.
"""

from __future__ import annotations

from datetime import datetime

from . import printing
from .errors import not_found
from .models import Action, Company, Invoice, InvoiceFile, MaventaOptions, MaventaState, OutboxMessage

ERROR_SUBJECT = "Maventa: laskun {number} lähetys epäonnistui / sending invoice {number} failed"


class DeliveryBackend:
    """The channels of one ``MaventaState``; the caller holds the simulator lock."""

    def __init__(self, state: MaventaState, options: MaventaOptions) -> None:
        self.state = state
        self.options = options

    # ------------------------------------------------------------------ outbox
    def outbox(self, msg: OutboxMessage) -> OutboxMessage:
        self.state.outbox.append(msg)
        return msg

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

    def image_for(self, inv: Invoice, return_format: str) -> InvoiceFile:
        """``ORIGINAL_IMAGE`` (the sender's PDF, 404 without one), ``GENERATED_IMAGE`` (Maventa's
        rendering) or ``ORIGINAL_OR_GENERATED_IMAGE`` (the first that exists)."""
        own = self.own_image(inv)
        if return_format == "ORIGINAL_IMAGE" and own is None:
            raise not_found("Original invoice image")
        return own if (own is not None and return_format != "GENERATED_IMAGE") else self.generated_image(inv)

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
