"""The outbox (lähtevät): e-mails and print jobs the fake "sent", for ``GET /_sim/outbox``.

Each entry shows its full text content; attachments and print documents are listed with
size and page count and can be downloaded from ``/_sim/outbox/<id>/attachments/<n>``.
"""

from __future__ import annotations

from typing import Any

from .models import OutboxMessage
from .printing import count_pages
from .state import iso


def message_json(m: OutboxMessage, root: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": m.id,
        "kind": m.kind,
        "purpose": m.purpose,
        "at": iso(m.at),
        "company_id": m.company_id,
        "invoice_id": m.invoice_id,
        "from": m.sender,
        "to": m.to,
        "subject": m.subject,
        "body": m.body,
        "attachments": [
            {
                "index": i,
                "filename": a.filename,
                "type": a.type,
                "mimetype": a.mimetype,
                "size": len(a.content),
                "pages": count_pages(a.content) if a.mimetype == "application/pdf" else None,
                "href": f"{root}/_sim/outbox/{m.id}/attachments/{i}",
            }
            for i, a in enumerate(m.attachments)
        ],
    }
    if m.kind == "print":
        out["print_job"] = m.print_job
    elif m.print_job:
        out["headers"] = m.print_job
    return out


def filter_messages(
    messages: list[OutboxMessage],
    *,
    kind: str | None = None,
    purpose: str | None = None,
    to: str | None = None,
    invoice_id: str | None = None,
    company_id: str | None = None,
) -> list[OutboxMessage]:
    out = messages
    if kind:
        out = [m for m in out if m.kind == kind]
    if purpose:
        out = [m for m in out if m.purpose == purpose]
    if to:
        out = [m for m in out if any(to.casefold() == t.casefold() for t in m.to)]
    if invoice_id:
        out = [m for m in out if m.invoice_id == invoice_id]
    if company_id:
        out = [m for m in out if m.company_id == company_id]
    return out
