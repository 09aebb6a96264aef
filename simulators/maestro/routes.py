"""HTTP routes of the Maestro fake on one module-level blueprint: parse and check the request
against the OpenAPI document (`openapi.py`), call the company's backend, serialise (`views.py`).

Every route under `/api` needs the company's API key (`auth.py`); `/openapi.json` is public.
A `MaestroError` raised anywhere answers itself in Maestro's error body (the kit's handler).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from simulators.kit import current_backend as service_backend
from simulators.kit import request_json

from . import views
from .auth import API_KEY_HEADER, authenticate
from .backend import CompanyBackend, MaestroBackend
from .errors import MaestroError, detail
from .openapi import check_body, document_json, parameters

API = "/api/v1"

bp = Blueprint("maestro", __name__)


def maestro() -> MaestroBackend:
    return service_backend(MaestroBackend)


def current_backend() -> CompanyBackend:
    """The company of the request's API key, or 401 in Maestro's error body."""
    return authenticate(maestro().companies.values(), request.headers.get(API_KEY_HEADER))


def read_json(schema: str) -> Any:
    """The JSON body, checked against `schema` of the document: 415 (not JSON), 400
    (unparseable) or 422 naming every offending field."""
    if not request.mimetype or not (
        request.mimetype == "application/json" or request.mimetype.endswith("+json")
    ):
        raise MaestroError(
            415,
            "unsupported_media_type",
            f"Expected a JSON body (Content-Type: application/json), got {request.mimetype or 'none'!r}.",
        )
    try:
        data = request_json()  # parsed by the kit before the lock; NaN and Infinity are not JSON
    except ValueError as exc:
        raise MaestroError(
            400, "bad_request", f"The request body is not valid JSON: {exc}", [detail(None, str(exc))]
        ) from exc
    check_body(schema, data)
    return data


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return Response(document_json(), mimetype="application/json")


# ---------------------------------------------------------------------------- company
@bp.get(f"{API}/company")
def get_company() -> Response:
    backend = current_backend()
    parameters(f"{API}/company", "get", request.args)
    return jsonify(views.company(backend.company))


# ---------------------------------------------------------------------------- products (tuotteet)
@bp.get(f"{API}/products")
def list_products() -> Response:
    backend = current_backend()
    args = parameters(f"{API}/products", "get", request.args)
    found = backend.products_where(args.get("active"), args.get("code"))
    return views.page([views.product(p, backend.settings.fallback_product_code) for p in found], args)


@bp.get(f"{API}/products/<path:code>")
def get_product(code: str) -> Response:
    backend = current_backend()
    parameters(f"{API}/products/{{code}}", "get", request.args, {"code": code})
    return jsonify(views.product(backend.product(code), backend.settings.fallback_product_code))


@bp.put(f"{API}/products/<path:code>")
def upsert_product(code: str) -> Response:
    backend = current_backend()
    parameters(f"{API}/products/{{code}}", "put", request.args, {"code": code})
    product, created = backend.upsert_product(code, read_json("ProductInput"), maestro().now())
    payload = views.product(product, backend.settings.fallback_product_code)
    return (
        views.created(payload, f"{API}/products/{code.replace('/', '%2F')}") if created else jsonify(payload)
    )


@bp.delete(f"{API}/products/<path:code>")
def delete_product(code: str) -> Response:
    backend = current_backend()
    parameters(f"{API}/products/{{code}}", "delete", request.args, {"code": code})
    backend.delete_product(code)
    return Response(status=204)


# ---------------------------------------------------------------------------- customers (asiakkaat)
@bp.get(f"{API}/customers")
def list_customers() -> Response:
    backend = current_backend()
    args = parameters(f"{API}/customers", "get", request.args)
    found = backend.customers_where(_instant(args.get("changed_since")), args.get("business_id"))
    return views.page([views.customer(c) for c in found], args)


@bp.get(f"{API}/customers/<customer_number>")
def get_customer(customer_number: str) -> Response:
    backend = current_backend()
    path = {"customer_number": customer_number}
    parameters(f"{API}/customers/{{customer_number}}", "get", request.args, path)
    return jsonify(views.customer(backend.customer(customer_number)))


@bp.put(f"{API}/customers/<customer_number>")
def upsert_customer(customer_number: str) -> Response:
    backend = current_backend()
    path = {"customer_number": customer_number}
    parameters(f"{API}/customers/{{customer_number}}", "put", request.args, path)
    customer, created = backend.upsert_customer(customer_number, read_json("CustomerInput"), maestro().now())
    payload = views.customer(customer)
    return views.created(payload, f"{API}/customers/{customer_number}") if created else jsonify(payload)


# ---------------------------------------------------------------------------- sales invoices (myyntilaskut)
@bp.get(f"{API}/sales-invoices")
def list_invoices() -> Response:
    backend = current_backend()
    args = parameters(f"{API}/sales-invoices", "get", request.args)
    found = backend.invoices_where(args.get("severa_invoice_guid"), args.get("customer_number"))
    return views.page([views.invoice(inv) for inv in found], args)


@bp.post(f"{API}/sales-invoices")
def import_invoice() -> Response:
    backend = current_backend()
    parameters(f"{API}/sales-invoices", "post", request.args)
    data = read_json("SalesInvoiceImport")
    mae = maestro()
    outcome = backend.import_sales_invoice(data, mae.now(), require_known_customer=mae.require_known_customer)
    payload = views.import_outcome(outcome)
    if outcome.duplicate:
        return jsonify(payload)
    return views.created(payload, f"{API}/sales-invoices/{outcome.invoice.invoice_id}")


@bp.get(f"{API}/sales-invoices/<int:invoice_id>")
def get_invoice(invoice_id: int) -> Response:
    backend = current_backend()
    path = {"invoice_id": str(invoice_id)}
    parameters(f"{API}/sales-invoices/{{invoice_id}}", "get", request.args, path)
    return jsonify(views.invoice(backend.invoice(invoice_id)))


# ---------------------------------------------------------------------------- import log (tuontiloki)
@bp.get(f"{API}/import-log")
def list_import_log() -> Response:
    backend = current_backend()
    args = parameters(f"{API}/import-log", "get", request.args)
    found = backend.log_where(args, _instant(args.get("since")))
    return views.page([views.log_entry(e) for e in found], args)


# ---------------------------------------------------------------------------- Severa integration settings
@bp.get(f"{API}/integrations/severa/settings")
def get_settings() -> Response:
    backend = current_backend()
    parameters(f"{API}/integrations/severa/settings", "get", request.args)
    return jsonify(views.settings(backend.settings))


@bp.put(f"{API}/integrations/severa/settings")
def put_settings() -> Response:
    backend = current_backend()
    parameters(f"{API}/integrations/severa/settings", "put", request.args)
    data = read_json("IntegrationSettingsInput")
    return jsonify(views.settings(backend.update_settings(data, maestro().now())))
