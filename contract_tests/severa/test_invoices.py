"""Invoices: list filters, token paging, GET, PATCH (status rules), rows, sources, PDF."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from simulators.severa.presets import BIG_INVOICE_REFERENCE
from simulators.severa.references import is_valid_finnish_reference

from .conftest import SeveraTarget, assert_envelope


@pytest.fixture(autouse=True)
def _clean(severa: SeveraTarget) -> None:
    if severa.target.has_control:
        severa.reset()


def invoices(severa: SeveraTarget, **params: Any) -> list[dict[str, Any]]:
    return severa.all_pages("/v1/invoices", params)


def statuses(severa: SeveraTarget) -> list[dict[str, Any]]:
    return [s for s in severa.get("/v1/invoicestatuses", params={"rowCount": 100}).json() if s["isActive"]]


def numbered_editable(severa: SeveraTarget, count: int = 1) -> list[str]:
    """GUIDs of `count` active statuses that give a number and stay editable (e.g. "Odottaa siirtoa
    Maventaan", "Maventa-virhe"). Chosen by their flags, so a real tenant's own statuses work too."""
    found = [
        s["guid"]
        for s in statuses(severa)
        if s["hasInvoiceNumber"] and not s["isReadOnly"] and not s["isSent"] and not s["isPaid"]
    ]
    if len(found) < count:
        pytest.skip(f"needs {count} active, numbered, editable, unsent invoice status(es)")
    return found[:count]


def read_only_status(severa: SeveraTarget) -> str:
    found = [s["guid"] for s in statuses(severa) if s["isReadOnly"] and s["hasInvoiceNumber"]]
    if not found:
        pytest.skip("needs an active read-only invoice status")
    return found[0]


RESTORED_FIELDS = ("notes", "ourReference", "yourReference", "orderNumber")


class Drafts:
    """Hands out draft invoices (default status, preferably still without a number).

    In the simulator modes every test starts from a fresh reset. Against an external tenant
    nothing resets, so whatever a test changed on the drafts it took (status, free-text
    fields) is put back afterwards; only an assigned number stays, as it would in Severa.
    """

    def __init__(self, severa: SeveraTarget) -> None:
        self.severa = severa
        self.taken: list[dict[str, Any]] = []

    def __call__(self) -> dict[str, Any]:
        default = [s["guid"] for s in statuses(self.severa) if s["isDefault"]]
        candidates = invoices(self.severa, invoiceStatusGuids=default) if default else []
        candidates.sort(key=lambda i: i["number"] is not None)  # unnumbered first
        if not candidates:
            pytest.skip("no invoice in the default (draft) status on this target")
        inv = candidates[0]
        self.taken.append(inv)
        return inv

    def restore(self) -> None:
        for inv in self.taken:
            now = self.severa.get(f"/v1/invoices/{inv['guid']}")
            if now.status_code != 200:
                continue  # deleted by the test
            ops = [{"op": "replace", "path": "/status/guid", "value": inv["status"]["guid"]}]
            ops += [{"op": "replace", "path": "/" + f, "value": inv[f]} for f in RESTORED_FIELDS]
            r = self.severa.patch(f"/v1/invoices/{inv['guid']}", ops)
            assert r.status_code == 200, f"could not restore invoice {inv['guid']}: {r.text}"


@pytest.fixture
def draft(severa: SeveraTarget) -> Iterator[Drafts]:
    drafts = Drafts(severa)
    yield drafts
    if severa.external:
        drafts.restore()


def test_token_paging_returns_every_invoice_once(severa: SeveraTarget) -> None:
    everything = invoices(severa)
    for size in (1, 3, 7):
        paged = severa.all_pages("/v1/invoices", row_count=size)
        assert [i["guid"] for i in paged] == [i["guid"] for i in everything]
    first = severa.get("/v1/invoices", params={"rowCount": 2})
    assert len(first.json()) == 2 and first.headers.get("NextPageToken")
    last = severa.get("/v1/invoices", params={"rowCount": 1000})
    assert "NextPageToken" not in last.headers


def test_page_token_reused_with_other_filters_is_refused(severa: SeveraTarget) -> None:
    severa.require_control()
    tok = severa.get("/v1/invoices", params={"rowCount": 2}).headers["NextPageToken"]
    r = severa.get(
        "/v1/invoices",
        params={"rowCount": 2, "pageToken": tok, "invoiceStatusGuids": severa.status_guid("Luonnos")},
    )
    assert_envelope(r, 400, "InvalidParameter")
    assert_envelope(severa.get("/v1/invoices", params={"pageToken": "garbage!"}), 400, "InvalidParameter")


def test_row_count_is_capped_and_must_be_positive(severa: SeveraTarget) -> None:
    severa.require_control()
    assert len(severa.get("/v1/invoices", params={"rowCount": 5000}).json()) <= severa.sim.page_size_cap
    assert_envelope(severa.get("/v1/invoices", params={"rowCount": 0}), 400, "InvalidParameter")
    assert_envelope(severa.get("/v1/invoices", params={"rowCount": "ten"}), 400, "InvalidParameter")


def test_filter_by_status_guids(severa: SeveraTarget) -> None:
    statuses = severa.get("/v1/invoicestatuses", params={"rowCount": 100}).json()
    by_name = {s["name"]: s["guid"] for s in statuses}
    wanted = {by_name["Odottaa siirtoa Maventaan"], by_name["Odottaa siirtoa Maestroon"]}
    got = invoices(severa, invoiceStatusGuids=list(wanted))
    assert got and {i["status"]["guid"] for i in got} == wanted
    assert len(got) == sum(1 for i in invoices(severa) if i["status"]["guid"] in wanted)


def test_filter_by_customer_number_reference_and_dates(severa: SeveraTarget) -> None:
    every = invoices(severa)
    numbered = [i for i in every if i["number"] is not None]
    one = numbered[0]
    assert [i["guid"] for i in invoices(severa, numbers=one["number"])] == [one["guid"]]
    assert [i["guid"] for i in invoices(severa, referenceNumbers=one["referenceNumber"])] == [one["guid"]]
    cust = one["customer"]["guid"]
    assert {i["guid"] for i in invoices(severa, customerGuids=cust)} == {
        i["guid"] for i in every if cust in (i["customer"]["guid"], i["billingCustomer"]["guid"])
    }
    dates = sorted(i["date"] for i in every)
    mid = dates[len(dates) // 2]
    after = invoices(severa, startDate=f"{mid}T00:00:00Z")
    before = invoices(severa, endDate=f"{mid}T00:00:00+02:00")
    assert all(i["date"] >= mid for i in after) and all(i["date"] <= mid for i in before)
    assert len(after) + len(before) == len(every) + sum(1 for d in dates if d == mid)


def test_bad_filter_values_are_400(severa: SeveraTarget) -> None:
    for params in (
        {"invoiceStatusGuids": "not-a-guid"},
        {"changedSince": "yesterday"},
        {"numbers": "x1"},
        {"startDate": "2026-99-01"},
    ):
        assert_envelope(severa.get("/v1/invoices", params=params), 400, "InvalidParameter")


def test_get_invoice_and_unknown_guid(severa: SeveraTarget) -> None:
    inv = invoices(severa)[0]
    got = severa.get(f"/v1/invoices/{inv['guid']}").json()
    assert got == inv
    r = severa.get("/v1/invoices/00000000-0000-4000-8000-000000000000")
    assert_envelope(r, 404)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_totals_are_consistent_with_rows(severa: SeveraTarget) -> None:
    """Totals = sums of the rows, each row's net and VAT rounded to cents half away from zero."""
    for inv in invoices(severa)[:6]:
        rows = severa.all_pages(f"/v1/invoices/{inv['guid']}/invoicerows")
        excl = tax = Decimal(0)
        for r in rows:
            net = _cents(Decimal(repr(r["quantity"])) * Decimal(repr(r["unitPrice"]["amount"])))
            excl += net
            tax += _cents(net * Decimal(repr(r["vatRate"])) / 100)
        assert inv["totalExcludingTax"]["amount"] == float(excl)
        assert inv["totalTax"]["amount"] == float(tax)
        assert inv["totalIncludingTax"]["amount"] == float(excl + tax)


def test_demo_uses_all_finnish_vat_rates(severa: SeveraTarget) -> None:
    severa.require_control()
    rates = set()
    for inv in invoices(severa):
        rates |= {
            r["vatRate"] for r in severa.all_pages(f"/v1/invoices/{inv['guid']}/invoicerows", row_count=100)
        }
    assert {25.5, 14.0, 10.0, 0.0} <= rates


def test_rows_carry_codes_of_their_sources(severa: SeveraTarget) -> None:
    inv = invoices(severa)[0]
    rows = severa.all_pages(f"/v1/invoices/{inv['guid']}/invoicerows")
    kinds = {r["rowType"] for r in rows}
    assert {"Hours", "ProjectFees", "TravelExpenses"} <= kinds
    for row in rows:
        assert severa.get(f"/v1/invoicerows/{row['guid']}").json() == row
        if row["rowType"] == "Hours":
            items = severa.all_pages(f"/v1/invoicerows/{row['guid']}/workhours")
            codes = {i["workType"]["code"] for i in items}
        elif row["rowType"] == "ProjectFees":
            items = severa.all_pages(f"/v1/invoicerows/{row['guid']}/projectfees")
            codes = {i["product"]["code"] for i in items}
        else:
            items = severa.all_pages(f"/v1/invoicerows/{row['guid']}/projecttravelexpenses")
            codes = {i["travelExpense"]["code"] for i in items}
        assert items, row
        assert set(row["code"]) == codes - {None}
        assert all(i["invoiceRowGuid"] == row["guid"] for i in items)
        assert sum(i["quantity"] for i in items) == pytest.approx(row["quantity"], abs=0.01)


def test_sources_per_invoice_group_by_row(severa: SeveraTarget) -> None:
    inv = invoices(severa)[0]
    rows = {r["guid"]: r for r in severa.all_pages(f"/v1/invoices/{inv['guid']}/invoicerows")}
    seen = set()
    for segment in ("workhours", "projectfees", "projecttravelexpenses"):
        for item in severa.all_pages(f"/v1/invoices/{inv['guid']}/{segment}"):
            assert item["invoiceRowGuid"] in rows
            assert item["invoice"]["guid"] == inv["guid"]
            seen.add(item["invoiceRowGuid"])
    assert seen == set(rows)


def test_row_type_filter(severa: SeveraTarget) -> None:
    inv = invoices(severa)[0]
    hours = severa.all_pages(f"/v1/invoices/{inv['guid']}/invoicerows", {"rowType": "Hours"})
    assert hours and {r["rowType"] for r in hours} == {"Hours"}
    assert_envelope(severa.get(f"/v1/invoices/{inv['guid']}/invoicerows", params={"rowType": "Bogus"}), 400)


@pytest.mark.parametrize(
    "op,path,value_of",
    [
        ("replace", "/status/guid", lambda g: g),
        ("Replace", "/status", lambda g: {"guid": g}),
        ("REPLACE", "/status/guid", lambda g: g),
    ],
)
def test_patch_status_variants_number_and_reference(
    severa: SeveraTarget, draft: Drafts, op: str, path: str, value_of: Any
) -> None:
    severa.require_writes()
    inv = draft()
    before = [i["number"] for i in invoices(severa) if i["number"] is not None]
    (target,) = numbered_editable(severa)
    r = severa.patch(f"/v1/invoices/{inv['guid']}", [{"op": op, "path": path, "value": value_of(target)}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list) and len(body) == 1
    out = body[0]
    assert out["status"]["guid"] == target and out["status"]["isSent"] is False
    assert isinstance(out["number"], int)
    assert is_valid_finnish_reference(out["referenceNumber"])
    assert out["referenceNumber"].startswith(str(out["number"]))
    numbers = [i["number"] for i in invoices(severa) if i["guid"] != inv["guid"] and i["number"] is not None]
    assert out["number"] not in numbers
    if inv["number"] is not None:
        assert out["number"] == inv["number"]  # a number, once given, is kept
    elif not severa.external:  # the next number of the (simulator's single) number series
        assert out["number"] == max(before) + 1
    assert severa.get(f"/v1/invoices/{inv['guid']}").json() == out


def test_number_is_kept_when_moving_between_numbered_statuses(severa: SeveraTarget, draft: Drafts) -> None:
    severa.require_writes()
    inv = draft()
    a, b = numbered_editable(severa, 2)
    first = severa.patch(
        f"/v1/invoices/{inv['guid']}", [{"op": "replace", "path": "/status/guid", "value": a}]
    )
    second = severa.patch(
        f"/v1/invoices/{inv['guid']}", [{"op": "replace", "path": "/status/guid", "value": b}]
    )
    assert first.json()[0]["number"] == second.json()[0]["number"]


def test_read_only_status_blocks_other_edits_but_not_status_change(
    severa: SeveraTarget, draft: Drafts
) -> None:
    severa.require_writes()
    inv = draft()
    sent = read_only_status(severa)
    r = severa.patch(
        f"/v1/invoices/{inv['guid']}", [{"op": "replace", "path": "/status/guid", "value": sent}]
    )
    assert r.status_code == 200 and r.json()[0]["canBeDeleted"] is False
    blocked = severa.patch(f"/v1/invoices/{inv['guid']}", [{"op": "replace", "path": "/notes", "value": "x"}])
    assert_envelope(blocked, 400, "InvalidOperation")
    assert severa.get(f"/v1/invoices/{inv['guid']}").json()["notes"] == inv["notes"]
    assert_envelope(severa.delete(f"/v1/invoices/{inv['guid']}"), 400, "InvalidOperation")
    (back,) = numbered_editable(severa)
    r = severa.patch(
        f"/v1/invoices/{inv['guid']}", [{"op": "replace", "path": "/status/guid", "value": back}]
    )
    assert r.status_code == 200
    ok = severa.patch(
        f"/v1/invoices/{inv['guid']}", [{"op": "replace", "path": "/notes", "value": "korjattu"}]
    )
    assert ok.status_code == 200 and ok.json()[0]["notes"] == "korjattu"


def test_failed_patch_changes_nothing(severa: SeveraTarget, draft: Drafts) -> None:
    severa.require_writes()
    inv = draft()
    (target,) = numbered_editable(severa)
    r = severa.patch(
        f"/v1/invoices/{inv['guid']}",
        [
            {"op": "replace", "path": "/status/guid", "value": target},
            {"op": "replace", "path": "/nosuchfield", "value": "x"},
        ],
    )
    assert_envelope(r, 400, "InvalidParameter")
    assert severa.get(f"/v1/invoices/{inv['guid']}").json() == inv


@pytest.mark.parametrize(
    "body",
    [
        {"op": "replace", "path": "/status/guid", "value": "x"},  # not an array
        [{"path": "/notes", "value": "x"}],  # no op
        [{"op": "frobnicate", "path": "/notes", "value": "x"}],
        [{"op": "replace", "path": "notes", "value": "x"}],
        [{"op": "replace", "path": "/status/guid", "value": 12}],
        [{"op": "replace", "path": "/status/guid", "value": "00000000-0000-4000-8000-000000000000"}],
        [{"op": "replace", "path": "/paymentTerm", "value": {"days": 3}}],
        [{"op": "replace", "path": "/dueDate", "value": "31.12.2026"}],
        [{"op": "move", "path": "/status/guid", "from": "/x"}],
    ],
)
def test_bad_patch_documents_are_400(severa: SeveraTarget, draft: Drafts, body: Any) -> None:
    severa.require_writes()
    inv = draft()
    r = severa.patch(f"/v1/invoices/{inv['guid']}", body)
    assert_envelope(r, 400)
    assert severa.get(f"/v1/invoices/{inv['guid']}").json() == inv


def test_inactive_status_cannot_be_chosen(severa: SeveraTarget, draft: Drafts) -> None:
    severa.require_writes()
    st = severa.post("/v1/invoicestatuses", {"name": "Vanha tila (contract test)", "isActive": False})
    assert st.status_code == 201
    try:
        inv = draft()
        r = severa.patch(
            f"/v1/invoices/{inv['guid']}",
            [{"op": "replace", "path": "/status/guid", "value": st.json()["guid"]}],
        )
        assert_envelope(r, 400, "InvalidParameter")
    finally:
        assert severa.delete(f"/v1/invoicestatuses/{st.json()['guid']}").status_code == 204


def test_changed_since_follows_changes(severa: SeveraTarget, draft: Drafts) -> None:
    severa.require_control()
    now = datetime.fromisoformat(severa.control("GET", "/clock").json()["now"].replace("Z", "+00:00"))
    since = (now + timedelta(seconds=30)).isoformat()
    assert invoices(severa, changedSince=since) == []
    severa.control("POST", "/clock", json={"advance": 60})
    inv = draft()
    r = severa.patch(
        f"/v1/invoices/{inv['guid']}", [{"op": "replace", "path": "/ourReference", "value": "Liisa"}]
    )
    assert r.status_code == 200
    changed = invoices(severa, changedSince=since)
    assert [i["guid"] for i in changed] == [inv["guid"]]
    stamp = datetime.fromisoformat(changed[0]["lastUpdatedDateTime"].replace("Z", "+00:00"))
    assert stamp >= datetime.fromisoformat(since).astimezone(UTC)
    severa._tokens.clear()


def test_delete_draft_invoice(severa: SeveraTarget, draft: Drafts) -> None:
    severa.require_writes()
    if severa.external and os.environ.get("SEVERA_ALLOW_DELETES") != "1":
        pytest.skip("deletes an invoice for good: set SEVERA_ALLOW_DELETES=1 as well")
    inv = draft()
    assert severa.delete(f"/v1/invoices/{inv['guid']}").status_code == 204
    assert_envelope(severa.get(f"/v1/invoices/{inv['guid']}"), 404)
    assert_envelope(severa.delete(f"/v1/invoices/{inv['guid']}"), 404)


def test_pdf_is_a_real_pdf_and_big_invoice_has_pages(severa: SeveraTarget) -> None:
    every = invoices(severa)
    small = next(i for i in every if i["number"] is not None and i["referenceNumber"])
    r = severa.get(f"/v1/invoices/{small['guid']}/pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(r.content))
    text = "".join(p.extract_text() for p in reader.pages)
    assert str(small["number"]) in text and small["referenceNumber"] in text
    if not severa.external:  # the simulator's layout: one page for a few rows, every row listed
        assert len(reader.pages) == 1
        for row in severa.all_pages(f"/v1/invoices/{small['guid']}/invoicerows"):
            assert row["description"][:20] in text
    big = next((i for i in every if i["yourReference"] == BIG_INVOICE_REFERENCE), None)
    if big is None:
        pytest.skip("no multi-row demo invoice on this target")
    big_pdf = PdfReader(io.BytesIO(severa.get(f"/v1/invoices/{big['guid']}/pdf").content))
    assert len(big_pdf.pages) > 1
    big_rows = severa.all_pages(f"/v1/invoices/{big['guid']}/invoicerows", row_count=100)
    assert len(big_rows) > 40
    last_page = big_pdf.pages[-1].extract_text()
    assert "ALV-erittely" in last_page and "Maksettava" in last_page  # the totals follow the last row
    assert "ALV-erittely" not in big_pdf.pages[0].extract_text()


def test_pdf_needs_files_read(severa: SeveraTarget) -> None:
    inv = invoices(severa)[0]
    h = severa.headers(scope="invoices:read")
    assert_envelope(severa.get(f"/v1/invoices/{inv['guid']}/pdf", headers=h), 403, "InsufficientApiScope")
    assert_envelope(severa.get(f"/v1/invoices/{inv['guid']}/pdf", params={"invoiceType": "Nope"}), 400)
