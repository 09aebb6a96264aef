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
  once more on a 401.
* Registration needs no token: ``POST /v1/users`` (JSON) → ``{"user_api_key"}`` (no key when
  the e-mail already has a Maventa user: ``create_user`` then returns None, MV-2), and
  ``POST /v1/companies`` (multipart) → ``{"id": company UUID}``.
* Errors are ``{"code","message","details":[...]}`` → ``MaventaError``.
* Lists use ``page`` (1-based) + ``per_page`` (≤ 100) and return bare arrays.
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

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import httpx

from bridge.errors import (
    ConfigurationError,
    MaventaError,
    MaventaMalformedResponse,
    ServiceError,
)
from bridge.http import RateLimiter, RetryPolicy, ServiceHttp

__all__ = [
    "DEFAULT_SCOPE",
    "INVOICE_FORMATS",
    "ROUTES",
    "JsonObject",
    "MaventaClient",
]

JsonObject = dict[str, Any]

DEFAULT_SCOPE = "eui"
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


def _maventa_error(response: httpx.Response, payload: Any, retry_after: float | None) -> ServiceError:
    return MaventaError.from_body(
        response.status_code,
        response.text,
        payload,
        method=response.request.method,
        url=response.request.url.path,
        retry_after=retry_after,
    )


def _maventa_malformed(response: httpx.Response, why: str) -> MaventaMalformedResponse:
    return MaventaMalformedResponse(
        response.status_code,
        why,
        response.text,
        method=response.request.method,
        url=response.request.url.path,
    )


@dataclass
class _Token:
    access: str
    kind: str
    renew_at: float
    scope: str


class MaventaClient:
    """Maventa AX client for one company (``company_id`` + ``user_api_key``) of one vendor.

    ``http`` is an ``httpx.Client`` whose ``base_url`` is the API root
    (``https://ax.maventa.com``) or that URL as a string. ``company_id`` and
    ``user_api_key`` may be left out for registration calls (``create_user``,
    ``create_company``); every other call needs them (``ConfigurationError`` otherwise).
    Use ``for_company`` to get a client for another company over the same connection.
    """

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
    ) -> None:
        if not vendor_api_key:
            raise ConfigurationError("the Maventa vendor API key is required")
        self._vendor_key = vendor_api_key
        self.company_id = company_id or None
        self._user_key = user_api_key or None
        self.scope = scope
        self.refresh_margin = refresh_margin
        self.array_style = array_style
        if _shared is not None:
            self.http = _shared
        else:
            seams: dict[str, Any] = {}
            if clock is not None:
                seams["clock"] = clock
            if sleep is not None:
                seams["sleep"] = sleep
            if rand is not None:
                seams["rand"] = rand
            self.http = ServiceHttp(
                http,
                service="Maventa",
                error_factory=_maventa_error,
                malformed_factory=_maventa_malformed,
                policy=policy,
                limiter=limiter,
                **seams,
            )
        self._token: _Token | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"MaventaClient(company_id={self.company_id!r}, base_url={str(self.http.client.base_url)!r})"

    def for_company(self, company_id: str, user_api_key: str) -> MaventaClient:
        """A client for another company sharing this one's connection, policy and limiter."""
        return MaventaClient(
            self.http.client,
            self._vendor_key,
            company_id,
            user_api_key,
            self.scope,
            refresh_margin=self.refresh_margin,
            array_style=self.array_style,
            _shared=self.http,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> MaventaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def has_credentials(self) -> bool:
        return bool(self.company_id and self._user_key)

    # -- token ------------------------------------------------------------------------------

    def _ensure_token(self) -> _Token:
        with self._lock:
            token = self._token
            if token is not None and self.http.clock() < token.renew_at:
                return token
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
            self._token = self.http.request(
                "POST", "/oauth2/token", data=form, idempotent=True, parse=self._token_answer
            )
            return self._token

    def _token_answer(self, response: httpx.Response) -> _Token:
        data = self.http.json(response)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("access_token"), str)
            or not data["access_token"]
        ):
            raise _maventa_malformed(response, "the token answer has no access_token")
        lifetime = data.get("expires_in")
        seconds = (
            float(lifetime)
            if isinstance(lifetime, int | float) and not isinstance(lifetime, bool)
            else 3600.0
        )
        margin = min(self.refresh_margin, seconds * 0.1)
        kind = str(data.get("token_type") or "Bearer")
        return _Token(
            access=data["access_token"],
            kind="Bearer" if kind.lower() == "bearer" else kind,
            renew_at=self.http.clock() + max(seconds - margin, 0.0),
            scope=str(data.get("scope") or ""),
        )

    def authenticate(self) -> str:
        """Get a fresh token now (verifies UUID + key, MV-4); returns the granted scope text."""
        with self._lock:
            self._token = None
            return self._ensure_token().scope

    def _drop(self, token: _Token) -> None:
        with self._lock:
            if self._token is token:
                self._token = None

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, parse: Callable[[httpx.Response], Any], **kwargs: Any) -> Any:
        for auth_try in (1, 2):
            token = self._ensure_token()
            headers = {"Authorization": f"{token.kind} {token.access}", "Accept": "application/json"}
            try:
                return self.http.request(method, path, headers=headers, parse=parse, **kwargs)
            except MaventaError as err:
                if err.status == 401 and auth_try == 1:
                    self._drop(token)
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _object(self, response: httpx.Response) -> JsonObject:
        data = self.http.json(response)
        if not isinstance(data, dict):
            raise _maventa_malformed(response, "expected a JSON object")
        return data

    def _array(self, response: httpx.Response) -> list[JsonObject]:
        data = self.http.json(response)
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise _maventa_malformed(response, "expected a JSON array of objects")
        return data

    @staticmethod
    def _nothing(response: httpx.Response) -> None:
        return None

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
        data = self.http.request("POST", "/v1/users", json=body, idempotent=False, parse=self._object)
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
        files = [(k, (None, v)) for k, v in fields.items()]
        data = self.http.request("POST", "/v1/companies", files=files, idempotent=False, parse=self._object)
        company_id = data.get("id")
        if not isinstance(company_id, str) or not company_id:
            raise MaventaMalformedResponse(201, "the company answer has no id", str(data), method="POST")
        return company_id

    # -- company ----------------------------------------------------------------------------

    def current(self) -> JsonObject:
        """``GET /oauth2/current``: ``{user, company: {id, bid, name, ...}, scopes}``."""
        return self._call("GET", "/oauth2/current", parse=self._object)

    def companies(self, *, bid: str | None = None, country: str | None = None) -> list[JsonObject]:
        params = {k: v for k, v in (("bid", bid), ("country", country)) if v}
        return self._call("GET", "/v1/companies", params=params, parse=self._array)

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
            "POST", "/v1/company/authorization", json=body, idempotent=False, parse=self._object
        )

    def authorization_status(self) -> JsonObject:
        """``GET /v1/company/authorization``: ``{auth_state, auth_email, company_state}``;
        ``company_state == "VERIFIED"`` once the approver has signed."""
        return self._call("GET", "/v1/company/authorization", parse=self._object)

    def company_status(self, company_id: str | None = None) -> JsonObject:
        """``GET /v1/companies/{id}/status`` (same shape as ``authorization_status``)."""
        cid = company_id or self.company_id
        if not cid:
            raise ConfigurationError("company_status needs a company UUID")
        return self._call("GET", f"/v1/companies/{_seg(cid)}/status", parse=self._object)

    def get_settings(self, fields: Iterable[str] = ()) -> JsonObject:
        """``GET /v1/company/settings`` (optionally only some blocks, e.g. ``send_invoice_email``)."""
        wanted = list(fields)
        params = {"fields[]": wanted} if wanted and self.array_style == "brackets" else {"fields": wanted}
        return self._call(
            "GET", "/v1/company/settings", params=params if wanted else None, parse=self._object
        )

    def update_settings(self, changes: Mapping[str, Any]) -> None:
        """``PATCH /v1/company/settings`` with the blocks to change (answer 204)."""
        self._call("PATCH", "/v1/company/settings", json=dict(changes), parse=self._nothing)

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
            return self._call("POST", "/v1/invoices", files=form, idempotent=True, parse=self._object)
        except MaventaError as err:
            if err.status not in (409, 422):
                raise
            existing = self.find_invoice_by_uuid(uuid)
            if existing is None:
                raise
            return existing

    def get_invoice(self, invoice_id: str) -> JsonObject:
        """``GET /v1/invoices/{id}``: status (``PENDING|DELIVERED|FAILED``), files, actions."""
        return self._call("GET", f"/v1/invoices/{_seg(invoice_id)}", parse=self._object)

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
        return self._call("GET", "/v1/invoices", params=params, parse=self._array)

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
        """The sent invoices with these ids, 100 per ``GET /v1/invoices?ids=...`` (missing ids are absent)."""
        wanted = list(dict.fromkeys(ids))
        found: list[JsonObject] = []
        for start in range(0, len(wanted), 100):
            found += self.list_invoices(ids=wanted[start : start + 100], per_page=100)
        return found

    def invoice_actions(self, invoice_id: str, types: Iterable[str] = ()) -> list[JsonObject]:
        """``GET /v1/invoices/{id}/actions``: ``[{type, channel, message, key, happened_at}]``."""
        wanted = list(types)
        params = {self._array_key("type"): wanted} if wanted else None
        return self._call("GET", f"/v1/invoices/{_seg(invoice_id)}/actions", params=params, parse=self._array)


def _seg(value: str) -> str:
    if (
        not isinstance(value, str)
        or not value
        or "/" in value
        or "?" in value
        or "#" in value
        or ".." in value
    ):
        raise ConfigurationError(f"invalid identifier for a Maventa path: {value!r}")
    return value


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
