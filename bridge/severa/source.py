"""``SeveraSource``: the one place that reads Severa for a transfer pass, with per-pass caches.

Severa allows 10 requests per second, so its calls are what a transfer costs. The source makes
the fewest that give a connector everything it needs:

* invoices come from the status listing (``GET /v1/invoices?invoiceStatusGuids=...``, 100 per
  page), which already carries the full ``InvoiceOutputModel`` (billing address, sender, totals):
  a listed invoice is never read again in the same pass;
* the customers of a page of invoices are read with one ``GET /v1/customers?numbers=...``
  (at most 100 numbers), each customer at most once per pass;
* the rows (``/invoicerows``) carry ``code[]`` (the product, work type or travel expense code), so
  no work-hour, fee or travel-expense call is needed;
* statuses, the organisation, business units and bank accounts are read once per pass.

Memory stays flat: invoices are handed out page by page and forgotten after; only the small
per-pass lookups (statuses, customers seen, sellers) are kept until ``new_pass()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from bridge.errors import SeveraError
from bridge.severa.client import SeveraClient
from bridge.severa.model import (
    CatalogueItem,
    CustomerCard,
    RowKind,
    SeveraInvoice,
    StatusInfo,
    parse_catalogue_item,
    parse_customer,
    parse_invoice,
    parse_lines,
    parse_status,
)

__all__ = ["PAGE", "SeveraSource"]

PAGE = 100  # Severa's largest rowCount: a page of invoices, and a batch of customer numbers


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class SeveraSource:
    """Typed, cached reads of one Severa organisation for one pass (``new_pass()`` empties it)."""

    def __init__(self, client: SeveraClient) -> None:
        self.client = client
        self._statuses: list[StatusInfo] | None = None
        self._customers: dict[str, CustomerCard] = {}
        self._missing_customers: set[str] = set()
        self._organization: dict[str, Any] | None = None
        self._units: dict[str, dict[str, Any]] = {}
        self._bank_accounts: list[dict[str, Any]] | None = None

    def new_pass(self) -> None:
        """Forget everything: a new pass sees Severa as it is now."""
        self._statuses = None
        self._customers.clear()
        self._missing_customers.clear()
        self._organization = None
        self._units.clear()
        self._bank_accounts = None

    # ------------------------------------------------------------------ statuses
    def statuses(self) -> list[StatusInfo]:
        """Every invoice status (laskun tila), read once per pass."""
        if self._statuses is None:
            self._statuses = [parse_status(s) for s in self.client.list_invoice_statuses()]
        return self._statuses

    def status(self, wanted: str) -> StatusInfo | None:
        """A status by GUID or by name (case-insensitive)."""
        key = wanted.strip().lower()
        for s in self.statuses():
            if key in (s.guid.lower(), s.name.lower()):
                return s
        return None

    # ------------------------------------------------------------------ invoices
    def invoice_pages(
        self, status_guids: Sequence[str], *, consumed: bool = False
    ) -> Iterator[list[SeveraInvoice]]:
        """The invoices in any of the statuses, a page (≤ 100) at a time (customers not read yet:
        ``load_customers`` the ones that will be sent).

        ``consumed=True``: the caller moves most of what it is given out of these statuses before
        it asks for the next page (a transfer pass). Paging on would then skip invoices (Severa's
        page token is a position in a list that shrinks under it), so the same position is read
        again after each page, and only invoices not seen this walk are handed out; a position
        whose page holds nothing new (invoices that stay: another unit's, a deferred send) is
        left by its ``NextPageToken``. Every call either hands out new invoices or moves on, so the
        walk ends; when nothing stays, it costs one call more than plain paging."""
        statuses = list(status_guids)
        if not statuses:
            return
        if not consumed:
            for page in chunks(self.client.iter_invoices(statuses, row_count=PAGE), PAGE):
                yield [parse_invoice(data) for data in page]
            return
        seen: set[str] = set()
        tokens: list[str] = []
        token: str | None = None
        while True:
            items, next_token = self.client.invoice_page(statuses, token, row_count=PAGE)
            page = [parse_invoice(data) for data in items]
            new = [inv for inv in page if inv.guid.lower() not in seen]
            if new:
                seen.update(inv.guid.lower() for inv in new)
                yield new
                if next_token is None and len(items) < PAGE:
                    return  # the last, short page: what arrives now is the next pass's
                continue
            if next_token is None or next_token in tokens:
                return
            tokens.append(next_token)
            token = next_token

    def invoice(self, guid: str) -> SeveraInvoice:
        """One invoice read by GUID (an invoice not in this pass's listing). Raises SeveraError (404)."""
        invoice = parse_invoice(self.client.get_invoice(guid))
        self.load_customers([invoice])
        return invoice

    def with_lines(self, invoice: SeveraInvoice, *, customer: bool = True) -> SeveraInvoice:
        """The invoice with its rows and (unless ``customer=False``) its billing customer card."""
        lines = invoice.lines
        if lines is None:
            lines = parse_lines(list(self.client.iter_invoice_rows(invoice.guid)), invoice.currency)
        return invoice.with_details(lines, self.customer_of(invoice) if customer else None)

    def pdf(self, invoice: SeveraInvoice) -> bytes:
        return self.client.get_invoice_pdf(invoice.guid)

    def set_status(self, invoice_guid: str, status_guid: str) -> None:
        self.client.set_invoice_status(invoice_guid, status_guid)

    # ------------------------------------------------------------------ customers
    def load_customers(self, invoices: Iterable[SeveraInvoice]) -> None:
        """Read the billing customers of ``invoices`` not yet known this pass, 100 per call."""
        wanted: dict[int, str] = {}
        by_guid: list[str] = []
        for inv in invoices:
            ref = inv.billing_customer
            guid = ref.guid.lower()
            if not guid or guid in self._customers or guid in self._missing_customers:
                continue
            if ref.number is None:
                by_guid.append(ref.guid)
            else:
                wanted[ref.number] = guid
        for batch in chunks(sorted(wanted), PAGE):
            for data in self.client.iter_customers(numbers=batch, row_count=PAGE):
                card = parse_customer(data)
                self._customers[card.guid.lower()] = card
        by_guid += [g for g in wanted.values() if g not in self._customers]  # renumbered: read by GUID
        for guid in dict.fromkeys(by_guid):
            self._customer_by_guid(guid)

    def _customer_by_guid(self, guid: str) -> CustomerCard | None:
        try:
            card = parse_customer(self.client.get_customer(guid))
        except SeveraError as exc:
            if exc.status != 404:
                raise
            self._missing_customers.add(guid.lower())
            return None
        self._customers[guid.lower()] = card
        return card

    def customer_of(self, invoice: SeveraInvoice) -> CustomerCard | None:
        """The invoice's billing customer (asiakas), or None when Severa has no such customer."""
        guid = invoice.billing_customer.guid.lower()
        if not guid:
            return None
        if guid in self._customers:
            return self._customers[guid]
        if guid in self._missing_customers:
            return None
        return self._customer_by_guid(guid)

    def customer(self, guid: str) -> CustomerCard | None:
        key = guid.lower()
        if key in self._customers:
            return self._customers[key]
        return self._customer_by_guid(guid)

    def iter_changed_customers(self, changed_since: str | None) -> Iterator[CustomerCard]:
        """Customers created or changed at or after ``changed_since`` (all when None), lazily."""
        filters: dict[str, Any] = {}
        if changed_since:
            filters["changedSince"] = changed_since
        for data in self.client.iter_customers(row_count=PAGE, **filters):
            card = parse_customer(data)
            self._customers[card.guid.lower()] = card
            yield card

    # ------------------------------------------------------------------ the seller
    def organization(self) -> dict[str, Any]:
        if self._organization is None:
            self._organization = self.client.get_organization_details()
        return self._organization

    def business_unit(self, guid: str) -> dict[str, Any]:
        key = guid.lower()
        if key not in self._units:
            self._units[key] = self.client.get_business_unit(guid)
        return self._units[key]

    def bank_accounts(self) -> list[dict[str, Any]]:
        if self._bank_accounts is None:
            self._bank_accounts = self.client.list_bank_accounts()
        return self._bank_accounts

    # ------------------------------------------------------------------ catalogue (code audit)
    def catalogue(self) -> list[CatalogueItem]:
        """Every product, work type and travel expense type with its code."""
        items = [parse_catalogue_item(RowKind.PRODUCT, p) for p in self.client.iter_products()]
        items += [parse_catalogue_item(RowKind.WORK_TYPE, w) for w in self.client.list_work_types()]
        items += [
            parse_catalogue_item(RowKind.TRAVEL_EXPENSE, t) for t in self.client.list_travel_expense_types()
        ]
        return items
