"""The invoice PDF (`GET /v1/invoices/{guid}/pdf`), drawn with fpdf2.

A plain Finnish invoice layout (lasku): sender, receiver, number, reference number
(viitenumero), dates, rows, VAT breakdown (ALV-erittely), totals and the bank account.
Many rows flow onto several pages. Core fonts only cover Latin-1, so other characters are
replaced.
"""

from __future__ import annotations

from fpdf import FPDF

from .backend import OrganizationBackend as Backend
from .models import Invoice
from .rows import last_changed


def _t(text: object) -> str:
    return str("" if text is None else text).encode("latin-1", "replace").decode("latin-1")


def _eur(amount: float) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " EUR"


def invoice_pdf(b: Backend, inv: Invoice, *, invoice_type: str = "Invoice") -> bytes:
    o = b.org
    cust = o.customers.get(inv.billing_customer_guid)
    addr = o.addresses.get(cust.headquarter_address_guid or "") if cust else None
    bu = o.business_units.get(inv.business_unit_guid)
    company = o.companies.get(bu.company_guid) if bu else None
    bank = next((a for a in o.bank_accounts.values() if company and a.company_guid == company.guid), None)
    status = o.invoice_statuses[inv.status_guid]
    pdf = FPDF(format="A4")
    pdf.set_creation_date(last_changed(inv.audit))  # the same invoice, the same bytes
    pdf.set_title(_t(f"Lasku {inv.number or ''}"))
    pdf.set_author(_t(o.details.name))
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    title = "MAKSUMUISTUTUS" if invoice_type == "Reminder" else "LASKU"
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    sender = [
        company.name if company else o.details.name,
        (bu.address if bu and bu.address else o.details.address),
        f"{bu.postal_code if bu and bu.postal_code else o.details.postal_code} "
        f"{bu.city if bu and bu.city else o.details.city}",
        f"Y-tunnus {bu.vat_number if bu and bu.vat_number else o.details.vat_number}",
    ]
    receiver = [
        cust.name if cust else "",
        addr.addressline if addr else "",
        f"{addr.postal_code} {addr.city}" if addr else "",
        f"Y-tunnus {cust.vat_number}" if cust else "",
    ]
    for left, right in zip(sender, receiver, strict=True):
        pdf.cell(95, 5, _t(left))
        pdf.cell(0, 5, _t(right), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    meta = [
        ("Laskun numero", inv.number or "(ei numeroa)"),
        ("Viitenumero", inv.reference_number or ""),
        ("Laskun päivä", inv.date.strftime("%d.%m.%Y")),
        ("Eräpäivä", inv.due_date.strftime("%d.%m.%Y")),
        ("Maksuehto", f"{inv.payment_term} pv netto"),
        ("Viitteenne", inv.your_reference or ""),
        ("Tila", status.name),
    ]
    for k, v in meta:
        pdf.cell(40, 5, _t(k))
        pdf.cell(0, 5, _t(v), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 9)
    widths = (80, 18, 12, 25, 15, 30)
    for w, h in zip(widths, ("Kuvaus", "Määrä", "Yks.", "À-hinta", "ALV %", "Yhteensä"), strict=True):
        pdf.cell(w, 6, _t(h), border="B")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for r in b.rows_of(inv):
        code = ",".join(b.row_codes(r))
        desc = f"{r.description} [{code}]" if code else r.description
        cells = (
            desc[:48],
            f"{r.quantity:g}",
            r.measurement_unit,
            _eur(r.unit_price),
            f"{r.vat_rate:g}",
            _eur(r.total),
        )
        for w, c in zip(widths, cells, strict=True):
            pdf.cell(w, 5, _t(c))
        pdf.ln()
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(0, 5, "ALV-erittely", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for rate, (base, tax) in sorted(b.vat_breakdown(inv).items(), reverse=True):
        pdf.cell(
            0, 5, _t(f"ALV {rate:g} %: veroton {_eur(base)}, vero {_eur(tax)}"), new_x="LMARGIN", new_y="NEXT"
        )
    t = b.totals(inv)
    pdf.set_font("Helvetica", "B", 10)
    for label, amount in (
        ("Veroton yhteensä", t["excl"]),
        ("ALV yhteensä", t["tax"]),
        ("Maksettava yhteensä", t["incl"]),
    ):
        pdf.cell(150, 6, _t(label))
        pdf.cell(0, 6, _t(_eur(amount)), new_x="LMARGIN", new_y="NEXT")
    if bank:
        pdf.set_font("Helvetica", "", 9)
        pdf.ln(3)
        pdf.cell(
            0,
            5,
            _t(f"Tilinumero (IBAN) {bank.account_number}  BIC {bank.bic}  ({bank.bank_name})"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())
