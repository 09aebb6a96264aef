"""The mailbox's control plane (module-level blueprint, mounted under ``/_sim`` by the kit; every
view runs under the simulator's lock): the messages it caught and where SMTP listens.

`GET /_sim/messages` (filters `to`, `from`, `subject` (contains, case-insensitive), `since` (id),
`limit`), `GET /_sim/messages/{id}` (`?format=raw` for the RFC 5322 text),
`DELETE /_sim/messages`, `GET /_sim/smtp`.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, request

from simulators.kit import CONTROL_PREFIX, ControlError, current_backend, found, locked

from . import views
from .backend import MailboxBackend

bp = Blueprint("mailbox_actors", __name__, url_prefix=CONTROL_PREFIX)


def _int_arg(name: str, low: int) -> int | None:
    v = request.args.get(name)
    if v is None or v == "":
        return None
    if not re.fullmatch(r"[0-9]{1,16}", v) or int(v) < low:
        raise ControlError(f"query parameter {name!r}: expected an integer of at least {low}, got {v[:40]!r}")
    return int(v)


@bp.get("/messages")
@locked
def list_messages() -> Response:
    """The e-mails the mailbox caught; filters to, from, subject (contains), since (id), limit.

    Body: none
    """
    box = current_backend(MailboxBackend)
    listed = box.find(
        to=request.args.get("to"),
        sender=request.args.get("from"),
        subject=request.args.get("subject"),
        since_id=_int_arg("since", 0),
        limit=_int_arg("limit", 1),
    )
    return jsonify(
        {
            "messages": [views.summary(m) for m in listed],
            "count": len(listed),
            "total": len(box.messages),
            "dropped": box.dropped,
        }
    )


@bp.get("/messages/<int:msg_id>")
@locked
def get_message(msg_id: int) -> Response:
    """One e-mail with its parts (?format=raw for the RFC 5322 text).

    Body: none
    """
    msg = found(current_backend(MailboxBackend).get(msg_id), f"message with id {msg_id}")
    if request.args.get("format") == "raw":
        return Response(msg.raw, content_type="message/rfc822; charset=utf-8")
    return jsonify(views.detail(msg))


@bp.delete("/messages")
@locked
def clear_messages() -> Response:
    """Forget every e-mail.

    Body: none
    """
    current_backend(MailboxBackend).messages.clear()
    return Response(status=204)


@bp.get("/smtp")
def smtp_info() -> Response:
    """Where SMTP listens (host, port, AUTH).

    Body: none
    """
    return jsonify(current_backend(MailboxBackend).smtp_info())
