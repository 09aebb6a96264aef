"""Every invoice of the Severa simulator's demo preset becomes a valid Finvoice 3.0 document.

The data is read over Severa's REST API (the simulator's in-process client), exactly as the
bridge will read it: the invoice, its rows (token paging), the billing customer, its billing
address and the issuing company's bank accounts. Draft invoices have no number yet; the test
first moves them to the transfer status (which assigns numbers), as a user would.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.finvoice import FinvoiceBuildError, build_finvoice, seller_from_severa, validate_against_xsd
from bridge.severa.model import parse_customer, parse_invoice, parse_lines
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
    api: Api | None, invoice: dict[str, Any], units: dict[str, Any], accounts: list[Any]
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
    for data in invoices:
        rows = api.all(f"/invoices/{data['guid']}/invoicerows")
        customer = api.get(f"/customers/{data['billingCustomer']['guid']}")
        invoice = parse_invoice(data).with_details(parse_lines(rows), parse_customer(customer))
        seller = seller_from_severa(invoice, _issuer_accounts(api, data, units, accounts))
        try:
            xml = build_finvoice(invoice, seller, timestamp=STAMP)
        except FinvoiceBuildError as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"invoice {data['number']} ({data['status']['name']}): {exc.errors}")
        assert validate_against_xsd(xml, xsd) == [], data["number"]
        root = parse(xml)
        assert len(root.findall("InvoiceRow")) == len(rows)
        assert root.findtext("InvoiceDetails/InvoiceNumber") == str(data["number"])
        assert root.findtext("InvoiceDetails/InvoiceTypeCode") == (
            "INV02" if data["isCreditNote"] else "INV01"
        )
        built += 1
    assert built == len(invoices)


@pytest.mark.parametrize("seed", range(10))
def test_finvoice_totals_equal_severas_totals_on_every_demo_invoice(seed: int) -> None:
    """Issue 8 item 4: what the customer's e-invoice says is what Severa shows, to the cent.

    Read with the bridge's own client and read model (the path a transfer takes); Severa's totals
    are taken from the wire, the Finvoice's from the XML, and every demo invoice of the seed is
    checked (draft invoices are numbered first, as a user would)."""
    from bridge.severa import SeveraClient
    from bridge.severa.source import SeveraSource

    sim = severa.SeveraSimulator(preset="demo", seed=seed)
    credentials = sim.client_credentials()
    client = SeveraClient(
        sim.client(base_url="http://severa/rest-api"),
        credentials["client_id"],
        credentials["client_secret"],
        rate_limit=False,
    )
    source = SeveraSource(client)
    transfer = next(s for s in client.list_invoice_statuses() if s["name"] == TRANSFER_STATUS)
    units = {u["guid"]: u for u in client.list_business_units()}
    accounts = client.list_bank_accounts()
    checked = 0
    for data in list(client.iter_invoices()):
        if data.get("number") is None:
            data = client.set_invoice_status(str(data["guid"]), str(transfer["guid"]))
        invoice = source.with_lines(source.invoice(str(data["guid"])))
        xml = build_finvoice(
            invoice,
            seller_from_severa(invoice, _issuer_accounts(None, data, units, accounts)),
            timestamp=STAMP,
        )
        root = parse(xml)
        written = {
            "totalExcludingTax": root.findtext("InvoiceDetails/InvoiceTotalVatExcludedAmount"),
            "totalTax": root.findtext("InvoiceDetails/InvoiceTotalVatAmount"),
            "totalIncludingTax": root.findtext("InvoiceDetails/InvoiceTotalVatIncludedAmount"),
        }
        for key, text in written.items():
            assert text is not None
            assert Decimal(text.replace(",", ".")) == Decimal(repr(data[key]["amount"])), (
                f"seed {seed}, invoice {data['number']}: {key} is {text} in the Finvoice, "
                f"{data[key]['amount']} in Severa"
            )
        checked += 1
    assert checked >= 10  # the demo organisation has 14 invoices
