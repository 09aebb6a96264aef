"""Severa's HTTP surface: thin Flask routes (parse the request, call the backend, serialise).

Everything is served under `/rest-api`, each resource under both `/v1/...` and the
`/v1.0/...` alias. Every `/v1` route checks the rate limit (when on), the bearer token
(401 AuthenticationRequired) and the operation's scope (403 InsufficientApiScope), in that
order. Bad query parameters or bodies answer 400 InvalidParameter/InvalidRequest in the
ExceptionModel envelope.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, jsonify, request

from simulators.kit import request_json

from . import views
from .auth import output_model
from .errors import SeveraError, bad_param
from .paging import offset_page, token_page
from .pdf import invoice_pdf
from .state import Backend, last_changed

if TYPE_CHECKING:
    from .service import SeveraSimulator

PREFIXES = ("/v1", "/v1.0")
PUBLIC_ROOT = "/rest-api"


@dataclass
class Ctx:
    backend: Backend
    scopes: list[str]
    client_id: str


# ---------------------------------------------------------------------- query parsing
def _values(name: str) -> list[str]:
    return request.args.getlist(name) + request.args.getlist(name + "[]")


def q_str(name: str) -> str | None:
    v = request.args.get(name)
    return v if v not in (None, "") else None


def q_int(name: str, default: int | None = None, minimum: int | None = None) -> int | None:
    v = q_str(name)
    if v is None:
        return default
    if not re.fullmatch(r"-?\d{1,10}", v.strip()):
        raise bad_param(name, f"The value '{v}' is not valid for {name}: expected an integer.")
    out = int(v)
    if minimum is not None and out < minimum:
        raise bad_param(name, f"{name} must be at least {minimum}.")
    return out


def q_bool(name: str) -> bool | None:
    v = q_str(name)
    if v is None:
        return None
    if v.lower() not in ("true", "false"):
        raise bad_param(name, f"The value '{v}' is not valid for {name}: expected true or false.")
    return v.lower() == "true"


def parse_dt(name: str, v: str) -> datetime:
    text = v.strip().replace(" ", "+")  # an unencoded '+' of an offset arrives as a space
    try:
        d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_param(
            name, f"The value '{v}' is not valid for {name}: expected an ISO 8601 date-time."
        ) from exc
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def q_dt(name: str) -> datetime | None:
    v = q_str(name)
    return None if v is None else parse_dt(name, v)


def q_guids(name: str) -> set[str] | None:
    vals = [v for raw in _values(name) for v in raw.split(",") if v]
    if not vals:
        return None
    for v in vals:
        try:
            uuid.UUID(v)
        except ValueError as exc:
            raise bad_param(name, f"The value '{v}' is not valid for {name}: expected a GUID.") from exc
    return {v.lower() for v in vals}


def q_ints(name: str) -> set[int] | None:
    vals = [v for raw in _values(name) for v in raw.split(",") if v]
    if not vals:
        return None
    bad = [v for v in vals if not re.fullmatch(r"-?\d{1,10}", v)]
    if bad:
        raise bad_param(name, f"The value '{bad[0]}' is not valid for {name}: expected an integer.")
    return {int(v) for v in vals}


def q_enum(name: str, allowed: Iterable[str]) -> str | None:
    v = q_str(name)
    if v is None:
        return None
    for a in allowed:
        if a.lower() == v.lower():
            return a
    raise bad_param(name, f"The value '{v}' is not valid for {name}: expected one of {', '.join(allowed)}.")


def read_json() -> Any:
    if not request.get_data().strip():
        raise SeveraError(
            400, "A request body is required.", type="InvalidRequest", location="RequestBody", name="body"
        )
    try:
        return request_json()  # parsed once, before the lock; nesting deeper than ASP.NET's 64 is a 400
    except ValueError as exc:
        raise SeveraError(
            400,
            f"The request body is not valid JSON: {exc}",
            type="InvalidRequest",
            location="RequestBody",
            name="body",
        ) from exc


def read_patch() -> list[dict[str, Any]]:
    body = read_json()
    if not isinstance(body, list):
        raise SeveraError(
            400,
            "The request body must be a JSON Patch document (an array of operations).",
            type="InvalidRequest",
            location="RequestBody",
            name="patchDocument",
        )
    ops = []
    for i, op in enumerate(body):
        if not isinstance(op, dict):
            raise bad_param(f"[{i}]", f"Operation {i} must be an object.", "RequestBody")
        low = {k.lower(): v for k, v in op.items()}
        kind, path = low.get("op"), low.get("path")
        if not isinstance(kind, str) or kind.lower() not in (
            "add",
            "copy",
            "move",
            "remove",
            "replace",
            "test",
        ):
            raise bad_param(
                f"[{i}].op",
                f"Operation {i}: 'op' must be one of Add, Copy, Move, Remove, Replace.",
                "RequestBody",
            )
        if not isinstance(path, str) or not path.startswith("/"):
            raise bad_param(
                f"[{i}].path",
                f"Operation {i}: 'path' must be a JSON pointer such as /status/guid.",
                "RequestBody",
            )
        ops.append({"op": kind.lower(), "path": path, "value": low.get("value"), "from": low.get("from")})
    return ops


def row_count(sim: SeveraSimulator, default: int = 20) -> int:
    n = q_int("rowCount", default)
    assert n is not None
    if n <= 0:
        raise bad_param("rowCount", "rowCount must be greater than 0.")
    return min(n, sim.page_size_cap)


def _filters_key() -> str:
    items = sorted((k, v) for k, v in request.args.items(multi=True) if k not in ("pageToken", "rowCount"))
    return request.path.replace("/v1.0/", "/v1/") + "?" + "&".join(f"{k}={v}" for k, v in items)


def token_list(sim: SeveraSimulator, items: list[Any], render: Callable[[Any], dict[str, Any]]) -> Response:
    page, nxt = token_page(items, q_str("pageToken"), row_count(sim), _filters_key())
    resp = jsonify([render(i) for i in page])
    if nxt:
        resp.headers["NextPageToken"] = nxt
    return resp


def offset_list(
    sim: SeveraSimulator, items: list[Any], render: Callable[[Any], dict[str, Any]], default: int = 20
) -> Response:
    first = q_int("firstRow", 0, minimum=0)
    assert first is not None
    return jsonify([render(i) for i in offset_page(items, first, row_count(sim, default))])


def _changed(items: list[Any], since: datetime | None) -> list[Any]:
    return items if since is None else [i for i in items if last_changed(i.audit) >= since]


def _text_match(text: str | None, *fields: str | None) -> bool:
    return text is None or any(f and text.lower() in f.lower() for f in fields)


def _bool_value(path: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise bad_param(path, f"Invalid value for {path}: expected true or false.", "RequestBody")


STATUS_FIELDS = {
    "isactive": "is_active",
    "isdefault": "is_default",
    "isreadonly": "is_read_only",
    "hasinvoicenumber": "has_invoice_number",
    "issent": "is_sent",
    "iswaitingpayment": "is_waiting_payment",
    "ispaid": "is_paid",
    "isdefaultforcreditnote": "is_default_for_credit_note",
}


def status_changes(ops: list[dict[str, Any]]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for op in ops:
        key = op["path"].strip("/").lower()
        if op["op"] not in ("add", "replace"):
            raise SeveraError(
                400,
                f"Operation '{op['op']}' is not supported on {op['path']}.",
                type="InvalidOperation",
                location="RequestBody",
                name=op["path"],
            )
        if key in STATUS_FIELDS:
            changes[STATUS_FIELDS[key]] = _bool_value(op["path"], op["value"])
        elif key == "name":
            if not isinstance(op["value"], str) or not op["value"].strip():
                raise bad_param(op["path"], "name must be a non-empty string.", "RequestBody")
            changes["name"] = op["value"]
        elif key == "sortorder":
            v = op["value"]
            if (
                isinstance(v, bool)
                or not (isinstance(v, int) or (isinstance(v, str) and v.isdigit()))
                or not 0 <= int(v) <= 2**31 - 1  # int32 on the wire
            ):
                raise bad_param(
                    op["path"], "sortOrder must be an integer from 0 to 2147483647.", "RequestBody"
                )
            changes["sort_order"] = int(v)
        else:
            raise bad_param(
                op["path"], f"The path '{op['path']}' is not valid for an invoice status.", "RequestBody"
            )
    return changes


def register_routes(app: Flask, sim: SeveraSimulator) -> None:
    bp = Blueprint("severa", __name__, url_prefix=PUBLIC_ROOT)

    def guard(scope: str | None, fn: Callable[..., Response]) -> Callable[..., Response]:
        def view(**kwargs: Any) -> Response:
            try:
                limited = sim.check_rate_limit(request)
                if limited is not None:
                    return limited
                tok = sim.auth.check(request.headers.get("Authorization"), sim.clock.now())
                if sim.strict_client_id and request.headers.get("Client_Id") != tok.client_id:
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
                ctx = Ctx(sim.tenant(tok.organization_guid), tok.scopes, tok.client_id)
                return fn(ctx, **kwargs)
            except SeveraError as exc:
                return exc.response()

        return view

    def route(
        method: str, path: str, scope: str | None
    ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        def deco(fn: Callable[..., Response]) -> Callable[..., Response]:
            view = guard(scope, fn)
            for prefix in PREFIXES:
                bp.add_url_rule(
                    prefix + path,
                    endpoint=f"{method} {prefix}{path}".replace(".", "_"),
                    view_func=view,
                    methods=[method],
                )
            return fn

        return deco

    # ------------------------------------------------------------------ public: heartbeat, token
    def public(fn: Callable[[], Response]) -> Callable[[], Response]:
        def view() -> Response:
            try:
                limited = sim.check_rate_limit(request)
                return limited if limited is not None else fn()
            except SeveraError as exc:
                return exc.response()

        view.__name__ = fn.__name__
        return view

    @public
    def heartbeat_server() -> Response:
        return Response("Server is alive.", content_type="text/plain")

    @public
    def heartbeat_database() -> Response:
        return Response("Database is alive.", content_type="text/plain")

    bp.add_url_rule("/heartbeat/server", view_func=heartbeat_server, methods=["GET"])
    bp.add_url_rule("/heartbeat/database", view_func=heartbeat_database, methods=["GET"])
    bp.add_url_rule(
        "/heartbeat/authorized",
        endpoint="heartbeat_authorized",
        view_func=guard(None, lambda ctx: Response(status=204)),
        methods=["GET"],
    )

    @public
    def token() -> Response:
        now = sim.clock.now()  # one instant: a fresh token says 3600 s, not 3599
        return jsonify(output_model(sim.auth.login(read_json(), now), now))

    @public
    def refreshtoken() -> Response:
        now = sim.clock.now()
        return jsonify(output_model(sim.auth.refresh(read_json(), now), now))

    for prefix in PREFIXES:
        bp.add_url_rule(
            prefix + "/token", endpoint=f"token{prefix}".replace(".", "_"), view_func=token, methods=["POST"]
        )
        bp.add_url_rule(
            prefix + "/refreshtoken",
            endpoint=f"refresh{prefix}".replace(".", "_"),
            view_func=refreshtoken,
            methods=["POST"],
        )

    # ------------------------------------------------------------------ invoices
    @route("GET", "/invoices", "invoices:read")
    def list_invoices(ctx: Ctx) -> Response:
        b = ctx.backend
        statuses, customers = q_guids("invoiceStatusGuids"), q_guids("customerGuids")
        projects, bus = q_guids("projectGuids"), q_guids("projectBusinessUnitGuids")
        owners = (q_guids("projectOwnerGuids") or set()) | (q_guids("salesPersonGuids") or set())
        creators, numbers = q_guids("createdByUserGuids"), q_ints("numbers")
        refs = {r for raw in _values("referenceNumbers") for r in raw.split(",") if r} or None
        start, end, since, paid_from = (
            q_dt("startDate"),
            q_dt("endDate"),
            q_dt("changedSince"),
            q_dt("paymentDateStart"),
        )
        min_total, max_total = _q_float("minimumTotalExcludingTax"), _q_float("maximumTotalExcludingTax")
        out = []
        for inv in b.org.invoices.values():
            proj = b.org.projects.get(inv.project_guid or "")
            if statuses is not None and inv.status_guid not in statuses:
                continue
            if customers is not None and not {inv.customer_guid, inv.billing_customer_guid} & customers:
                continue
            if projects is not None and inv.project_guid not in projects:
                continue
            if bus is not None and (proj is None or proj.business_unit_guid not in bus):
                continue
            if owners and (proj is None or proj.owner_guid not in owners):
                continue
            if creators is not None and inv.audit.created_by not in creators:
                continue
            if numbers is not None and inv.number not in numbers:
                continue
            if refs is not None and inv.reference_number not in refs:
                continue
            if start is not None and inv.date < start.date():
                continue
            if end is not None and inv.date > end.date():
                continue
            if since is not None and last_changed(inv.audit) < since:
                continue
            if paid_from is not None and (inv.payment_date is None or inv.payment_date < paid_from.date()):
                continue
            if min_total is not None or max_total is not None:
                total = b.totals(inv)["excl"]
                if (min_total is not None and total < min_total) or (
                    max_total is not None and total > max_total
                ):
                    continue
            out.append(inv)
        return token_list(sim, out, lambda i: views.invoice(b, i))

    @route("GET", "/invoices/<guid>", "invoices:read")
    def get_invoice(ctx: Ctx, guid: str) -> Response:
        return jsonify(views.invoice(ctx.backend, ctx.backend.get("invoices", guid, "Invoice")))

    @route("PATCH", "/invoices/<guid>", "invoices:write")
    def patch_invoice(ctx: Ctx, guid: str) -> Response:
        ctx.backend.get("invoices", guid, "Invoice")
        inv = ctx.backend.patch_invoice(guid, read_patch())
        return jsonify([views.invoice(ctx.backend, inv)])

    @route("DELETE", "/invoices/<guid>", "invoices:delete")
    def delete_invoice(ctx: Ctx, guid: str) -> Response:
        ctx.backend.delete_invoice(guid)
        return Response(status=204)

    @route("GET", "/invoices/<guid>/pdf", "files:read")
    def get_invoice_pdf(ctx: Ctx, guid: str) -> Response:
        inv = ctx.backend.get("invoices", guid, "Invoice")
        itype = q_enum("invoiceType", ("Invoice", "Reminder")) or "Invoice"
        q_enum("pdfGetOptions", ("All", "InvoiceOnly", "AttachmentAndBreakdown"))
        data = invoice_pdf(ctx.backend, inv, invoice_type=itype)
        resp = Response(data, content_type="application/pdf")
        resp.headers["Content-Disposition"] = f'attachment; filename="invoice_{inv.number or inv.guid}.pdf"'
        return resp

    @route("GET", "/invoices/<invoiceGuid>/invoicerows", "invoices:read")
    def invoice_rows(ctx: Ctx, invoiceGuid: str) -> Response:
        b = ctx.backend
        inv = b.get("invoices", invoiceGuid, "Invoice", "invoiceGuid")
        rtype = q_enum("rowType", ("FlatRate", "Hours", "ProjectFees", "TravelExpenses"))
        rows = [r for r in b.rows_of(inv) if rtype is None or r.row_type == rtype]
        return token_list(sim, rows, lambda r: views.row(b, r))

    @route("GET", "/invoicerows/<guid>", "invoices:read")
    def get_row(ctx: Ctx, guid: str) -> Response:
        return jsonify(views.row(ctx.backend, ctx.backend.get("invoice_rows", guid, "Invoice row")))

    sources: list[tuple[str, str, Callable[[Backend, Any], dict[str, Any]]]] = [
        ("workhours", "work_hours", views.work_hour),
        ("projectfees", "project_fees", views.project_fee),
        ("projecttravelexpenses", "travel_expenses", views.travel_expense),
    ]
    for segment, collection, render in sources:
        _source_routes(route, sim, segment, collection, render)

    # ------------------------------------------------------------------ invoice statuses
    @route("GET", "/invoicestatuses", "settings:read")
    def list_statuses(ctx: Ctx) -> Response:
        b, active, text = ctx.backend, q_bool("active"), q_str("textToSearch")
        q_bool("calculateRowCount")
        items = sorted(b.org.invoice_statuses.values(), key=lambda s: s.sort_order)
        items = [s for s in items if (active is None or s.is_active == active) and _text_match(text, s.name)]
        return offset_list(sim, items, lambda s: views.status(b, s))

    @route("GET", "/invoicestatuses/<guid>", "settings:read")
    def get_status(ctx: Ctx, guid: str) -> Response:
        return jsonify(views.status(ctx.backend, ctx.backend.get("invoice_statuses", guid, "Invoice status")))

    @route("POST", "/invoicestatuses", "settings:write")
    def create_status(ctx: Ctx) -> Response:
        body = read_json()
        if not isinstance(body, dict):
            raise SeveraError(
                400,
                "The request body must be an InvoiceStatusModel object.",
                type="InvalidRequest",
                location="RequestBody",
                name="invoiceStatus",
            )
        low = {k.lower(): v for k, v in body.items()}
        name = low.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_param("name", "The name field is required.", "RequestBody")
        flags = {
            attr: _bool_value(key, low[key])
            for key, attr in STATUS_FIELDS.items()
            if low.get(key) is not None
        }
        flags.setdefault("is_active", True)
        st = ctx.backend.add_status(name, when=sim.clock.now(), **flags)
        resp = jsonify(views.status(ctx.backend, st))
        resp.status_code = 201
        return resp

    @route("PATCH", "/invoicestatuses/<guid>", "settings:write")
    def patch_status(ctx: Ctx, guid: str) -> Response:
        st = ctx.backend.get("invoice_statuses", guid, "Invoice status")
        st = ctx.backend.update_status_flags(st, status_changes(read_patch()))
        return jsonify([views.status(ctx.backend, st)])

    @route("DELETE", "/invoicestatuses/<guid>", "settings:delete")
    def delete_status(ctx: Ctx, guid: str) -> Response:
        ctx.backend.delete_status(guid)
        return Response(status=204)

    # ------------------------------------------------------------------ catalogue
    @route("GET", "/products", "settings:read")
    def list_products(ctx: Ctx) -> Response:
        b = ctx.backend
        ptype, active, code = (
            q_enum("type", ("FixedFees", "Materials", "Subcontracting")),
            q_bool("isActive"),
            q_str("code"),
        )
        items = [
            p
            for p in _changed(list(b.org.products.values()), q_dt("changedSince"))
            if (ptype is None or p.type == ptype)
            and (active is None or p.is_active == active)
            and (code is None or p.code == code)
        ]
        return token_list(sim, items, lambda p: views.product(b, p))

    @route("GET", "/products/<guid>", "settings:read")
    def get_product(ctx: Ctx, guid: str) -> Response:
        return jsonify(views.product(ctx.backend, ctx.backend.get("products", guid, "Product")))

    @route("GET", "/worktypes", "settings:read")
    def list_work_types(ctx: Ctx) -> Response:
        b = ctx.backend
        active, productive, code, text = (
            q_bool("active"),
            q_bool("productive"),
            q_str("code"),
            q_str("textToSearch"),
        )
        q_bool("calculateRowCount")
        items = [
            w
            for w in _changed(list(b.org.work_types.values()), q_dt("changedSince"))
            if (active is None or w.is_active == active)
            and (productive is None or w.is_productive == productive)
            and (code is None or w.code == code)
            and _text_match(text, w.name, w.code)
        ]
        return offset_list(sim, items, lambda w: views.work_type(b, w))

    @route("GET", "/worktypes/<guid>", "settings:read")
    def get_work_type(ctx: Ctx, guid: str) -> Response:
        return jsonify(views.work_type(ctx.backend, ctx.backend.get("work_types", guid, "Work type")))

    @route("GET", "/travelexpensetypes", "settings:read")
    def list_travel_types(ctx: Ctx) -> Response:
        b = ctx.backend
        active, code, text = q_bool("active"), q_str("code"), q_str("textToSearch")
        q_bool("calculateRowCount")
        items = [
            t
            for t in _changed(list(b.org.travel_expense_types.values()), q_dt("changedSince"))
            if (active is None or t.is_active == active)
            and (code is None or t.code == code)
            and _text_match(text, t.name, t.code)
        ]
        return offset_list(sim, items, lambda t: views.travel_expense_type(b, t), default=sim.page_size_cap)

    @route("GET", "/travelexpensetypes/<guid>", "settings:read")
    def get_travel_type(ctx: Ctx, guid: str) -> Response:
        b = ctx.backend
        return jsonify(
            views.travel_expense_type(b, b.get("travel_expense_types", guid, "Travel expense type"))
        )

    @route("GET", "/businessunits", "settings:read")
    def list_business_units(ctx: Ctx) -> Response:
        b = ctx.backend
        active, company, text = q_bool("active"), q_guids("companyGuid"), q_str("textToSearch")
        code, name = q_str("code"), q_str("name")
        items = [
            u
            for u in _changed(list(b.org.business_units.values()), q_dt("changedSince"))
            if (active is None or u.is_active == active)
            and (company is None or u.company_guid in company)
            and (code is None or u.code == code)
            and (name is None or u.name == name)
            and _text_match(text, u.name, u.code)
        ]
        return offset_list(sim, items, lambda u: views.business_unit(b, u))

    @route("GET", "/businessunits/<guid>", "settings:read")
    def get_business_unit(ctx: Ctx, guid: str) -> Response:
        b = ctx.backend
        return jsonify(views.business_unit(b, b.get("business_units", guid, "Business unit")))

    @route("GET", "/bankaccounts", "settings:read")
    def list_bank_accounts(ctx: Ctx) -> Response:
        b, active, company = ctx.backend, q_bool("active"), q_guids("companyGuid")
        items = [
            a
            for a in b.org.bank_accounts.values()
            if (active is None or a.is_active == active) and (company is None or a.company_guid in company)
        ]
        return offset_list(sim, items, lambda a: views.bank_account(b, a))

    @route("GET", "/bankaccounts/<guid>", "settings:read")
    def get_bank_account(ctx: Ctx, guid: str) -> Response:
        b = ctx.backend
        return jsonify(views.bank_account(b, b.get("bank_accounts", guid, "Bank account")))

    # ------------------------------------------------------------------ customers, users, organisation
    @route("GET", "/customers", "customers:read")
    def list_customers(ctx: Ctx) -> Response:
        b = ctx.backend
        active, internal, numbers = q_bool("isActive"), q_bool("isInternal"), q_ints("numbers")
        emails = {e.lower() for raw in _values("emailAddresses") for e in raw.split(",") if e} or None
        names = {n.lower() for n in _values("customerNames") if n} or None
        vat = q_str("vatNumber")
        items = [
            c
            for c in _changed(list(b.org.customers.values()), q_dt("changedSince"))
            if (active is None or c.is_active == active)
            and (internal is None or c.is_internal == internal)
            and (numbers is None or c.number in numbers)
            and (vat is None or c.vat_number == vat)
            and (emails is None or (c.email or "").lower() in emails)
            and (names is None or c.name.lower() in names)
        ]
        return token_list(sim, items, lambda c: views.customer(b, c))

    @route("GET", "/customers/<guid>", "customers:read")
    def get_customer(ctx: Ctx, guid: str) -> Response:
        return jsonify(views.customer(ctx.backend, ctx.backend.get("customers", guid, "Customer")))

    @route("GET", "/customers/<customerGuid>/addresses", "customers:read")
    def customer_addresses(ctx: Ctx, customerGuid: str) -> Response:
        b = ctx.backend
        cust = b.get("customers", customerGuid, "Customer", "customerGuid")
        q_bool("calculateRowCount")
        items = [a for a in b.org.addresses.values() if a.customer_guid == cust.guid]
        return offset_list(sim, items, lambda a: views.address(b, a))

    @route("GET", "/users", "users:read")
    def list_users(ctx: Ctx) -> Response:
        b = ctx.backend
        active, units, code, email = (
            q_bool("isActive"),
            q_guids("businessUnitGuids"),
            q_str("code"),
            q_str("email"),
        )
        items = [
            u
            for u in _changed(list(b.org.users.values()), q_dt("changedSince"))
            if (active is None or u.is_active == active)
            and (units is None or u.business_unit_guid in units)
            and (code is None or u.code == code)
            and (email is None or u.email.lower() == email.lower())
        ]
        return token_list(sim, items, lambda u: views.user(b, u))

    @route("GET", "/users/<guid>", "users:read")
    def get_user(ctx: Ctx, guid: str) -> Response:
        return jsonify(views.user(ctx.backend, ctx.backend.get("users", guid, "User")))

    @route("GET", "/organizationdetails", "organization:read")
    def organization_details(ctx: Ctx) -> Response:
        return jsonify(views.organization_details(ctx.backend))

    app.register_blueprint(bp)


def _q_float(name: str) -> float | None:
    v = q_str(name)
    if v is None:
        return None
    try:
        return float(v)
    except ValueError as exc:
        raise bad_param(name, f"The value '{v}' is not valid for {name}: expected a number.") from exc


def _source_routes(
    route: Any,
    sim: SeveraSimulator,
    segment: str,
    collection: str,
    render: Callable[[Backend, Any], dict[str, Any]],
) -> None:
    def per_invoice(ctx: Ctx, invoiceGuid: str) -> Response:
        b = ctx.backend
        inv = b.get("invoices", invoiceGuid, "Invoice", "invoiceGuid")
        items = b.sources_of(collection, invoice_guid=inv.guid)
        return token_list(sim, _source_filter(segment, b, items), lambda s: render(b, s))

    def per_row(ctx: Ctx, invoiceRowGuid: str) -> Response:
        b = ctx.backend
        row = b.get("invoice_rows", invoiceRowGuid, "Invoice row", "invoiceRowGuid")
        items = b.sources_of(collection, row_guid=row.guid)
        return token_list(sim, _source_filter(segment, b, items), lambda s: render(b, s))

    per_invoice.__name__ = f"invoice_{segment}"
    per_row.__name__ = f"row_{segment}"
    route("GET", f"/invoices/<invoiceGuid>/{segment}", "invoices:read")(per_invoice)
    route("GET", f"/invoicerows/<invoiceRowGuid>/{segment}", "invoices:read")(per_row)


def _source_filter(segment: str, b: Backend, items: list[Any]) -> list[Any]:
    if segment == "projectfees":
        ptype = q_enum("productType", ("FixedFees", "Materials", "Subcontracting"))
        if ptype:
            items = [
                i
                for i in items
                if b.org.products.get(i.product_guid) and b.org.products[i.product_guid].type == ptype
            ]
    if segment == "projecttravelexpenses":
        cls = q_enum("expenseClass", ("Mileage", "DailyAllowance", "OtherTravelExpense"))
        if cls:
            items = [
                i
                for i in items
                if (t := b.org.travel_expense_types.get(i.travel_expense_type_guid))
                and t.expense_class == cls
            ]
    return items
