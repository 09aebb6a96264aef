"""Posti / Mail: one inbox for the SMTP mailbox (the bridge's error notifications, MV-9) and
Maventa's outbox (authorisation invitations, invoices by e-mail, Maventa's error e-mails), each
message rendered (headers, text, attachments)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request

from .. import readouts
from . import sb

bp = Blueprint("mail", __name__, url_prefix="/posti")

PURPOSES = {
    "authorization_invitation": "Allekirjoituskutsu / invitation to sign",
    "invoice": "Lasku sähköpostina / invoice by e-mail",
    "send_error": "Maventan virheilmoitus / Maventa's sending error",
}


def _at(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def inbox_messages() -> list[dict[str, Any]]:
    w = sb().w
    out: list[dict[str, Any]] = []
    for m in readouts.mailbox_messages(w):
        out.append(
            {
                "key": f"smtp-{m['id']}",
                "source": "SMTP-postilaatikko / mailbox",
                "kind": "Siirtopalvelun ilmoitus / the bridge's notification",
                "at": m["received_at"],
                "from": m["from"] or m["mail_from"],
                "to": m["to"] or ", ".join(m["rcpt_tos"]),
                "subject": m["subject"],
                "text": m["text"],
                "headers": m["headers"],
                "attachments": [
                    {"filename": a["filename"], "type": a["content_type"], "size": a["size"], "href": None}
                    for a in m["attachments"]
                ],
            }
        )
    for e in readouts.maventa_outbox(w):
        if e["kind"] != "email":
            continue
        out.append(
            {
                "key": f"maventa-{e['id']}",
                "source": "Maventa (lähtevät / outbox)",
                "kind": PURPOSES.get(e["purpose"], e["purpose"]),
                "at": e["at"],
                "from": e["from"],
                "to": ", ".join(e["to"]),
                "subject": e["subject"],
                "text": e["body"],
                "headers": [[k, str(v)] for k, v in (e.get("headers") or {}).items()],
                "attachments": [
                    {
                        "filename": a["filename"],
                        "type": a["mimetype"],
                        "size": a["size"],
                        "href": (e["id"], a["index"]),
                    }
                    for a in e["attachments"]
                ],
            }
        )
    out.sort(key=lambda m: _at(m["at"]), reverse=True)
    return out


@bp.get("/")
def inbox() -> str:
    messages = inbox_messages()
    wanted = request.args.get("viesti")
    selected = next((m for m in messages if m["key"] == wanted), None)
    if selected is None and messages and not wanted:
        selected = messages[0]
    return render_template(
        "mail.html",
        messages=messages,
        selected=selected,
        missing=wanted if wanted and selected is None else None,
    )
