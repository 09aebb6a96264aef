"""Shared helpers of the Maventa contract suite (independent of the bridge's builder)."""

from __future__ import annotations

import io
import zipfile

from fpdf import FPDF

from contract_tests.maventa.conftest import MaventaTarget
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


def company_form(vendor: str, user_key: str, name: str, bid: str, email: str) -> dict[str, tuple[None, str]]:
    """``POST /v1/companies`` as multipart fields (the spec's content type)."""
    form = {
        "vendor_api_key": vendor,
        "user_api_key": user_key,
        "name": name,
        "bid": bid,
        "no_vat": "false",
        "address1": "Testikatu 1",
        "post_code": "00100",
        "post_office": "HELSINKI",
        "city": "Helsinki",
        "country": "FI",
        "email": email,
    }
    return {k: (None, v) for k, v in form.items()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + token}


def register_verified_company(
    maventa: MaventaTarget, name: str, bid: str, email: str, *, sign: bool = True
) -> tuple[str, str, dict[str, str]]:
    """Register user + company over HTTP, ask for and (by the actor) sign the authorisation.

    Returns (company id, user API key, bearer header with scope ``eui``).
    """
    http, vendor = maventa.http, maventa.creds()["vendor"]
    r = http.post("/v1/users", json={"vendor_api_key": vendor, "email": email})
    assert r.status_code == 201, r.text
    user_key = r.json()["user_api_key"]
    r = http.post("/v1/companies", files=company_form(vendor, user_key, name, bid, email))
    assert r.status_code == 201, r.text
    company_id = r.json()["id"]
    auth = bearer(maventa.token(company_id, user_key, vendor))
    r = http.post("/v1/company/authorization", headers=auth, json={"auth_email": email, "locale": "EN"})
    assert r.status_code == 200, r.text
    if sign:
        assert maventa.control("POST", f"/companies/{company_id}/authorization/sign").status_code == 200
    return company_id, user_key, auth
