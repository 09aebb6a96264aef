"""The AX API routes (thin): parse the request, call the backend, serialise the answer."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import Flask, Response, jsonify, request

from simulators.kit import request_json, unlocked

from . import finvoice, registry
from .auth import bearer_token, credentials_from_request, issue_token, require_scope
from .errors import MaventaError, bad_request, not_found
from .models import Action, Company, Invoice, InvoiceFile, RoutePlan, Token
from .routing import Overrides, duplicate_number_error, plan_route
from .state import iso

if TYPE_CHECKING:
    from . import MaventaSimulator

FORMATS = [
    "VISMAXML53",
    "VISMAXML60",
    "SVEFAKTURA10",
    "SEDI",
    "E2B",
    "EHF20",
    "PEPPOLBIS20",
    "PEPPOLBIS30",
    "SIUBL11",
    "SIUBL12",
    "SIUBL20",
    "OIOUBL",
    "OIOUBL21",
    "VISMAUBL10",
    "VISMAUBL30",
    "FINVOICE13",
    "FINVOICE20",
    "FINVOICE30",
    "TEAPPS27",
    "TEAPPS30",
    "XRECHNUNG23UBL",
    "XRECHNUNG23CII",
    "XRECHNUNG23EXTUBL",
    "XRECHNUNG23EXTCII",
    "XRECHNUNG30UBL",
    "XRECHNUNG30CII",
    "XRECHNUNG30EXTUBL",
    "XRECHNUNG30EXTCII",
    "FATTURAPA12",
]
SUPPORTED_FORMATS = ("FINVOICE30", "FINVOICE20", "FINVOICE13")
LANGS = ("FI", "SE", "NO", "DK", "NL", "EN")
ROUTES = ("print", "email", "einvoice")
MAX_ZIP_ENTRIES = 50
MAX_FILE = 10 * 1024 * 1024
MAX_IDS_PER_QUERY = 100  # GET /v1/invoices?ids=: "Batch of invoice IDs. Maximum of 100 per query"


# --------------------------------------------------------------------------- serialisation
def action_json(a: Action) -> dict[str, Any]:
    out: dict[str, Any] = {"type": a.type}
    if a.channel:
        out["channel"] = a.channel
    out["message"] = a.message
    if a.key:
        out["key"] = a.key
    out["happened_at"] = iso(a.happened_at)
    return out


def file_json(inv: Invoice, f: InvoiceFile, root: str) -> dict[str, Any]:
    return {
        "id": f.id,
        "filename": f.filename,
        "type": f.type,
        "mimetype": f.mimetype,
        "href": f"{root}/v1/invoices/{inv.id}/files/{f.id}",
    }


def invoice_json(inv: Invoice, root: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": inv.id,
        "status": inv.status,
        "reference": inv.reference,
        "number": inv.number,
        "sender": {k: v for k, v in inv.sender.items() if v},
        "recipient": {k: v for k, v in inv.recipient.items() if v},
        "created_at": iso(inv.created_at),
        "date": inv.date,
    }
    if inv.date_due:
        out["date_due"] = inv.date_due
    out.update(
        {
            "source_format": inv.source_format,
            "sum": inv.sum,
            "sum_tax": inv.sum_tax,
            "currency": inv.currency,
            "origin": "INTERNAL",
        }
    )
    if inv.destination:
        out["destination"] = inv.destination
    if inv.sender_comment:
        out["comment"] = inv.sender_comment
    out["files"] = [file_json(inv, f, root) for f in inv.files]
    out["actions"] = [action_json(a) for a in inv.actions]
    if inv.revision:
        out["revision"] = inv.revision
    return out


def _json(data: Any, status: int = 200) -> Response:
    resp = jsonify(data)
    resp.status_code = status
    return resp


def _json_body() -> dict[str, Any]:
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


def _bool(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise bad_request(f"{name} is invalid", [f"{name}: expected true or false, got {value!r}"])


# --------------------------------------------------------------------------- uploads
# [inferred] Maventa documents none of these limits; they keep one upload (and one company) from
# taking the fake's memory: a 141 KB ZIP of zeros used to expand to ~135 MB.
MAX_UPLOAD_EXPANDED = 25 * 1024 * 1024  # everything one upload unpacks to
MAX_COMPANY_STORAGE = 256 * 1024 * 1024  # the files the fake keeps for one company
ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
MAX_NAME = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_filename(name: str, where: str) -> None:
    """A file name the fake can store and serve back: no control characters (CR/LF could split a
    download's headers), at most 255 characters. Any other character is fine (RFC 6266 serves it)."""
    if _CONTROL.search(name):
        raise MaventaError(
            400,
            "invalid_file",
            "The file name contains control characters",
            [
                f"{where}: {name.encode('unicode_escape').decode('ascii')[:120]!r} (CR, LF, tabs and the like are not allowed)"
            ],
        )
    if len(name) > MAX_NAME:
        raise MaventaError(
            400, "invalid_file", f"The file name is too long (max {MAX_NAME} characters)", [where]
        )


def content_disposition(filename: str) -> str:
    """``attachment`` with the name as ASCII (quoted, escaped) and, when it is not ASCII, also as
    RFC 5987 UTF-8 (``filename*``): any stored name downloads correctly, never a broken header."""
    clean = _CONTROL.sub("", filename) or "file"
    fallback = clean.encode("ascii", "replace").decode("ascii").replace("\\", "\\\\").replace('"', '\\"')
    header = f'attachment; filename="{fallback}"'
    if not clean.isascii():
        header += f"; filename*=UTF-8''{quote(clean, safe='')}"
    return header


def _bad_zip(message: str, detail: str) -> MaventaError:
    return MaventaError(400, "invalid_file", message, [detail])


def unpack_upload(
    filename: str, content: bytes, *, max_expanded: int = MAX_UPLOAD_EXPANDED
) -> tuple[InvoiceFile | None, bytes, list[tuple[str, str, bytes]]]:
    """(unused, xml bytes, [(kind, name, bytes)]) – a single XML or a ZIP (XML + same-named PDF + attachments).

    Every ZIP that cannot be read (bad CRC, sizes that lie, Deflate64, AES or any encryption, a
    broken directory) is a 400 ``invalid_file``; what it unpacks to is capped at `max_expanded`
    bytes, as declared and as actually read (413)."""
    if not content.startswith(b"PK\x03\x04"):
        return None, content, []
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, struct.error) as exc:
        raise _bad_zip("The ZIP file cannot be read", str(exc)) from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise MaventaError(400, "invalid_file", f"Too many files in the ZIP (max {MAX_ZIP_ENTRIES})")
    for info in infos:
        check_filename(info.filename, "ZIP entry")
        if info.flag_bits & 0x1:
            raise _bad_zip("Encrypted ZIP files are not supported", f"{info.filename} is encrypted")
        if info.compress_type not in ZIP_METHODS:
            raise _bad_zip(
                "The ZIP file uses a compression method that is not supported",
                f"{info.filename}: method {info.compress_type} (supported: stored, deflated)",
            )
    declared = sum(i.file_size for i in infos)
    if declared > max_expanded or any(i.file_size > MAX_FILE for i in infos):
        raise MaventaError(
            413,
            "file_too_large",
            "The ZIP unpacks to too much data",
            [f"max {MAX_FILE} bytes per file, {max_expanded} bytes per upload; this one declares {declared}"],
        )
    xmls = [i for i in infos if i.filename.lower().endswith(".xml")]
    if len(xmls) != 1:
        raise MaventaError(
            400,
            "invalid_file",
            "The ZIP must contain exactly one invoice XML file",
            [f"found {len(xmls)} .xml files"],
        )
    spans = _entry_spans(content, infos, zf.start_dir)
    base = xmls[0].filename.rsplit("/", 1)[-1][:-4]
    xml = _inflate(content, xmls[0], spans[xmls[0].filename])
    others: list[tuple[str, str, bytes]] = []
    for info in infos:
        if info is xmls[0]:
            continue
        name = info.filename.rsplit("/", 1)[-1]
        kind = "INVOICE_IMAGE" if name.lower() == f"{base.lower()}.pdf" else "ATTACHMENT"
        others.append((kind, name, _inflate(content, info, spans[info.filename])))
    return None, xml, others


def _entry_spans(
    content: bytes, infos: list[zipfile.ZipInfo], directory_at: int
) -> dict[str, tuple[int, int]]:
    """Where each entry's data lies, from its local header; sizes that make entries overlap each
    other or the central directory (a lying compressed size, an overlapping-entry bomb) are refused."""
    spans: dict[str, tuple[int, int]] = {}
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for n, info in enumerate(ordered):
        at = info.header_offset
        if content[at : at + 4] != b"PK\x03\x04" or at + 30 > len(content):
            raise _bad_zip(
                "The ZIP file cannot be read", f"{info.filename}: no local header where the directory says"
            )
        name_len, extra_len = struct.unpack_from("<HH", content, at + 26)
        start = at + 30 + name_len + extra_len
        end = start + info.compress_size
        limit = ordered[n + 1].header_offset if n + 1 < len(ordered) else directory_at
        if end > limit or end > len(content):
            raise _bad_zip(
                "The sizes in the ZIP file do not add up",
                f"{info.filename}: its data overruns what follows it",
            )
        if info.filename in spans:
            raise _bad_zip("The ZIP file cannot be read", f"{info.filename} appears twice")
        spans[info.filename] = (start, end)
    return spans


def _inflate(content: bytes, info: zipfile.ZipInfo, span: tuple[int, int]) -> bytes:
    """The entry's bytes, checked: exactly the declared size (never inflating past it), the end of
    its deflate stream there, and its CRC-32."""
    raw = content[span[0] : span[1]]
    if info.compress_type == zipfile.ZIP_STORED:
        data = raw
    else:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(raw, info.file_size + 1)
        except zlib.error as exc:
            raise _bad_zip("The ZIP file cannot be read", f"{info.filename}: {exc}") from exc
        if len(data) == info.file_size and not inflater.eof:
            raise _bad_zip(
                "The sizes in the ZIP file do not add up",
                f"{info.filename} inflates to more than the {info.file_size} bytes it declares",
            )
    if len(data) != info.file_size:
        raise _bad_zip(
            "The sizes in the ZIP file do not add up",
            f"{info.filename} holds {len(data)} bytes but declares {info.file_size}",
        )
    if zlib.crc32(data) != info.CRC:
        raise _bad_zip("The ZIP file cannot be read", f"Bad CRC-32 for file {info.filename!r}")
    return data


def _mimetype(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {
        "pdf": "application/pdf",
        "xml": "application/xml",
        "txt": "text/plain",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "png": "image/png",
        "gif": "image/gif",
        "tif": "image/tiff",
        "html": "text/html",
        "htm": "text/html",
    }.get(ext, "application/octet-stream")


# --------------------------------------------------------------------------- routes
def register(app: Flask, sim: MaventaSimulator) -> None:
    def guard(fn: Callable[..., Response]) -> Callable[..., Response]:
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            try:
                return fn(*args, **kwargs)
            except MaventaError as exc:
                return exc.response()

        wrapper.__name__ = fn.__name__
        return wrapper

    def token(*scopes: str) -> Token:
        tok = bearer_token(sim.data, request.headers.get("Authorization"), sim.clock.now())
        if scopes:
            require_scope(tok, scopes)
        return tok

    def company_of(tok: Token) -> Company:
        return sim.backend.company_of(tok.company_id)

    def root() -> str:
        return request.host_url.rstrip("/")

    def own_invoice(tok: Token, invoice_id: str) -> Invoice:
        inv = sim.data.invoices.get(invoice_id)
        if inv is None or inv.company_id != tok.company_id:
            raise not_found("Invoice")
        return inv

    # ---- auth
    @app.post("/oauth2/token")
    @guard
    def oauth_token() -> Response:
        fields = credentials_from_request(
            {k: v for k, v in request.form.items()} or _json_body(), request.headers.get("Authorization")
        )
        return _json(
            issue_token(sim.data, fields, sim.clock.now(), require_vendor_key=sim.options.require_vendor_key)
        )

    @app.get("/oauth2/current")
    @guard
    def oauth_current() -> Response:
        tok = token()
        user, company = sim.data.users[tok.user_id], company_of(tok)
        return _json(
            {
                "user": {
                    "id": user.id,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "email": user.email,
                },
                "company": {
                    "id": company.id,
                    "bid": company.bid,
                    "name": company.name,
                    "country": company.country,
                    "vat": company.vat,
                    "wizard_done": company.company_state == "VERIFIED",
                    "disabled": False,
                },
                "scopes": tok.scopes,
            }
        )

    @app.get("/status/authenticated")
    @guard
    def status_authenticated() -> Response:
        tok = token()
        return _json({"client_id": tok.company_id, "expires_at": iso(tok.expires_at)})

    # ---- registration
    @app.post("/v1/users")
    @guard
    def create_user() -> Response:
        return _json(sim.backend.create_user(_json_body()), 201)

    @app.post("/v1/companies")
    @guard
    def create_company() -> Response:
        form = {k: v for k, v in request.form.items()} or {k: str(v) for k, v in _json_body().items()}
        company = sim.backend.create_company(form, sim.clock.now())
        return _json({"id": company.id}, 201)

    @app.get("/v1/companies")
    @guard
    def list_companies() -> Response:
        tok = token("company:read")
        user = sim.data.users[tok.user_id]
        bid, country = request.args.get("bid"), request.args.get("country")
        out = []
        for cid in user.company_ids:
            c = sim.data.companies[cid]
            if (bid and c.bid != bid and c.vat != bid) or (country and c.country != country.upper()):
                continue
            out.append({"id": c.id, "name": c.name, "bid": c.bid})
        return _json(out)

    @app.get("/v1/partner/lookups/companies")
    @guard
    def partner_lookup() -> Response:
        token("partner:lookups")
        bids = [b.strip() for b in request.args.get("bids", "").split(",") if b.strip()]
        if not bids:
            raise bad_request("bids is missing")
        country = (request.args.get("country") or "FI").upper()
        from .state import normalise_bid

        out = []
        for raw in bids:
            bid, _ = normalise_bid(raw, country)
            taken = bool(bid) and sim.data.company_by_bid(bid, country) is not None
            out.append({"company_bid": raw, "company_status": "RESERVED" if taken else "FREE"})
        return _json(out)

    # ---- authorisation (KYC)
    def auth_status(c: Company) -> dict[str, str]:
        return {"auth_state": c.auth_state, "auth_email": c.auth_email, "company_state": c.company_state}

    @app.post("/v1/company/authorization")
    @guard
    def request_authorization() -> Response:
        tok = token("company:write")
        return _json(sim.backend.request_authorization(company_of(tok), _json_body(), sim.clock.now()))

    @app.get("/v1/company/authorization")
    @guard
    def get_authorization() -> Response:
        return _json(auth_status(company_of(token("company:read"))))

    @app.get("/v1/companies/<company_id>/status")
    @guard
    def company_status(company_id: str) -> Response:
        tok = token("company:read")
        user = sim.data.users[tok.user_id]
        if company_id not in user.company_ids:
            raise not_found("Company")
        return _json(auth_status(sim.data.companies[company_id]))

    # ---- settings
    @app.get("/v1/company/settings")
    @guard
    def get_settings() -> Response:
        c = company_of(token("company:read"))
        wanted = request.args.getlist("fields[]") or request.args.getlist("fields")
        wanted = [w for f in wanted for w in f.split(",") if w]
        settings = {k: v for k, v in c.settings.items() if not wanted or k in wanted}
        return _json(settings)

    @app.patch("/v1/company/settings")
    @guard
    def patch_settings() -> Response:
        c = company_of(token("company:write"))
        from .settings import apply_patch

        apply_patch(c.settings, _json_body())
        return Response(status=204)

    # ---- invoices
    def sending_company() -> tuple[Token, Company]:
        tok = token("invoice:send")
        company = company_of(tok)
        if company.company_state != "VERIFIED":
            raise MaventaError(
                403,
                "company_unverified",
                "Unauthorized",
                [
                    f"Sending is not allowed while company_state is {company.company_state}; "
                    "the company authorisation must be signed first"
                ],
            )
        return tok, company

    def replay(uid: str, company: Company) -> Response | None:
        """The answer to a repeated uuid (the invoice it made), or None for a new one."""
        existing = sim.data.invoices.get(uid) if uid else None
        if existing is None:
            return None
        if existing.company_id != company.id:
            raise MaventaError(409, "uuid_conflict", "An invoice with this uuid already exists")
        resp = _json(invoice_json(existing, root()), 201)
        resp.headers["X-Sim-Idempotent-Replay"] = "true"
        return resp

    @app.post("/v1/invoices")
    @unlocked
    @guard
    def create_invoice() -> Response:
        """Send an invoice (lähetä lasku). Reading, unpacking, parsing and validating the upload
        happen outside the simulator's lock (an upload built to be slow to validate held up every
        other Maventa call for minutes); only the checks and the state change take it."""
        form, uploads = request.form, request.files  # parse the multipart body first, unlocked
        uid = form.get("uuid", "").strip()
        if len(uid) > 36:
            raise bad_request("uuid is too long (max 36 characters)")
        with sim.lock:
            _, company = sending_company()
            answered = replay(uid, company)
            if answered is not None:
                return answered
        upload = uploads.get("file")
        if upload is None or not upload.filename:
            raise bad_request(
                "file is missing", ["Send the invoice as multipart field 'file' with a filename"]
            )
        check_filename(upload.filename, "file")
        content = upload.read(MAX_FILE + 1)
        if len(content) > MAX_FILE:
            raise MaventaError(413, "file_too_large", f"The file is too large (max {MAX_FILE} bytes)")
        _, xml, others = unpack_upload(upload.filename, content, max_expanded=sim.max_upload_expanded)
        fmt = form.get("format", "").strip().upper()
        if fmt and fmt not in FORMATS:
            raise bad_request("format does not have a valid value", [f"format: {fmt!r}"])
        try:
            root_el = finvoice.parse_xml(xml)
            detected = finvoice.detect_format(root_el)
            if fmt and fmt not in SUPPORTED_FORMATS:
                raise MaventaError(
                    400,
                    "format_not_supported",
                    f"Format {fmt} is not supported by the simulator",
                    [f"supported: {', '.join(SUPPORTED_FORMATS)}"],
                )
            if detected is None or detected not in SUPPORTED_FORMATS:
                raise MaventaError(
                    400,
                    "invalid_file",
                    "Unable to detect the invoice format",
                    ["the simulator reads Finvoice 3.0 (FINVOICE30)"],
                )
            fv = finvoice.finvoice_root(root_el)
            findings = finvoice.validate(fv, sim.xsd_schema())
        except finvoice.FinvoiceError as exc:
            raise MaventaError(
                400,
                exc.code,
                "Invoice validation failed" if exc.code == "validation_failed" else exc.message,
                exc.messages[: finvoice.MAX_FINDINGS],
            ) from exc
        if findings:
            raise MaventaError(400, "validation_failed", "Invoice validation failed", findings)
        data = finvoice.extract(fv)
        disabled = {
            d.strip().lower()
            for key in ("disabled_routes[]", "disabled_routes")
            for v in form.getlist(key)
            for d in v.split(",")
            if d.strip()
        }
        if disabled - set(ROUTES):
            raise bad_request("disabled_routes does not have a valid value", sorted(disabled - set(ROUTES)))
        lang = form.get("lang", "FI").strip().upper() or "FI"
        if lang not in LANGS:
            raise bad_request("lang does not have a valid value", [f"lang: {lang!r}"])
        print_options: dict[str, Any] = {}
        for key in ("color", "print_own_image", "prevent_digital_post", "allow_kivra_fi"):
            v = _bool(form.get(f"print_settings[{key}]"), f"print_settings[{key}]")
            if v is not None:
                print_options[key] = v
        lc = form.get("print_settings[letter_class]", "").strip().upper()
        if lc:
            if lc not in ("PRIORITY", "ECONOMY"):
                raise bad_request("print_settings[letter_class] does not have a valid value")
            print_options["letter_class"] = lc
        ov = Overrides(
            eia=form.get("recipient_eia", "").strip(),
            operator=form.get("recipient_operator", "").strip(),
            email=form.get("recipient_email", "").strip(),
            disabled=disabled,
        )
        for name, value, limit in (
            ("recipient_eia", ov.eia, 128),
            ("recipient_operator", ov.operator, 128),
            ("recipient_email", ov.email, 255),
        ):
            if len(value) > limit:
                raise bad_request(f"{name} is too long (max {limit})")
        prevent = _bool(form.get("prevent_routing"), "prevent_routing")
        xml_name = upload.filename if not content.startswith(b"PK") else "invoice.xml"
        blobs = [("INVOICE_XML", xml_name.rsplit("/", 1)[-1], "application/xml", xml)]
        blobs += [(kind, name, _mimetype(name), blob) for kind, name, blob in others]
        with sim.lock:  # the state changes: checked again, the world may have moved meanwhile
            tok, company = sending_company()
            answered = replay(uid, company)
            if answered is not None:
                return answered
            sim.backend.reserve_storage(company, sum(len(b[3]) for b in blobs), sim.max_company_storage)
            now = sim.clock.now()
            dup = duplicate_number_error(sim.data, company, data.number, now)
            route = RoutePlan(channel=None, error=dup) if dup else plan_route(sim.data, company, data, ov)
            if prevent:
                route = RoutePlan(channel="NONE", notes=["prevent_routing: marked as sent without sending"])
            state = sim.data
            files = [
                InvoiceFile(id=state.new_id("file"), filename=name, type=kind, mimetype=mime, content=blob)
                for kind, name, mime, blob in blobs
            ]
            user = sim.data.users[tok.user_id]
            inv = sim.backend.new_invoice(
                company=company,
                user=user,
                data=data,
                source_format=detected,
                route=route,
                files=files,
                lang=lang,
                sender_comment=form.get("sender_comment", "")[:1024],
                print_options=print_options,
                now=now,
                invoice_id=uid or None,
            )
            if route.channel == "NONE":
                inv.status = "DELIVERED"
                inv.actions.append(
                    Action(type="SENT", happened_at=now, message="Routing prevented (prevent_routing)")
                )
            return _json(invoice_json(inv, root()), 201)

    @app.get("/v1/invoices")
    @guard
    def list_invoices() -> Response:
        tok = token("invoice:send", "invoice:receive")
        a = request.args
        direction = a.get("direction", "RECEIVED").upper()
        if direction not in ("RECEIVED", "SENT"):
            raise bad_request("direction does not have a valid value", ["direction: RECEIVED or SENT"])
        statuses = {
            s.upper() for key in ("status[]", "status") for v in a.getlist(key) for s in v.split(",") if s
        }
        if statuses - {"PENDING", "DELIVERED", "FAILED"}:
            raise bad_request("status does not have a valid value")
        given = [i for key in ("ids[]", "ids") for v in a.getlist(key) for i in v.split(",") if i]
        if len(given) > MAX_IDS_PER_QUERY:
            raise bad_request(f"ids: at most {MAX_IDS_PER_QUERY} per query", [f"ids: {len(given)} given"])
        ids = set(given)
        try:
            page = int(a.get("page", "1"))
            per_page = int(a.get("per_page", "10"))
        except ValueError as exc:
            raise bad_request("page and per_page must be integers") from exc
        if page < 1 or not 1 <= per_page <= 100:
            raise bad_request("page must be >= 1 and per_page 1..100")
        now = sim.clock.now()
        items: list[Invoice] = []
        if direction == "SENT":
            for inv in sim.data.invoices.values():
                if inv.company_id != tok.company_id:
                    continue
                sim.backend.progress(inv, now)
                if statuses and inv.status not in statuses:
                    continue
                if ids and inv.id not in ids:
                    continue
                if a.get("number") and inv.number != a["number"]:
                    continue
                if a.get("reference") and inv.reference != a["reference"]:
                    continue
                items.append(inv)
        items.sort(key=lambda i: i.created_at, reverse=True)
        total = len(items)
        chunk = items[(page - 1) * per_page : page * per_page]
        resp = _json([invoice_json(i, root()) for i in chunk])
        pages = max(1, -(-total // per_page))
        resp.headers.update(
            {
                "X-Total": str(total),
                "X-Total-Pages": str(pages),
                "X-Page": str(page),
                "X-Per-Page": str(per_page),
            }
        )
        if page < pages:
            resp.headers["X-Next-Page"] = str(page + 1)
        return resp

    @app.get("/v1/invoices/<invoice_id>")
    @guard
    def get_invoice(invoice_id: str) -> Response:
        tok = token("invoice:send", "invoice:receive")
        inv = own_invoice(tok, invoice_id)
        sim.backend.progress(inv, sim.clock.now(), poll=True)
        rf = request.args.get("return_format", "").strip().upper()
        if rf in ("ORIGINAL_IMAGE", "GENERATED_IMAGE", "ORIGINAL_OR_GENERATED_IMAGE"):
            own = sim.backend.own_image(inv)
            if rf == "ORIGINAL_IMAGE" and own is None:
                raise not_found("Original invoice image")
            f = own if (own is not None and rf != "GENERATED_IMAGE") else sim.backend.generated_image(inv)
            return Response(f.content, mimetype="application/pdf")
        if rf in ("FINVOICE30", "FINVOICE20"):
            xml = next(f for f in inv.files if f.type == "INVOICE_XML")
            return Response(xml.content, mimetype="application/xml")
        if rf and rf != "EXTENDED_DETAILS":
            raise bad_request("return_format is not supported by the simulator", [rf])
        return _json(invoice_json(inv, root()))

    @app.get("/v1/invoices/<invoice_id>/actions")
    @guard
    def invoice_actions(invoice_id: str) -> Response:
        tok = token("invoice:send", "invoice:receive")
        inv = own_invoice(tok, invoice_id)
        sim.backend.progress(inv, sim.clock.now())
        types = {
            t.upper()
            for key in ("type[]", "type")
            for v in request.args.getlist(key)
            for t in v.split(",")
            if t
        }
        return _json([action_json(x) for x in inv.actions if not types or x.type in types])

    @app.get("/v1/invoices/<invoice_id>/files/<file_id>")
    @guard
    def invoice_file(invoice_id: str, file_id: str) -> Response:
        tok = token("invoice:send", "invoice:receive")
        inv = own_invoice(tok, invoice_id)
        f = next((x for x in inv.files if x.id == file_id), None)
        if f is None:
            raise not_found("File")
        resp = Response(f.content, mimetype=f.mimetype)
        resp.headers["Content-Disposition"] = content_disposition(f.filename)
        return resp

    @app.put("/v1/invoices/<invoice_id>/reroute/<channel>")
    @guard
    def reroute(invoice_id: str, channel: str) -> Response:
        tok = token("invoice:send")
        inv = own_invoice(tok, invoice_id)
        body = _json_body()
        company = company_of(tok)
        if channel == "einvoice":
            eia, op = str(body.get("recipient_eia") or ""), str(body.get("recipient_operator") or "")
            if not eia or not op:
                raise bad_request("recipient_eia and recipient_operator are required")
            from .routing import _pair_error

            err = _pair_error(sim.data, eia, op)
            route = RoutePlan(channel=None if err else "EINVOICE", error=err, eia=eia, operator=op)
        elif channel == "email":
            email = str(body.get("recipient_email") or "")
            from .state import EMAIL_RE

            if not EMAIL_RE.fullmatch(email):
                raise bad_request("recipient_email is missing or invalid")
            route = RoutePlan(channel="EMAIL", email=email)
        elif channel == "print":
            need = (
                "recipient_name",
                "recipient_address1",
                "recipient_post_code",
                "recipient_post_office",
                "recipient_country",
            )
            missing = [n for n in need if not str(body.get(n) or "").strip()]
            if missing:
                raise bad_request("Missing required parameters", [f"{m} is missing" for m in missing])
            enabled = company.settings.get("send_invoice_print", {}).get("enabled")
            from .routing import PRINT_NOT_ENABLED

            route = RoutePlan(
                channel="PRINT" if enabled else None,
                error="" if enabled else PRINT_NOT_ENABLED,
                address={
                    "name": str(body["recipient_name"]),
                    "street": str(body["recipient_address1"]),
                    "post_code": str(body["recipient_post_code"]),
                    "town": str(body["recipient_post_office"]),
                    "country": str(body["recipient_country"]).upper(),
                },
            )
        else:
            raise not_found("Route")
        sim.backend.reroute(inv, route, sim.clock.now())
        return Response(status=200)

    # ---- lookups
    @app.get("/v1/lookup/endpoints")
    @guard
    def lookup_endpoints() -> Response:
        token("lookup")
        bids = [b.strip() for b in request.args.get("business_ids", "").split(",") if b.strip()]
        if not bids:
            raise bad_request("business_ids is missing")
        if len(bids) > 10:
            raise bad_request("business_ids: at most 10 values")
        out = []
        for bid in bids:
            found = registry.by_bid(sim.data, bid)
            out.append({"bid": bid, "sending": ["EINVOICE"] if found else []})
        return _json(out)

    @app.get("/v1/lookup/receivers")
    @guard
    def lookup_receivers() -> Response:
        token("lookup")
        a = request.args
        networks = [n.strip().upper() for v in a.getlist("network") for n in v.split(",") if n.strip()]
        countries = [c.upper() for key in ("country[]", "country") for c in a.getlist(key) if c]
        if not (a.get("eia") or a.get("bid") or a.get("name")):
            raise bad_request("one of eia, bid or name is required")
        try:
            page, per_page = int(a.get("page", "1")), int(a.get("per_page", "100"))
        except ValueError as exc:
            raise bad_request("page and per_page must be integers") from exc
        if page < 1 or not 1 <= per_page <= 100:
            raise bad_request("page must be >= 1 and per_page 1..100")
        found = registry.search(
            sim.data,
            eia=a.get("eia"),
            bid=a.get("bid"),
            name=a.get("name"),
            networks=networks or None,
            countries=countries or None,
        )
        chunk = found[(page - 1) * per_page : page * per_page]
        return _json([registry.receiver_json(r) for r in chunk])
