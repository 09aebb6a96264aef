"""Every invoice of the Severa simulator's demo preset becomes a valid Finvoice 3.0 document.

The data is read over Severa's REST API (the simulator's in-process client), exactly as the
bridge will read it: the invoice, its rows (token paging), the billing customer, its billing
address and the issuing company's bank accounts. Draft invoices have no number yet; the test
first moves them to the transfer status (which assigns numbers), as a user would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.finvoice import FinvoiceBuildError, build_finvoice, seller_from_severa, validate_against_xsd
from tests.bridge.test_finvoice_fixtures import STAMP, parse, xsd_path

severa = pytest.importorskip("simulators.severa", reason="the Severa simulator is not available")

TRANSFER_STATUS = "Odottaa siirtoa Maventaan"


class Api:
    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http, self.headers = http, {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(f"/rest-api/v1{path}", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def all(self, path: str, **params: Any) -> list[Any]:
        items: list[Any] = []
        token = None
        while True:
            query = {**params, "rowCount": 100, **({"pageToken": token} if token else {})}
            response = self.http.get(f"/rest-api/v1{path}", params=query, headers=self.headers)
            assert response.status_code == 200, response.text
            items.extend(response.json())
            token = response.headers.get("NextPageToken")
            if not token:
                return items


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    sim = severa.SeveraSimulator(preset="demo", seed=0)
    with sim.client() as http:
        credentials = sim.client_credentials()
        response = http.post(
            "/rest-api/v1/token",
            json={"client_id": credentials["client_id"], "client_secret": credentials["client_secret"]},
        )
        assert response.status_code == 200, response.text
        yield Api(http, response.json()["access_token"])


@pytest.fixture(scope="module")
def xsd(request: pytest.FixtureRequest) -> Path:
    return xsd_path(request.config)


def _number_drafts(api: Api, invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statuses = api.get("/invoicestatuses", rowCount=100)
    transfer = next(s for s in statuses if s["name"] == TRANSFER_STATUS)
    out = []
    for invoice in invoices:
        if invoice.get("number") is None:
            response = api.http.patch(
                f"/rest-api/v1/invoices/{invoice['guid']}",
                json=[{"op": "replace", "path": "/status/guid", "value": transfer["guid"]}],
                headers=api.headers,
            )
            assert response.status_code == 200, response.text
            invoice = response.json()[0]
        out.append(invoice)
    return out


def _issuer_accounts(
    api: Api, invoice: dict[str, Any], units: dict[str, Any], accounts: list[Any]
) -> list[Any]:
    unit = units.get(invoice.get("invoiceNumberBusinessUnitGuid") or "")
    company_unit = units.get(unit["companyBusinessUnitGuid"]) if unit else None
    wanted = {u["guid"] for u in (unit, company_unit) if u}
    mine = [a for a in accounts if (a.get("businessUnit") or {}).get("guid") in wanted]
    if not mine and unit:
        mine = [a for a in accounts if (a.get("company") or {}).get("guid") == unit["companyGuid"]]
    return mine


def test_every_demo_invoice_builds_and_validates(api: Api, xsd: Path) -> None:
    invoices = _number_drafts(api, api.all("/invoices"))
    assert invoices, "the demo preset should have invoices"
    units = {u["guid"]: u for u in api.get("/businessunits", rowCount=100)}
    accounts = api.get("/bankaccounts", rowCount=100)
    built = 0
    for invoice in invoices:
        rows = api.all(f"/invoices/{invoice['guid']}/invoicerows")
        customer = api.get(f"/customers/{invoice['billingCustomer']['guid']}")
        addresses = api.get(f"/customers/{customer['guid']}/addresses", rowCount=100)
        billing = next((a for a in addresses if a.get("isBillingAddress")), None)
        seller = seller_from_severa(invoice, _issuer_accounts(api, invoice, units, accounts))
        try:
            xml = build_finvoice(invoice, rows, customer, billing, seller, timestamp=STAMP)
        except FinvoiceBuildError as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"invoice {invoice['number']} ({invoice['status']['name']}): {exc.errors}")
        assert validate_against_xsd(xml, xsd) == [], invoice["number"]
        root = parse(xml)
        assert len(root.findall("InvoiceRow")) == len(rows)
        assert root.findtext("InvoiceDetails/InvoiceNumber") == str(invoice["number"])
        assert root.findtext("InvoiceDetails/InvoiceTypeCode") == (
            "INV02" if invoice["isCreditNote"] else "INV01"
        )
        built += 1
    assert built == len(invoices)
