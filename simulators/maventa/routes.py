"""The AX API routes (thin) on one module-level blueprint: parse the request, call the backend
(reached through `kit.current_backend`), serialise the answer. Every `MaventaError` raised below
answers itself in Maventa's envelope (the kit's error handler).

``POST /v1/invoices`` is ``@unlocked``: reading, unpacking, parsing and validating an upload
happen outside the simulator's lock (an upload built to be slow to validate held up every other
Maventa call for minutes); only the checks against the state and the state change take it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from simulators.kit import current_backend, current_simulator, request_json, unlocked

from . import registry, uploads, views
from .auth import credentials_from_request, issue_token
from .backend import INVOICE_STATUSES, MaventaBackend
from .errors import bad_request, not_found
from .formats import DETAILS, IMAGES, RETURN_FORMATS, XML_FORMATS, convert
from .models import Invoice, Token, iso
from .settings import apply_patch

MAX_IDS_PER_QUERY = 100  # GET /v1/invoices?ids=: "Batch of invoice IDs. Maximum of 100 per query"

bp = Blueprint("maventa", __name__)


# --------------------------------------------------------------------------- reading requests
def _json(data: Any, status: int = 200) -> Response:
    resp = jsonify(data)
    resp.status_code = status
    return resp


def _body() -> dict[str, Any]:
    """A JSON object body, or the form fields (Maventa takes either)."""
    raw = request.get_data()
    if request.mimetype == "application/json" or raw.lstrip()[:1] == b"{":
        try:
            data = request_json() if raw.strip() else {}
        except ValueError as exc:
            raise bad_request("Request body is not valid JSON", [str(exc)]) from exc
        if not isinstance(data, dict):
            raise bad_request("Request body must be a JSON object")
        return data
    return {k: v for k, v in request.form.items()}


def _list(*names: str, upper: bool = False) -> list[str]:
    """A list parameter, repeated (``a[]=x&a[]=y``) or comma-separated (``a=x,y``)."""
    values = [v.strip() for n in names for raw in request.args.getlist(n) for v in raw.split(",")]
    return [v.upper() if upper else v for v in values if v]


def _page(default: int = 10) -> tuple[int, int]:
    try:
        page, per_page = int(request.args.get("page", "1")), int(request.args.get("per_page", str(default)))
    except ValueError as exc:
        raise bad_request("page and per_page must be integers") from exc
    if page < 1 or not 1 <= per_page <= 100:
        raise bad_request("page must be >= 1 and per_page 1..100")
    return page, per_page


def _mv() -> MaventaBackend:
    return current_backend(MaventaBackend)


def _token(*scopes: str) -> Token:
    return _mv().token(request.headers.get("Authorization"), *scopes)


def _root() -> str:
    return request.host_url.rstrip("/")


# --------------------------------------------------------------------------- auth
@bp.post("/oauth2/token")
def oauth_token() -> Response:
    mv = _mv()
    form = {k: v for k, v in request.form.items()} or _body()
    fields = credentials_from_request(form, request.headers.get("Authorization"))
    return _json(issue_token(mv.state, fields, mv.now(), require_vendor_key=mv.options.require_vendor_key))


@bp.get("/oauth2/current")
def oauth_current() -> Response:
    tok, mv = _token(), _mv()
    return _json(views.current(mv.user_of(tok), mv.company_of(tok.company_id), tok))


@bp.get("/status/authenticated")
def status_authenticated() -> Response:
    tok = _token()
    return _json({"client_id": tok.company_id, "expires_at": iso(tok.expires_at)})


# --------------------------------------------------------------------------- registration (MV-1, MV-2)
@bp.post("/v1/users")
def create_user() -> Response:
    return _json(_mv().create_user(_body()), 201)


@bp.post("/v1/companies")
def create_company() -> Response:
    mv = _mv()
    form = {k: v for k, v in request.form.items()} or {k: str(v) for k, v in _body().items()}
    return _json({"id": mv.create_company(form, mv.now()).id}, 201)


@bp.get("/v1/companies")
def list_companies() -> Response:
    tok = _token("company:read")
    found = _mv().companies_of(tok, request.args.get("bid"), request.args.get("country"))
    return _json([{"id": c.id, "name": c.name, "bid": c.bid} for c in found])


@bp.get("/v1/partner/lookups/companies")
def partner_lookup() -> Response:
    _token("partner:lookups")
    bids = _list("bids")
    if not bids:
        raise bad_request("bids is missing")
    return _json(_mv().bid_statuses(bids, (request.args.get("country") or "FI").upper()))


# --------------------------------------------------------------------------- authorisation (MV-3, MV-4)
@bp.post("/v1/company/authorization")
def request_authorization() -> Response:
    tok, mv = _token("company:write"), _mv()
    return _json(mv.request_authorization(mv.company_of(tok.company_id), _body(), mv.now()))


@bp.get("/v1/company/authorization")
def get_authorization() -> Response:
    return _json(views.auth_status(_mv().company_of(_token("company:read").company_id)))


@bp.get("/v1/companies/<company_id>/status")
def company_status(company_id: str) -> Response:
    return _json(views.auth_status(_mv().company_status(_token("company:read"), company_id)))


# --------------------------------------------------------------------------- settings
@bp.get("/v1/company/settings")
def get_settings() -> Response:
    c = _mv().company_of(_token("company:read").company_id)
    wanted = _list("fields[]") or _list("fields")
    return _json({k: v for k, v in c.settings.items() if not wanted or k in wanted})


@bp.patch("/v1/company/settings")
def patch_settings() -> Response:
    c = _mv().company_of(_token("company:write").company_id)
    apply_patch(c.settings, _body())
    return Response(status=204)


# --------------------------------------------------------------------------- invoices
def _replayed(inv: Invoice) -> Response:
    resp = _json(views.invoice_json(inv, _root()), 201)
    resp.headers["X-Sim-Idempotent-Replay"] = "true"
    return resp


@bp.post("/v1/invoices")
@unlocked
def create_invoice() -> Response:
    """Send an invoice (lähetä lasku); a repeated ``uuid`` answers with the invoice it made."""
    mv, lock = _mv(), current_simulator().lock
    form, files = request.form, request.files  # parse the multipart body first, unlocked
    uid = uploads.read_uuid(form)
    with lock:
        existing = mv.earlier_invoice(uid, mv.sending_company(_token("invoice:send")))
        if existing is not None and mv.replays_unread:
            return _replayed(existing)
    upload = uploads.read_file(form, files, max_expanded=mv.options.max_upload_expanded)
    if existing is not None:  # the same invoice again, or another under a used uuid (409)
        digest = mv.digest_of(upload)
        with lock:
            mv.same_invoice_or_refuse(existing, digest)
            return _replayed(existing)
    intake = mv.read_finvoice(upload)
    how = uploads.read_options(form)
    with lock:  # the state changes: checked again, the world may have moved meanwhile
        tok = _token("invoice:send")
        company = mv.sending_company(tok)
        existing = mv.earlier_invoice(uid, company)
        if existing is not None:
            mv.same_invoice_or_refuse(existing, intake.digest)
            return _replayed(existing)
        return _json(
            views.invoice_json(mv.send_invoice(tok, company, upload, how, intake, uid), _root()), 201
        )


@bp.get("/v1/invoices")
def list_invoices() -> Response:
    tok = _token("invoice:send", "invoice:receive")
    direction = request.args.get("direction", "RECEIVED").upper()
    if direction not in ("RECEIVED", "SENT"):
        raise bad_request("direction does not have a valid value", ["direction: RECEIVED or SENT"])
    statuses = set(_list("status[]", "status", upper=True))
    if statuses - set(INVOICE_STATUSES):
        raise bad_request("status does not have a valid value")
    given = _list("ids[]", "ids")
    if len(given) > MAX_IDS_PER_QUERY:
        raise bad_request(f"ids: at most {MAX_IDS_PER_QUERY} per query", [f"ids: {len(given)} given"])
    page, per_page = _page()
    items: list[Invoice] = []
    if direction == "SENT":
        number, reference = request.args.get("number"), request.args.get("reference")
        items = _mv().sent_invoices(
            tok, statuses=statuses, ids=set(given), number=number, reference=reference
        )
    chunk = items[(page - 1) * per_page : page * per_page]
    resp = _json([views.invoice_json(i, _root()) for i in chunk])
    pages = max(1, -(-len(items) // per_page))
    resp.headers.update(
        {
            "X-Total": str(len(items)),
            "X-Total-Pages": str(pages),
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
        }
    )
    if page < pages:
        resp.headers["X-Next-Page"] = str(page + 1)
    return resp


@bp.get("/v1/invoices/<invoice_id>")
def get_invoice(invoice_id: str) -> Response:
    tok, mv = _token("invoice:send", "invoice:receive"), _mv()
    inv = mv.own_invoice(tok, invoice_id)
    mv.progress(inv, mv.now(), poll=True)
    rf = request.args.get("return_format", "").strip().upper()
    if rf and rf not in RETURN_FORMATS:
        raise bad_request("return_format does not have a valid value", [f"return_format: {rf!r}"])
    if rf in IMAGES:
        return Response(mv.image_for(inv, rf).content, mimetype="application/pdf")
    if rf in XML_FORMATS:
        xml = mv.original_xml(inv) if rf == "FINVOICE30" else convert(mv.invoice_data(inv), rf)
        return Response(xml, mimetype="application/xml")
    assert rf in ("", DETAILS)
    return _json(views.invoice_json(inv, _root()))


@bp.get("/v1/invoices/<invoice_id>/actions")
def invoice_actions(invoice_id: str) -> Response:
    tok, mv = _token("invoice:send", "invoice:receive"), _mv()
    inv = mv.own_invoice(tok, invoice_id)
    mv.progress(inv, mv.now())
    types = set(_list("type[]", "type", upper=True))
    return _json([views.action_json(x) for x in inv.actions if not types or x.type in types])


@bp.get("/v1/invoices/<invoice_id>/files/<file_id>")
def invoice_file(invoice_id: str, file_id: str) -> Response:
    inv = _mv().own_invoice(_token("invoice:send", "invoice:receive"), invoice_id)
    f = next((x for x in inv.files if x.id == file_id), None)
    if f is None:
        raise not_found("File")
    resp = Response(f.content, mimetype=f.mimetype)
    resp.headers["Content-Disposition"] = uploads.content_disposition(f.filename)
    return resp


@bp.put("/v1/invoices/<invoice_id>/reroute/<channel>")
def reroute(invoice_id: str, channel: str) -> Response:
    tok, mv = _token("invoice:send"), _mv()
    inv = mv.own_invoice(tok, invoice_id)
    mv.reroute(inv, channel, _body(), mv.now())
    return Response(status=200)


# --------------------------------------------------------------------------- lookups
@bp.get("/v1/lookup/endpoints")
def lookup_endpoints() -> Response:
    _token("lookup")
    bids = _list("business_ids")
    if not bids:
        raise bad_request("business_ids is missing")
    if len(bids) > 10:
        raise bad_request("business_ids: at most 10 values")
    state = _mv().state
    return _json(
        [{"bid": bid, "sending": ["EINVOICE"] if registry.by_bid(state, bid) else []} for bid in bids]
    )


@bp.get("/v1/lookup/receivers")
def lookup_receivers() -> Response:
    _token("lookup")
    a = request.args
    networks = [n.upper() for n in _list("network")]
    countries = [c.upper() for key in ("country[]", "country") for c in a.getlist(key) if c]
    if not (a.get("eia") or a.get("bid") or a.get("name")):
        raise bad_request("one of eia, bid or name is required")
    page, per_page = _page(100)
    found = registry.search(
        _mv().state,
        eia=a.get("eia"),
        bid=a.get("bid"),
        name=a.get("name"),
        networks=networks or None,
        countries=countries or None,
    )
    return _json([views.receiver_json(r) for r in found[(page - 1) * per_page : page * per_page]])
