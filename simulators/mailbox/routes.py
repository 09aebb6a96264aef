"""The mailbox's HTTP surface besides the control plane: one index at ``/`` saying where SMTP
listens and where the messages are read (module-level blueprint; messages: `actors.py`)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from simulators.kit import current_backend

from .backend import MailboxBackend

bp = Blueprint("mailbox", __name__)


@bp.get("/")
def index() -> Response:
    box = current_backend(MailboxBackend)
    return jsonify(
        {
            "service": "mailbox",
            "smtp": box.smtp_info(),
            "messages": len(box.messages),
            "read_messages_at": "/_sim/messages",
        }
    )
