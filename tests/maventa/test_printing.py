"""The print service's arithmetic (MV-7): cover page, pages, sheets, attachments and the charge."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from simulators.maventa import printing


@given(
    image_pages=st.integers(1, 40),
    own=st.booleans(),
    color=st.booleans(),
    letter=st.sampled_from(["ECONOMY", "PRIORITY"]),
)
def test_every_page_is_billed_and_own_pdfs_get_a_cover_page(
    image_pages: int, own: bool, color: bool, letter: str
) -> None:
    job = printing.plan_print_job(
        image_pages=image_pages,
        own_image=own,
        color=color,
        letter_class=letter,
        attachments=[],
        print_attachments=False,
    )
    assert job.cover_page is own
    assert job.pages == image_pages + (1 if own else 0)
    if own:
        assert job.pages >= 2
    assert job.duplex == (job.pages > 1) and job.sheets == (-(-job.pages // 2) if job.duplex else 1)
    c, p = job.charge, printing.DEFAULT_PRICES
    assert c["pages_billed"] == job.pages
    assert c["colour_pages_billed"] == (job.pages if color else 0)
    expected = Decimal(p["letter"][letter]) + job.pages * (
        Decimal(p["page"]) + (Decimal(p["colour_page"]) if color else 0)
    )
    assert Decimal(c["total"]) == expected


def test_attachments_print_only_when_enabled_and_within_limits() -> None:
    atts = [("a.pdf", 2), ("b.pdf", 1), ("c.pdf", 3), ("d.pdf", 1)]
    off = printing.plan_print_job(
        image_pages=1,
        own_image=True,
        color=False,
        letter_class="ECONOMY",
        attachments=atts,
        print_attachments=False,
    )
    assert (off.pages, off.dropped_attachments) == (2, ["a.pdf", "b.pdf", "c.pdf", "d.pdf"])
    on = printing.plan_print_job(
        image_pages=1,
        own_image=True,
        color=False,
        letter_class="ECONOMY",
        attachments=atts,
        print_attachments=True,
    )
    assert (on.pages, on.attachment_pages, on.dropped_attachments) == (8, 6, ["d.pdf"])  # at most 3 PDFs
    big = printing.plan_print_job(
        image_pages=100,
        own_image=True,
        color=False,
        letter_class="ECONOMY",
        attachments=[("huge.pdf", 10)],
        print_attachments=True,
    )
    assert big.pages == 101 and big.dropped_attachments == ["huge.pdf"]  # 110 pages in all at most


def test_cover_page_and_rendering_are_one_page_pdfs() -> None:
    cover = printing.render_cover_page(["Liukkonen Oy", "Hämeenkatu 10", "33100 Tampere", "FI"], ["Ranta Oy"])
    image = printing.render_invoice_image({"number": "1001", "lines": ["Total 251.00 EUR"]})
    assert printing.count_pages(cover) == printing.count_pages(image) == 1
    merged = printing.merge_pdfs([cover, image])
    assert printing.count_pages(merged) == 2
    assert printing.count_pages(b"not a pdf") is None
