"""Settings and registers: statuses (offset paging, create, PATCH flags), products (token
paging), work types, travel expense types, business units, bank accounts, customers with
their e-invoicing fields and addresses, users, organisation details."""

from __future__ import annotations

from typing import Any

import pytest
from stdnum import bic, iban
from stdnum.fi import ytunnus

from simulators.severa.presets import STATUSES

from .conftest import SeveraTarget, assert_envelope


def business_id(vat: str) -> str:
    digits = vat.removeprefix("FI")
    return ytunnus.validate(f"{digits[:7]}-{digits[7:]}" if "-" not in digits else digits)


def test_statuses_offset_paging(severa: SeveraTarget) -> None:
    every = severa.get("/v1/invoicestatuses", params={"rowCount": 100}).json()
    assert len(every) >= 2
    pages = [
        severa.get("/v1/invoicestatuses", params={"firstRow": i, "rowCount": 2}).json()
        for i in range(0, len(every), 2)
    ]
    assert [s for p in pages for s in p] == every
    assert "NextPageToken" not in severa.get("/v1/invoicestatuses").headers
    assert_envelope(severa.get("/v1/invoicestatuses", params={"firstRow": -1}), 400, "InvalidParameter")
    assert_envelope(severa.get("/v1/invoicestatuses", params={"active": "maybe"}), 400, "InvalidParameter")


def test_demo_statuses_and_their_flags(severa: SeveraTarget) -> None:
    severa.require_control()
    severa.reset()
    got = {s["name"]: s for s in severa.get("/v1/invoicestatuses", params={"rowCount": 100}).json()}
    for name, flags in STATUSES:
        st = got[name]
        for attr, wire in (
            ("is_sent", "isSent"),
            ("is_read_only", "isReadOnly"),
            ("has_invoice_number", "hasInvoiceNumber"),
            ("is_default", "isDefault"),
        ):
            assert st[wire] is flags.get(attr, False), (name, wire)
    assert got["Odottaa siirtoa Maventaan"]["isSent"] is False
    assert severa.get(f"/v1/invoicestatuses/{got['Luonnos']['guid']}").json() == got["Luonnos"]


def test_create_patch_and_delete_status(severa: SeveraTarget) -> None:
    severa.require_writes()
    r = severa.post("/v1/invoicestatuses", {"name": "Odottaa hyväksyntää", "hasInvoiceNumber": True})
    assert r.status_code == 201, r.text
    st = r.json()
    assert st["hasInvoiceNumber"] is True and st["isSent"] is False and st["isActive"] is True
    p = severa.patch(
        f"/v1/invoicestatuses/{st['guid']}",
        [
            {"op": "replace", "path": "/isSent", "value": "true"},
            {"op": "Replace", "path": "/isReadOnly", "value": True},
        ],
    )
    assert p.status_code == 200
    assert p.json()[0]["isSent"] is True and p.json()[0]["isReadOnly"] is True
    bad = severa.patch(
        f"/v1/invoicestatuses/{st['guid']}", [{"op": "replace", "path": "/isSent", "value": "kyllä"}]
    )
    assert_envelope(bad, 400, "InvalidParameter")
    assert_envelope(severa.post("/v1/invoicestatuses", {"isSent": True}), 400, "InvalidParameter")
    assert severa.delete(f"/v1/invoicestatuses/{st['guid']}").status_code == 204
    assert_envelope(severa.get(f"/v1/invoicestatuses/{st['guid']}"), 404)


def test_status_used_by_invoices_cannot_be_deleted(severa: SeveraTarget) -> None:
    severa.require_writes()
    used = severa.get("/v1/invoices", params={"rowCount": 1}).json()[0]["status"]["guid"]
    assert_envelope(severa.delete(f"/v1/invoicestatuses/{used}"), 400, "InvalidOperation")


def test_only_one_default_status(severa: SeveraTarget) -> None:
    severa.require_writes()
    everything = severa.get("/v1/invoicestatuses", params={"rowCount": 100}).json()
    previous = [s["guid"] for s in everything if s["isDefault"]]
    st = severa.post("/v1/invoicestatuses", {"name": "Uusi oletus (contract test)", "isDefault": True}).json()
    try:
        defaults = [
            s for s in severa.get("/v1/invoicestatuses", params={"rowCount": 100}).json() if s["isDefault"]
        ]
        assert [s["guid"] for s in defaults] == [st["guid"]]
    finally:  # put the tenant's own default back (an external tenant is not reset)
        for guid in previous:
            severa.patch(
                f"/v1/invoicestatuses/{guid}", [{"op": "replace", "path": "/isDefault", "value": True}]
            )
        severa.delete(f"/v1/invoicestatuses/{st['guid']}")
    after = [
        s["guid"]
        for s in severa.get("/v1/invoicestatuses", params={"rowCount": 100}).json()
        if s["isDefault"]
    ]
    assert after == previous


def test_products_token_paging_and_codes(severa: SeveraTarget) -> None:
    products = severa.all_pages("/v1/products", row_count=2)
    assert len({p["guid"] for p in products}) == len(products)
    one = products[0]
    assert severa.get(f"/v1/products/{one['guid']}").json() == one
    if one["code"]:
        assert [p["guid"] for p in severa.all_pages("/v1/products", {"code": one["code"]})] == [one["guid"]]
    materials = severa.all_pages("/v1/products", {"type": "Materials"})
    assert all(p["type"] == "Materials" for p in materials)
    assert_envelope(severa.get("/v1/products", params={"type": "Toys"}), 400, "InvalidParameter")


def test_work_types_and_travel_expense_types(severa: SeveraTarget) -> None:
    wts = severa.get("/v1/worktypes", params={"rowCount": 100}).json()
    assert wts and all("code" in w for w in wts)
    assert severa.get(f"/v1/worktypes/{wts[0]['guid']}").json() == wts[0]
    productive = severa.get("/v1/worktypes", params={"productive": "true", "rowCount": 100}).json()
    assert all(w["isProductive"] for w in productive)
    coded = next(w for w in wts if w["code"])
    assert [w["guid"] for w in severa.get("/v1/worktypes", params={"code": coded["code"]}).json()] == [
        coded["guid"]
    ]
    tets = severa.get("/v1/travelexpensetypes").json()
    assert tets and {t["expenseClass"] for t in tets} <= {"Mileage", "DailyAllowance", "OtherTravelExpense"}
    assert severa.get(f"/v1/travelexpensetypes/{tets[0]['guid']}").json() == tets[0]
    assert_envelope(severa.get("/v1/worktypes/00000000-0000-4000-8000-000000000000"), 404)


def test_business_units_have_their_own_business_ids(severa: SeveraTarget) -> None:
    severa.require_control()
    units = severa.get("/v1/businessunits", params={"rowCount": 100}).json()
    with_id = [u for u in units if u["vatNumber"]]
    assert len(with_id) >= 2 and any(not u["vatNumber"] for u in units)
    assert len({u["vatNumber"] for u in with_id}) == len(with_id)
    for u in with_id:
        business_id(u["vatNumber"])
    assert len({u["companyGuid"] for u in with_id}) >= 2
    assert severa.get(f"/v1/businessunits/{units[0]['guid']}").json() == units[0]


def test_bank_accounts_have_valid_iban_and_bic(severa: SeveraTarget) -> None:
    severa.require_control()
    accounts = severa.get("/v1/bankaccounts").json()
    assert accounts
    for a in accounts:
        assert iban.is_valid(a["accountNumber"]) and a["accountNumber"].startswith("FI")
        assert bic.is_valid(a["bic"]) and a["bankName"]
        assert a["accountNumberFormat"] == "Iban" and a["company"]["guid"]
    assert severa.get(f"/v1/bankaccounts/{accounts[0]['guid']}").json() == accounts[0]
    assert_envelope(severa.get("/v1/bankaccounts", headers=severa.headers(scope="invoices:read")), 403)


def _kinds(customers: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {
        "einvoice": [c for c in customers if c["eInvoiceAddress"]],
        "email": [c for c in customers if not c["eInvoiceAddress"] and c["email"]],
        "none": [c for c in customers if not c["eInvoiceAddress"] and not c["email"]],
    }


def test_customers_of_three_kinds_with_einvoice_fields(severa: SeveraTarget) -> None:
    severa.require_control()
    customers = severa.all_pages("/v1/customers", row_count=2)
    kinds = _kinds(customers)
    assert len(kinds["einvoice"]) >= 2 and len(kinds["email"]) >= 2 and len(kinds["none"]) >= 1
    for c in kinds["einvoice"]:
        digits = business_id(c["vatNumber"]).replace("-", "")
        assert c["eInvoiceAddress"] == "0037" + digits
        assert c["eInvoiceOperator"] in ("003721291126", "003708599126")
    for c in customers:
        business_id(c["vatNumber"])
        addresses = severa.get(f"/v1/customers/{c['guid']}/addresses").json()
        billing = [a for a in addresses if a["isBillingAddress"]]
        assert billing and billing[0]["addressline"] and billing[0]["postalCode"] and billing[0]["city"]
        assert billing[0]["customer"]["guid"] == c["guid"]


def test_customer_filters_and_get(severa: SeveraTarget) -> None:
    customers = severa.all_pages("/v1/customers")
    one = customers[0]
    assert severa.get(f"/v1/customers/{one['guid']}").json() == one
    assert [c["guid"] for c in severa.all_pages("/v1/customers", {"numbers": one["number"]})] == [one["guid"]]
    if one["email"]:
        by_mail = severa.all_pages("/v1/customers", {"emailAddresses": one["email"].upper()})
        assert one["guid"] in [c["guid"] for c in by_mail]
    assert_envelope(severa.get("/v1/customers/00000000-0000-4000-8000-000000000000/addresses"), 404)


def test_users_and_organization_details(severa: SeveraTarget) -> None:
    users = severa.all_pages("/v1/users", row_count=1)
    assert users and all(u["firstName"] and u["lastName"] for u in users)
    assert severa.get(f"/v1/users/{users[0]['guid']}").json() == users[0]
    org = severa.get("/v1/organizationdetails").json()
    assert org["name"] and org["activeCompanies"]
    if severa.target.has_control:
        business_id(org["vatNumber"])


@pytest.mark.parametrize(
    "path", ["/v1/invoicestatuses", "/v1/products", "/v1/worktypes", "/v1/businessunits"]
)
def test_settings_need_settings_read(severa: SeveraTarget, path: str) -> None:
    assert_envelope(
        severa.get(path, headers=severa.headers(scope="invoices:read")), 403, "InsufficientApiScope"
    )


def test_organization_details_need_organization_read(severa: SeveraTarget) -> None:
    h = severa.headers(scope="invoices:read")
    assert_envelope(severa.get("/v1/organizationdetails", headers=h), 403, "InsufficientApiScope")
