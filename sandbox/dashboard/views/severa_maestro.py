"""Severa › Maestro integration (the seed article "Maestro", MA-1 ... MA-8).

* The two statuses: the source status invoices are fetched from and the transferred status they
  get, as *Maestro's* settings name them (MA-3), and whether Severa has them (MA-8).
* Preflight (MA-4, MA-8): ``MaestroConnector.check``, what ``bridge maestro preflight`` runs.
* Customer sync (MA-2): ``CustomerSync.run``, and what was copied or refused.
* Code audit (MA-5 ... MA-7): ``audit_codes``, the codes Maestro does not know and the rows of the
  waiting invoices that would land on ``A/0``.
* Maestro fetches the waiting invoices on its own (the worker's Maestro passes); the fetch can be
  paused here so the audit can be run first, and a transfer can be started at once.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from bridge.connectors.maestro.audit import audit_codes
from bridge.connectors.maestro.customers import CONNECTOR, KIND, CustomerSync
from bridge.errors import BridgeError
from bridge.severa.source import SeveraSource

from .. import readouts
from ..forms import Form
from . import back, notice, sb

bp = Blueprint("severa_maestro", __name__, url_prefix="/severa/asetukset/integraatiot/maestro")


def _page(forms: dict[str, Form] | None = None) -> str:
    sandbox = sb()
    problem = None
    settings: dict[str, Any] | None = None
    records = []
    log = []
    with sandbox.driving() as w:
        connector = w.bridge.maestro_connector
        if w.bridge.maestro is not None:
            try:
                settings = w.maestro.get_settings()
                company = w.maestro.company()
            except BridgeError as exc:
                problem = f"Maestro could not be read: {exc}"
                company = None
        else:
            company = None
            problem = "The bridge has no Maestro API key: the Maestro connector is off."
        if company is not None:
            records = w.store.records.all(CONNECTOR, str(company.get("company_id")), KIND)
        log = w.store.log.entries(connector=CONNECTOR, limit=60)
        statuses = readouts.severa_statuses(w)
    by_name = {s["name"].lower(): s for s in statuses}
    source_name = (settings or {}).get("source_status_name") or ""
    transferred_name = (settings or {}).get("transferred_status_name") or ""
    worker = sandbox.worker
    return render_template(
        "severa/maestro.html",
        forms=forms or {},
        problem=problem,
        settings=settings,
        company=company,
        source=by_name.get(str(source_name).lower()),
        source_name=source_name,
        transferred=by_name.get(str(transferred_name).lower()),
        transferred_name=transferred_name,
        preflight=sandbox.results.get("preflight") or (connector.preflight if connector else None),
        customers=sandbox.results.get("customers"),
        records=records,
        audit=sandbox.results.get("audit"),
        audit_at=sandbox.results.get("audit_at"),
        log=log,
        paused=worker is not None and CONNECTOR in worker.paused,
        last_pass=worker.last if worker else None,
    )


@bp.get("/")
def page() -> str:
    return _page()


def _connector_form(name: str) -> tuple[Form, Any]:
    form = Form(name)
    return form, sb().w.bridge.maestro_connector


@bp.post("/preflight")
def preflight() -> str | Response:
    """Tarkista / run the preflight (MA-4, MA-8)."""
    form, connector = _connector_form("preflight")
    if connector is None:
        form.fail("_form", "The Maestro connector is off (no Maestro API key).")
        return _page({"preflight": form})
    try:
        with sb().driving() as w:
            result = connector.check(SeveraSource(w.severa))
    except BridgeError as exc:
        form.fail("_form", f"The preflight could not reach a service: {exc}")
        return _page({"preflight": form})
    sb().results["preflight"] = result
    notice(
        result.message() if result.ok else "The preflight found problems (below).",
        "ok" if result.ok else "warning",
    )
    return back("severa_maestro.page", _anchor="preflight")


@bp.post("/customers")
def customers() -> str | Response:
    """Synkronoi asiakkaat / the customer register now (MA-2)."""
    form, connector = _connector_form("customers")
    full = form.flag("full")
    if connector is None:
        form.fail("_form", "The Maestro connector is off (no Maestro API key).")
        return _page({"customers": form})
    try:
        with sb().driving() as w:
            company = w.maestro.company()
            result = CustomerSync(w.store, w.maestro, str(company["company_id"])).run(
                SeveraSource(w.severa), full=full
            )
    except BridgeError as exc:
        form.fail("_form", f"The customer register could not be synchronised: {exc}")
        return _page({"customers": form})
    sb().results["customers"] = result
    sb().record(
        f"Asiakasrekisteri synkronoitu / customers synchronised: {len(result.synced)} sent", service="maestro"
    )
    notice(
        f"Asiakkaat / customers: {len(result.synced)} sent, {len(result.failed)} refused, {result.unchanged} unchanged.",
        "warning" if result.failed else "ok",
    )
    return back("severa_maestro.page", _anchor="customers")


@bp.post("/audit")
def audit() -> str | Response:
    """Tarkista koodit / the code audit (MA-5 ... MA-7)."""
    form, connector = _connector_form("audit")
    if connector is None:
        form.fail("_form", "The Maestro connector is off (no Maestro API key).")
        return _page({"audit": form})
    try:
        with sb().driving() as w:
            report = audit_codes(SeveraSource(w.severa), w.maestro)
            at = w.clock.now()
    except BridgeError as exc:
        form.fail("_form", f"The audit could not reach a service: {exc}")
        return _page({"audit": form})
    sb().results["audit"] = report
    sb().results["audit_at"] = at
    notice(
        "Koodit kunnossa / clean: no row would land on " + report.fallback_product
        if report.clean
        else f"The audit found {len(report.catalogue)} code(s) Maestro does not know and {len(report.rows)} "
        f"waiting row(s) that would land on {report.fallback_product}.",
        "ok" if report.clean else "warning",
    )
    return back("severa_maestro.page", _anchor="audit")


@bp.post("/fetch")
def fetch() -> str | Response:
    """Pause or resume Maestro's automatic fetch (the worker's Maestro passes)."""
    form = Form("fetch")
    wanted = form.choice("fetch", ("on", "off"), label="nouto / fetch")
    worker = sb().worker
    if worker is None:
        form.fail("fetch", "There is no bridge worker (up --no-worker): use 'Siirrä nyt / transfer now'.")
    if not form.ok or worker is None:
        return _page({"fetch": form})
    if wanted == "off":
        worker.paused.add(CONNECTOR)
        notice("Maestron automaattinen nouto keskeytetty / Maestro's automatic fetch paused.")
    else:
        worker.paused.discard(CONNECTOR)
        worker.wake()
        notice("Maestron automaattinen nouto päällä / Maestro fetches the waiting invoices again.")
    sb().record(f"Maestro fetch {'paused' if wanted == 'off' else 'resumed'}", service="maestro")
    return back("severa_maestro.page")


@bp.post("/transfer")
def transfer() -> str | Response:
    """Siirrä nyt / one Maestro pass now (MA-1, MA-3)."""
    form, connector = _connector_form("transfer")
    if connector is None:
        form.fail("_form", "The Maestro connector is off (no Maestro API key).")
        return _page({"transfer": form})
    record = sb().run_pass([CONNECTOR])
    if record.error or (record.report and record.report.problems):
        form.fail("_form", record.line)
        return _page({"transfer": form})
    sb().record(f"Maestro-siirto / Maestro transfer: {record.line}", service="maestro")
    notice(f"Maestro: {record.line}.")
    return back("severa_maestro.page", _anchor="maestro-log")
