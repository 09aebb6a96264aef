"""What the mailbox's control plane shows of a message: a summary in lists, the detail alone."""

from __future__ import annotations

from typing import Any

from .models import MailMessage

SUMMARY = ("id", "received_at", "mail_from", "rcpt_tos", "subject", "from", "to", "message_id", "text")
SUMMARY_TAIL = ("attachments", "size")


def summary(m: MailMessage) -> dict[str, Any]:
    whole = m.to_json()
    return {k: whole[k] for k in (*SUMMARY, *SUMMARY_TAIL)}


def detail(m: MailMessage) -> dict[str, Any]:
    whole = m.to_json()
    del whole["raw"]
    return whole
