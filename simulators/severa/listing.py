"""Severa's list operations as data: which query parameters filter what, and how each list pages.

One `Listing` per list operation names its path in the vendor document, its paging style
(token: `pageToken` + `NextPageToken`; offset: `firstRow`) and its filters. A `Filter` reads
its parameter(s) by kind (`query.py`; the kinds are the vendor document's types, pinned by
`contract_tests/severa/test_listing_parity.py`) and keeps an item when its rule says so; an
absent parameter filters nothing. A filter without a rule is read (so a bad value is still a
400) and otherwise ignored, as Severa ignores `calculateRowCount` here.

Filters are read in the order they are declared, so the first bad parameter is the one named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .backend import OrganizationBackend
from .models import Invoice, Project
from .rows import last_changed

Rule = Callable[[OrganizationBackend, Any, Any], bool]


@dataclass(frozen=True)
class Filter:
    params: tuple[str, ...]  # more than one: their values are united (one filter, several names)
    kind: str
    rule: Rule | None = None
    allowed: tuple[str, ...] = ()  # the values of an enum


@dataclass(frozen=True)
class Listing:
    path: str  # in the vendor document
    filters: tuple[Filter, ...]
    paging: str = "token"  # token | offset
    default_rows: int | None = 20  # None: the page size cap
    items: Callable[[OrganizationBackend], Iterable[Any]] | None = None  # None: the route gives them


def f(param: str, kind: str, rule: Rule | None = None, *allowed: str) -> Filter:
    return Filter((param,), kind, rule, allowed)


def _project(b: OrganizationBackend, inv: Invoice) -> Project | None:
    return b.org.projects.get(inv.project_guid or "")


def _text_match(text: str, *fields: str | None) -> bool:
    return any(x and text.lower() in x.lower() for x in fields)


CHANGED = f("changedSince", "datetime", lambda b, item, since: last_changed(item.audit) >= since)
ACTIVE = f("active", "bool", lambda b, item, v: item.is_active == v)
IS_ACTIVE = f("isActive", "bool", lambda b, item, v: item.is_active == v)
CODE = f("code", "text", lambda b, item, v: item.code == v)
NAME_OR_CODE = f("textToSearch", "text", lambda b, item, v: _text_match(v, item.name, item.code))
ROW_COUNT = f("calculateRowCount", "bool")
PRODUCT_TYPES = ("FixedFees", "Materials", "Subcontracting")

INVOICES = Listing(
    "/v1/invoices",
    (
        f("invoiceStatusGuids", "guids", lambda b, inv, v: inv.status_guid in v),
        f(
            "customerGuids",
            "guids",
            lambda b, inv, v: bool({inv.customer_guid, inv.billing_customer_guid} & v),
        ),
        f("projectGuids", "guids", lambda b, inv, v: inv.project_guid in v),
        f(
            "projectBusinessUnitGuids",
            "guids",
            lambda b, inv, v: (p := _project(b, inv)) is not None and p.business_unit_guid in v,
        ),
        Filter(
            ("projectOwnerGuids", "salesPersonGuids"),
            "guids",
            lambda b, inv, v: (p := _project(b, inv)) is not None and p.owner_guid in v,
        ),
        f("createdByUserGuids", "guids", lambda b, inv, v: inv.audit.created_by in v),
        f("numbers", "ints", lambda b, inv, v: inv.number in v),
        f("referenceNumbers", "texts", lambda b, inv, v: inv.reference_number in v),
        f("startDate", "datetime", lambda b, inv, v: inv.date >= v.date()),
        f("endDate", "datetime", lambda b, inv, v: inv.date <= v.date()),
        CHANGED,
        f(
            "paymentDateStart",
            "datetime",
            lambda b, inv, v: inv.payment_date is not None and inv.payment_date >= v.date(),
        ),
        f("minimumTotalExcludingTax", "number", lambda b, inv, v: b.totals(inv)["excl"] >= v),
        f("maximumTotalExcludingTax", "number", lambda b, inv, v: b.totals(inv)["excl"] <= v),
    ),
    items=lambda b: b.org.invoices.values(),
)
INVOICE_ROWS = Listing(
    "/v1/invoices/{invoiceGuid}/invoicerows",
    (
        f(
            "rowType",
            "enum",
            lambda b, r, v: r.row_type == v,
            "FlatRate",
            "Hours",
            "ProjectFees",
            "TravelExpenses",
        ),
    ),
)
INVOICE_STATUSES = Listing(
    "/v1/invoicestatuses",
    (ACTIVE, f("textToSearch", "text", lambda b, s, v: _text_match(v, s.name)), ROW_COUNT),
    paging="offset",
    items=lambda b: sorted(b.org.invoice_statuses.values(), key=lambda s: s.sort_order),
)
PRODUCTS = Listing(
    "/v1/products",
    (f("type", "enum", lambda b, p, v: p.type == v, *PRODUCT_TYPES), IS_ACTIVE, CODE, CHANGED),
    items=lambda b: b.org.products.values(),
)
WORK_TYPES = Listing(
    "/v1/worktypes",
    (
        ACTIVE,
        f("productive", "bool", lambda b, w, v: w.is_productive == v),
        CODE,
        NAME_OR_CODE,
        ROW_COUNT,
        CHANGED,
    ),
    paging="offset",
    items=lambda b: b.org.work_types.values(),
)
TRAVEL_EXPENSE_TYPES = Listing(
    "/v1/travelexpensetypes",
    (ACTIVE, CODE, NAME_OR_CODE, ROW_COUNT, CHANGED),
    paging="offset",
    default_rows=None,
    items=lambda b: b.org.travel_expense_types.values(),
)
BUSINESS_UNITS = Listing(
    "/v1/businessunits",
    (
        ACTIVE,
        f("companyGuid", "guids", lambda b, u, v: u.company_guid in v),
        NAME_OR_CODE,
        CODE,
        f("name", "text", lambda b, u, v: u.name == v),
        CHANGED,
    ),
    paging="offset",
    items=lambda b: b.org.business_units.values(),
)
BANK_ACCOUNTS = Listing(
    "/v1/bankaccounts",
    (ACTIVE, f("companyGuid", "guids", lambda b, a, v: a.company_guid in v)),
    paging="offset",
    items=lambda b: b.org.bank_accounts.values(),
)
CUSTOMERS = Listing(
    "/v1/customers",
    (
        IS_ACTIVE,
        f("isInternal", "bool", lambda b, c, v: c.is_internal == v),
        f("numbers", "ints", lambda b, c, v: c.number in v),
        f("emailAddresses", "texts", lambda b, c, v: (c.email or "").lower() in {e.lower() for e in v}),
        f("customerNames", "names", lambda b, c, v: c.name.lower() in {n.lower() for n in v}),
        f("vatNumber", "text", lambda b, c, v: c.vat_number == v),
        CHANGED,
    ),
    items=lambda b: b.org.customers.values(),
)
CUSTOMER_ADDRESSES = Listing("/v1/customers/{customerGuid}/addresses", (ROW_COUNT,), paging="offset")
USERS = Listing(
    "/v1/users",
    (
        IS_ACTIVE,
        f("businessUnitGuids", "guids", lambda b, u, v: u.business_unit_guid in v),
        CODE,
        f("email", "text", lambda b, u, v: u.email.lower() == v.lower()),
        CHANGED,
    ),
    items=lambda b: b.org.users.values(),
)


def _product_type(b: OrganizationBackend, fee: Any, wanted: str) -> bool:
    product = b.org.products.get(fee.product_guid)
    return product is not None and product.type == wanted


def _expense_class(b: OrganizationBackend, expense: Any, wanted: str) -> bool:
    kind = b.org.travel_expense_types.get(expense.travel_expense_type_guid)
    return kind is not None and kind.expense_class == wanted


# the source items behind an invoice or one of its rows: segment -> (collection, filters)
SOURCE_FILTERS: dict[str, tuple[str, tuple[Filter, ...]]] = {
    "workhours": ("work_hours", ()),
    "projectfees": ("project_fees", (f("productType", "enum", _product_type, *PRODUCT_TYPES),)),
    "projecttravelexpenses": (
        "travel_expenses",
        (
            f(
                "expenseClass",
                "enum",
                _expense_class,
                "Mileage",
                "DailyAllowance",
                "OtherTravelExpense",
            ),
        ),
    ),
}


def source_listing(owner: str, segment: str) -> Listing:
    """The listing of `segment` under ``/v1/invoices/{invoiceGuid}`` or ``/v1/invoicerows/{invoiceRowGuid}``."""
    path = "/v1/invoices/{invoiceGuid}" if owner == "invoice" else "/v1/invoicerows/{invoiceRowGuid}"
    return Listing(f"{path}/{segment}", SOURCE_FILTERS[segment][1])


def select(
    b: OrganizationBackend, listing: Listing, read: Callable[[Filter], Any], items: Iterable[Any]
) -> list[Any]:
    """The items the listing's filters keep; `read(filter)` gives a filter's parsed value or None."""
    wanted = []
    for flt in listing.filters:
        value = read(flt)
        if flt.rule is not None and value is not None:
            wanted.append((flt.rule, value))
    return [item for item in items if all(rule(b, item, value) for rule, value in wanted)]


LISTINGS = (
    INVOICES,
    INVOICE_ROWS,
    INVOICE_STATUSES,
    PRODUCTS,
    WORK_TYPES,
    TRAVEL_EXPENSE_TYPES,
    BUSINESS_UNITS,
    BANK_ACCOUNTS,
    CUSTOMERS,
    CUSTOMER_ADDRESSES,
    USERS,
    *(source_listing(owner, s) for owner in ("invoice", "row") for s in SOURCE_FILTERS),
)
