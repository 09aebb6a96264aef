"""Severa › Laskut, Laskun tilat, Tuotteet / Työlajit / Matkakulut and one invoice's journey.

What a Severa user does by hand, on the Severa fake's Python API under its lock (these are
Severa's own screens, not its REST API): filter invoices by status, change an invoice's status
and save (the status-driven transfers start from here, MV-10, MA-3), open its PDF, create an
invoice; tick the flags of an invoice status (Lähetetty, Ei muokattavissa, Laskunumero ...: MV-14,
MA-8); give products, work types and travel expense types the codes Maestro knows (MA-5 ... MA-7).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask import Response as FlaskResponse
from werkzeug.wrappers import Response

from simulators.severa.errors import SeveraError

from .. import readouts
from ..forms import Form
from ..journey import journey
from . import back, notice, sb, wake_worker

bp = Blueprint("severa", __name__, url_prefix="/severa")

#: The flags of an invoice status, with Severa's Finnish words (Asetukset › Laskutus › Laskun tilat).
FLAGS: tuple[tuple[str, str, str], ...] = (
    ("is_active", "Aktiivinen", "active"),
    ("is_default", "Oletus", "default"),
    ("has_invoice_number", "Laskunumero", "gets an invoice number"),
    ("is_read_only", "Ei muokattavissa", "not editable"),
    ("is_sent", "Lähetetty", "sent"),
    ("is_waiting_payment", "Odottaa maksua", "waiting for payment"),
    ("is_paid", "Maksettu", "paid"),
)
REGISTERS = {
    "product": ("Tuotteet", "products", "products"),
    "work_type": ("Työlajit", "work types", "work_types"),
    "travel_expense": ("Matkakulut", "travel expense types", "travel_expense_types"),
}
CODE = re.compile(r"[A-Za-z0-9ÅÄÖåäö/_.:-]{1,30}")
NEW_ROWS = 3


# ---------------------------------------------------------------------- Laskut
def _invoices_page(forms: dict[str, Form] | None = None, status: str | None = None) -> str:
    w = sb().w
    statuses = readouts.severa_statuses(w)
    wanted = status if status in {s["guid"] for s in statuses} else None
    return render_template(
        "severa/invoices.html",
        forms=forms or {},
        statuses=statuses,
        status=wanted,
        invoices=readouts.severa_invoices(w, wanted),
        customers=readouts.severa_customers(w),
        units=readouts.severa_units(w),
        catalogue=readouts.severa_catalogue(w),
        new_rows=NEW_ROWS,
    )


@bp.get("/laskut")
def invoices() -> str:
    return _invoices_page(status=request.args.get("tila") or None)


def _severa_message(exc: SeveraError) -> str:
    return str(getattr(exc, "message", exc))


@bp.post("/laskut/<guid>/tila")
def change_status(guid: str) -> str | Response:
    """Muuta laskun tila ja tallenna / change an invoice's status and save."""
    w = sb().w
    form = Form(f"status-{guid}")
    statuses = {s["guid"]: s["name"] for s in readouts.severa_statuses(w)}
    new = form.choice("status", statuses, label="tila / status")
    filter_status = form.raw("tila") or None
    if guid not in w.severa_sim.main.org.invoices:
        abort(404, f"no invoice {guid} in Severa")
    if form.ok and new:
        try:
            with w.severa_sim.lock:
                inv = w.severa_sim.main.set_status(guid, new)
                number = inv.number
        except SeveraError as exc:
            form.fail("status", _severa_message(exc))
        else:
            label = number or guid
            sb().record(
                f"Laskun {label} tila → {statuses[new]} / status changed by a user", invoice_guid=guid
            )
            wake_worker()
            notice(f"Lasku / invoice {label}: {statuses[new]}.")
            return back("severa.invoices", tila=filter_status, _anchor=f"invoice-{guid}")
    return _invoices_page({form.name: form}, filter_status)


@bp.get("/laskut/<guid>/pdf")
def invoice_pdf(guid: str) -> Response:
    """The invoice PDF, as Severa draws it."""
    from simulators.severa.pdf import invoice_pdf as draw

    w = sb().w
    with w.severa_sim.lock:
        b = w.severa_sim.main
        inv = b.org.invoices.get(guid)
        if inv is None:
            abort(404, f"no invoice {guid} in Severa")
        pdf = draw(b, inv)
        name = f"lasku-{inv.number or 'luonnos'}.pdf"
    return FlaskResponse(
        pdf, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@bp.post("/laskut/uusi")
def new_invoice() -> str | Response:
    """Uusi lasku / a new invoice: customer, unit, status and up to three rows."""
    w = sb().w
    form = Form("new")
    customer = form.choice(
        "customer", [c["guid"] for c in readouts.severa_customers(w)], label="asiakas / customer"
    )
    unit = form.choice("unit", [u["guid"] for u in readouts.severa_units(w)], label="yksikkö / unit")
    statuses = {s["guid"]: s["name"] for s in readouts.severa_statuses(w)}
    status = form.choice("status", statuses, label="tila / status")
    catalogue = readouts.severa_catalogue(w)
    rows: list[dict[str, Any]] = []
    for n in range(1, NEW_ROWS + 1):
        item = form.raw(f"row{n}_item").strip()
        if not item:
            continue
        kind, _, ref = item.partition(":")
        if kind not in catalogue or ref not in {i["guid"] for i in catalogue[kind]}:
            form.fail(
                f"row{n}_item", f"row {n}: {item[:40]!r} is not a product, work type or travel expense type"
            )
            continue
        quantity = form.number(f"row{n}_quantity", low=0.01, high=100000, label=f"row {n} quantity")
        if quantity is not None:
            rows.append({"kind": readouts.KIND_OF_SPEC[kind], "ref": ref, "quantity": quantity})
    if form.ok and not rows:
        form.fail("row1_item", "add at least one row (a product, a work type or a travel expense)")
    if form.ok and customer and unit and status:
        try:
            with w.severa_sim.lock:
                inv = w.severa_sim.main.create_invoice(
                    customer, status=status, business_unit_guid=unit, when=w.clock.now(), rows=rows
                )
                number, guid = inv.number, inv.guid
        except (SeveraError, KeyError, ValueError, TypeError) as exc:
            form.fail("_form", f"Severa refused the invoice: {exc}")
        else:
            sb().record(
                f"Lasku {number or ''} luotu tilaan {statuses[status]} / invoice created", invoice_guid=guid
            )
            wake_worker()
            notice(f"Uusi lasku / new invoice {number or '(luonnos / draft)'}: {statuses[status]}.")
            return back("severa.invoices", _anchor=f"invoice-{guid}")
    return _invoices_page({"new": form})


@bp.get("/laskut/<guid>", endpoint="journey")
def journey_page(guid: str) -> str:
    """One invoice's journey across the services, in time order."""
    w = sb().w
    invoice = readouts.severa_invoice(w, guid)
    if invoice is None:
        abort(404, f"no invoice {guid} in Severa")
    return render_template("severa/journey.html", invoice=invoice, events=journey(sb(), guid))


# ---------------------------------------------------------------------- Laskun tilat
def _statuses_page(forms: dict[str, Form] | None = None) -> str:
    return render_template(
        "severa/statuses.html", forms=forms or {}, statuses=readouts.severa_statuses(sb().w), flags=FLAGS
    )


@bp.get("/asetukset/laskun-tilat")
def statuses() -> str:
    return _statuses_page()


@bp.post("/asetukset/laskun-tilat/<guid>")
def save_status(guid: str) -> str | Response:
    """Tick or clear an invoice status's flags and save (e.g. clear Lähetetty for MV-14)."""
    w = sb().w
    form = Form(f"flags-{guid}")
    with w.severa_sim.lock:
        status = w.severa_sim.main.org.invoice_statuses.get(guid)
        if status is None:
            abort(404, f"no invoice status {guid} in Severa")
        changes = {flag: form.flag(flag) for flag, _, _ in FLAGS}
        w.severa_sim.main.update_status_flags(status, changes)
        name = status.name
    on = [fi for flag, fi, _ in FLAGS if changes[flag]]
    sb().record(f"Laskun tila {name}: {', '.join(on) or 'ei valintoja'} / invoice status flags saved")
    notice(f"Laskun tila / invoice status {name} tallennettu / saved.")
    return back("severa.statuses", _anchor=f"status-{guid}")


@bp.post("/asetukset/laskun-tilat")
def add_status() -> str | Response:
    """Lisää laskun tila / add an invoice status (e.g. "Odottaa siirtoa Maestroon", MA-8)."""
    w = sb().w
    form = Form("add-status")
    name = form.text("name", required=True, label="nimi / name", max_length=100)
    if name:
        existing = {s["name"].lower() for s in readouts.severa_statuses(w)}
        if name.lower() in existing:
            form.fail("name", f"Severa already has an invoice status named {name!r}")
    if form.ok and name:
        flags = {flag: form.flag(flag) for flag, _, _ in FLAGS if flag not in ("is_active",)}
        with w.severa_sim.lock:
            w.severa_sim.main.add_status(name, when=w.clock.now(), **flags)
        sb().record(f"Laskun tila lisätty / invoice status added: {name}")
        notice(f"Laskun tila / invoice status {name} lisätty / added.")
        return back("severa.statuses")
    return _statuses_page({"add-status": form})


# ---------------------------------------------------------------------- codes
def _codes_page(forms: dict[str, Form] | None = None) -> str:
    return render_template(
        "severa/codes.html",
        forms=forms or {},
        catalogue=readouts.severa_catalogue(sb().w),
        registers=REGISTERS,
    )


@bp.get("/asetukset/koodit")
def codes() -> str:
    return _codes_page()


@bp.post("/asetukset/koodit/<kind>/<guid>")
def save_code(kind: str, guid: str) -> str | Response:
    """Anna tuotteelle / työlajille / matkakululle koodi (the code Maestro matches, MA-5 ... MA-7)."""
    if kind not in REGISTERS:
        abort(404, f"no register {kind!r}")
    w = sb().w
    form = Form(f"code-{guid}")
    code = form.raw("code").strip()
    if code and not CODE.fullmatch(code):
        form.fail("code", "a code is 1 to 30 letters, digits or / _ . : - (no spaces)")
    register = REGISTERS[kind][2]
    if form.ok:
        with w.severa_sim.lock:
            item = getattr(w.severa_sim.main.org, register).get(guid)
            if item is None:
                abort(404, f"no {kind} {guid} in Severa")
            clash = next(
                (
                    i
                    for i in getattr(w.severa_sim.main.org, register).values()
                    if code and i.code == code and i.guid != guid
                ),
                None,
            )
            if clash is not None:
                form.fail("code", f"{clash.name} already has the code {code!r}")
            else:
                old = item.code
                item.code = code or None
                w.severa_sim.main.touch(item.audit)
                name = item.name
    if not form.ok:
        return _codes_page({form.name: form})
    sb().record(f"{REGISTERS[kind][0]}: {name} koodi {old or '–'} → {code or '–'} / code changed")
    notice(f"{name}: koodi / code {code or '(ei koodia / none)'} tallennettu / saved.")
    return back("severa.codes", _anchor=f"item-{guid}")
