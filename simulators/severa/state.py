"""The Severa backend: all tenants, their data, and the business rules on it.

`SeveraState` is what a snapshot holds (organisations, API clients, live tokens).
`Backend` wraps one `Organization` (one tenant) with the operations the routes, the
presets and the tests use. Every timestamp of a change comes from the simulator clock.

Business rules ([inferred] from the help articles, severa-api.md §3.4 and §4):
* an invoice in a status with `isReadOnly` ("Ei muokattavissa") refuses every edit except
  a status change (400 InvalidOperation) and cannot be deleted;
* entering a status with `hasInvoiceNumber` gives an invoice without a number the next
  number of the organisation and its Finnish reference number (viitenumero);
* entering an `isPaid` status sets `paymentDate` (today) when it is empty;
* every change stamps `lastUpdatedDateTime`, which `changedSince` filters on (>=);
* an inactive status cannot be chosen; a status used by invoices cannot be deleted.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from simulators.kit.ids import IdFactory

from .errors import SeveraError, bad_param
from .models import (
    Address,
    ApiClient,
    Audit,
    Customer,
    Invoice,
    InvoiceRow,
    InvoiceStatus,
    Organization,
    Project,
    ProjectFee,
    Token,
    TravelExpense,
    WorkHour,
    as_decimal,
    money_cents,
)
from .references import finnish_reference

ROW_CATEGORY = {
    "Hours": "Hours",
    "ProjectFees": "ProjectFees",
    "TravelExpenses": "Travels",
    "FlatRate": "ProjectFees",
}


@dataclass
class SeveraState:
    organizations: dict[str, Organization] = field(default_factory=dict)
    clients: dict[str, ApiClient] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)


def last_changed(audit: Audit) -> datetime:
    return audit.updated or audit.created


class Backend:
    """One organisation's data and rules."""

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
            raise SeveraError(
                404,
                f"{what} with guid '{guid}' was not found.",
                type="InvalidParameter",
                location="PathParameter",
                name=name,
                identifier=guid,
            )
        return item

    # ------------------------------------------------------------------ customers
    def find_customer(self, ref: str | int) -> Customer:
        """A customer by GUID, number or (case-insensitive) name."""
        for c in self.org.customers.values():
            if c.guid == ref or str(c.number) == str(ref) or c.name.lower() == str(ref).lower():
                return c
        raise KeyError(f"no customer {ref!r} in {self.name}")

    def add_customer(
        self,
        name: str,
        *,
        vat_number: str | None = None,
        email: str | None = None,
        e_invoice_address: str | None = None,
        e_invoice_operator: str | None = None,
        address: dict[str, str] | None = None,
        when: datetime | None = None,
        **fields: Any,
    ) -> Customer:
        """Create a customer (asiakas) with a billing address and a project to invoice.

        `address`: {"addressline", "postal_code", "city", "country"}; None = no address at all
        (a customer card a transfer should refuse).
        """
        cust = Customer(
            guid=self.new_guid(),
            name=name,
            number=self.org.next_customer_number,
            vat_number=vat_number,
            audit=self.audit(when),
            email=email,
            e_invoice_address=e_invoice_address,
            e_invoice_operator=e_invoice_operator,
            owner_guid=self.org.api_user_guid,
        )
        for key, value in fields.items():
            if not hasattr(cust, key):
                raise TypeError(f"unknown customer field {key!r}")
            setattr(cust, key, value)
        self.org.next_customer_number += 1
        if address is not None:
            addr = Address(
                guid=self.new_guid(),
                customer_guid=cust.guid,
                addressline=address.get("addressline", ""),
                postal_code=address.get("postal_code", ""),
                city=address.get("city", ""),
                country=address.get("country", "Finland"),
                audit=self.audit(when),
            )
            self.org.addresses[addr.guid] = addr
            cust.headquarter_address_guid = addr.guid
        self.org.customers[cust.guid] = cust
        proj = Project(
            guid=self.new_guid(),
            name=f"{name} – projekti",
            number=self.org.next_project_number,
            customer_guid=cust.guid,
            business_unit_guid=next(iter(self.org.business_units)),
            owner_guid=self.org.api_user_guid or "",
        )
        self.org.next_project_number += 1
        self.org.projects[proj.guid] = proj
        return cust

    def update_customer(self, guid: str, **fields: Any) -> Customer:
        """Change customer fields (snake_case names), stamping lastUpdatedDateTime."""
        cust: Customer = self.get("customers", guid, "Customer")
        for key, value in fields.items():
            if not hasattr(cust, key) or key in ("guid", "audit"):
                raise TypeError(f"unknown customer field {key!r}")
            setattr(cust, key, value)
        self.touch(cust.audit)
        return cust

    # ------------------------------------------------------------------ statuses
    def status_by_name(self, name: str) -> InvoiceStatus:
        for st in self.org.invoice_statuses.values():
            if st.name.lower() == name.lower():
                return st
        raise KeyError(f"no invoice status named {name!r} in {self.name}")

    def default_status(self) -> InvoiceStatus:
        for st in self.org.invoice_statuses.values():
            if st.is_default and st.is_active:
                return st
        return next(iter(self.org.invoice_statuses.values()))

    def add_status(self, name: str, *, when: datetime | None = None, **flags: Any) -> InvoiceStatus:
        """Create an invoice status (flags as snake_case keywords, e.g. is_sent=True)."""
        if not name.strip():
            raise bad_param("name", "The name field is required.", "RequestBody")
        sort = max((s.sort_order for s in self.org.invoice_statuses.values()), default=0) + 1
        st = InvoiceStatus(guid=self.new_guid(), name=name, audit=self.audit(when), sort_order=sort)
        for key, value in flags.items():
            if not hasattr(st, key):
                raise TypeError(f"unknown invoice status flag {key!r}")
            setattr(st, key, value)
        if st.is_default:
            for other in self.org.invoice_statuses.values():
                other.is_default = False
        self.org.invoice_statuses[st.guid] = st
        return st

    def update_status_flags(self, st: InvoiceStatus, changes: dict[str, Any]) -> InvoiceStatus:
        for key, value in changes.items():
            setattr(st, key, value)
        if changes.get("is_default"):
            for other in self.org.invoice_statuses.values():
                if other is not st:
                    other.is_default = False
        self.touch(st.audit)
        return st

    def delete_status(self, guid: str) -> None:
        st = self.get("invoice_statuses", guid, "Invoice status")
        if any(inv.status_guid == st.guid for inv in self.org.invoices.values()):
            raise SeveraError(
                400,
                f"Invoice status '{st.name}' is used by invoices and cannot be deleted; "
                "deactivate it instead.",
                type="InvalidOperation",
            )
        del self.org.invoice_statuses[guid]

    # ------------------------------------------------------------------ invoices
    def create_invoice(
        self,
        customer_guid: str,
        *,
        status: str | None = None,
        invoice_date: date | None = None,
        business_unit_guid: str | None = None,
        project_guid: str | None = None,
        payment_term: int | None = None,
        when: datetime | None = None,
        rows: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> Invoice:
        """Create an invoice (in the default status unless `status`, a name or guid, is given).

        `rows`: dicts for `add_row` (kind=..., ref=code or guid, quantity=..., ...).
        """
        cust: Customer = self.get("customers", customer_guid, "Customer")
        when = when or self.now()
        d = invoice_date or when.date()
        term = cust.payment_term if payment_term is None else payment_term
        bu = business_unit_guid or next(iter(self.org.business_units))
        if project_guid is None:
            project_guid = next(
                (p.guid for p in self.org.projects.values() if p.customer_guid == cust.guid), None
            )
        inv = Invoice(
            guid=self.new_guid(),
            status_guid=self.default_status().guid,
            customer_guid=cust.guid,
            billing_customer_guid=cust.guid,
            project_guid=project_guid,
            business_unit_guid=bu,
            date=d,
            due_date=d + timedelta(days=term),
            payment_term=term,
            overdue_interest=cust.overdue_interest,
            audit=self.audit(when),
            sender_contact_guid=self.org.api_user_guid,
        )
        for key, value in fields.items():
            if not hasattr(inv, key):
                raise TypeError(f"unknown invoice field {key!r}")
            setattr(inv, key, value)
        self.org.invoices[inv.guid] = inv
        for spec in rows or []:
            self.add_row(inv.guid, when=when, **spec)
        if status is not None:
            self.set_status(inv.guid, status, when=when, force=True)
        return inv

    def resolve_status(self, name_or_guid: str) -> InvoiceStatus:
        st = self.org.invoice_statuses.get(name_or_guid)
        return st if st is not None else self.status_by_name(name_or_guid)

    def set_status(
        self, invoice_guid: str, status: str, *, when: datetime | None = None, force: bool = False
    ) -> Invoice:
        """Move an invoice to a status (name or guid), applying the numbering rules."""
        inv: Invoice = self.get("invoices", invoice_guid, "Invoice")
        try:
            st = self.resolve_status(status)
        except KeyError as exc:
            raise bad_param("status", f"Invoice status '{status}' was not found.", "RequestBody") from exc
        if not st.is_active and not force:
            raise bad_param("status", f"Invoice status '{st.name}' is not active.", "RequestBody")
        inv.status_guid = st.guid
        if st.has_invoice_number and inv.number is None:
            self.assign_number(inv)
        if st.is_paid and inv.payment_date is None:
            inv.payment_date = (when or self.now()).date()
        inv.audit.updated = when or self.now()
        inv.audit.updated_by = self.org.api_user_guid
        return inv

    def assign_number(self, inv: Invoice) -> None:
        used = {i.number for i in self.org.invoices.values() if i.number is not None}
        n = self.org.next_invoice_number
        while n in used:
            n += 1
        inv.number = n
        inv.reference_number = finnish_reference(n)
        self.org.next_invoice_number = n + 1

    def status_of(self, inv: Invoice) -> InvoiceStatus:
        return self.org.invoice_statuses[inv.status_guid]

    def delete_invoice(self, guid: str) -> None:
        inv: Invoice = self.get("invoices", guid, "Invoice")
        if self.status_of(inv).is_read_only:
            raise SeveraError(
                400, "The invoice is in a read-only status and cannot be deleted.", type="InvalidOperation"
            )
        for row_guid in inv.row_guids:
            self.org.invoice_rows.pop(row_guid, None)
        for coll in (self.org.work_hours, self.org.project_fees, self.org.travel_expenses):
            for key in [k for k, v in coll.items() if v.invoice_guid == guid]:
                del coll[key]
        self._source_index.clear()
        del self.org.invoices[guid]

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
        project = inv.project_guid or ""
        row_guid = self.new_guid()
        q_each = round(quantity / sources, 4)
        if kind == "hours":
            wt = self._find_by_code("work_types", ref)
            price = wt.hour_cost if unit_price is None else unit_price
            vat = 25.5 if vat_rate is None else vat_rate
            row = InvoiceRow(
                row_guid,
                inv.guid,
                "Hours",
                description or wt.name,
                quantity,
                "h",
                price,
                vat,
                len(inv.row_guids) + 1,
                self.audit(when),
            )
            for _ in range(sources):
                wh = WorkHour(
                    self.new_guid(),
                    inv.guid,
                    row_guid,
                    project,
                    wt.guid,
                    user,
                    day,
                    q_each,
                    price,
                    row.description,
                    self.audit(when),
                )
                self.org.work_hours[wh.guid] = wh
        elif kind == "fee":
            pr = self._find_by_code("products", ref)
            price = pr.unit_price if unit_price is None else unit_price
            vat = pr.vat_rate if vat_rate is None else vat_rate
            row = InvoiceRow(
                row_guid,
                inv.guid,
                "ProjectFees",
                description or pr.name,
                quantity,
                pr.measurement_unit,
                price,
                vat,
                len(inv.row_guids) + 1,
                self.audit(when),
            )
            for _ in range(sources):
                pf = ProjectFee(
                    self.new_guid(),
                    inv.guid,
                    row_guid,
                    project,
                    pr.guid,
                    user,
                    day,
                    q_each,
                    price,
                    vat,
                    pr.measurement_unit,
                    row.description,
                    self.audit(when),
                )
                self.org.project_fees[pf.guid] = pf
        elif kind == "travel":
            te = self._find_by_code("travel_expense_types", ref)
            price = te.unit_cost if unit_price is None else unit_price
            vat = te.vat_rate if vat_rate is None else vat_rate
            row = InvoiceRow(
                row_guid,
                inv.guid,
                "TravelExpenses",
                description or te.name,
                quantity,
                te.measurement_unit,
                price,
                vat,
                len(inv.row_guids) + 1,
                self.audit(when),
            )
            for _ in range(sources):
                tx = TravelExpense(
                    self.new_guid(),
                    inv.guid,
                    row_guid,
                    project,
                    te.guid,
                    user,
                    day,
                    q_each,
                    price,
                    vat,
                    te.measurement_unit,
                    row.description,
                    self.audit(when),
                )
                self.org.travel_expenses[tx.guid] = tx
        else:
            raise ValueError(f"row kind must be hours, fee or travel, not {kind!r}")
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
        codes: list[str | None] = []
        o = self.org
        if row.row_type == "Hours":
            codes = [
                o.work_types[w.work_type_guid].code
                for w in self.sources_of("work_hours", row_guid=row.guid)
                if w.work_type_guid in o.work_types
            ]
        elif row.row_type == "ProjectFees":
            codes = [
                o.products[p.product_guid].code
                for p in self.sources_of("project_fees", row_guid=row.guid)
                if p.product_guid in o.products
            ]
        elif row.row_type == "TravelExpenses":
            codes = [
                o.travel_expense_types[t.travel_expense_type_guid].code
                for t in self.sources_of("travel_expenses", row_guid=row.guid)
                if t.travel_expense_type_guid in o.travel_expense_types
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

    # ------------------------------------------------------------------ invoice PATCH
    def patch_invoice(self, guid: str, ops: list[dict[str, Any]]) -> Invoice:
        """Apply a JSON Patch (already shape-checked) atomically."""
        inv: Invoice = self.get("invoices", guid, "Invoice")
        snapshot = _copy_invoice(inv)
        next_number = self.org.next_invoice_number
        updated = (inv.audit.updated, inv.audit.updated_by)
        try:
            for op in ops:
                self._apply_invoice_op(inv, op)
        except SeveraError:
            _restore_invoice(inv, snapshot)
            self.org.next_invoice_number = next_number
            inv.audit.updated, inv.audit.updated_by = updated
            raise
        self.touch(inv.audit)
        return inv

    def _apply_invoice_op(self, inv: Invoice, op: dict[str, Any]) -> None:
        path = op["path"]
        value = op.get("value")
        kind = op["op"]
        segs = [s for s in path.strip("/").split("/")]
        top = segs[0].lower() if segs else ""
        if top == "status":
            if kind not in ("add", "replace"):
                raise SeveraError(
                    400,
                    f"Operation '{op['op']}' is not supported on {path}.",
                    type="InvalidOperation",
                    location="RequestBody",
                    name=path,
                )
            if len(segs) == 2 and segs[1].lower() == "guid":
                target = value
            elif len(segs) == 1:
                target = value.get("guid") if isinstance(value, dict) else None
                if target is None:
                    target = (
                        next((v for k, v in value.items() if k.lower() == "guid"), None)
                        if isinstance(value, dict)
                        else None
                    )
            else:
                raise bad_param(path, f"The path '{path}' is not valid for an invoice.", "RequestBody")
            if not isinstance(target, str) or not target:
                raise bad_param(
                    path, "The invoice status must be given by its guid (a string).", "RequestBody"
                )
            if target not in self.org.invoice_statuses:
                raise bad_param(path, f"Invoice status '{target}' was not found.", "RequestBody")
            self.set_status(inv.guid, target)
            return
        if self.status_of(inv).is_read_only:
            raise SeveraError(
                400,
                f"The invoice is in status '{self.status_of(inv).name}', which is not editable.",
                type="InvalidOperation",
                location="RequestBody",
                name=path,
            )
        spec = _EDITABLE.get(top)
        if spec is None or len(segs) != 1:
            raise bad_param(path, f"The path '{path}' is not valid for an invoice.", "RequestBody")
        attr, conv = spec
        if kind == "remove":
            if attr in ("date", "due_date", "payment_term"):
                raise bad_param(path, f"{path} cannot be removed.", "RequestBody")
            setattr(inv, attr, None)
            return
        if kind not in ("add", "replace"):
            raise SeveraError(
                400,
                f"Operation '{op['op']}' is not supported on {path}.",
                type="InvalidOperation",
                location="RequestBody",
                name=path,
            )
        try:
            new = conv(value)
        except (TypeError, ValueError) as exc:
            raise bad_param(path, f"Invalid value for {path}: {exc}", "RequestBody") from exc
        if new is None and attr in ("date", "due_date", "payment_term"):
            raise bad_param(path, f"{path} cannot be empty.", "RequestBody")
        setattr(inv, attr, new)
        if attr == "payment_term":
            inv.due_date = inv.date + timedelta(days=new)
        if attr == "date":
            inv.due_date = new + timedelta(days=inv.payment_term)


def _check_number(name: str, value: Any, limit: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(f"{name}: expected a finite number of at most {limit:g}, got {value!r}")


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise TypeError(f"expected a string, got {type(v).__name__}")
    return v


def _date(v: Any) -> date | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise TypeError(f"expected a date string YYYY-MM-DD, got {type(v).__name__}")
    return date.fromisoformat(v[:10])


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(v, int):
        out = v
    elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
        out = int(v)
    else:
        raise TypeError(f"expected an integer, got {v!r}")
    if not 0 <= out <= 3650:
        raise ValueError("must be between 0 and 3650")
    return out


_EDITABLE: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "ourreference": ("our_reference", _text),
    "yourreference": ("your_reference", _text),
    "ordernumber": ("order_number", _text),
    "notes": ("notes", _text),
    "date": ("date", _date),
    "duedate": ("due_date", _date),
    "paymentdate": ("payment_date", _date),
    "entrydate": ("entry_date", _date),
    "paymentterm": ("payment_term", _int),
}


def _copy_invoice(inv: Invoice) -> dict[str, Any]:
    return {k: getattr(inv, k) for k in inv.__dataclass_fields__ if k not in ("audit", "row_guids")}


def _restore_invoice(inv: Invoice, snap: dict[str, Any]) -> None:
    for k, v in snap.items():
        setattr(inv, k, v)
