"""Shared helpers of the Maventa contract suite (independent of the bridge's builder)."""

from __future__ import annotations

import io
import zipfile

from fpdf import FPDF

from tests.maventa.finvoice_factory import FinvoiceSpec, build_finvoice

NO_EINVOICE_BUYER = {"buyer_name": "Liukkonen Oy", "buyer_bid": "3112404-9", "buyer_email": None}


def own_pdf(pages: int = 1) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica")
    for i in range(pages):
        pdf.add_page()
        pdf.cell(0, 10, f"Severa invoice page {i + 1}")
    return bytes(pdf.output())


def invoice_zip(number: str = "1001", pdf_pages: int = 1, **changes: object) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{number}.xml", build_finvoice(FinvoiceSpec(), number=number, **changes))
        zf.writestr(f"{number}.pdf", own_pdf(pdf_pages))
        zf.writestr("liite_tuntierittely.txt", b"hours")
    return buf.getvalue()
