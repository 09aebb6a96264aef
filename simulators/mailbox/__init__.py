"""The sandbox mailbox: catches the bridge's notification e-mails over SMTP (SPEC §3, issue 5 item 7)."""

from .models import Attachment, MailMessage
from .service import (
    DEFAULT_CAPACITY,
    DEFAULT_HTTP_PORT,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_SMTP_PORT,
    MailboxSimulator,
)

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_HTTP_PORT",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_SMTP_PORT",
    "Attachment",
    "MailMessage",
    "MailboxSimulator",
]
