"""Serialisers: the Maventa fake's state -> the JSON of the AX API (and of its control plane's
outbox). Field order follows recorded Maventa answers (maventa-api.md); empty sub-fields are
left out where the spec does not allow null."""

from __future__ import annotations

from typing import Any

from .models import Action, Company, Invoice, InvoiceFile, OutboxMessage, Receiver, Token, User, iso
from .printing import count_pages


def action_json(a: Action) -> dict[str, Any]:
    out: dict[str, Any] = {"type": a.type}
    if a.channel:
        out["channel"] = a.channel
    out["message"] = a.message
    if a.key:
        out["key"] = a.key
    out["happened_at"] = iso(a.happened_at)
    return out


def file_json(inv: Invoice, f: InvoiceFile, root: str) -> dict[str, Any]:
    return {
        "id": f.id,
        "filename": f.filename,
        "type": f.type,
        "mimetype": f.mimetype,
        "href": f"{root}/v1/invoices/{inv.id}/files/{f.id}",
    }


def invoice_json(inv: Invoice, root: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": inv.id,
        "status": inv.status,
        "reference": inv.reference,
        "number": inv.number,
        "sender": {k: v for k, v in inv.sender.items() if v},
        "recipient": {k: v for k, v in inv.recipient.items() if v},
        "created_at": iso(inv.created_at),
        "date": inv.date,
    }
    if inv.date_due:
        out["date_due"] = inv.date_due
    out.update(
        {
            "source_format": inv.source_format,
            "sum": inv.sum,
            "sum_tax": inv.sum_tax,
            "currency": inv.currency,
            "origin": "INTERNAL",
        }
    )
    if inv.destination:
        out["destination"] = inv.destination
    if inv.sender_comment:
        out["comment"] = inv.sender_comment
    out["files"] = [file_json(inv, f, root) for f in inv.files]
    out["actions"] = [action_json(a) for a in inv.actions]
    if inv.revision:
        out["revision"] = inv.revision
    return out


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


def auth_status(c: Company) -> dict[str, str]:
    return {"auth_state": c.auth_state, "auth_email": c.auth_email, "company_state": c.company_state}


def current(user: User, company: Company, tok: Token) -> dict[str, Any]:
    """``GET /oauth2/current``: who the token is for."""
    return {
        "user": {
            "id": user.id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
        },
        "company": {
            "id": company.id,
            "bid": company.bid,
            "name": company.name,
            "country": company.country,
            "vat": company.vat,
            "wizard_done": company.company_state == "VERIFIED",
            "disabled": False,
        },
        "scopes": tok.scopes,
    }


def receiver_json(r: Receiver) -> dict[str, Any]:
    """``API_Entities_LookupEntryReceiver``."""
    return {
        "eia": f"0037:{r.eia[4:]}" if r.eia.startswith("0037") else r.eia,
        "identifier": {
            "scheme": "iso6523-actorid-upis" if r.network == "PEPPOL" else "FI-OVT",
            "eaid_name": "FI:OVT" if r.eia.startswith("0037") else "FI:EIA",
            "eaid_code": "0216" if r.eia.startswith("0037") else "",
            "endpoint_id": r.eia,
        },
        "network": r.network,
        "operator": r.operator,
        "document_types": [
            {
                "document_type": "INVOICE",
                "document_identifier": "FINVOICE30",
                "process_identifier": "urn:finvoice:3.0",
            }
        ],
        "participant": {"id": r.eia, "name": r.name, "bid": r.bid, "country": r.country},
    }
