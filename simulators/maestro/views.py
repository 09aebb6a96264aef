"""Serialisers: the Maestro fake's state -> the JSON its OpenAPI document describes (`openapi.yaml`)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from .backend import ImportOutcome
from .models import (
    BookedRow,
    Company,
    Customer,
    ImportLogEntry,
    IntegrationSettings,
    Product,
    SalesInvoice,
    iso,
)


def company(c: Company) -> dict[str, Any]:
    return {"company_id": c.company_id, "name": c.name, "business_id": c.business_id}


def product(p: Product, fallback_code: str) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "unit": p.unit,
        "vat_rate": p.vat_rate,
        "active": p.active,
        # exactly one product is the fallback: the one the settings name (A/0 stays protected)
        "fallback": p.code == fallback_code,
        "updated_at": iso(p.updated_at),
    }


def customer(c: Customer) -> dict[str, Any]:
    return {
        "customer_number": c.customer_number,
        "name": c.name,
        "business_id": c.business_id,
        "vat_number": c.vat_number,
        "einvoice_address": c.einvoice_address,
        "einvoice_operator": c.einvoice_operator,
        "email": c.email,
        "billing_address": dict(c.billing_address) if c.billing_address is not None else None,
        "severa_customer_guid": c.severa_customer_guid,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def booked_row(r: BookedRow) -> dict[str, Any]:
    return {
        "row_number": r.row_number,
        "source_kind": r.source_kind,
        "codes": list(r.codes),
        "description": r.description,
        "quantity": r.quantity,
        "unit": r.unit,
        "unit_price": r.unit_price,
        "vat_rate": r.vat_rate,
        "net_amount": r.net_amount,
        "vat_amount": r.vat_amount,
        "gross_amount": r.gross_amount,
        "product_code": r.product_code,
        "booking": r.booking,
        "reason": r.reason,
        "matched_code": r.matched_code,
    }


def invoice(inv: SalesInvoice) -> dict[str, Any]:
    return {
        "invoice_id": inv.invoice_id,
        "severa_invoice_guid": inv.severa_invoice_guid,
        "invoice_number": inv.invoice_number,
        "invoice_date": inv.invoice_date,
        "due_date": inv.due_date,
        "customer_number": inv.customer_number,
        "currency": inv.currency,
        "reference_number": inv.reference_number,
        "total_excluding_vat": inv.total_excluding_vat,
        "total_vat": inv.total_vat,
        "total_including_vat": inv.total_including_vat,
        "status": inv.status,
        "imported_at": iso(inv.imported_at),
        "fallback_row_count": sum(1 for r in inv.rows if r.booking == "fallback"),
        "rows": [booked_row(r) for r in inv.rows],
    }


def log_entry(e: ImportLogEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "logged_at": iso(e.logged_at),
        "level": e.level,
        "event": e.event,
        "message": e.message,
        "invoice_number": e.invoice_number,
        "severa_invoice_guid": e.severa_invoice_guid,
        "invoice_id": e.invoice_id,
        "row_number": e.row_number,
        "source_kind": e.source_kind,
        "source_code": e.source_code,
        "source_codes": list(e.source_codes),
        "product_code": e.product_code,
    }


def settings(s: IntegrationSettings) -> dict[str, Any]:
    return {
        "source_status_name": s.source_status_name,
        "transferred_status_name": s.transferred_status_name,
        "fallback_product_code": s.fallback_product_code,
        "updated_at": iso(s.updated_at),
    }


def import_outcome(outcome: ImportOutcome) -> dict[str, Any]:
    return {
        "duplicate": outcome.duplicate,
        "invoice": invoice(outcome.invoice),
        "log_entries": [log_entry(e) for e in outcome.log_entries],
    }


def page(items: list[Any], args: dict[str, Any]) -> Response:
    """A list answer: one page of `items` (`limit`, `offset`) and the total."""
    limit, offset = args["limit"], args["offset"]
    return jsonify(
        {"items": items[offset : offset + limit], "total": len(items), "limit": limit, "offset": offset}
    )


def created(payload: dict[str, Any], location: str) -> Response:
    resp = jsonify(payload)
    resp.status_code = 201
    resp.headers["Location"] = location
    return resp
