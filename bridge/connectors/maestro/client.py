"""Client of the Maestro ERP API for the bridge (the Severa → Maestro integration).

Finnish UI terms, for support staff: *yritys* = the Maestro company (one API key, *API-avain*,
per company); *tuote* / *tuotekoodi* = product / product code; *oletustuote* = the fallback
product (``A/0`` unless the settings name another) that unmatched invoice rows are booked on;
*asiakas* / *asiakasnumero* = customer / customer number (*Y-tunnus*, *ALV-tunnus*,
*verkkolaskuosoite*, *välittäjätunnus*); *myyntilasku* = sales invoice; *tuontiloki* = import
log; *Severa-liittymän asetukset* = the Severa integration settings (*laskun tila* = invoice
status).

Written against Maestro's OpenAPI document (served at ``/openapi.json``; in this project
``simulators/maestro/openapi.yaml``, read to write this client, never imported). Wire facts:

* Every call under ``/api`` carries ``X-Maestro-Api-Key``; a missing or wrong key is 401
  ``missing_api_key`` / ``invalid_api_key``.
* Errors are ``{"code", "message", "details": [{"field", "message"}]}`` → ``MaestroError``.
  A missing resource is 404 ``not_found`` with a detail naming the path parameter; the
  ``get_*`` lookups answer None for exactly that, so a wrong base URL (a 404 naming no field)
  is an error, not "no such product".
* Lists page with ``limit`` (≤ 500) and ``offset`` and answer ``{items, total, limit, offset}``;
  ``iter_*`` methods read them lazily, one page at a time. Unknown query parameters are
  refused (400), so filters are sent only when given.
* ``PUT`` of a product or customer is an upsert: 201 created, 200 updated (the ``bool`` the
  ``put_*`` methods return).
* Product codes may hold ``/`` (the fallback product ``A/0``): a code in a path is
  percent-encoded (``A%2F0``).
* ``POST /api/v1/sales-invoices`` is idempotent on ``severa_invoice_guid``: the first import
  answers 201 ``duplicate: false``, a repeat 200 ``duplicate: true`` with the invoice as first
  imported. So the import is retried after a 5xx or a lost answer like a GET.

Return values are the wire JSON (``JsonObject``); timestamps go out as RFC 3339 with an offset.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Unpack

import httpx

from bridge import http as core
from bridge.errors import ConfigurationError, MaestroError, MaestroMalformedResponse
from bridge.http import HeaderAuth, HttpOptions, JsonObject, ServiceClient, ServiceHttp

__all__ = ["API_KEY_HEADER", "PAGE_SIZE", "JsonObject", "MaestroApiKeyAuth", "MaestroClient"]

API = "/api/v1"
API_KEY_HEADER = "X-Maestro-Api-Key"
PAGE_SIZE = 100  # items per list call (Maestro allows 1..500)
_MAX_PAGE = 500
_LEVELS = ("info", "warning", "error")


class MaestroApiKeyAuth(HeaderAuth):
    """The company's API key (*yrityksen API-avain*) in ``X-Maestro-Api-Key`` on every call."""

    def __init__(self, api_key: str) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ConfigurationError("the Maestro API key is required")
        self._key = api_key.strip()

    def __repr__(self) -> str:  # never show the key
        return "MaestroApiKeyAuth()"

    def headers(self) -> dict[str, str]:
        return {API_KEY_HEADER: self._key}


class MaestroClient(ServiceClient):
    """Maestro client for one company. ``http`` is an ``httpx.Client`` whose ``base_url`` is the
    server root (the API is under ``/api/v1``) or that URL as a string. ``page_size`` is the
    ``limit`` of list calls. ``options`` (``HttpOptions``): ``policy`` (retries), ``limiter``
    (none by default: Maestro documents no rate) and the test seams ``clock``/``sleep``/``rand``.
    """

    auth: MaestroApiKeyAuth

    def __init__(
        self,
        http: httpx.Client | str,
        api_key: str,
        *,
        page_size: int = PAGE_SIZE,
        **options: Unpack[HttpOptions],
    ) -> None:
        if not 1 <= page_size <= _MAX_PAGE:
            raise ConfigurationError(f"page_size must be 1..{_MAX_PAGE}, not {page_size}")
        self.auth = MaestroApiKeyAuth(api_key)
        self.page_size = page_size
        self.http = ServiceHttp(
            http,
            service="Maestro",
            error_factory=MaestroError.from_response,
            malformed_factory=MaestroMalformedResponse.for_response,
            headers={"Accept": "application/json"},
            **options,
        )

    def __repr__(self) -> str:
        return f"MaestroClient(base_url={str(self.http.client.base_url)!r})"

    # -- company and settings (yritys, Severa-liittymän asetukset) -----------------------------

    def company(self) -> JsonObject:
        """``GET /api/v1/company``: the company (*yritys*) the key belongs to:
        ``{company_id, name, business_id}``. A cheap way to check a key."""
        return self._call("GET", f"{API}/company", parse=core.expect_object)

    def get_settings(self) -> JsonObject:
        """``GET /api/v1/integrations/severa/settings`` (*Severa-liittymän asetukset*):
        ``{source_status_name, transferred_status_name, fallback_product_code, updated_at}`` —
        the Severa invoice status to fetch from, the one to set after the transfer (MA-3), and
        the fallback product (*oletustuote*)."""
        return self._call("GET", f"{API}/integrations/severa/settings", parse=core.expect_object)

    def put_settings(
        self,
        source_status_name: str,
        transferred_status_name: str,
        fallback_product_code: str | None = None,
    ) -> JsonObject:
        """``PUT /api/v1/integrations/severa/settings``: replace the settings; returns them as
        saved. ``fallback_product_code=None`` leaves it out, which Maestro reads as ``A/0``.
        The two status names must differ and the fallback product must exist and be active
        (422 ``validation_failed`` naming the field)."""
        body: JsonObject = {
            "source_status_name": source_status_name,
            "transferred_status_name": transferred_status_name,
        }
        if fallback_product_code is not None:
            body["fallback_product_code"] = fallback_product_code
        return self._call("PUT", f"{API}/integrations/severa/settings", json=body, parse=core.expect_object)

    # -- products (tuotteet) ---------------------------------------------------------------------

    def iter_products(self, active: bool | None = None) -> Iterator[JsonObject]:
        """Products (*tuotteet*) ordered by code, lazily; ``active`` filters when given. Each is
        ``{code, name, unit, vat_rate, active, fallback, updated_at}``; exactly one has
        ``fallback: true`` (the *oletustuote* the settings name)."""
        return self._pages(f"{API}/products", {"active": active})

    def get_product(self, code: str) -> JsonObject | None:
        """``GET /api/v1/products/{code}`` (*tuote* by *tuotekoodi*), or None when Maestro has no
        such product. The code is percent-encoded: ``A/0`` goes as ``A%2F0``."""
        return self._lookup(f"{API}/products/{_code(code)}", "code")

    def put_product(
        self, code: str, *, name: str, unit: str, vat_rate: float, active: bool = True
    ) -> tuple[JsonObject, bool]:
        """``PUT /api/v1/products/{code}``: create or update a product; returns ``(product,
        created)``. Deactivating ``A/0`` or the settings' fallback product is 409
        ``fallback_product_protected``."""
        body = {"name": name, "unit": unit, "vat_rate": vat_rate, "active": active}
        return self._call("PUT", f"{API}/products/{_code(code)}", json=body, parse=_upserted)

    # -- customers (asiakkaat) -------------------------------------------------------------------

    def iter_customers(
        self, changed_since: datetime | str | None = None, business_id: str | None = None
    ) -> Iterator[JsonObject]:
        """Customers (*asiakkaat*) ordered by customer number, lazily; ``changed_since`` (created
        or changed at or after, RFC 3339 with an offset) and ``business_id`` (*Y-tunnus*) filter."""
        return self._pages(
            f"{API}/customers", {"changed_since": _instant(changed_since), "business_id": business_id}
        )

    def get_customer(self, number: str) -> JsonObject | None:
        """``GET /api/v1/customers/{customer_number}`` (*asiakas* by *asiakasnumero*), or None."""
        return self._lookup(f"{API}/customers/{_code(number)}", "customer_number")

    def put_customer(self, number: str, body: Mapping[str, Any]) -> tuple[JsonObject, bool]:
        """``PUT /api/v1/customers/{customer_number}`` with a ``CustomerInput`` body (``name``,
        ``business_id``, ``vat_number``, ``einvoice_address``, ``einvoice_operator``, ``email``,
        ``billing_address``, ``severa_customer_guid``); returns ``(customer, created)``. A bad
        Y-tunnus or ALV-tunnus is 422 ``validation_failed`` naming the field."""
        return self._call("PUT", f"{API}/customers/{_code(number)}", json=dict(body), parse=_upserted)

    # -- sales invoices (myyntilaskut) -----------------------------------------------------------

    def import_sales_invoice(self, body: Mapping[str, Any]) -> JsonObject:
        """``POST /api/v1/sales-invoices``: import one Severa invoice (*myyntilaskun tuonti*);
        returns the ``SalesInvoiceImportResult`` ``{duplicate, invoice, log_entries}``.

        Idempotent on ``body["severa_invoice_guid"]``: a repeat answers ``duplicate: true`` with
        the invoice as first imported and no new log entries, so the call is retried after a
        5xx, a timeout or a reset. Refusals: 422 ``validation_failed``, ``totals_mismatch``,
        ``customer_not_found`` (transfer the customer first)."""
        guid = body.get("severa_invoice_guid")
        if not isinstance(guid, str) or not guid:
            raise ConfigurationError(
                "a sales invoice import needs its severa_invoice_guid (the idempotency key)"
            )
        return self._call(
            "POST", f"{API}/sales-invoices", json=dict(body), idempotent=True, parse=_import_result
        )

    def find_sales_invoice(self, severa_invoice_guid: str) -> JsonObject | None:
        """The sales invoice imported from this Severa invoice, or None ("did my import land?")."""
        if not severa_invoice_guid:
            raise ConfigurationError("find_sales_invoice needs a Severa invoice GUID")
        return next(self.iter_sales_invoices(severa_invoice_guid=severa_invoice_guid), None)

    def get_sales_invoice(self, invoice_id: int) -> JsonObject:
        """``GET /api/v1/sales-invoices/{invoice_id}``: one imported invoice with its booked rows
        (``rows[].product_code``, ``booking``, ``reason``); 404 is a ``MaestroError``."""
        if isinstance(invoice_id, bool) or not isinstance(invoice_id, int) or invoice_id < 1:
            raise ConfigurationError(f"a Maestro sales-invoice id is a positive integer, not {invoice_id!r}")
        return self._call("GET", f"{API}/sales-invoices/{invoice_id}", parse=core.expect_object)

    def iter_sales_invoices(
        self, *, severa_invoice_guid: str | None = None, customer_number: str | None = None
    ) -> Iterator[JsonObject]:
        """Imported sales invoices (*myyntilaskut*), oldest first, lazily; optionally only the one
        from a Severa invoice GUID or only a customer's."""
        return self._pages(
            f"{API}/sales-invoices",
            {"severa_invoice_guid": severa_invoice_guid, "customer_number": customer_number},
        )

    # -- import log (tuontiloki) -----------------------------------------------------------------

    def iter_import_log(
        self,
        since: datetime | str | None = None,
        invoice_number: str | None = None,
        severa_invoice_guid: str | None = None,
        invoice_id: int | None = None,
        level: str | None = None,
    ) -> Iterator[JsonObject]:
        """The import log (*tuontiloki*), oldest entry first, lazily. Filters combine: ``since``
        (logged at or after), the invoice by its Severa number, its Severa GUID or its Maestro
        id, and ``level`` (``info``, ``warning`` = a row went to the fallback product, ``error``
        = the import was refused)."""
        if level is not None and level not in _LEVELS:
            raise ConfigurationError(f"level must be one of {', '.join(_LEVELS)}, not {level!r}")
        return self._pages(
            f"{API}/import-log",
            {
                "since": _instant(since),
                "invoice_number": invoice_number,
                "severa_invoice_guid": severa_invoice_guid,
                "invoice_id": invoice_id,
                "level": level,
            },
        )

    # -- plumbing ----------------------------------------------------------------------------------

    def _lookup(self, path: str, parameter: str) -> JsonObject | None:
        """GET one resource; None when Maestro says that resource (named by ``parameter``) is missing."""
        try:
            return self._call("GET", path, parse=core.expect_object)
        except MaestroError as err:
            if err.status == 404 and parameter in err.fields:
                return None
            raise

    def _pages(self, path: str, filters: Mapping[str, Any]) -> Iterator[JsonObject]:
        query = {k: _query_value(v) for k, v in filters.items() if v is not None}
        return core.iter_pages(functools.partial(self._page, path, query))

    def _page(
        self, path: str, query: Mapping[str, str], offset: int | None
    ) -> tuple[list[JsonObject], int | None]:
        start = offset or 0
        params = {**query, "limit": str(self.page_size), "offset": str(start)}
        page = self._call("GET", path, params=params, parse=_list_page)
        total = page.envelope["total"] if page.envelope else 0
        following = start + len(page.items)
        return page.items, following if page.items and following < total else None


def _code(value: str) -> str:
    """A product code or customer number as one path segment (``A/0`` -> ``A%2F0``)."""
    return core.path_segment(value, "Maestro", opaque=True)


def _instant(value: datetime | str | None) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ConfigurationError("Maestro needs an aware datetime (RFC 3339 with an offset)")
        return value.isoformat()
    return value


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _list_page(response: httpx.Response) -> core.Page:
    page = core.expect_page(response, "items")
    envelope = page.envelope or {}
    if not all(
        isinstance(envelope.get(k), int) and not isinstance(envelope.get(k), bool)
        for k in ("total", "limit", "offset")
    ):
        raise core.UnexpectedShape("a list answer needs integer total, limit and offset")
    return page


def _upserted(response: httpx.Response) -> tuple[JsonObject, bool]:
    return core.expect_object(response), response.status_code == 201


def _import_result(response: httpx.Response) -> JsonObject:
    result = core.expect_object(response)
    if not isinstance(result.get("duplicate"), bool) or not isinstance(result.get("invoice"), dict):
        raise core.UnexpectedShape("the import answer needs duplicate and invoice")
    return result
