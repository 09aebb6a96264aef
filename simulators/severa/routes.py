"""Severa's HTTP surface: thin routes on one module-level blueprint (parse, call the backend, serialise).

Everything is served under `/rest-api`, each resource under both `/v1/...` and the `/v1.0/...`
alias. Every `/v1` route checks the rate limit (when on), the bearer token (401
AuthenticationRequired) and the operation's scope (403 InsufficientApiScope), in that order.
The list operations are data (`listing.py`); bad query parameters or bodies answer 400
InvalidParameter/InvalidRequest in the ExceptionModel envelope (`errors.py`, answered by the
kit's error handler). The views reach the domain through `kit.current_backend`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from simulators.kit import current_backend, request_json

from . import listing, patching, query, views, views_registers
from .auth import output_model
from .backend import OrganizationBackend, SeveraBackend
from .errors import RateLimited, SeveraError, bad_param
from .listing import Filter, Listing
from .paging import offset_page, token_page
from .pdf import invoice_pdf

PREFIXES = ("/v1", "/v1.0")
PUBLIC_ROOT = "/rest-api"

bp = Blueprint("severa", __name__, url_prefix=PUBLIC_ROOT)
View = Callable[..., Response]


def _client_key(severa: SeveraBackend) -> str:
    """Who the rate limit counts a call against: the token's client, the client_id of a token
    request, the Client_Id header, or the caller's address."""
    client = severa.client_of_token(request.headers.get("Authorization"))
    if client is not None:
        return client
    try:
        body = request_json() if request.content_length else None
    except ValueError:  # the route answers bad JSON with its 400; here it only has no client id
        body = None
    if isinstance(body, dict):
        cid = next((v for k, v in body.items() if k.lower() == "client_id"), None)
        if isinstance(cid, str):
            return cid
    return request.headers.get("Client_Id") or request.remote_addr or "anonymous"


def _check_rate_limit(severa: SeveraBackend) -> None:
    if severa.options.rate_limit:
        wait = severa.rate_limit_wait(_client_key(severa))
        if wait is not None:
            raise RateLimited(severa.options.rate_limit_per_second, wait)


def _authorised(scope: str | None, fn: View) -> View:
    """`fn(org_backend, **path)` behind the rate limit, the token and the scope check."""

    @functools.wraps(fn)
    def view(**kwargs: Any) -> Response:
        severa = current_backend(SeveraBackend)
        _check_rate_limit(severa)
        tok = severa.auth.check(request.headers.get("Authorization"), severa.now())
        if severa.options.strict_client_id and request.headers.get("Client_Id") != tok.client_id:
            raise SeveraError(
                401,
                "The Client_Id header is missing or does not match the token.",
                type="AuthenticationRequired",
                location="RequestHeader",
                name="Client_Id",
            )
        if scope is not None and scope not in tok.scopes:
            raise SeveraError(
                403,
                f"The access token does not have the scope '{scope}' this operation needs.",
                type="InsufficientApiScope",
            )
        return fn(severa.tenant(tok.organization_guid), **kwargs)

    return view


def _public(fn: View) -> View:
    @functools.wraps(fn)
    def view(**kwargs: Any) -> Response:
        _check_rate_limit(current_backend(SeveraBackend))
        return fn(**kwargs)

    return view


def _add(method: str, path: str, view: View, name: str) -> None:
    for prefix in PREFIXES:
        bp.add_url_rule(
            prefix + path, endpoint=f"{name}{prefix}".replace(".", "_"), view_func=view, methods=[method]
        )


def api(method: str, path: str, scope: str | None) -> Callable[[View], View]:
    """Register `fn(org_backend, **path)` under both version prefixes behind the checks."""

    def deco(fn: View) -> View:
        _add(method, path, _authorised(scope, fn), f"{method} {path}")
        return fn

    return deco


# ---------------------------------------------------------------------------- lists
def _read(flt: Filter) -> Any:
    found = [v for name in flt.params if (v := query.q_kind(flt.kind, name, flt.allowed)) is not None]
    if len(flt.params) == 1:
        return found[0] if found else None
    return set().union(*found) or None  # several names of one filter: their values together


def _page(
    b: OrganizationBackend, lst: Listing, items: Any, render: Callable[[OrganizationBackend, Any], Any]
) -> Response:
    cap = current_backend(SeveraBackend).options.page_size_cap
    default = cap if lst.default_rows is None else lst.default_rows
    kept = listing.select(b, lst, _read, items)
    if lst.paging == "offset":
        first = query.first_row()
        return jsonify([render(b, i) for i in offset_page(kept, first, query.row_count(cap, default))])
    token = query.q_str("pageToken")
    page, nxt = token_page(kept, token, query.row_count(cap, default), query.filters_key())
    resp = jsonify([render(b, i) for i in page])
    if nxt:
        resp.headers["NextPageToken"] = nxt
    return resp


def _list_route(
    path: str, scope: str, lst: Listing, render: Callable[[OrganizationBackend, Any], Any]
) -> None:
    items = lst.items
    assert items is not None

    def list_view(b: OrganizationBackend) -> Response:
        return _page(b, lst, items(b), render)

    api("GET", path, scope)(list_view)


def _get_route(
    path: str, scope: str, collection: str, what: str, render: Callable[[OrganizationBackend, Any], Any]
) -> None:
    def get_view(b: OrganizationBackend, guid: str) -> Response:
        return jsonify(render(b, b.get(collection, guid, what)))

    api("GET", path + "/<guid>", scope)(get_view)


# path, scope, listing (None: no list route here), collection, what, view
RESOURCES: list[tuple[str, str, Listing | None, str, str, Callable[[OrganizationBackend, Any], Any]]] = [
    ("/invoices", "invoices:read", listing.INVOICES, "invoices", "Invoice", views.invoice),
    ("/invoicerows", "invoices:read", None, "invoice_rows", "Invoice row", views.row),
    (
        "/invoicestatuses",
        "settings:read",
        listing.INVOICE_STATUSES,
        "invoice_statuses",
        "Invoice status",
        views.status,
    ),
    ("/products", "settings:read", listing.PRODUCTS, "products", "Product", views_registers.product),
    ("/worktypes", "settings:read", listing.WORK_TYPES, "work_types", "Work type", views_registers.work_type),
    (
        "/travelexpensetypes",
        "settings:read",
        listing.TRAVEL_EXPENSE_TYPES,
        "travel_expense_types",
        "Travel expense type",
        views_registers.travel_expense_type,
    ),
    (
        "/businessunits",
        "settings:read",
        listing.BUSINESS_UNITS,
        "business_units",
        "Business unit",
        views_registers.business_unit,
    ),
    (
        "/bankaccounts",
        "settings:read",
        listing.BANK_ACCOUNTS,
        "bank_accounts",
        "Bank account",
        views_registers.bank_account,
    ),
    ("/customers", "customers:read", listing.CUSTOMERS, "customers", "Customer", views_registers.customer),
    ("/users", "users:read", listing.USERS, "users", "User", views_registers.user),
]
for _path, _scope, _listing, _collection, _what, _render in RESOURCES:
    if _listing is not None:
        _list_route(_path, _scope, _listing, _render)
    _get_route(_path, _scope, _collection, _what, _render)


SOURCES: dict[str, Callable[[OrganizationBackend, Any], Any]] = {
    "workhours": views.work_hour,
    "projectfees": views.project_fee,
    "projecttravelexpenses": views.travel_expense,
}


def _source_routes(segment: str, render: Callable[[OrganizationBackend, Any], Any]) -> None:
    collection = listing.SOURCE_FILTERS[segment][0]
    per_invoice, per_row = listing.source_listing("invoice", segment), listing.source_listing("row", segment)

    def of_invoice(b: OrganizationBackend, invoiceGuid: str) -> Response:
        inv = b.get("invoices", invoiceGuid, "Invoice", "invoiceGuid")
        return _page(b, per_invoice, b.sources_of(collection, invoice_guid=inv.guid), render)

    def of_row(b: OrganizationBackend, invoiceRowGuid: str) -> Response:
        row = b.get("invoice_rows", invoiceRowGuid, "Invoice row", "invoiceRowGuid")
        return _page(b, per_row, b.sources_of(collection, row_guid=row.guid), render)

    api("GET", f"/invoices/<invoiceGuid>/{segment}", "invoices:read")(of_invoice)
    api("GET", f"/invoicerows/<invoiceRowGuid>/{segment}", "invoices:read")(of_row)


for _segment, _source_render in SOURCES.items():
    _source_routes(_segment, _source_render)


# ---------------------------------------------------------------------------- public: heartbeat, token
@_public
def heartbeat_server() -> Response:
    return Response("Server is alive.", content_type="text/plain")


@_public
def heartbeat_database() -> Response:
    return Response("Database is alive.", content_type="text/plain")


bp.add_url_rule("/heartbeat/server", view_func=heartbeat_server, methods=["GET"])
bp.add_url_rule("/heartbeat/database", view_func=heartbeat_database, methods=["GET"])
bp.add_url_rule(
    "/heartbeat/authorized",
    endpoint="heartbeat_authorized",
    view_func=_authorised(None, lambda b: Response(status=204)),
    methods=["GET"],
)


@_public
def token() -> Response:
    severa = current_backend(SeveraBackend)
    now = severa.now()  # one instant: a fresh token says 3600 s, not 3599
    return jsonify(output_model(severa.auth.login(query.read_json(), now), now))


@_public
def refreshtoken() -> Response:
    severa = current_backend(SeveraBackend)
    now = severa.now()
    return jsonify(output_model(severa.auth.refresh(query.read_json(), now), now))


_add("POST", "/token", token, "token")
_add("POST", "/refreshtoken", refreshtoken, "refresh")


# ---------------------------------------------------------------------------- invoices
@api("PATCH", "/invoices/<guid>", "invoices:write")
def patch_invoice(b: OrganizationBackend, guid: str) -> Response:
    b.get("invoices", guid, "Invoice")
    return jsonify([views.invoice(b, patching.patch_invoice(b, guid, query.read_patch()))])


@api("DELETE", "/invoices/<guid>", "invoices:delete")
def delete_invoice(b: OrganizationBackend, guid: str) -> Response:
    b.delete_invoice(guid)
    return Response(status=204)


@api("GET", "/invoices/<guid>/pdf", "files:read")
def get_invoice_pdf(b: OrganizationBackend, guid: str) -> Response:
    inv = b.get("invoices", guid, "Invoice")
    itype = query.q_enum("invoiceType", ("Invoice", "Reminder")) or "Invoice"
    query.q_enum("pdfGetOptions", ("All", "InvoiceOnly", "AttachmentAndBreakdown"))
    resp = Response(invoice_pdf(b, inv, invoice_type=itype), content_type="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="invoice_{inv.number or inv.guid}.pdf"'
    return resp


@api("GET", "/invoices/<invoiceGuid>/invoicerows", "invoices:read")
def invoice_rows(b: OrganizationBackend, invoiceGuid: str) -> Response:
    inv = b.get("invoices", invoiceGuid, "Invoice", "invoiceGuid")
    return _page(b, listing.INVOICE_ROWS, b.rows_of(inv), views.row)


# ---------------------------------------------------------------------------- invoice statuses
@api("POST", "/invoicestatuses", "settings:write")
def create_status(b: OrganizationBackend) -> Response:
    low = query.read_object("an InvoiceStatusModel", "invoiceStatus")
    name = low.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_param("name", "The name field is required.", "RequestBody")
    flags = {
        attr: patching.bool_value(key, low[key])
        for key, attr in patching.STATUS_FIELDS.items()
        if low.get(key) is not None
    }
    flags.setdefault("is_active", True)
    resp = jsonify(views.status(b, b.add_status(name, when=b.now(), **flags)))
    resp.status_code = 201
    return resp


@api("PATCH", "/invoicestatuses/<guid>", "settings:write")
def patch_status(b: OrganizationBackend, guid: str) -> Response:
    st = b.get("invoice_statuses", guid, "Invoice status")
    st = b.update_status_flags(st, patching.status_changes(query.read_patch()))
    return jsonify([views.status(b, st)])


@api("DELETE", "/invoicestatuses/<guid>", "settings:delete")
def delete_status(b: OrganizationBackend, guid: str) -> Response:
    b.delete_status(guid)
    return Response(status=204)


# ---------------------------------------------------------------------------- customers, organisation
@api("GET", "/customers/<customerGuid>/addresses", "customers:read")
def customer_addresses(b: OrganizationBackend, customerGuid: str) -> Response:
    cust = b.get("customers", customerGuid, "Customer", "customerGuid")
    return _page(b, listing.CUSTOMER_ADDRESSES, b.addresses_of(cust), views_registers.address)


@api("GET", "/organizationdetails", "organization:read")
def organization_details(b: OrganizationBackend) -> Response:
    return jsonify(views_registers.organization_details(b))
