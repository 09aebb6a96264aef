"""Client of the Visma Severa public REST API (``/rest-api/v1``) for the bridge.

Finnish UI terms, for support staff: REST API credentials are made in *Asetukset >
Integraatiot > REST API* ("Luo asiakastunnukset", scopes = "API-oikeudet"); invoice
statuses are *laskun tilat*; business units *liiketoimintayksiköt* (Yksikköhierarkia).

Wire facts this client relies on (``../shared/reference/severa-api.md``):

* ``POST /v1/token`` takes **JSON** ``{"client_id","client_secret","scope"}`` and answers
  ``PublicAuthenticationOutputModel`` (``access_token``, ``access_token_type``,
  ``access_token_expires_in``, ``refresh_token``, ``refresh_token_expires_in``, ``scope``).
  ``POST /v1/refreshtoken`` takes the refresh token as a **bare JSON string** body.
* Every call carries ``Authorization: <access_token_type> <access_token>`` and the
  ``Client_Id`` header.
* Token paging: ``pageToken`` + ``rowCount`` in the query, the next token in the
  ``NextPageToken`` response header (absent on the last page). Offset paging: ``firstRow``
  (0-based) + ``rowCount``; the last page is the short (or empty) one.
* 10 requests/s per API client; excess calls get a plain-text 429.

Token handling: the access token is cached and renewed ``refresh_margin`` seconds before it
expires (at most 10 % of its lifetime), first through ``/v1/refreshtoken`` and, when that is
refused (expired or revoked refresh token), through a new ``/v1/token``. A 401 on any call
drops the access token and the call is repeated once with a fresh one.

Return values are the **wire JSON**: plain ``dict`` objects (``JsonObject``) exactly as
Severa sends them (camelCase keys: ``guid``, ``status``, ``referenceNumber`` ...), lists of
them, or ``bytes`` for the PDF. List methods named ``iter_*`` are lazy generators that
fetch one page at a time, so memory stays flat however many items there are; ``list_*``
methods return a list (used where the collection is small: statuses, units, accounts).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx

from bridge.errors import (
    BridgeError,
    MissingScopesError,
    ServiceError,
    SeveraError,
    SeveraMalformedResponse,
)
from bridge.http import RateLimiter, RetryPolicy, ServiceHttp

__all__ = [
    "DEFAULT_SCOPES",
    "MAESTRO_SCOPES",
    "MAVENTA_SCOPES",
    "JsonObject",
    "SeveraClient",
    "severa_rate_limiter",
]

JsonObject = dict[str, Any]

#: Scopes the Severa → Maventa/AutoInvoice integration needs: read invoices, rows, PDFs,
#: customers, statuses/units/bank accounts, the organisation and users; write the status.
MAVENTA_SCOPES: tuple[str, ...] = (
    "invoices:read",
    "invoices:write",
    "files:read",
    "customers:read",
    "settings:read",
    "organization:read",
    "users:read",
)
#: Scopes the Severa → Maestro integration needs.
MAESTRO_SCOPES: tuple[str, ...] = (
    "invoices:read",
    "invoices:write",
    "customers:read",
    "settings:read",
    "organization:read",
    "users:read",
)
DEFAULT_SCOPES: tuple[str, ...] = tuple(dict.fromkeys(MAVENTA_SCOPES + MAESTRO_SCOPES))

SEVERA_RATE = 10.0  # requests per second per API client


def severa_rate_limiter(
    rate: float = SEVERA_RATE,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> RateLimiter:
    """The limiter Severa's quota calls for (10/s, burst 1); share it per client_id."""
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    if sleep is not None:
        kwargs["sleep"] = sleep
    return RateLimiter(rate, 1, **kwargs)


def _severa_error(response: httpx.Response, payload: Any, retry_after: float | None) -> ServiceError:
    return SeveraError.from_body(
        response.status_code,
        response.text,
        payload,
        method=response.request.method,
        url=response.request.url.path,
        retry_after=retry_after,
    )


def _severa_malformed(response: httpx.Response, why: str) -> SeveraMalformedResponse:
    return SeveraMalformedResponse(
        response.status_code,
        why,
        response.text,
        method=response.request.method,
        url=response.request.url.path,
    )


def split_scopes(text: str | None) -> frozenset[str]:
    """Scopes from Severa's ``scope`` text (comma and/or whitespace separated)."""
    if not text:
        return frozenset()
    return frozenset(s for s in re.split(r"[\s,]+", text) if s)


@dataclass
class _Token:
    access: str
    kind: str
    renew_at: float  # monotonic time after which we renew
    refresh: str | None
    refresh_valid_until: float | None
    scopes: frozenset[str] | None  # None when Severa did not say


class SeveraClient:
    """Severa REST client. ``http`` is an ``httpx.Client`` (its ``base_url`` is the API root,
    e.g. ``https://api.severa.visma.com/rest-api``) or that base URL as a string.

    ``limiter`` defaults to a fresh 10 requests/s limiter; pass a shared one when several
    clients use the same credentials, or ``None`` explicitly via ``rate_limit=False`` to
    switch it off (in-process benchmarks). ``clock``/``sleep``/``rand`` are test seams,
    passed to the retry policy and the default limiter.
    """

    def __init__(
        self,
        http: httpx.Client | str,
        client_id: str,
        client_secret: str,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        *,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        rate_limit: bool = True,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise BridgeError("Severa client_id and client_secret are required")
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = tuple(scopes)
        seams: dict[str, Any] = {}
        if clock is not None:
            seams["clock"] = clock
        if sleep is not None:
            seams["sleep"] = sleep
        if rate_limit and limiter is None:
            limiter = severa_rate_limiter(clock=clock, sleep=sleep)
        if rand is not None:
            seams["rand"] = rand
        self.http = ServiceHttp(
            http,
            service="Severa",
            error_factory=_severa_error,
            malformed_factory=_severa_malformed,
            policy=policy,
            limiter=limiter if rate_limit else None,
            **seams,
        )
        self.refresh_margin = refresh_margin
        self._token: _Token | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SeveraClient(client_id={self.client_id!r}, base_url={str(self.http.client.base_url)!r})"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SeveraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- authentication ---------------------------------------------------------------------

    @property
    def granted_scopes(self) -> frozenset[str] | None:
        """Scopes Severa granted (after authenticating), or None when it did not say."""
        return self._ensure_token().scopes

    def authenticate(self) -> None:
        """Get a token now (the first call does it anyway); raises ``SeveraError`` if refused."""
        with self._lock:
            self._token = None
            self._ensure_token()

    def require_scopes(self, needed: Iterable[str] = MAVENTA_SCOPES, purpose: str = "") -> None:
        """Raise ``MissingScopesError`` naming the scopes in ``needed`` that were not granted.

        When Severa's token answer carries no ``scope`` field the check cannot be made and
        passes; a missing scope then surfaces as a 403 ``InsufficientApiScope`` SeveraError.
        """
        granted = self.granted_scopes
        if granted is None:
            return
        missing = [s for s in needed if s not in granted]
        if missing:
            raise MissingScopesError(missing, granted, purpose)

    def _ensure_token(self) -> _Token:
        with self._lock:
            now = self.http.clock()
            token = self._token
            if token is not None and now < token.renew_at:
                return token
            if (
                token is not None
                and token.refresh
                and (token.refresh_valid_until is None or now < token.refresh_valid_until)
            ):
                try:
                    self._token = self._refresh(token.refresh)
                    return self._token
                except SeveraError:
                    pass  # expired or revoked refresh token: log in again
            self._token = self._new_token()
            return self._token

    def _new_token(self) -> _Token:
        body = {"client_id": self.client_id, "client_secret": self._secret, "scope": " ".join(self.scopes)}
        data = self.http.request("POST", "/v1/token", json=body, idempotent=True, parse=self._token_answer)
        return data

    def _refresh(self, refresh_token: str) -> _Token:
        return self.http.request(
            "POST",
            "/v1/refreshtoken",
            json=refresh_token,
            headers={"Client_Id": self.client_id},
            idempotent=True,
            parse=self._token_answer,
        )

    def _token_answer(self, response: httpx.Response) -> _Token:
        data = self.http.json(response)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("access_token"), str)
            or not data["access_token"]
        ):
            raise _severa_malformed(response, "the token answer has no access_token")
        now = self.http.clock()
        lifetime = _number(data.get("access_token_expires_in"), 3600.0)
        margin = min(self.refresh_margin, lifetime * 0.1)
        refresh = data.get("refresh_token")
        refresh_life = data.get("refresh_token_expires_in")
        return _Token(
            access=data["access_token"],
            kind=str(data.get("access_token_type") or "Bearer"),
            renew_at=now + max(lifetime - margin, 0.0),
            refresh=refresh if isinstance(refresh, str) and refresh else None,
            refresh_valid_until=None
            if refresh_life is None
            else now + max(_number(refresh_life, 0.0) - margin, 0.0),
            scopes=split_scopes(data["scope"]) if isinstance(data.get("scope"), str) else None,
        )

    def _drop_access(self, token: _Token) -> None:
        with self._lock:
            if self._token is token:
                token.renew_at = float("-inf")

    # -- request plumbing -------------------------------------------------------------------

    def _call(self, method: str, path: str, *, parse: Callable[[httpx.Response], Any], **kwargs: Any) -> Any:
        extra = kwargs.pop("headers", None) or {}
        for auth_try in (1, 2):
            token = self._ensure_token()
            headers = {"Authorization": f"{token.kind} {token.access}", "Client_Id": self.client_id, **extra}
            try:
                return self.http.request(method, path, headers=headers, parse=parse, **kwargs)
            except SeveraError as err:
                if err.status == 401 and auth_try == 1:
                    self._drop_access(token)
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _object(self, response: httpx.Response) -> JsonObject:
        data = self.http.json(response)
        if not isinstance(data, dict):
            raise _severa_malformed(response, "expected a JSON object")
        return data

    def _array(self, response: httpx.Response) -> list[JsonObject]:
        data = self.http.json(response)
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise _severa_malformed(response, "expected a JSON array of objects")
        return data

    def _page(self, response: httpx.Response) -> tuple[list[JsonObject], str | None]:
        return self._array(response), response.headers.get("NextPageToken") or None

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET any path and return its JSON (escape hatch for endpoints without a method)."""
        return self._call("GET", path, params=_params(params or {}), parse=self.http.json)

    def iter_token_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, row_count: int = 100
    ) -> Iterator[JsonObject]:
        """Items of a token-paged list (``pageToken``/``NextPageToken``), fetched lazily."""
        query = _params(params or {})
        query["rowCount"] = row_count
        page_token: str | None = None
        seen: set[str] = set()
        while True:
            if page_token is not None:
                query["pageToken"] = page_token
            items, next_token = self._call("GET", path, params=dict(query), parse=self._page)
            yield from items
            if not next_token or next_token in seen:
                return
            seen.add(next_token)
            page_token = next_token

    def iter_offset_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, row_count: int = 100
    ) -> Iterator[JsonObject]:
        """Items of a ``firstRow``-paged list, fetched lazily until a short page."""
        query = _params(params or {})
        first = 0
        first_guid: Any = None
        while True:
            query.update(firstRow=first, rowCount=row_count)
            items: list[JsonObject] = self._call("GET", path, params=dict(query), parse=self._array)
            if not items:
                return
            if first == 0:
                first_guid = items[0].get("guid")
            elif first_guid is not None and items[0].get("guid") == first_guid:
                return  # the server ignores firstRow: we already have everything
            yield from items
            if len(items) < row_count:
                return
            first += len(items)

    # -- invoices ---------------------------------------------------------------------------

    def iter_invoices(
        self,
        status_guids: Iterable[str] = (),
        *,
        changed_since: datetime | str | None = None,
        row_count: int = 100,
        **filters: Any,
    ) -> Iterator[JsonObject]:
        """``GET /v1/invoices`` filtered by ``invoiceStatusGuids`` (and ``changedSince``).

        Extra ``filters`` use the API's query names (``customerGuids=[...]``,
        ``projectBusinessUnitGuids=[...]``, ``numbers=[...]``...).
        """
        params: dict[str, Any] = dict(filters)
        guids = list(status_guids)
        if guids:
            params["invoiceStatusGuids"] = guids
        if changed_since is not None:
            params["changedSince"] = changed_since
        return self.iter_token_pages("/v1/invoices", params, row_count=row_count)

    def get_invoice(self, guid: str) -> JsonObject:
        return self._call("GET", f"/v1/invoices/{_seg(guid)}", parse=self._object)

    def set_invoice_status(self, guid: str, status_guid: str) -> JsonObject:
        """Move an invoice to another status (``PATCH`` with JSON Patch ``/status/guid``).

        Severa answers with an array holding the updated invoice; that invoice is returned.
        Safe to retry: the patch sets an absolute value.
        """
        patch = [{"op": "replace", "path": "/status/guid", "value": status_guid}]
        invoices: list[JsonObject] = self._call(
            "PATCH", f"/v1/invoices/{_seg(guid)}", json=patch, parse=self._array
        )
        if not invoices:
            raise SeveraMalformedResponse(200, "the PATCH answer holds no invoice", "[]", method="PATCH")
        return invoices[0]

    def iter_invoice_rows(self, invoice_guid: str, *, row_count: int = 100) -> Iterator[JsonObject]:
        return self.iter_token_pages(f"/v1/invoices/{_seg(invoice_guid)}/invoicerows", row_count=row_count)

    def iter_invoice_workhours(self, invoice_guid: str, *, row_count: int = 100) -> Iterator[JsonObject]:
        """Work hours on the invoice (each carries ``invoiceRowGuid`` and ``workType.code``)."""
        return self.iter_token_pages(f"/v1/invoices/{_seg(invoice_guid)}/workhours", row_count=row_count)

    def iter_invoice_project_fees(self, invoice_guid: str, *, row_count: int = 100) -> Iterator[JsonObject]:
        """Project fees on the invoice (each carries ``invoiceRowGuid`` and ``product.code``)."""
        return self.iter_token_pages(f"/v1/invoices/{_seg(invoice_guid)}/projectfees", row_count=row_count)

    def iter_invoice_travel_expenses(
        self, invoice_guid: str, *, row_count: int = 100
    ) -> Iterator[JsonObject]:
        """Travel expenses on the invoice (``invoiceRowGuid``, ``travelExpense.code``)."""
        return self.iter_token_pages(
            f"/v1/invoices/{_seg(invoice_guid)}/projecttravelexpenses", row_count=row_count
        )

    def get_invoice_pdf(self, guid: str, *, invoice_type: str = "Invoice", options: str = "All") -> bytes:
        """The invoice image (``GET /v1/invoices/{guid}/pdf``, scope ``files:read``) as bytes.

        ``options``: ``All`` (invoice + attachments and breakdown), ``InvoiceOnly``,
        ``AttachmentAndBreakdown``.
        """
        return self._call(
            "GET",
            f"/v1/invoices/{_seg(guid)}/pdf",
            params={"invoiceType": invoice_type, "pdfGetOptions": options},
            headers={"Accept": "application/pdf"},
            parse=self._pdf,
        )

    def _pdf(self, response: httpx.Response) -> bytes:
        content = response.content
        if not content.startswith(b"%PDF"):
            raise _severa_malformed(response, "the answer is not a PDF document")
        return content

    # -- statuses and settings ----------------------------------------------------------------

    def list_invoice_statuses(self, *, active: bool | None = None) -> list[JsonObject]:
        """Invoice statuses (*laskun tilat*) with their flags ``isSent``, ``isReadOnly`` ..."""
        params = {} if active is None else {"active": active}
        return list(self.iter_offset_pages("/v1/invoicestatuses", params))

    def get_invoice_status(self, guid: str) -> JsonObject:
        return self._call("GET", f"/v1/invoicestatuses/{_seg(guid)}", parse=self._object)

    def list_business_units(self, *, active: bool | None = None, **filters: Any) -> list[JsonObject]:
        """Business units (*liiketoimintayksiköt*); a unit with its own ``vatNumber`` is a
        separate sending company."""
        params: dict[str, Any] = dict(filters)
        if active is not None:
            params["active"] = active
        return list(self.iter_offset_pages("/v1/businessunits", params))

    def get_business_unit(self, guid: str) -> JsonObject:
        return self._call("GET", f"/v1/businessunits/{_seg(guid)}", parse=self._object)

    def get_organization_details(self) -> JsonObject:
        """``GET /v1/organizationdetails``: the organisation's name, ``vatNumber``, addresses."""
        return self._call("GET", "/v1/organizationdetails", parse=self._object)

    def list_bank_accounts(self) -> list[JsonObject]:
        """Bank accounts (``GET /v1/bankaccounts``, *pankkitilit*: IBAN/BIC for the invoice).

        The endpoint is outside the published subset; it is read with ``firstRow`` paging
        like the other settings lists (a server that ignores ``firstRow`` is detected).
        """
        return list(self.iter_offset_pages("/v1/bankaccounts"))

    def iter_products(self, *, row_count: int = 100, **filters: Any) -> Iterator[JsonObject]:
        return self.iter_token_pages("/v1/products", filters, row_count=row_count)

    def list_work_types(self, *, active: bool | None = None) -> list[JsonObject]:
        params = {} if active is None else {"active": active}
        return list(self.iter_offset_pages("/v1/worktypes", params))

    def list_travel_expense_types(self, *, active: bool | None = None) -> list[JsonObject]:
        params = {} if active is None else {"active": active}
        return list(self.iter_offset_pages("/v1/travelexpensetypes", params))

    # -- customers and users ------------------------------------------------------------------

    def iter_customers(self, *, row_count: int = 100, **filters: Any) -> Iterator[JsonObject]:
        return self.iter_token_pages("/v1/customers", filters, row_count=row_count)

    def get_customer(self, guid: str) -> JsonObject:
        """Customer card: ``vatNumber`` (Y-tunnus), ``eInvoiceAddress``, ``eInvoiceOperator``,
        ``email``, ``headquarterAddress``, ``language``."""
        return self._call("GET", f"/v1/customers/{_seg(guid)}", parse=self._object)

    def list_customer_addresses(self, customer_guid: str) -> list[JsonObject]:
        return list(self.iter_offset_pages(f"/v1/customers/{_seg(customer_guid)}/addresses"))

    def iter_users(self, *, row_count: int = 100, **filters: Any) -> Iterator[JsonObject]:
        return self.iter_token_pages("/v1/users", filters, row_count=row_count)

    def get_user(self, guid: str) -> JsonObject:
        return self._call("GET", f"/v1/users/{_seg(guid)}", parse=self._object)


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def _seg(value: str) -> str:
    """A path segment; refuses values that would change the path."""
    if (
        not isinstance(value, str)
        or not value
        or "/" in value
        or "?" in value
        or "#" in value
        or ".." in value
    ):
        raise BridgeError(f"invalid identifier for a Severa path: {value!r}")
    return value


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query values as strings; lists stay lists (repeated keys: ``?a=x&a=y``)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            out[key] = [_scalar(v) for v in value]
        else:
            out[key] = _scalar(value)
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
