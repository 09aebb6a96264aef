"""What the screens show, read from the fakes' Python API under each fake's own lock.

Each function copies what a page needs into plain dicts while holding the fake's lock (never
while calling a service over HTTP: a fake answers its HTTP requests under the same lock).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from simulators.maestro import views as maestro_views
from simulators.mailbox import views as mailbox_views
from simulators.maventa.printing import count_pages
from simulators.maventa.views import message_json

if TYPE_CHECKING:
    from scenarios.world import World

ROW_KINDS = {
    "Hours": "Työlaji / work type",
    "ProjectFees": "Tuote / product",
    "TravelExpenses": "Matkakulu / travel",
}
KIND_OF_SPEC = {"product": "fee", "work_type": "hours", "travel_expense": "travel"}


# ---------------------------------------------------------------------- Severa
def severa_users(w: World) -> list[dict[str, str]]:
    with w.severa_sim.lock:
        org = w.severa_sim.main.org
        return [
            {"guid": u.guid, "name": f"{u.first_name} {u.last_name}", "email": u.email}
            for u in org.users.values()
            if u.is_active
        ]


def severa_units(w: World) -> list[dict[str, Any]]:
    with w.severa_sim.lock:
        org = w.severa_sim.main.org
        return [
            {"guid": u.guid, "name": u.name, "vat_number": u.vat_number}
            for u in org.business_units.values()
            if u.is_active
        ]


def severa_statuses(w: World) -> list[dict[str, Any]]:
    with w.severa_sim.lock:
        org = w.severa_sim.main.org
        statuses = sorted(org.invoice_statuses.values(), key=lambda s: (s.sort_order, s.name))
        used: dict[str, int] = {}
        for inv in org.invoices.values():
            used[inv.status_guid] = used.get(inv.status_guid, 0) + 1
        return [
            {
                "guid": s.guid,
                "name": s.name,
                "is_active": s.is_active,
                "is_default": s.is_default,
                "is_read_only": s.is_read_only,
                "has_invoice_number": s.has_invoice_number,
                "is_sent": s.is_sent,
                "is_waiting_payment": s.is_waiting_payment,
                "is_paid": s.is_paid,
                "invoices": used.get(s.guid, 0),
            }
            for s in statuses
        ]


def severa_invoices(w: World, status_guid: str | None = None) -> list[dict[str, Any]]:
    with w.severa_sim.lock:
        b = w.severa_sim.main
        org = b.org
        out = []
        for inv in org.invoices.values():
            if status_guid and inv.status_guid != status_guid:
                continue
            customer = org.customers.get(inv.customer_guid)
            unit = org.business_units.get(inv.business_unit_guid)
            totals = b.totals(inv)
            out.append(
                {
                    "guid": inv.guid,
                    "number": inv.number,
                    "customer": customer.name if customer else "",
                    "unit": unit.name if unit else "",
                    "date": inv.date.isoformat(),
                    "total": totals["incl"],
                    "status": b.status_of(inv).name,
                    "status_guid": inv.status_guid,
                    "rows": len(inv.row_guids),
                }
            )
    out.sort(key=lambda i: (i["number"] is None, i["number"] or 0, i["guid"]))
    return out


def severa_invoice(w: World, guid: str) -> dict[str, Any] | None:
    with w.severa_sim.lock:
        b = w.severa_sim.main
        inv = b.org.invoices.get(guid)
        if inv is None:
            return None
        customer = b.org.customers.get(inv.customer_guid)
        unit = b.org.business_units.get(inv.business_unit_guid)
        rows = [
            {
                "position": n,
                "kind": ROW_KINDS.get(r.row_type, r.row_type),
                "description": r.description,
                "quantity": r.quantity,
                "unit": r.measurement_unit,
                "unit_price": r.unit_price,
                "codes": b.row_codes(r),
            }
            for n, r in enumerate(b.rows_of(inv), start=1)
        ]
        return {
            "guid": inv.guid,
            "number": inv.number,
            "customer": customer.name if customer else "",
            "customer_email": customer.email if customer else None,
            "customer_eia": customer.e_invoice_address if customer else None,
            "unit": unit.name if unit else "",
            "date": inv.date.isoformat(),
            "created": inv.audit.created,
            "status": b.status_of(inv).name,
            "status_guid": inv.status_guid,
            "total": b.totals(inv)["incl"],
            "rows": rows,
        }


def severa_customers(w: World) -> list[dict[str, Any]]:
    with w.severa_sim.lock:
        org = w.severa_sim.main.org
        out = []
        for c in org.customers.values():
            if not c.is_active:
                continue
            if c.e_invoice_address:
                route = f"verkkolasku / e-invoice {c.e_invoice_address}"
            elif c.email:
                route = f"sähköposti / e-mail {c.email}"
            else:
                route = "ei osoitetta / no e-invoice address or e-mail"
            out.append({"guid": c.guid, "name": c.name, "number": c.number, "route": route})
        return out


def severa_catalogue(w: World) -> dict[str, list[dict[str, Any]]]:
    """Tuotteet, työlajit and matkakulut with their codes (editable on the codes page)."""
    with w.severa_sim.lock:
        org = w.severa_sim.main.org
        return {
            "product": [
                {"guid": p.guid, "name": p.name, "code": p.code or "", "active": p.is_active, "extra": p.type}
                for p in org.products.values()
            ],
            "work_type": [
                {
                    "guid": t.guid,
                    "name": t.name,
                    "code": t.code or "",
                    "active": t.is_active,
                    "extra": "laskutettava / billable" if t.is_productive else "ei laskuteta / not billed",
                }
                for t in org.work_types.values()
            ],
            "travel_expense": [
                {
                    "guid": t.guid,
                    "name": t.name,
                    "code": t.code or "",
                    "active": t.is_active,
                    "extra": t.expense_class,
                }
                for t in org.travel_expense_types.values()
            ],
        }


# ---------------------------------------------------------------------- Maventa
def maventa_companies(w: World) -> list[dict[str, Any]]:
    sim = w.maventa_sim
    with sim.lock:
        out = []
        for c in sim.data.companies.values():
            users = [u for u in sim.data.users.values() if c.id in u.company_ids]
            printing = c.settings.get("send_invoice_print", {})
            out.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "bid": c.bid,
                    "auth_state": c.auth_state,
                    "auth_email": c.auth_email,
                    "company_state": c.company_state,
                    "users": [{"email": u.email, "api_key": u.api_key} for u in users],
                    "print_enabled": bool(printing.get("enabled")),
                    "use_own_pdf": bool(printing.get("use_own_pdf")),
                    "letter_class": printing.get("letter_class", "ECONOMY"),
                    "colour": printing.get("color_scheme") == "COLORED",
                    "email_enabled": bool(c.settings.get("send_invoice_email", {}).get("enabled", True)),
                    "created_at": c.created_at,
                }
            )
        return out


def maventa_invoices(w: World) -> list[dict[str, Any]]:
    sim = w.maventa_sim
    with sim.lock:
        companies = {c.id: c.name for c in sim.data.companies.values()}
        out = []
        for inv in sim.data.invoices.values():
            out.append(
                {
                    "id": inv.id,
                    "number": inv.number,
                    "company": companies.get(inv.company_id, inv.company_id),
                    "recipient": inv.recipient.get("name", ""),
                    "channel": inv.route.channel or "-",
                    "route_error": inv.route.error,
                    "destination": inv.route.eia or inv.route.email or "",
                    "status": inv.status,
                    "created_at": inv.created_at,
                    "sum": inv.sum_tax,
                    "actions": [
                        {"type": a.type, "at": a.happened_at, "channel": a.channel, "message": a.message}
                        for a in inv.actions
                    ],
                    "files": [
                        {"filename": f.filename, "type": f.type, "size": len(f.content)} for f in inv.files
                    ],
                }
            )
    out.sort(key=lambda i: cast(datetime, i["created_at"]), reverse=True)
    return out


def maventa_outbox(w: World) -> list[dict[str, Any]]:
    sim = w.maventa_sim
    with sim.lock:
        companies = {c.id: c.name for c in sim.data.companies.values()}
        invoices = {i.id: i.number for i in sim.data.invoices.values()}
        out = []
        for m in sim.data.outbox:
            item = message_json(m)
            item["at_dt"] = m.at
            item["company"] = companies.get(m.company_id, m.company_id)
            item["invoice_number"] = invoices.get(m.invoice_id or "")
            if m.kind == "print":
                item["document_pages"] = [
                    {"filename": a.filename, "pages": count_pages(a.content) or 0, "type": a.type}
                    for a in m.attachments
                ]
            out.append(item)
    out.reverse()
    return out


# ---------------------------------------------------------------------- Maestro
def maestro(w: World) -> dict[str, Any]:
    sim = w.maestro_sim
    with sim.lock:
        backend = next(iter(sim.companies.values()), None)
        if backend is None:
            return {
                "company": None,
                "products": [],
                "customers": [],
                "invoices": [],
                "log": [],
                "settings": None,
            }
        fallback = backend.settings.fallback_product_code
        return {
            "company": maestro_views.company(backend.company),
            "settings": maestro_views.settings(backend.settings),
            "products": [
                maestro_views.product(p, fallback)
                for p in sorted(backend.products.values(), key=lambda p: p.code)
            ],
            "customers": [maestro_views.customer(c) for c in backend.customers.values()],
            "invoices": [
                maestro_views.invoice(i)
                for i in sorted(backend.invoices.values(), key=lambda i: -i.invoice_id)
            ],
            "log": [maestro_views.log_entry(e) for e in reversed(backend.import_log)],
        }


# ---------------------------------------------------------------------- mail
def mailbox_messages(w: World) -> list[dict[str, Any]]:
    if w.mailbox is None:
        return []
    return [{**mailbox_views.detail(m), "source": "smtp"} for m in reversed(w.mailbox.find())]
