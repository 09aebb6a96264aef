"""Maestro: the product register, customers, sales invoices (each row's product; rows on the
fallback product ``A/0`` highlighted, MA-5 ... MA-7), the import log and Maestro's Severa
integration settings (the two statuses, MA-3, MA-8).

An accountant's changes go through Maestro's own REST API (``PUT /api/v1/products/{code}``,
``PUT /api/v1/integrations/severa/settings``) with the company's key, as the scenario steps do.
"""

from __future__ import annotations

import re

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from bridge.errors import BridgeError, MaestroError

from .. import readouts
from ..forms import Form
from . import back, notice, sb

bp = Blueprint("maestro", __name__, url_prefix="/maestro")

PRODUCT_CODE = re.compile(r"[A-Za-z0-9ÅÄÖåäö/_.:-]{1,30}")


def _page(forms: dict[str, Form] | None = None) -> str:
    data = readouts.maestro(sb().w)
    return render_template(
        "maestro.html", forms=forms or {}, statuses=readouts.severa_statuses(sb().w), **data
    )


@bp.get("/")
def page() -> str:
    return _page()


def _maestro_message(exc: BridgeError) -> str:
    if isinstance(exc, MaestroError):
        from bridge.connectors.maestro.connector import maestro_message

        return maestro_message(exc)
    return str(exc)


@bp.post("/products")
def save_product() -> str | Response:
    """Lisää tai muuta tuote / add or change a product (e.g. the code an audit found missing)."""
    form = Form("product")
    code = form.text("code", required=True, label="tuotekoodi / product code", max_length=30)
    if code is not None and not PRODUCT_CODE.fullmatch(code):
        form.fail("code", "a product code is 1 to 30 letters, digits or / _ . : - (no spaces)")
    name = form.text("name", required=True, label="nimi / name", max_length=200)
    unit = form.text("unit", required=True, label="yksikkö / unit", max_length=20)
    vat = form.number("vat_rate", low=0, high=100, label="ALV % / VAT %")
    if form.ok and code and name and unit and vat is not None:
        try:
            with sb().driving() as w:
                if w.bridge.maestro is None:
                    raise BridgeError("the bridge has no Maestro API key")
                _, created = w.maestro.put_product(
                    code, name=name, unit=unit, vat_rate=vat, active=form.flag("active")
                )
        except BridgeError as exc:
            form.fail("code" if "fallback" in str(exc) else "_form", f"Maestro: {_maestro_message(exc)}")
        else:
            sb().record(
                f"Maestro: tuote {code} {'lisätty' if created else 'muutettu'} / product saved",
                service="maestro",
            )
            notice(
                f"Maestro: tuote / product {code} {'lisätty / added' if created else 'tallennettu / saved'}."
            )
            return back("maestro.page", _anchor="products")
    return _page({"product": form})


@bp.post("/settings")
def save_settings() -> str | Response:
    """Severa-liittymän asetukset: the source and transferred statuses (MA-3, MA-8)."""
    form = Form("settings")
    source = form.text("source_status_name", required=True, label="lähdetila / source status", max_length=100)
    transferred = form.text(
        "transferred_status_name",
        required=True,
        label="siirretyn laskun tila / transferred status",
        max_length=100,
    )
    if source and transferred and source.lower() == transferred.lower():
        form.fail("transferred_status_name", "the transferred status must differ from the source status")
    if form.ok and source and transferred:
        try:
            with sb().driving() as w:
                if w.bridge.maestro is None:
                    raise BridgeError("the bridge has no Maestro API key")
                w.maestro.put_settings(source, transferred)
        except BridgeError as exc:
            form.fail("_form", f"Maestro: {_maestro_message(exc)}")
        else:
            sb().record(f"Maestro: asetukset / settings {source} → {transferred}", service="maestro")
            notice("Maestron Severa-liittymän asetukset tallennettu / Maestro's Severa settings saved.")
            return back("maestro.page", _anchor="settings")
    return _page({"settings": form})
