"""One invoice's journey: everything that happened to it across the services, in time order.

Gathered from what each part keeps (every part runs on the world's one clock, so their times
compare): the Severa invoice and what users did in the dashboard, Severa's journal (the bridge
setting the status, reading the PDF), the bridge's ledger and transfer log, Maventa's invoice
actions and outbox (e-mails and print jobs), Maestro's sales invoice (each row's product) and
import log, and the mails the mailbox received about it. The journal is bounded and not part of
a saved state: after a restart the ledger, logs and services still tell the story.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from simulators.maestro import views as maestro_views
from simulators.maventa.views import message_json

if TYPE_CHECKING:
    from sandbox.up import Sandbox

__all__ = ["Event", "journey"]


@dataclass
class Event:
    at: datetime
    service: str  # severa | user | bridge | maventa | maestro | mail
    title: str
    detail: str = ""
    kind: str = ""  # good | warn | bad | ""
    rows: list[dict[str, Any]] = field(default_factory=list)  # Maestro's booked rows


def _dt(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def journey(sandbox: Sandbox, guid: str) -> list[Event]:
    w = sandbox.w
    guid_l = guid.lower()
    events: list[Event] = []
    with w.severa_sim.lock:
        b = w.severa_sim.main
        inv = b.org.invoices.get(guid)
        if inv is None:
            return []
        number = str(inv.number) if inv.number is not None else None
        events.append(Event(inv.audit.created, "severa", "Lasku luotu / invoice created in Severa"))
        status_names = {s.guid.lower(): s.name for s in b.org.invoice_statuses.values()}
    for a in sandbox.activity:
        if a.get("invoice_guid") == guid_l:
            events.append(Event(_dt(a["at"]), "user", str(a["text"])))
    events += _severa_journal(sandbox, guid, status_names)

    # the bridge: ledger rows and the transfer log
    for e in w.store.ledger.in_state():
        if e.invoice_guid.lower() != guid_l:
            continue
        if e.created_at:
            events.append(
                Event(
                    e.created_at,
                    "bridge",
                    f"{e.connector}: otettu siirtoon / picked up (generation {e.generation})",
                )
            )
        kind = (
            "good"
            if e.state.value == "DELIVERED"
            else ("bad" if e.state.value in ("NOTIFIED", "FAILED", "ERROR_PATCHED") else "")
        )
        detail = ", ".join(
            x
            for x in (
                e.remote_detail and f"channel {e.remote_detail}",
                e.remote_id and f"remote id {e.remote_id}",
                e.last_error,
            )
            if x
        )
        events.append(
            Event(
                e.updated_at or e.created_at or _dt(""),
                "bridge",
                f"{e.connector}: ledger {e.state.value}",
                detail,
                kind,
            )
        )
    for line in w.store.log.entries(invoice_guid=guid, limit=None, newest_first=False):
        kind = {"ERROR": "bad", "WARNING": "warn"}.get(line.level.value, "")
        events.append(
            Event(
                line.at, "bridge", f"siirtoloki / transfer log ({line.connector or '-'})", line.message, kind
            )
        )

    # Maventa: the invoices sent for it, their actions and what went out
    companies = {c.maventa_company_uuid for c in w.store.companies.all() if c.maventa_company_uuid}
    remote_ids = {
        e.remote_id for e in w.store.ledger.in_state(connector="maventa") if e.invoice_guid.lower() == guid_l
    }
    with w.maventa_sim.lock:
        mine = [
            i
            for i in w.maventa_sim.data.invoices.values()
            if i.id in remote_ids or (number is not None and i.number == number and i.company_id in companies)
        ]
        ids = {i.id for i in mine}
        for i in mine:
            for act in i.actions:
                kind = (
                    "good"
                    if act.type in ("DELIVERED", "SENT")
                    else ("bad" if act.type in ("ERROR", "FAILED") else "")
                )
                title = f"Maventa: {act.type}" + (f" ({act.channel})" if act.channel else "")
                events.append(Event(act.happened_at, "maventa", title, act.message, kind))
        for msg in w.maventa_sim.data.outbox:
            if msg.invoice_id not in ids:
                continue
            item = message_json(msg)
            if msg.kind == "print":
                job = msg.print_job
                detail = (
                    f"{job.get('pages')} sivua / pages, kansilehti / cover page: {'kyllä' if job.get('cover_page') else 'ei'}, "
                    f"veloitus / charge {job.get('charge', {}).get('total')} {job.get('charge', {}).get('currency', '')}"
                )
                events.append(
                    Event(msg.at, "maventa", "Maventa: tulostuspalvelu / print job", detail, "good")
                )
            else:
                events.append(
                    Event(
                        msg.at,
                        "maventa",
                        f"Maventa: sähköposti / e-mail ({msg.purpose})",
                        f"{item['subject']} → {', '.join(msg.to)}",
                    )
                )

    # Maestro: the sales invoice with each row's product, and the import log
    with w.maestro_sim.lock:
        for backend in w.maestro_sim.companies.values():
            sales = backend.find_invoice_by_guid(guid)
            if sales is not None:
                data = maestro_views.invoice(sales)
                fallback = data["fallback_row_count"]
                events.append(
                    Event(
                        sales.imported_at,
                        "maestro",
                        f"Maestro: myyntilasku / sales invoice {sales.invoice_id} tuotu / imported",
                        f"{fallback} rivi(ä) tuotteella / row(s) on {backend.settings.fallback_product_code}"
                        if fallback
                        else "",
                        "warn" if fallback else "good",
                        rows=data["rows"],
                    )
                )
            for entry in backend.import_log:
                if (entry.severa_invoice_guid or "").lower() == guid_l:
                    kind = {"warning": "warn", "error": "bad"}.get(entry.level, "")
                    events.append(
                        Event(
                            entry.logged_at,
                            "maestro",
                            f"Maestro: tuontiloki / import log ({entry.event})",
                            entry.message,
                            kind,
                        )
                    )

    # mail: notifications about it
    if number is not None and w.mailbox is not None:
        for mail in w.mailbox.find(subject=number):
            events.append(
                Event(
                    _dt(mail.received_at),
                    "mail",
                    f"Posti / mail: {mail.subject}",
                    f"→ {mail.to_header}",
                    "warn",
                )
            )
    events.sort(key=lambda e: e.at)
    return events


def _severa_journal(sandbox: Sandbox, guid: str, status_names: dict[str, str]) -> list[Event]:
    """The bridge's calls about this invoice, from Severa's journal (through its control plane)."""
    try:
        r = sandbox.control("severa").get(
            "/_sim/journal", params={"path_prefix": f"/rest-api/v1/invoices/{guid}", "limit": 500}
        )
        entries = r.json().get("entries", []) if r.status_code == 200 else []
    except Exception:  # the journal is a nice-to-have here: the rest of the journey still shows
        return []
    out = []
    for e in entries:
        method, path, status = e.get("method"), str(e.get("path", "")), e.get("status")
        if method == "PATCH":
            name = _patched_status(e, status_names)
            ok = isinstance(status, int) and status < 400
            title = (
                f"Severa: tila / status → {name}"
                if ok and name
                else f"Severa: status change answered {status}"
            )
            out.append(
                Event(
                    _dt(e.get("at")),
                    "severa",
                    title,
                    "by the bridge (REST API PATCH)",
                    "good" if ok else "bad",
                )
            )
        elif path.endswith("/pdf") and method == "GET":
            out.append(
                Event(
                    _dt(e.get("at")),
                    "severa",
                    "Severa: PDF luettu / invoice PDF read by the bridge",
                    f"HTTP {status}",
                )
            )
    return out


def _patched_status(entry: dict[str, Any], status_names: dict[str, str]) -> str | None:
    """The status a PATCH of an invoice set: from its JSON Patch, else from Severa's answer."""
    try:
        ops = json.loads(entry.get("request_body") or "[]")
        for op in ops if isinstance(ops, list) else []:
            if isinstance(op, dict) and str(op.get("path", "")).lower() in ("/status/guid", "/statusguid"):
                name = status_names.get(str(op.get("value", "")).lower())
                if name:
                    return name
        answer = json.loads(entry.get("response_body") or "{}")
        if isinstance(answer, list):
            answer = answer[0] if answer else {}
        found = (answer.get("status") or {}).get("name") if isinstance(answer, dict) else None
        return str(found) if found else None
    except (ValueError, AttributeError, TypeError):
        return None
