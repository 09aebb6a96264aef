"""Sending-error notifications by e-mail (MV-9, "Ilmoitusosoite": the notification address).

When an invoice cannot be sent (validation, Maventa refused it, or its delivery failed later),
the bridge e-mails the company's notification address. The message is in Finnish and English,
its subject names the invoice number and the error, and it carries the service's exact error
text. It never contains credentials: only what is in `SendingError`.

`Notifier.notify_sending_error()` never raises on delivery problems: the SMTP outcome comes back
as a `NotifyResult` (ok or the reason), so the transfer engine records it and tries again on the
next pass instead of crashing. A deterministic Message-ID (`notification_message_id`) lets a
repeated notification be recognised as the same one.

SMTP follows `SmtpSettings` (from `bridge.config`): `tls = "ssl"` (SMTPS, usually port 465),
`"starttls"` (upgrade after EHLO, usually 587; refused if the server cannot), or `"none"` (the
sandbox mailbox). Login happens only when a username is configured.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bridge.config import SmtpSettings

__all__ = ["Notifier", "NotifyResult", "SendingError", "build_error_message", "notification_message_id"]

log = logging.getLogger(__name__)

SUBJECT_ERROR_CHARS = 120
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$|^[^@\s<>\"',;]+@localhost$")


@dataclass(frozen=True)
class SendingError:
    """What went wrong with one invoice, as the notification tells it."""

    invoice_guid: str
    invoice_number: str | None
    company_name: str
    error: str  # the service's exact error text
    customer_name: str | None = None
    occurred_at: datetime | None = None
    send_uuid: str | None = None  # the ledger's send uuid; makes the Message-ID deterministic
    status_after_error: str | None = None  # name of the Severa status the invoice was moved to
    target: str = "Maventa"  # where the invoice was going: "Maventa" or "Maestro"


@dataclass(frozen=True)
class NotifyResult:
    ok: bool
    message_id: str
    recipients: tuple[str, ...]
    error: str | None = None  # why delivery failed (no secrets)


def notification_message_id(send_uuid: str, domain: str = "severa-bridge.invalid") -> str:
    """The Message-ID of the error notification of one send: the same send, the same id."""
    return f"<{send_uuid}.sending-error@{domain}>"


def _one_line(text: str, limit: int | None = None) -> str:
    line = " ".join(text.split())  # no CR/LF: header injection is impossible
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def build_error_message(
    err: SendingError, *, to: list[str], from_address: str, message_id: str | None = None
) -> EmailMessage:
    """The notification e-mail (text/plain, UTF-8, Finnish first, then English)."""
    number = _one_line(err.invoice_number or "") or "?"
    when = (err.occurred_at or datetime.now(UTC)).astimezone(UTC)
    error_line = _one_line(err.error, SUBJECT_ERROR_CHARS) or "unknown error"
    msg = EmailMessage()
    msg["Subject"] = f"Laskun {number} lähetys epäonnistui / Sending invoice {number} failed: {error_line}"
    msg["From"] = from_address
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id or (
        notification_message_id(err.send_uuid)
        if err.send_uuid
        else make_msgid("sending-error", "severa-bridge.invalid")
    )
    msg["X-Severa-Invoice-Guid"] = _one_line(err.invoice_guid)
    msg["Auto-Submitted"] = "auto-generated"
    customer = _one_line(err.customer_name or "") or "-"
    company = _one_line(err.company_name) or "-"
    stamp = when.strftime("%Y-%m-%d %H:%M UTC")
    target = _one_line(err.target) or "Maventa"
    status_fi = f'Lasku on siirretty tilaan "{err.status_after_error}".\n' if err.status_after_error else ""
    status_en = (
        f'The invoice was moved to the status "{err.status_after_error}".\n' if err.status_after_error else ""
    )
    msg.set_content(
        f"""Hei,

laskun lähetys {_into(target)} epäonnistui.

Yritys:      {company}
Lasku:       {number}
Asiakas:     {customer}
Aika:        {stamp}
Virhe:       {err.error}

{status_fi}Korjaa virhe Severassa ja siirrä lasku uudelleen siirrettävien laskujen tilaan, niin se
lähetetään uudelleen. Siirtoloki näyttää kaikki siirrot.

-- English --

Sending an invoice to {target} failed.

Company:     {company}
Invoice:     {number}
Customer:    {customer}
Time:        {stamp}
Error:       {err.error}

{status_en}Fix the problem in Severa and put the invoice back into the status to transfer to send
it again. The transfer log shows every transfer.

Severa–{target} bridge (this message was sent automatically)
"""
    )
    return msg


def _into(target: str) -> str:
    """The Finnish illative of the target's name ("Maventaan", "Maestroon")."""
    return {"Maventa": "Maventaan", "Maestro": "Maestroon"}.get(target, target)


SmtpFactory = Callable[[SmtpSettings], smtplib.SMTP]


def _default_smtp(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.tls == "ssl":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)


class Notifier:
    """Sends the sending-error e-mail over SMTP."""

    def __init__(self, smtp: SmtpSettings, *, connect: SmtpFactory = _default_smtp) -> None:
        self.smtp = smtp
        self._connect = connect

    def notify_sending_error(self, to: str | list[str], err: SendingError) -> NotifyResult:
        """E-mail `err` to `to` (one address, a list, or a comma-separated string); never raises."""
        recipients = _recipients(to)
        message_id = notification_message_id(err.send_uuid) if err.send_uuid else ""
        bad = [r for r in recipients if not _EMAIL.match(r)]
        if not recipients or bad:
            reason = f"not an e-mail address: {bad[0]!r}" if bad else "no notification address is set"
            return NotifyResult(False, message_id, tuple(recipients), reason)
        msg = build_error_message(err, to=recipients, from_address=self.smtp.from_address)
        message_id = str(msg["Message-ID"] or "")
        try:
            self.send(msg, recipients)
        except (smtplib.SMTPException, OSError, ssl.SSLError, UnicodeError) as exc:
            reason = self._describe(exc)
            log.warning(
                "sending-error notification for invoice %s not delivered: %s", err.invoice_number, reason
            )
            return NotifyResult(False, message_id, tuple(recipients), reason)
        log.info(
            "sending-error notification for invoice %s sent to %d recipient(s)",
            err.invoice_number,
            len(recipients),
        )
        return NotifyResult(True, message_id, tuple(recipients))

    def send(self, msg: EmailMessage, recipients: list[str]) -> None:
        """Deliver one message; raises smtplib/OSError exceptions (used by `notify_sending_error`)."""
        s = self.smtp
        with self._connect(s) as client:
            if s.tls == "starttls":
                client.ehlo()
                if not client.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError(
                        f'the SMTP server {s.host}:{s.port} does not offer STARTTLS (tls = "starttls")'
                    )
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if s.username:
                client.login(s.username, s.password.reveal() if s.password else "")
            refused = client.send_message(msg, from_addr=s.from_address, to_addrs=recipients)
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)

    def _describe(self, exc: BaseException) -> str:
        where = f"SMTP {self.smtp.host}:{self.smtp.port}"
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return f"{where}: login refused for user {self.smtp.username!r} ({exc.smtp_code})"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            return f"{where}: recipients refused: {', '.join(exc.recipients)}"
        if isinstance(exc, smtplib.SMTPResponseException):
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            return f"{where}: {exc.smtp_code} {_one_line(str(text))}"
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            return f"{where}: timed out after {self.smtp.timeout:g} s"
        if isinstance(exc, ConnectionRefusedError):
            return f"{where}: connection refused"
        return f"{where}: {_one_line(str(exc)) or type(exc).__name__}"


def _recipients(to: str | list[str]) -> list[str]:
    items = [to] if isinstance(to, str) else list(to)
    out: list[str] = []
    for item in items:
        for part in re.split(r"[,;]", item):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out
