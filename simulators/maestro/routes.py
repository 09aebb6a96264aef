"""HTTP routes of the Maestro fake: parse, check against the OpenAPI document, call the domain, serialise.

Every route under `/api` needs the company's API key (`auth.py`); `/openapi.json` is public.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, jsonify, request

from simulators.kit import request_json

from .auth import current_backend
from .errors import MaestroError, detail
from .invoice_import import import_sales_invoice
from .models import FALLBACK_PRODUCT_CODE, Customer, ImportLogEntry, Product
from .openapi import check_body, document_json, parameters
from .validation import check_customer_identifiers, normalise_business_id

if TYPE_CHECKING:
    from .simulator import MaestroSimulator

API = "/api/v1"


def read_json() -> Any:
    """The JSON body, or 415 (not JSON) / 400 (unparseable)."""
    if not request.mimetype or not (
        request.mimetype == "application/json" or request.mimetype.endswith("+json")
    ):
        raise MaestroError(
            415,
            "unsupported_media_type",
            f"Expected a JSON body (Content-Type: application/json), got {request.mimetype or 'none'!r}.",
        )
    try:
        return request_json()  # parsed by the kit before the lock; NaN and Infinity are not JSON
    except ValueError as exc:
        raise MaestroError(
            400, "bad_request", f"The request body is not valid JSON: {exc}", [detail(None, str(exc))]
        ) from exc


def _created(payload: dict[str, Any], location: str) -> Response:
    resp = jsonify(payload)
    resp.status_code = 201
    resp.headers["Location"] = location
    return resp


def _page(items: list[Any], args: dict[str, Any]) -> Response:
    limit, offset = args["limit"], args["offset"]
    return jsonify(
        {"items": items[offset : offset + limit], "total": len(items), "limit": limit, "offset": offset}
    )


def register(app: Flask, sim: MaestroSimulator) -> None:
    bp = Blueprint("maestro", __name__)

    @bp.get("/openapi.json")
    def openapi_document() -> Response:
        return Response(document_json(), mimetype="application/json")

    # ------------------------------------------------------------------ company
    @bp.get(f"{API}/company")
    def get_company() -> Response:
        backend = current_backend(sim)
        parameters(f"{API}/company", "get", request.args)
        return jsonify(backend.company.to_api())

    # ------------------------------------------------------------------ products (tuotteet)
    @bp.get(f"{API}/products")
    def list_products() -> Response:
        backend = current_backend(sim)
        args = parameters(f"{API}/products", "get", request.args)
        fallback = backend.settings.fallback_product_code
        items = [
            p.to_api(fallback)
            for _, p in sorted(backend.products.items())
            if ("active" not in args or p.active == args["active"])
            and ("code" not in args or p.code == args["code"])
        ]
        return _page(items, args)

    @bp.get(f"{API}/products/<path:code>")
    def get_product(code: str) -> Response:
        backend = current_backend(sim)
        parameters(f"{API}/products/{{code}}", "get", request.args, {"code": code})
        product = backend.products.get(code)
        if product is None:
            raise MaestroError(
                404, "not_found", f"No product with code {code!r}.", [detail("code", "unknown product")]
            )
        return jsonify(product.to_api(backend.settings.fallback_product_code))

    @bp.put(f"{API}/products/<path:code>")
    def upsert_product(code: str) -> Response:
        backend = current_backend(sim)
        parameters(f"{API}/products/{{code}}", "put", request.args, {"code": code})
        data = read_json()
        check_body("ProductInput", data)
        active = data.get("active", True)
        if not active and backend.is_protected(code):
            raise MaestroError(
                409,
                "fallback_product_protected",
                f"Product {code} is the fallback product and cannot be deactivated.",
                [detail("active", "the fallback product must stay active")],
            )
        now = sim.clock.now()
        created = code not in backend.products
        backend.products[code] = Product(
            code, data["name"].strip(), data["unit"].strip(), data["vat_rate"], active, now
        )
        payload = backend.products[code].to_api(backend.settings.fallback_product_code)
        if created:
            return _created(payload, f"{API}/products/{code.replace('/', '%2F')}")
        return jsonify(payload)

    @bp.delete(f"{API}/products/<path:code>")
    def delete_product(code: str) -> Response:
        backend = current_backend(sim)
        parameters(f"{API}/products/{{code}}", "delete", request.args, {"code": code})
        if code not in backend.products:
            raise MaestroError(
                404, "not_found", f"No product with code {code!r}.", [detail("code", "unknown product")]
            )
        if backend.is_protected(code):
            what = (
                "A/0 always exists"
                if code == FALLBACK_PRODUCT_CODE
                else "it is the fallback product in the settings"
            )
            raise MaestroError(
                409,
                "fallback_product_protected",
                f"Product {code} cannot be deleted: {what}.",
                [detail("code", "protected product")],
            )
        del backend.products[code]
        return Response(status=204)

    # ------------------------------------------------------------------ customers (asiakkaat)
    @bp.get(f"{API}/customers")
    def list_customers() -> Response:
        backend = current_backend(sim)
        args = parameters(f"{API}/customers", "get", request.args)
        since = _instant(args.get("changed_since"))
        business_id = args.get("business_id")
        items = [
            c.to_api()
            for _, c in sorted(backend.customers.items())
            if (since is None or c.updated_at >= since)
            and (business_id is None or c.business_id == business_id)
        ]
        return _page(items, args)

    @bp.get(f"{API}/customers/<customer_number>")
    def get_customer(customer_number: str) -> Response:
        backend = current_backend(sim)
        parameters(
            f"{API}/customers/{{customer_number}}", "get", request.args, {"customer_number": customer_number}
        )
        customer = backend.customers.get(customer_number)
        if customer is None:
            raise MaestroError(
                404,
                "not_found",
                f"No customer with number {customer_number!r}.",
                [detail("customer_number", "unknown customer")],
            )
        return jsonify(customer.to_api())

    @bp.put(f"{API}/customers/<customer_number>")
    def upsert_customer(customer_number: str) -> Response:
        backend = current_backend(sim)
        parameters(
            f"{API}/customers/{{customer_number}}", "put", request.args, {"customer_number": customer_number}
        )
        data = read_json()
        check_body("CustomerInput", data)
        problems = check_customer_identifiers(data)
        if problems:
            fields = ", ".join(str(p["field"]) for p in problems)
            raise MaestroError(
                422, "validation_failed", f"The customer is not valid: check {fields}.", problems
            )
        now = sim.clock.now()
        old = backend.customers.get(customer_number)
        address = data.get("billing_address")
        if address is not None:
            address = {**address, "country_code": address.get("country_code", "FI")}
        guid = data.get("severa_customer_guid")
        backend.customers[customer_number] = Customer(
            customer_number=customer_number,
            name=data["name"].strip(),
            business_id=normalise_business_id(data["business_id"]) if data.get("business_id") else None,
            vat_number=data["vat_number"].upper() if data.get("vat_number") else None,
            einvoice_address=data.get("einvoice_address") or None,
            einvoice_operator=data.get("einvoice_operator") or None,
            email=data.get("email") or None,
            billing_address=address,
            severa_customer_guid=guid.lower() if guid else None,
            created_at=old.created_at if old else now,
            updated_at=now,
        )
        payload = backend.customers[customer_number].to_api()
        if old is None:
            return _created(payload, f"{API}/customers/{customer_number}")
        return jsonify(payload)

    # ------------------------------------------------------------------ sales invoices (myyntilaskut)
    @bp.get(f"{API}/sales-invoices")
    def list_invoices() -> Response:
        backend = current_backend(sim)
        args = parameters(f"{API}/sales-invoices", "get", request.args)
        guid = (args.get("severa_invoice_guid") or "").lower()
        customer = args.get("customer_number")
        items = [
            inv.to_api()
            for _, inv in sorted(backend.invoices.items())
            if (not guid or inv.severa_invoice_guid.lower() == guid)
            and (customer is None or inv.customer_number == customer)
        ]
        return _page(items, args)

    @bp.post(f"{API}/sales-invoices")
    def import_invoice() -> Response:
        backend = current_backend(sim)
        parameters(f"{API}/sales-invoices", "post", request.args)
        data = read_json()
        check_body("SalesInvoiceImport", data)
        outcome = import_sales_invoice(
            backend, data, sim.clock.now(), require_known_customer=sim.require_known_customer
        )
        if outcome.duplicate:
            return jsonify(outcome.to_api())
        return _created(outcome.to_api(), f"{API}/sales-invoices/{outcome.invoice.invoice_id}")

    @bp.get(f"{API}/sales-invoices/<int:invoice_id>")
    def get_invoice(invoice_id: int) -> Response:
        backend = current_backend(sim)
        parameters(
            f"{API}/sales-invoices/{{invoice_id}}", "get", request.args, {"invoice_id": str(invoice_id)}
        )
        invoice = backend.invoices.get(invoice_id)
        if invoice is None:
            raise MaestroError(
                404,
                "not_found",
                f"No sales invoice with id {invoice_id}.",
                [detail("invoice_id", "unknown invoice")],
            )
        return jsonify(invoice.to_api())

    # ------------------------------------------------------------------ import log (tuontiloki)
    @bp.get(f"{API}/import-log")
    def list_import_log() -> Response:
        backend = current_backend(sim)
        args = parameters(f"{API}/import-log", "get", request.args)
        checks: list[Callable[[ImportLogEntry], bool]] = []
        since = _instant(args.get("since"))
        if since is not None:
            checks.append(lambda e: e.logged_at >= since)
        wanted_values: list[tuple[str, Any]] = [
            (k, args[k]) for k in ("invoice_number", "invoice_id", "level") if k in args
        ]
        if "severa_invoice_guid" in args:
            wanted_values.append(("severa_invoice_guid", args["severa_invoice_guid"].lower()))
        if "invoice" in args:  # deprecated: one value, read by the documented precedence
            key = _invoice_key(backend.import_log, args["invoice"])
            if key is None:
                return _page([], args)
            wanted_values.append(key)
        checks.extend(functools.partial(_has_value, name=name, value=value) for name, value in wanted_values)

        def wanted(e: ImportLogEntry) -> bool:
            return all(check(e) for check in checks)

        return _page([e.to_api() for e in backend.import_log if wanted(e)], args)

    # ------------------------------------------------------------------ Severa integration settings
    @bp.get(f"{API}/integrations/severa/settings")
    def get_settings() -> Response:
        backend = current_backend(sim)
        parameters(f"{API}/integrations/severa/settings", "get", request.args)
        return jsonify(backend.settings.to_api())

    @bp.put(f"{API}/integrations/severa/settings")
    def put_settings() -> Response:
        backend = current_backend(sim)
        parameters(f"{API}/integrations/severa/settings", "put", request.args)
        data = read_json()
        check_body("IntegrationSettingsInput", data)
        source, transferred = data["source_status_name"].strip(), data["transferred_status_name"].strip()
        fallback = data.get("fallback_product_code", FALLBACK_PRODUCT_CODE)
        problems = []
        if source.casefold() == transferred.casefold():
            problems.append(detail("transferred_status_name", "must differ from source_status_name"))
        product = backend.products.get(fallback)
        if product is None or not product.active:
            problems.append(detail("fallback_product_code", f"no active product with code {fallback!r}"))
        if problems:
            fields = ", ".join(str(p["field"]) for p in problems)
            raise MaestroError(
                422, "validation_failed", f"The settings are not valid: check {fields}.", problems
            )
        s = backend.settings
        s.source_status_name, s.transferred_status_name, s.fallback_product_code = (
            source,
            transferred,
            fallback,
        )
        s.updated_at = sim.clock.now()
        return jsonify(s.to_api())

    app.register_blueprint(bp)


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _has_value(entry: ImportLogEntry, *, name: str, value: Any) -> bool:
    got = getattr(entry, name)
    return bool((got.lower() if name == "severa_invoice_guid" and got else got) == value)


def _invoice_key(log: list[ImportLogEntry], value: str) -> tuple[str, Any] | None:
    """What the deprecated `invoice` parameter means, by the documented precedence: a Severa GUID,
    else a Severa invoice number some entry has, else a Maestro invoice id; None = no invoice."""
    if _GUID.fullmatch(value):
        return "severa_invoice_guid", value.lower()
    if any(e.invoice_number == value for e in log):
        return "invoice_number", value
    if re.fullmatch(r"[0-9]{1,18}", value):
        return "invoice_id", int(value)
    return None


def _instant(value: str | None) -> Any:
    from datetime import datetime

    if value is None:
        return None
    return datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
