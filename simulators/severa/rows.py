"""One organisation's invoice rows and the source items behind them (laskurivit: työtunnit,
kulut, matkakulut), and the helpers every organisation backend uses.

`OrganizationRows` is the base of `backend.OrganizationBackend`: minting GUIDs (from the
presets' seeded rng or the simulator's `IdFactory`), audit stamps, lookups that 404 in Severa's
envelope, adding rows (each backed by its source items), the `code[]` of a row, and the money:
every row's net and VAT rounded to cents, the invoice's totals the sums of its rows
(`models.money_cents`).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from simulators.kit.ids import IdFactory

from .errors import not_found
from .models import (
    Audit,
    Invoice,
    InvoiceRow,
    Organization,
    ProjectFee,
    TravelExpense,
    WorkHour,
    as_decimal,
    money_cents,
)

ROW_CATEGORY = {
    "Hours": "Hours",
    "ProjectFees": "ProjectFees",
    "TravelExpenses": "Travels",
    "FlatRate": "ProjectFees",
}


@dataclass(frozen=True)
class RowKind:
    """A kind of invoice row and the source items behind it (työtunnit, kulut, matkakulut)."""

    row_type: str
    catalogue: str  # the organisation's collection of what the row refers to
    ref: str  # the source item's field naming that catalogue entry
    sources: str  # the organisation's collection of the source items
    price: str  # the catalogue entry's field with the default unit price
    vat: float | None = None  # a fixed VAT rate, or None: the catalogue entry's
    unit: str | None = None  # a fixed measurement unit, or None: the catalogue entry's


ROW_KINDS = {
    "hours": RowKind("Hours", "work_types", "work_type_guid", "work_hours", "hour_cost", 25.5, "h"),
    "fee": RowKind("ProjectFees", "products", "product_guid", "project_fees", "unit_price"),
    "travel": RowKind(
        "TravelExpenses",
        "travel_expense_types",
        "travel_expense_type_guid",
        "travel_expenses",
        "unit_cost",
    ),
}


def last_changed(audit: Audit) -> datetime:
    return audit.updated or audit.created


class OrganizationRows:
    """An organisation's helpers and invoice rows (the base of `OrganizationBackend`)."""

    def __init__(
        self,
        org: Organization,
        now: Callable[[], datetime],
        rng: random.Random | None = None,
        *,
        ids: IdFactory | None = None,
    ) -> None:
        """`rng` (the presets, while building the demo) or the simulator's `ids` mint new GUIDs;
        one of them must be given, so the same seed always gives the same GUIDs."""
        if rng is None and ids is None:
            raise TypeError("Backend needs a seeded rng or the simulator's IdFactory")
        self.org = org
        self.now = now
        self.rng = rng
        self.ids = ids

    # ------------------------------------------------------------------ helpers
    @property
    def guid(self) -> str:
        return self.org.details.guid

    @property
    def name(self) -> str:
        return self.org.details.name

    def new_guid(self) -> str:
        if self.rng is not None:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        assert self.ids is not None
        return self.ids.guid("severa")

    def audit(self, when: datetime | None = None) -> Audit:
        return Audit(created=when or self.now(), created_by=self.org.api_user_guid)

    def touch(self, audit: Audit) -> None:
        audit.updated = self.now()
        audit.updated_by = self.org.api_user_guid

    def get(self, collection: str, guid: str, what: str, name: str = "guid") -> Any:
        item = getattr(self.org, collection).get(guid)
        if item is None:
            raise not_found(what, guid, name)
        return item

    # ------------------------------------------------------------------ rows and their sources
    def _find_by_code(self, collection: str, ref: str) -> Any:
        items = getattr(self.org, collection)
        if ref in items:
            return items[ref]
        for item in items.values():
            if item.code == ref:
                return item
        raise KeyError(f"no {collection} with code or guid {ref!r}")

    def add_row(
        self,
        invoice_guid: str,
        kind: str,
        ref: str,
        quantity: float,
        *,
        unit_price: float | None = None,
        vat_rate: float | None = None,
        description: str | None = None,
        user_guid: str | None = None,
        event_date: date | None = None,
        when: datetime | None = None,
        sources: int = 1,
    ) -> InvoiceRow:
        """Add a row backed by `sources` source items of one kind.

        kind: "hours" (ref = work type code/guid), "fee" (product), "travel" (travel expense type).
        The quantity is split evenly over the source items. Numbers must be finite and of a
        size money can be computed with (a ValueError names the one that is not).
        """
        _check_number("quantity", quantity, 1e9)
        for name, value, limit in (("unit_price", unit_price, 1e12), ("vat_rate", vat_rate, 100)):
            if value is not None:
                _check_number(name, value, limit)
        if vat_rate is not None and vat_rate < 0:
            raise ValueError(f"vat_rate: expected a percentage from 0 to 100, got {vat_rate!r}")
        if isinstance(sources, bool) or not isinstance(sources, int) or not 1 <= sources <= 100:
            raise ValueError(f"sources: expected an integer from 1 to 100, got {sources!r}")
        inv: Invoice = self.get("invoices", invoice_guid, "Invoice")
        when = when or self.now()
        user = user_guid or self.org.api_user_guid or next(iter(self.org.users))
        day = event_date or inv.date
        row_guid = self.new_guid()
        spec = ROW_KINDS.get(kind)
        if spec is None:
            raise ValueError(f"row kind must be hours, fee or travel, not {kind!r}")
        item = self._find_by_code(spec.catalogue, ref)
        price = getattr(item, spec.price) if unit_price is None else unit_price
        vat = (item.vat_rate if spec.vat is None else spec.vat) if vat_rate is None else vat_rate
        unit = item.measurement_unit if spec.unit is None else spec.unit
        row = InvoiceRow(
            row_guid,
            inv.guid,
            spec.row_type,
            description or item.name,
            quantity,
            unit,
            price,
            vat,
            len(inv.row_guids) + 1,
            self.audit(when),
        )
        q_each = round(quantity / sources, 4)
        common = (inv.guid, row_guid, inv.project_guid or "", item.guid, user, day, q_each, price)
        kept: dict[str, Any] = getattr(self.org, spec.sources)
        for _ in range(sources):
            guid = self.new_guid()
            if kind == "hours":
                kept[guid] = WorkHour(guid, *common, row.description, self.audit(when))
            else:
                cls = ProjectFee if kind == "fee" else TravelExpense
                kept[guid] = cls(guid, *common, vat, unit, row.description, self.audit(when))
        self.org.invoice_rows[row.guid] = row
        inv.row_guids.append(row.guid)
        inv.audit.updated = when
        return row

    @property
    def _source_index(self) -> dict[tuple[str, str], tuple[dict[str, Any], int, dict[str, list[Any]]]]:
        """(collection, row or invoice) -> source items, kept on the organisation (a Backend lives for
        one request) outside its dataclass fields, so it is never exported. Rebuilt when a collection
        was replaced or its size changed, dropped when an invoice is deleted (source items never
        change the row or invoice they belong to)."""
        index = self.org.__dict__.get("_sources_by_owner")
        if index is None:
            index = self.org.__dict__["_sources_by_owner"] = {}
        return index

    def sources_of(
        self, collection: str, *, row_guid: str | None = None, invoice_guid: str | None = None
    ) -> list[Any]:
        """The work hours / project fees / travel expenses (``collection``) behind one invoice row or
        one invoice, in insertion order, without scanning the whole collection on every call."""
        key_attr, key = (
            ("invoice_row_guid", row_guid) if row_guid is not None else ("invoice_guid", invoice_guid)
        )
        items: dict[str, Any] = getattr(self.org, collection)
        cached = self._source_index.get((collection, key_attr))
        if cached is None or cached[0] is not items or cached[1] != len(items):
            index: dict[str, list[Any]] = {}
            for item in items.values():
                index.setdefault(getattr(item, key_attr), []).append(item)
            cached = (items, len(items), index)
            self._source_index[(collection, key_attr)] = cached
        return list(cached[2].get(str(key), []))

    def rows_of(self, inv: Invoice) -> list[InvoiceRow]:
        return [self.org.invoice_rows[g] for g in inv.row_guids if g in self.org.invoice_rows]

    def row_codes(self, row: InvoiceRow) -> list[str]:
        """The `code[]` of a row: codes of the work types / products / travel types behind it."""
        spec = next((k for k in ROW_KINDS.values() if k.row_type == row.row_type), None)
        if spec is None:
            return []
        catalogue: dict[str, Any] = getattr(self.org, spec.catalogue)
        codes = [
            catalogue[ref].code
            for s in self.sources_of(spec.sources, row_guid=row.guid)
            if (ref := getattr(s, spec.ref)) in catalogue
        ]
        return list(dict.fromkeys(c for c in codes if c))

    def totals(self, inv: Invoice) -> dict[str, float]:
        """The invoice's totals: sums of its rows' rounded nets and VATs (see `models.money_cents`)."""
        rows = self.rows_of(inv)
        excl = sum((r.net for r in rows), Decimal(0))
        tax = sum((r.vat for r in rows), Decimal(0))
        by = {
            k: float(sum((r.net for r in rows if r.row_type == k), Decimal(0)))
            for k in ("Hours", "ProjectFees", "TravelExpenses", "FlatRate")
        }
        hours = sum((as_decimal(r.quantity) for r in rows if r.row_type == "Hours"), Decimal(0))
        return {
            "excl": float(excl),
            "tax": float(tax),
            "incl": float(excl + tax),
            "hours_qty": float(money_cents(hours)),
            **by,
        }

    def vat_breakdown(self, inv: Invoice) -> dict[float, tuple[float, float]]:
        """ALV-erittely: per VAT rate, (sum of the rows' nets, sum of the rows' VATs)."""
        sums: dict[float, tuple[Decimal, Decimal]] = {}
        for r in self.rows_of(inv):
            base, tax = sums.get(r.vat_rate, (Decimal(0), Decimal(0)))
            sums[r.vat_rate] = (base + r.net, tax + r.vat)
        return {rate: (float(base), float(tax)) for rate, (base, tax) in sums.items()}

    def invoice_changed(self, inv: Invoice) -> datetime:
        return last_changed(inv.audit)


def _check_number(name: str, value: Any, limit: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(f"{name}: expected a finite number of at most {limit:g}, got {value!r}")
