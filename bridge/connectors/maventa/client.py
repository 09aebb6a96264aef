"""Client of Maventa's AutoXChange (AX) REST API for the bridge.

Finnish terms, for support staff: *Käyttäjän API-avain* = user API key, *Yrityksen UUID* =
company UUID, *ohjelmistotoimittajan avain* = vendor (software) API key, *tunnistautumispyyntö*
= authentication request (KYC, signed through Visma Sign), *verkkolaskuosoite* = e-invoice
address (EIA), *välittäjätunnus* = operator code.

Wire facts this client relies on (``../shared/reference/maventa-api.md``, AX 0.85.550):

* ``POST /oauth2/token``, **form-encoded**: ``grant_type=client_credentials``,
  ``client_id`` = company UUID, ``client_secret`` = user API key, ``vendor_api_key``,
  ``scope`` (default ``eui``). Answer ``{"access_token","token_type","expires_in","scope"}``;
  the token lives 3600 s. It is cached, renewed ``refresh_margin`` s before it expires and
  once more on a 401 (``MaventaTokenAuth``, an ``httpx.Auth`` flow on ``bridge.http.TokenAuth``).
* Registration needs no token: ``POST /v1/users`` (JSON) → ``{"user_api_key"}`` (no key when
  the e-mail already has a Maventa user: ``create_user`` then returns None, MV-2), and
  ``POST /v1/companies`` (multipart) → ``{"id": company UUID}``.
* Errors are ``{"code","message","details":[...]}`` → ``MaventaError``.
* Lists use ``page`` (1-based) + ``per_page`` (≤ 100) and return bare arrays; the next page's
  number comes in ``X-Next-Page`` [inferred for invoices]. ``GET /v1/invoices?ids=a,b,c``
  takes a comma-separated batch of at most 100 ids (``style: form, explode: false``):
  ``get_invoices`` polls the bridge's sent invoices 100 at a time.
* Multipart uploads use one boundary per client (``for_company`` shares it), so the server
  sees the same boundary on every upload.
* Array fields in multipart forms are sent Rack-style as ``name[]`` (Maventa is a Grape/Rack
  service; its own per-invoice options are spelled ``print_settings[color]``), so
  ``disabled_routes`` goes out as ``disabled_routes[]=email``. ``array_style="repeat"``
  sends the bare name repeated instead.

**Idempotent sends.** ``send_invoice`` requires the ``uuid`` we choose (the bridge derives it
from the Severa invoice GUID). Maventa documents that the uuid is the invoice's id and that
a retry with the same uuid after a timeout is safe ("if it already exists you know the invoice
got created already"), so the send is retried on 5xx/timeouts/resets like a GET. What Maventa
answers to a re-used uuid is not documented [inferred: a 4xx such as 409/422]; on any 409 or
422 the client therefore asks ``GET /v1/invoices/{uuid}`` and, if the invoice is there, returns
it as the result of the send. ``find_invoice_by_uuid`` is that lookup (404 → None): the AX
API has no other uuid filter, and the uuid *is* the invoice ``id``.

All methods return the wire JSON as plain dicts/lists (``JsonObject``), ``None`` for 204s.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

import httpx

from bridge import http as core
from bridge.errors import ConfigurationError, MaventaError, MaventaMalformedResponse
from bridge.http import JsonObject, RateLimiter, RetryPolicy, ServiceClient, ServiceHttp, Token, TokenAuth

__all__ = [
    "DEFAULT_SCOPE",
    "IDS_PER_QUERY",
    "INVOICE_FORMATS",
    "ROUTES",
    "JsonObject",
    "MaventaClient",
    "MaventaTokenAuth",
]

DEFAULT_SCOPE = "eui"
#: ``GET /v1/invoices?ids=..``: "Batch of invoice IDs. Maximum of 100 per query" (AX spec)
IDS_PER_QUERY = 100
ROUTES = ("einvoice", "email", "print")
LOCALES = ("FI", "NO", "SE", "EN", "NL", "BE")
LANGS = ("FI", "SE", "NO", "DK", "NL", "EN")
INVOICE_FORMATS = (
    "FINVOICE30",
    "FINVOICE20",
    "FINVOICE13",
    "TEAPPS30",
    "TEAPPS27",
    "PEPPOLBIS30",
    "VISMAXML60",
)


class MaventaTokenAuth(TokenAuth):
    """Maventa's client-credentials token as an ``httpx.Auth`` flow.

    ``POST /oauth2/token``, form-encoded: ``grant_type=client_credentials``, ``client_id`` =
    company UUID (*Yrityksen UUID*), ``client_secret`` = user API key (*Käyttäjän API-avain*),
    ``vendor_api_key``, ``scope``. There is no refresh token: renewal is a new token request.
    """

    def __init__(
        self,
        http: ServiceHttp,
        vendor_api_key: str,
        company_id: str | None,
        user_api_key: str | None,
        scope: str,
        *,
        refresh_margin: float = 60.0,
    ) -> None:
        super().__init__(http, refresh_margin=refresh_margin)
        self._vendor_key = vendor_api_key
        self.company_id = company_id
        self._user_key = user_api_key
        self.scope = scope

    @property
    def has_credentials(self) -> bool:
        return bool(self.company_id and self._user_key)

    def fetch(self, previous: Token | None) -> Token:
        if not self.has_credentials:
            raise ConfigurationError(
                "this Maventa call needs the company UUID and the user API key; "
                "register or connect the company first"
            )
        form = {
            "grant_type": "client_credentials",
            "client_id": self.company_id or "",
            "client_secret": self._user_key or "",
            "vendor_api_key": self._vendor_key,
            "scope": self.scope,
        }
        return self.http.request("POST", "/oauth2/token", data=form, idempotent=True, parse=self.token_answer)


class MaventaClient(ServiceClient):
    """Maventa AX client for one company (``company_id`` + ``user_api_key``) of one vendor.

    ``http`` is an ``httpx.Client`` whose ``base_url`` is the API root
    (``https://ax.maventa.com``) or that URL as a string. ``company_id`` and
    ``user_api_key`` may be left out for registration calls (``create_user``,
    ``create_company``); every other call needs them (``ConfigurationError`` otherwise).
    Use ``for_company`` to get a client for another company over the same connection.
    """

    auth: MaventaTokenAuth

    def __init__(
        self,
        http: httpx.Client | str,
        vendor_api_key: str,
        company_id: str | None = None,
        user_api_key: str | None = None,
        scope: str = DEFAULT_SCOPE,
        *,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        refresh_margin: float = 60.0,
        array_style: Literal["brackets", "repeat"] = "brackets",
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        rand: Callable[[], float] | None = None,
        _shared: ServiceHttp | None = None,
        _boundary: str | None = None,
    ) -> None:
        if not vendor_api_key:
            raise ConfigurationError("the Maventa vendor API key is required")
        self._vendor_key = vendor_api_key
        self.array_style = array_style
        self.http = _shared or ServiceHttp(
            http,
            service="Maventa",
            error_factory=MaventaError.from_response,
            malformed_factory=MaventaMalformedResponse.for_response,
            policy=policy,
            limiter=limiter,
            headers={"Accept": "application/json"},
            clock=clock,
            sleep=sleep,
            rand=rand,
        )
        self.auth = MaventaTokenAuth(
            self.http,
            vendor_api_key,
            company_id or None,
            user_api_key or None,
            scope,
            refresh_margin=refresh_margin,
        )
        # One multipart boundary per client: werkzeug (and other servers) compile a parser per
        # boundary, and a fresh random one per upload made every upload pay for that.
        self._boundary = _boundary or secrets.token_hex(16)

    def __repr__(self) -> str:
        return f"MaventaClient(company_id={self.company_id!r}, base_url={str(self.http.client.base_url)!r})"

    @property
    def company_id(self) -> str | None:
        """The company UUID (*Yrityksen UUID*) the token is asked for."""
        return self.auth.company_id

    @property
    def scope(self) -> str:
        return self.auth.scope

    @property
    def refresh_margin(self) -> float:
        return self.auth.refresh_margin

    def for_company(self, company_id: str, user_api_key: str) -> MaventaClient:
        """A client for another company sharing this one's connection, policy, limiter and
        multipart boundary (not its token)."""
        return MaventaClient(
            self.http.client,
            self._vendor_key,
            company_id,
            user_api_key,
            self.scope,
            refresh_margin=self.refresh_margin,
            array_style=self.array_style,
            _shared=self.http,
            _boundary=self._boundary,
        )

    @property
    def multipart_boundary(self) -> str:
        """The boundary of this client's multipart uploads (the same on every upload)."""
        return self._boundary

    @property
    def has_credentials(self) -> bool:
        return self.auth.has_credentials

    def authenticate(self) -> str:
        """Get a fresh token now (verifies UUID + key, MV-4); returns the granted scope text."""
        return self.auth.renew().scope or ""

    # -- plumbing ---------------------------------------------------------------------------

    def _multipart(self, parts: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        """``files=`` and the ``Content-Type`` that fixes this client's boundary (httpx takes the
        boundary from the header). A part that happens to hold the boundary gets a fresh one."""
        boundary = self._boundary
        if any(boundary.encode() in _part_bytes(value) for _, value in parts):
            boundary = secrets.token_hex(16)
        return {
            "files": list(parts),
            "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        }

    def _array_key(self, name: str) -> str:
        return f"{name}[]" if self.array_style == "brackets" else name

    # -- registration (no token) ------------------------------------------------------------

    def create_user(
        self, email: str, first_name: str | None = None, last_name: str | None = None
    ) -> str | None:
        """``POST /v1/users``: create the Maventa user (MV-1). Returns the user API key, or
        None when Maventa returns none because the e-mail already has a user (MV-2: the
        person logs in to Maventa, finishes and copies the key after signing).

        Not retried after an ambiguous failure (it is not idempotent): a
        ``TransportFailure``/5xx reaches the caller.
        """
        body: JsonObject = {"vendor_api_key": self._vendor_key, "email": email}
        if first_name:
            body["first_name"] = first_name
        if last_name:
            body["last_name"] = last_name
        data = self.http.request("POST", "/v1/users", json=body, idempotent=False, parse=core.expect_object)
        key = data.get("user_api_key")
        return key if isinstance(key, str) and key else None

    def create_company(
        self,
        *,
        user_api_key: str,
        name: str,
        bid: str,
        address1: str,
        post_code: str,
        post_office: str,
        city: str,
        country: str,
        email: str,
        no_vat: bool = False,
        address2: str | None = None,
        state: str | None = None,
    ) -> str:
        """``POST /v1/companies`` (multipart): register the company (MV-1); returns its UUID.

        ``bid``: VAT number preferred (``FI12345678``); set ``no_vat`` when it is a plain
        business ID. Maventa refuses a business ID that already has an account.
        """
        fields: dict[str, str] = {
            "vendor_api_key": self._vendor_key,
            "user_api_key": user_api_key,
            "name": name,
            "bid": bid,
            "no_vat": "true" if no_vat else "false",
            "address1": address1,
            "post_code": post_code,
            "post_office": post_office,
            "city": city,
            "country": country,
            "email": email,
        }
        if address2:
            fields["address2"] = address2
        if state:
            fields["state"] = state
        parts = [(k, (None, v)) for k, v in fields.items()]
        return self.http.request(
            "POST", "/v1/companies", **self._multipart(parts), idempotent=False, parse=_company_id
        )

    # -- company ----------------------------------------------------------------------------

    def current(self) -> JsonObject:
        """``GET /oauth2/current``: ``{user, company: {id, bid, name, ...}, scopes}``."""
        return self._call("GET", "/oauth2/current", parse=core.expect_object)

    def companies(self, *, bid: str | None = None, country: str | None = None) -> list[JsonObject]:
        params = {k: v for k, v in (("bid", bid), ("country", country)) if v}
        return self._call("GET", "/v1/companies", params=params, parse=core.expect_array)

    def request_authorization(
        self, auth_email: str, locale: str = "FI", options: str | None = None
    ) -> JsonObject:
        """``POST /v1/company/authorization``: send the authentication request (MV-3) to the
        approver's e-mail; Visma Sign mails the signing invitation. Not retried after an
        ambiguous failure (it would mail twice)."""
        if locale not in LOCALES:
            raise ConfigurationError(f"locale must be one of {', '.join(LOCALES)}, not {locale!r}")
        body: JsonObject = {"auth_email": auth_email, "locale": locale}
        if options is not None:
            body["options"] = options
        return self._call(
            "POST", "/v1/company/authorization", json=body, idempotent=False, parse=core.expect_object
        )

    def authorization_status(self) -> JsonObject:
        """``GET /v1/company/authorization``: ``{auth_state, auth_email, company_state}``;
        ``company_state == "VERIFIED"`` once the approver has signed."""
        return self._call("GET", "/v1/company/authorization", parse=core.expect_object)

    def company_status(self, company_id: str | None = None) -> JsonObject:
        """``GET /v1/companies/{id}/status`` (same shape as ``authorization_status``)."""
        cid = company_id or self.company_id
        if not cid:
            raise ConfigurationError("company_status needs a company UUID")
        return self._call("GET", f"/v1/companies/{_seg(cid)}/status", parse=core.expect_object)

    def get_settings(self, fields: Iterable[str] = ()) -> JsonObject:
        """``GET /v1/company/settings`` (optionally only some blocks, e.g. ``send_invoice_email``)."""
        wanted = list(fields)
        params = {"fields[]": wanted} if wanted and self.array_style == "brackets" else {"fields": wanted}
        return self._call(
            "GET", "/v1/company/settings", params=params if wanted else None, parse=core.expect_object
        )

    def update_settings(self, changes: Mapping[str, Any]) -> None:
        """``PATCH /v1/company/settings`` with the blocks to change (answer 204)."""
        self._call("PATCH", "/v1/company/settings", json=dict(changes), parse=core.expect_nothing)

    # -- invoices ---------------------------------------------------------------------------

    def send_invoice(
        self,
        file_name: str,
        content: bytes,
        *,
        uuid: str,
        recipient_eia: str | None = None,
        recipient_operator: str | None = None,
        recipient_email: str | None = None,
        disabled_routes: Iterable[str] = (),
        lang: str | None = None,
        format: str = "FINVOICE30",
        sender_comment: str | None = None,
        print_own_image: bool | None = None,
    ) -> JsonObject:
        """``POST /v1/invoices`` (multipart): upload and send one invoice; returns the invoice
        (``{"id", "status": "PENDING", ...}``).

        ``content`` is the Finvoice XML, or a ZIP holding ``<name>.xml`` + ``<name>.pdf``
        (the invoice image) + attachments; the type is taken from the bytes. ``uuid`` is
        mandatory and makes the send safe to retry (see the module notes); if Maventa
        answers 409/422 and an invoice with this uuid exists, that invoice is returned.
        """
        if not uuid or len(uuid) > 36:
            raise ConfigurationError("send_invoice needs a uuid of at most 36 characters")
        routes = list(disabled_routes)
        for route in routes:
            if route not in ROUTES:
                raise ConfigurationError(f"unknown route {route!r}; use {', '.join(ROUTES)}")
        if lang is not None and lang not in LANGS:
            raise ConfigurationError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
        mimetype = "application/zip" if content[:4] == b"PK\x03\x04" else "application/xml"
        form: list[tuple[str, Any]] = [("file", (file_name, content, mimetype)), ("uuid", (None, uuid))]
        if format:
            form.append(("format", (None, format)))
        for key, value in (
            ("recipient_eia", recipient_eia),
            ("recipient_operator", recipient_operator),
            ("recipient_email", recipient_email),
            ("lang", lang),
            ("sender_comment", sender_comment),
        ):
            if value:
                form.append((key, (None, value)))
        for route in routes:
            form.append((self._array_key("disabled_routes"), (None, route)))
        if print_own_image is not None:
            form.append(("print_settings[print_own_image]", (None, "true" if print_own_image else "false")))
        try:
            return self._call(
                "POST", "/v1/invoices", **self._multipart(form), idempotent=True, parse=core.expect_object
            )
        except MaventaError as err:
            if err.status not in (409, 422):
                raise
            existing = self.find_invoice_by_uuid(uuid)
            if existing is None:
                raise
            return existing

    def get_invoice(self, invoice_id: str) -> JsonObject:
        """``GET /v1/invoices/{id}``: status (``PENDING|DELIVERED|FAILED``), files, actions."""
        return self._call("GET", f"/v1/invoices/{_seg(invoice_id)}", parse=core.expect_object)

    def find_invoice_by_uuid(self, uuid: str) -> JsonObject | None:
        """The invoice we sent with ``uuid``, or None when Maventa has none (404).

        The uuid given at upload is the invoice ``id``, so this is ``GET /v1/invoices/{uuid}``.
        """
        try:
            return self.get_invoice(uuid)
        except MaventaError as err:
            if err.status == 404:
                return None
            raise

    def list_invoices(
        self,
        *,
        direction: str = "SENT",
        status: Iterable[str] = (),
        ids: Iterable[str] = (),
        number: str | None = None,
        reference: str | None = None,
        created_at_start: datetime | str | None = None,
        created_at_end: datetime | str | None = None,
        page: int = 1,
        per_page: int = 100,
    ) -> list[JsonObject]:
        """One page of ``GET /v1/invoices`` (bare array). ``status``: PENDING/DELIVERED/FAILED."""
        params: dict[str, Any] = {"direction": direction, "page": page, "per_page": per_page}
        statuses = list(status)
        id_list = list(ids)
        if statuses:
            params[self._array_key("status")] = statuses
        if id_list:
            params[self._array_key("ids")] = id_list
        for key, value in (
            ("number", number),
            ("reference", reference),
            ("created_at_start", created_at_start),
            ("created_at_end", created_at_end),
        ):
            if value is not None:
                params[key] = _text(value)
        return self._call("GET", "/v1/invoices", params=params, parse=core.expect_array)

    def iter_invoices(self, *, per_page: int = 100, **filters: Any) -> Iterator[JsonObject]:
        """All pages of ``list_invoices`` (same filters), fetched lazily until a short page."""
        page = 1
        while True:
            items = self.list_invoices(page=page, per_page=per_page, **filters)
            yield from items
            if len(items) < per_page:
                return
            page += 1

    def get_invoices(self, ids: Iterable[str]) -> list[JsonObject]:
        """The sent invoices with these ids, polled in batches (the bridge's delivery check).

        ``GET /v1/invoices?direction=SENT&ids=a,b,c&per_page=100``: the AX spec's ``ids`` is a
        comma-separated list (``style: form, explode: false``) of at most ``IDS_PER_QUERY`` ids,
        so one call covers 100 invoices; ``X-Next-Page`` is followed when Maventa sends it.
        Duplicates are asked once; ids Maventa does not know (or that belong to another
        company) are simply absent from the result. Ids are checked before any request.
        """
        wanted = list(dict.fromkeys(core.path_segment(i, "Maventa") for i in ids))
        found: list[JsonObject] = []
        for start in range(0, len(wanted), IDS_PER_QUERY):
            query = {"direction": "SENT", "ids": ",".join(wanted[start : start + IDS_PER_QUERY])}
            found.extend(core.iter_pages(functools.partial(self._sent_page, query)))
        return found

    def _sent_page(self, query: Mapping[str, str], page: str | None) -> tuple[list[JsonObject], str | None]:
        params = {**query, "page": page or "1", "per_page": str(IDS_PER_QUERY)}
        got = self._call("GET", "/v1/invoices", params=params, parse=core.expect_page)
        return got.items, got.header("X-Next-Page")

    def invoice_actions(self, invoice_id: str, types: Iterable[str] = ()) -> list[JsonObject]:
        """``GET /v1/invoices/{id}/actions``: ``[{type, channel, message, key, happened_at}]``."""
        wanted = list(types)
        params = {self._array_key("type"): wanted} if wanted else None
        return self._call(
            "GET", f"/v1/invoices/{_seg(invoice_id)}/actions", params=params, parse=core.expect_array
        )


def _seg(value: str) -> str:
    return core.path_segment(value, "Maventa")


def _company_id(response: httpx.Response) -> str:
    company_id = core.expect_object(response).get("id")
    if not isinstance(company_id, str) or not company_id:
        raise core.UnexpectedShape("the company answer has no id")
    return company_id


def _part_bytes(value: Any) -> bytes:
    """The payload of one ``files=`` entry (``(name, content[, type])``) as bytes."""
    content = value[1] if isinstance(value, tuple) else value
    if isinstance(content, str):
        return content.encode()
    return content if isinstance(content, bytes) else b""


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
