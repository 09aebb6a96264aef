"""The Severa backend: the service's domain root and one backend per organisation (tenant).

`SeveraBackend` is what the routes reach (`kit.current_backend`): the state a snapshot holds
(`SeveraState`: organisations, API clients, live tokens), the token store, the rate limiter
and the options; `tenant(org)` gives the `OrganizationBackend` of one organisation with the
operations the routes, the presets and the tests use. Every timestamp of a change comes from
the simulator clock.

Business rules ([inferred] from the help articles, severa-api.md §3.4 and §4):
* an invoice in a status with `isReadOnly` ("Ei muokattavissa") refuses every edit except
  a status change (400 InvalidOperation) and cannot be deleted (`patching.py`);
* entering a status with `hasInvoiceNumber` gives an invoice without a number the next
  number of the organisation and its Finnish reference number (viitenumero);
* entering an `isPaid` status sets `paymentDate` (today) when it is empty;
* every change stamps `lastUpdatedDateTime`, which `changedSince` filters on (>=);
* an inactive status cannot be chosen; a status used by invoices cannot be deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from simulators.kit.ids import IdFactory

from .auth import AuthStore
from .errors import SeveraError, bad_param
from .models import (
    Address,
    Customer,
    Invoice,
    InvoiceStatus,
    Project,
    SeveraState,
)
from .ratelimit import SlidingWindowLimiter
from .references import finnish_reference
from .rows import OrganizationRows


@dataclass
class SeveraOptions:
    """How the fake behaves where a test may want it otherwise (see `SeveraSimulator`)."""

    rate_limit: bool = False
    rate_limit_per_second: int = 10
    page_size_cap: int = 100
    strict_client_id: bool = False


class SeveraBackend:
    """All organisations, clients and tokens, and what the routes need beside them."""

    def __init__(
        self,
        state: SeveraState,
        refs: dict[str, Any],
        *,
        ids: IdFactory,
        now: Callable[[], datetime],
        options: SeveraOptions,
        limiter: SlidingWindowLimiter,
    ) -> None:
        self.state, self.refs, self.ids, self.now = state, refs, ids, now
        self.options, self.limiter = options, limiter
        self.auth = AuthStore(state.clients, state.tokens, ids)

    def tenant(self, org: str) -> OrganizationBackend:
        """The backend of an organisation, by GUID, name, or the preset labels "main"/"second"."""
        guid = self.refs.get(org, org)
        found = self.state.organizations.get(guid)
        if found is None:
            found = next(
                (o for o in self.state.organizations.values() if o.details.name.lower() == org.lower()), None
            )
        if found is None:
            known = ", ".join(o.details.name for o in self.state.organizations.values())
            raise KeyError(f"no organisation {org!r}; known: {known}")
        return OrganizationBackend(found, self.now, ids=self.ids)

    def client_of_token(self, authorization: str | None) -> str | None:
        """The client id of a bearer token this fake issued, else None (no side effects)."""
        scheme, _, value = (authorization or "").partition(" ")
        tok = self.state.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        return tok.client_id if tok else None

    def rate_limit_wait(self, client_key: str) -> int | None:
        """None when the client may call now, else the seconds to wait (10 calls/s per client)."""
        return self.limiter.hit(client_key) if self.options.rate_limit else None


class OrganizationBackend(OrganizationRows):
    """One organisation's data and rules (one tenant); lives for one request or one Python call."""

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

    def addresses_of(self, cust: Customer) -> list[Address]:
        return [a for a in self.org.addresses.values() if a.customer_guid == cust.guid]

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
