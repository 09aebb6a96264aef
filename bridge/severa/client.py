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
  ``NextPageToken`` response header (absent on the last page). List filters such as
  ``numbers`` are repeated keys (``explode: true``): ``?numbers=1&numbers=2``. Offset paging: ``firstRow``
  (0-based) + ``rowCount``; the last page is the short (or empty) one.
* 10 requests/s per API client; excess calls get a plain-text 429.

Token handling: the access token is cached and renewed ``refresh_margin`` seconds before it
expires (at most 10 % of its lifetime), first through ``/v1/refreshtoken`` and, when that is
refused (expired or revoked refresh token), through a new ``/v1/token``. A 401 on any call
drops the access token and the call is repeated once with a fresh one. That is
``SeveraTokenAuth``, an ``httpx.Auth`` flow on ``bridge.http.TokenAuth``; ``auth_headers()``
gives the current headers for a raw request.

Return values are the **wire JSON**: plain ``dict`` objects (``JsonObject``) exactly as
Severa sends them (camelCase keys: ``guid``, ``status``, ``referenceNumber`` ...), lists of
them, or ``bytes`` for the PDF. List methods named ``iter_*`` are lazy generators that
fetch one page at a time, so memory stays flat however many items there are; ``list_*``
methods return a list (used where the collection is small: statuses, units, accounts).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from datetime import date, datetime
from typing import Any

import httpx

from bridge import http as core
from bridge.errors import (
    ConfigurationError,
    MissingScopesError,
    SeveraError,
    SeveraMalformedResponse,
)
from bridge.http import JsonObject, RateLimiter, RetryPolicy, ServiceClient, ServiceHttp, Token, TokenAuth

__all__ = [
    "CUSTOMER_NUMBERS_PER_QUERY",
    "DEFAULT_SCOPES",
    "MAESTRO_SCOPES",
    "MAVENTA_SCOPES",
    "JsonObject",
    "SeveraClient",
    "SeveraTokenAuth",
    "severa_rate_limiter",
]

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
    "projects:read",
    "users:read",
    "settings:read",
    "organization:read",
)
DEFAULT_SCOPES: tuple[str, ...] = tuple(dict.fromkeys(MAVENTA_SCOPES + MAESTRO_SCOPES))

SEVERA_RATE = 10.0  # requests per second per API client
#: ``GET /v1/customers?numbers=..`` takes at most this many numbers per query (Severa's page cap)
CUSTOMER_NUMBERS_PER_QUERY = 100


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


def split_scopes(text: str | None) -> frozenset[str]:
    """Scopes from Severa's ``scope`` text (comma and/or whitespace separated)."""
    if not text:
        return frozenset()
    return frozenset(s for s in re.split(r"[\s,]+", text) if s)


class SeveraTokenAuth(TokenAuth):
    """Severa's token dance as an ``httpx.Auth`` flow.

    ``POST /v1/token`` with the client credentials as JSON; renewal through
    ``POST /v1/refreshtoken`` (the refresh token as a bare JSON string, ``Client_Id`` header)
    while the refresh token lives, a new ``/v1/token`` when it is refused. Every call carries
    ``Authorization: <access_token_type> <access_token>`` and ``Client_Id``.
    """

    kind_field = "access_token_type"
    lifetime_field = "access_token_expires_in"
    refresh_lifetime_field = "refresh_token_expires_in"

    def __init__(
        self,
        http: ServiceHttp,
        client_id: str,
        client_secret: str,
        scopes: Iterable[str],
        *,
        refresh_margin: float = 60.0,
    ) -> None:
        super().__init__(http, refresh_margin=refresh_margin)
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = tuple(scopes)

    def apply(self, headers: MutableMapping[str, str], token: Token) -> None:
        super().apply(headers, token)
        headers["Client_Id"] = self.client_id

    def fetch(self, previous: Token | None) -> Token:
        if (
            previous is not None
            and previous.refresh
            and (previous.refresh_valid_until is None or self.http.clock() < previous.refresh_valid_until)
        ):
            try:
                return self._post("/v1/refreshtoken", previous.refresh, {"Client_Id": self.client_id})
            except SeveraError:
                pass  # expired or revoked refresh token: log in again
        body = {"client_id": self.client_id, "client_secret": self._secret, "scope": " ".join(self.scopes)}
        return self._post("/v1/token", body)

    def _post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Token:
        return self.http.request(
            "POST", path, json=body, headers=headers, idempotent=True, parse=self.token_answer
        )


class SeveraClient(ServiceClient):
    """Severa REST client. ``http`` is an ``httpx.Client`` (its ``base_url`` is the API root,
    e.g. ``https://api.severa.visma.com/rest-api``) or that base URL as a string.

    ``limiter`` defaults to a fresh 10 requests/s limiter; pass a shared one when several
    clients use the same credentials, or ``None`` explicitly via ``rate_limit=False`` to
    switch it off (in-process benchmarks). ``clock``/``sleep``/``rand`` are test seams,
    passed to the retry policy and the default limiter.
    """

    auth: SeveraTokenAuth

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
            raise ConfigurationError("Severa client_id and client_secret are required")
        if rate_limit and limiter is None:
            limiter = severa_rate_limiter(clock=clock, sleep=sleep)
        self.http = ServiceHttp(
            http,
            service="Severa",
            error_factory=SeveraError.from_response,
            malformed_factory=SeveraMalformedResponse.for_response,
            policy=policy,
            limiter=limiter if rate_limit else None,
            clock=clock,
            sleep=sleep,
            rand=rand,
        )
        self.auth = SeveraTokenAuth(
            self.http, client_id, client_secret, scopes, refresh_margin=refresh_margin
        )

    def __repr__(self) -> str:
        return f"SeveraClient(client_id={self.client_id!r}, base_url={str(self.http.client.base_url)!r})"

    @property
    def client_id(self) -> str:
        return self.auth.client_id

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes asked for at login."""
        return self.auth.scopes

    # -- authentication ---------------------------------------------------------------------

    @property
    def granted_scopes(self) -> frozenset[str] | None:
        """Scopes Severa granted (after authenticating), or None when it did not say."""
        scope = self.auth.token().scope
        return None if scope is None else split_scopes(scope)

    def authenticate(self) -> None:
        """Get a token now (the first call does it anyway); raises ``SeveraError`` if refused."""
        self.auth.renew()

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

    # -- request plumbing -------------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET any path and return its JSON (escape hatch for endpoints without a method)."""
        return self._call("GET", path, params=_params(params or {}), parse=core.expect_json)

    def iter_token_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, row_count: int = 100
    ) -> Iterator[JsonObject]:
        """Items of a token-paged list (``pageToken``/``NextPageToken``), fetched lazily."""
        return core.iter_pages(lambda token: self.token_page(path, params, token, row_count=row_count))

    def token_page(
        self, path: str, params: Mapping[str, Any] | None, page_token: str | None, *, row_count: int = 100
    ) -> tuple[list[JsonObject], str | None]:
        """One page of a token-paged list and the ``NextPageToken`` (None: no more pages)."""
        query = _params(params or {})
        query["rowCount"] = row_count
        if page_token is not None:
            query["pageToken"] = page_token
        page = self._call("GET", path, params=query, parse=core.expect_page)
        return page.items, page.header("NextPageToken")

    def iter_offset_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, row_count: int = 100
    ) -> Iterator[JsonObject]:
        """Items of a ``firstRow``-paged list, fetched lazily until a short page."""
        query = _params(params or {})
        first = 0
        first_guid: Any = None
        while True:
            query.update(firstRow=first, rowCount=row_count)
            items: list[JsonObject] = self._call("GET", path, params=dict(query), parse=core.expect_array)
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

    def invoice_page(
        self, status_guids: Iterable[str], page_token: str | None = None, *, row_count: int = 100
    ) -> tuple[list[JsonObject], str | None]:
        """One page of ``GET /v1/invoices?invoiceStatusGuids=...`` and the next page's token."""
        return self.token_page(
            "/v1/invoices", {"invoiceStatusGuids": list(status_guids)}, page_token, row_count=row_count
        )

    def get_invoice(self, guid: str) -> JsonObject:
        return self._call("GET", f"/v1/invoices/{_seg(guid)}", parse=core.expect_object)

    def set_invoice_status(self, guid: str, status_guid: str) -> JsonObject:
        """Move an invoice to another status (``PATCH`` with JSON Patch ``/status/guid``).

        Severa answers with an array holding the updated invoice; that invoice is returned.
        Safe to retry: the patch sets an absolute value.
        """
        patch = [{"op": "replace", "path": "/status/guid", "value": status_guid}]
        return self._call("PATCH", f"/v1/invoices/{_seg(guid)}", json=patch, parse=_first_invoice)

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
            parse=_pdf,
        )

    # -- statuses and settings ----------------------------------------------------------------

    def list_invoice_statuses(self, *, active: bool | None = None) -> list[JsonObject]:
        """Invoice statuses (*laskun tilat*) with their flags ``isSent``, ``isReadOnly`` ..."""
        params = {} if active is None else {"active": active}
        return list(self.iter_offset_pages("/v1/invoicestatuses", params))

    def get_invoice_status(self, guid: str) -> JsonObject:
        return self._call("GET", f"/v1/invoicestatuses/{_seg(guid)}", parse=core.expect_object)

    def list_business_units(self, *, active: bool | None = None, **filters: Any) -> list[JsonObject]:
        """Business units (*liiketoimintayksiköt*); a unit with its own ``vatNumber`` is a
        separate sending company."""
        params: dict[str, Any] = dict(filters)
        if active is not None:
            params["active"] = active
        return list(self.iter_offset_pages("/v1/businessunits", params))

    def get_business_unit(self, guid: str) -> JsonObject:
        return self._call("GET", f"/v1/businessunits/{_seg(guid)}", parse=core.expect_object)

    def get_organization_details(self) -> JsonObject:
        """``GET /v1/organizationdetails``: the organisation's name, ``vatNumber``, addresses."""
        return self._call("GET", "/v1/organizationdetails", parse=core.expect_object)

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

    def iter_customers_by_number(
        self, numbers: Iterable[int | str], *, row_count: int = CUSTOMER_NUMBERS_PER_QUERY
    ) -> Iterator[JsonObject]:
        """The customers (asiakkaat) with these customer numbers, read in batches.

        ``GET /v1/customers?numbers=1&numbers=2...`` (the spec's ``numbers`` is a repeated
        key, ``explode: true``) with at most ``CUSTOMER_NUMBERS_PER_QUERY`` numbers per query,
        so the customers of a page of invoices cost one call. Duplicates are asked once;
        numbers Severa does not know are simply absent. The numbers are checked before any
        request (``ConfigurationError`` for one that is not an integer); the reading is lazy.
        """
        wanted = list(dict.fromkeys(_customer_number(n) for n in numbers))
        size = max(1, min(row_count, CUSTOMER_NUMBERS_PER_QUERY))
        chunks = [wanted[i : i + size] for i in range(0, len(wanted), size)]
        return (
            customer
            for chunk in chunks
            for customer in self.iter_token_pages("/v1/customers", {"numbers": chunk}, row_count=size)
        )

    def get_customer(self, guid: str) -> JsonObject:
        """Customer card: ``vatNumber`` (Y-tunnus), ``eInvoiceAddress``, ``eInvoiceOperator``,
        ``email``, ``headquarterAddress``, ``language``."""
        return self._call("GET", f"/v1/customers/{_seg(guid)}", parse=core.expect_object)

    def list_customer_addresses(self, customer_guid: str) -> list[JsonObject]:
        return list(self.iter_offset_pages(f"/v1/customers/{_seg(customer_guid)}/addresses"))

    def iter_users(self, *, row_count: int = 100, **filters: Any) -> Iterator[JsonObject]:
        return self.iter_token_pages("/v1/users", filters, row_count=row_count)

    def get_user(self, guid: str) -> JsonObject:
        return self._call("GET", f"/v1/users/{_seg(guid)}", parse=core.expect_object)


def _first_invoice(response: httpx.Response) -> JsonObject:
    invoices = core.expect_array(response)
    if not invoices:
        raise core.UnexpectedShape("the PATCH answer holds no invoice")
    return invoices[0]


def _pdf(response: httpx.Response) -> bytes:
    if not response.content.startswith(b"%PDF"):
        raise core.UnexpectedShape("the answer is not a PDF document")
    return response.content


def _seg(value: str) -> str:
    """A path segment; refuses values that would change the path."""
    return core.path_segment(value, "Severa")


def _customer_number(value: object) -> int:
    """A Severa customer number (int64); digit strings are accepted."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,19}", value.strip()):
        return int(value)
    raise ConfigurationError(f"a Severa customer number is an integer, not {value!r}")


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
