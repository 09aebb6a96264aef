"""Maventa: what the e-invoicing operator holds and did, and the people outside Severa.

* Companies (yritystilit) with their authorisation state and the approver's "Sign as approver" /
  "Cancel" buttons (the actor of MV-3: ``POST /_sim/companies/<id>/authorization/sign|cancel``),
  the user API key and company UUID a user copies from Maventa (MV-2, MV-4), and Maventa's own
  sending settings ("Käytä omia PDF:iä tulostuspalvelussa", MV-7).
* Sent invoices with channel, status and actions, and the recipient's network delivering or
  failing one (``POST /_sim/invoices/<id>/deliver|fail``, MV-12).
* Print jobs (pages, cover page, charge) and the outbox (invitations, invoices by e-mail, error
  notifications); attachments open as PDFs.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask import Response as FlaskResponse
from werkzeug.wrappers import Response

from .. import readouts
from ..forms import Form
from . import back, notice, sb, wake_worker

bp = Blueprint("maventa", __name__, url_prefix="/maventa")

LETTER_CLASSES = {"ECONOMY": "Economy", "PRIORITY": "Priority"}


def _page(forms: dict[str, Form] | None = None) -> str:
    w = sb().w
    outbox = readouts.maventa_outbox(w)
    return render_template(
        "maventa.html",
        forms=forms or {},
        companies=readouts.maventa_companies(w),
        invoices=readouts.maventa_invoices(w),
        prints=[m for m in outbox if m["kind"] == "print"],
        emails=[m for m in outbox if m["kind"] == "email"],
        letter_classes=LETTER_CLASSES,
    )


@bp.get("/")
def page() -> str:
    return _page()


def _company_ids() -> set[str]:
    w = sb().w
    with w.maventa_sim.lock:
        return set(w.maventa_sim.data.companies)


def _invoice_ids() -> set[str]:
    w = sb().w
    with w.maventa_sim.lock:
        return set(w.maventa_sim.data.invoices)


def _actor(form: Form, path: str, body: dict[str, str] | None = None) -> bool:
    """Call an actor on Maventa's control plane; its refusal goes next to the button."""
    r = sb().control("maventa").post(path, json=body or {})
    if r.status_code >= 400:
        try:
            message = r.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = r.text[:200]
        form.fail("_form", f"Maventa: {message}")
        return False
    return True


@bp.post("/companies/<company_id>/<action>")
def authorization(company_id: str, action: str) -> str | Response:
    """The approver signs ("Sign as approver") or declines ("Cancel") the agreement."""
    if action not in ("sign", "cancel"):
        abort(404)
    if company_id not in _company_ids():
        abort(404, f"no Maventa company {company_id}")
    form = Form(f"auth-{company_id}")
    if _actor(form, f"/_sim/companies/{company_id}/authorization/{action}"):
        word = "allekirjoitti / signed" if action == "sign" else "perui / cancelled"
        sb().record(f"Hyväksyjä {word} (Maventa)", service="maventa")
        notice(
            f"Hyväksyjä {word}. Severassa: Päivitä / in Severa press Refresh."
            if action == "sign"
            else f"Hyväksyjä {word}: the company stays unverified."
        )
        return back("maventa.page", _anchor=f"company-{company_id}")
    return _page({form.name: form})


@bp.post("/companies/<company_id>/settings")
def company_settings(company_id: str) -> str | Response:
    """Maventa › Asetukset › Laskujen lähetys › tulostuspalvelu (MV-7) and e-mail sending."""
    if company_id not in _company_ids():
        abort(404, f"no Maventa company {company_id}")
    form = Form(f"settings-{company_id}")
    letter = form.choice("letter_class", LETTER_CLASSES, label="kirjeluokka / letter class")
    if not form.ok or letter is None:
        return _page({form.name: form})
    w = sb().w
    with w.maventa_sim.lock:
        company = w.maventa_sim.data.companies[company_id]
        printing = company.settings.setdefault("send_invoice_print", {})
        printing.update(
            enabled=form.flag("print_enabled"),
            use_own_pdf=form.flag("use_own_pdf"),
            letter_class=letter,
            color_scheme="COLORED" if form.flag("colour") else "BLACK_AND_WHITE",
        )
        name = company.name
    sb().record(f"Maventan asetukset tallennettu / Maventa settings saved: {name}", service="maventa")
    notice(f"{name}: Maventan lähetysasetukset tallennettu / Maventa's sending settings saved.")
    return back("maventa.page", _anchor=f"company-{company_id}")


@bp.post("/invoices/<invoice_id>/<action>")
def delivery(invoice_id: str, action: str) -> str | Response:
    """The recipient's network delivers or fails the invoice (MV-12)."""
    if action not in ("deliver", "fail"):
        abort(404)
    if invoice_id not in _invoice_ids():
        abort(404, f"no Maventa invoice {invoice_id}")
    form = Form(f"delivery-{invoice_id}")
    body = None
    if action == "fail":
        message = form.text("message", required=True, label="syy / reason", max_length=300)
        if message is None:
            return _page({form.name: form})
        body = {"message": message}
    if _actor(form, f"/_sim/invoices/{invoice_id}/{action}", body):
        sb().record(
            f"Maventa: toimitus {'onnistui' if action == 'deliver' else 'epäonnistui'} / delivery {action}",
            service="maventa",
        )
        wake_worker()
        notice(
            "Toimitettu / delivered."
            if action == "deliver"
            else "Toimitus epäonnistui / the delivery failed: the bridge sees it on its next pass."
        )
        return back("maventa.page", _anchor=f"invoice-{invoice_id}")
    return _page({form.name: form})


@bp.get("/outbox/<message_id>/<int:index>")
def attachment(message_id: str, index: int) -> Response:
    """An outbox attachment or print document (a PDF)."""
    w = sb().w
    with w.maventa_sim.lock:
        message = next((m for m in w.maventa_sim.data.outbox if m.id == message_id), None)
        if message is None or not 0 <= index < len(message.attachments):
            abort(404, "no such outbox attachment")
        a = message.attachments[index]
        content, mimetype, filename = a.content, a.mimetype, a.filename
    safe = "".join(c for c in filename if c.isalnum() or c in "._-") or "attachment"
    return FlaskResponse(
        content, mimetype=mimetype, headers={"Content-Disposition": f'inline; filename="{safe}"'}
    )
