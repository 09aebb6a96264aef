"""Tenancy: each organisation has its own clients and never sees another's data."""

from __future__ import annotations

import pytest

from .conftest import SeveraTarget, assert_envelope


@pytest.fixture(autouse=True)
def _needs_two_orgs(severa: SeveraTarget) -> None:
    severa.require_control()


def test_each_client_sees_only_its_own_organisation(severa: SeveraTarget) -> None:
    main, second = severa.headers(), severa.headers("second organisation", "second")
    main_org = severa.get("/v1/organizationdetails", headers=main).json()
    second_org = severa.get("/v1/organizationdetails", headers=second).json()
    assert main_org["guid"] != second_org["guid"] and main_org["vatNumber"] != second_org["vatNumber"]
    for path in ("/v1/invoices", "/v1/customers", "/v1/products", "/v1/users"):
        a = {x["guid"] for x in severa.get(path, headers=main, params={"rowCount": 100}).json()}
        b = {x["guid"] for x in severa.get(path, headers=second, params={"rowCount": 100}).json()}
        assert a and b and not a & b, path


def test_guid_of_another_tenant_is_404(severa: SeveraTarget) -> None:
    main, second = severa.headers(), severa.headers("second organisation", "second")
    inv = severa.get("/v1/invoices", headers=main, params={"rowCount": 1}).json()[0]
    assert_envelope(severa.get(f"/v1/invoices/{inv['guid']}", headers=second), 404)
    assert_envelope(severa.get(f"/v1/invoices/{inv['guid']}/pdf", headers=second), 404)
    r = severa.patch(
        f"/v1/invoices/{inv['guid']}", [{"op": "replace", "path": "/notes", "value": "x"}], headers=second
    )
    assert_envelope(r, 404)
    main_status = severa.get("/v1/invoicestatuses", headers=main).json()[0]["guid"]
    other = severa.get("/v1/invoices", headers=second, params={"rowCount": 1}).json()[0]
    r = severa.patch(
        f"/v1/invoices/{other['guid']}",
        [{"op": "replace", "path": "/status/guid", "value": main_status}],
        headers=second,
    )
    assert_envelope(r, 400, "InvalidParameter")


def test_credentials_list_three_clients_of_two_organisations(severa: SeveraTarget) -> None:
    creds = severa.control("GET", "/credentials").json()["clients"]
    assert len(creds) >= 3 and len({c["organization_guid"] for c in creds}) >= 2
    for c in creds:
        assert c["client_id"].endswith(".apps.vismasevera.com") and "_" in c["client_id"]
        assert c["client_secret"] and c["organization"] and c["scopes"]
    limited = next(c for c in creds if "customers:read" not in c["scopes"])
    assert "users:read" not in limited["scopes"] and "invoices:read" in limited["scopes"]
