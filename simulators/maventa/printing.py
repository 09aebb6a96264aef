"""The print service (tulostuspalvelu): cover page, page/sheet counts and the charge.

Rules (Maventa docs, Finland): with the sender's own invoice image (``use_own_pdf`` /
``print_settings[print_own_image]``) Maventa adds a **cover page with the address**, billed
as an extra page, so an own-PDF letter is always at least two pages; without it Maventa
prints its own rendering. Duplex when more than one page. Colour is billed on every page.
Up to 3 PDF attachments and 110 pages in all when ``attachment_print`` is on, else they are
dropped. Prices are per contract and not public: ``DEFAULT_PRICES`` is an editable table
(``MaventaSimulator(print_prices=...)``); the formula is
``letter[letter_class] + page × pages (+ colour_page × pages)``.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

DEFAULT_PRICES: dict[str, Any] = {
    "currency": "EUR",
    "letter": {"ECONOMY": "0.80", "PRIORITY": "1.10"},
    "page": "0.15",
    "colour_page": "0.25",
}
MAX_ATTACHMENTS = 3
MAX_PAGES = 110


def count_pages(pdf: bytes) -> int | None:
    """Pages of a PDF, or None when it cannot be read."""
    try:
        return len(PdfReader(io.BytesIO(pdf)).pages)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        return None
    except Exception:  # pypdf raises assorted errors on hostile input
        return None


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _document(created: datetime | None) -> FPDF:
    """An A4 document stamped with the simulated time (the same world gives the same bytes)."""
    pdf = FPDF(format="A4")
    if created is not None:
        pdf.set_creation_date(created)
    return pdf


def render_cover_page(
    recipient_lines: list[str], sender_lines: list[str], created: datetime | None = None
) -> bytes:
    """The address cover sheet (osoitesivu) Maventa puts in front of an own PDF."""
    pdf = _document(created)
    pdf.add_page()
    pdf.set_font("helvetica", size=8)
    pdf.set_xy(20, 12)
    pdf.multi_cell(90, 4, _latin1("\n".join(sender_lines)))
    pdf.set_font("helvetica", size=11)
    pdf.set_xy(20, 50)  # the envelope window (Posti/JYS layout)
    pdf.multi_cell(90, 5.5, _latin1("\n".join(recipient_lines)))
    pdf.set_xy(20, 260)
    pdf.set_font("helvetica", size=7)
    pdf.cell(0, 4, "Maventa print service - cover page")
    return bytes(pdf.output())


def render_invoice_image(inv: dict[str, Any], created: datetime | None = None) -> bytes:
    """Maventa's own rendering of an invoice (used when no own PDF is sent)."""
    pdf = _document(created)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"LASKU / INVOICE {inv.get('number', '')}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    for line in inv.get("lines", []):
        pdf.cell(0, 6, _latin1(str(line)), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def merge_pdfs(parts: list[bytes]) -> bytes:
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@dataclass
class PrintJob:
    pages: int
    sheets: int
    cover_page: bool
    own_image: bool
    color: bool
    duplex: bool
    letter_class: str
    attachment_pages: int
    dropped_attachments: list[str] = field(default_factory=list)
    charge: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def plan_print_job(
    *,
    image_pages: int,
    own_image: bool,
    color: bool,
    letter_class: str,
    attachments: list[tuple[str, int]],
    print_attachments: bool,
    prices: dict[str, Any] | None = None,
) -> PrintJob:
    """Pages, sheets and charge for one letter. ``attachments``: (filename, pages) of PDF attachments."""
    prices = prices or DEFAULT_PRICES
    cover = own_image
    pages = image_pages + (1 if cover else 0)
    dropped: list[str] = []
    att_pages = 0
    if print_attachments:
        for i, (name, n) in enumerate(attachments):
            if i >= MAX_ATTACHMENTS or pages + att_pages + n > MAX_PAGES:
                dropped.append(name)
            else:
                att_pages += n
    else:
        dropped = [name for name, _ in attachments]
    pages += att_pages
    duplex = pages > 1
    sheets = math.ceil(pages / 2) if duplex else pages
    letter = Decimal(str(prices["letter"].get(letter_class, prices["letter"]["ECONOMY"])))
    page_price = Decimal(str(prices["page"]))
    colour = Decimal(str(prices["colour_page"])) if color else Decimal(0)
    total = letter + page_price * pages + colour * pages
    charge = {
        "currency": prices.get("currency", "EUR"),
        "letter": str(letter),
        "pages_billed": pages,
        "page_price": str(page_price),
        "colour_pages_billed": pages if color else 0,
        "colour_page_price": str(colour),
        "total": str(total.quantize(Decimal("0.01"))),
    }
    return PrintJob(
        pages=pages,
        sheets=sheets,
        cover_page=cover,
        own_image=own_image,
        color=color,
        duplex=duplex,
        letter_class=letter_class,
        attachment_pages=att_pages,
        dropped_attachments=dropped,
        charge=charge,
    )
