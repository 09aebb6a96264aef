"""Serialisers: the Maestro fake's state -> the JSON its OpenAPI document describes (`openapi.yaml`)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from flask import Response, jsonify

from .backend import ImportOutcome
from .models import (
    Company,
    Product,
    SalesInvoice,
    iso,
)


def wire(obj: Any, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """A model as the API shows it: Maestro's wire names are the models' own (the API was designed
    with them), in the models' field order; instants as RFC 3339 UTC, lists and maps copied."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        if f.name in without:
            continue
        value = getattr(obj, f.name)
        if isinstance(value, datetime):
            value = iso(value)
        elif isinstance(value, (list, dict)):
            value = type(value)(value)
        out[f.name] = value
    return out


def company(c: Company) -> dict[str, Any]:
    return wire(c, without=("api_key",))


def product(p: Product, fallback_code: str) -> dict[str, Any]:
    # exactly one product is the fallback: the one the settings name (A/0 stays protected)
    return {
        **wire(p, without=("updated_at",)),
        "fallback": p.code == fallback_code,
        "updated_at": iso(p.updated_at),
    }


# these show every field of their model as it is
customer = booked_row = log_entry = settings = wire


def invoice(inv: SalesInvoice) -> dict[str, Any]:
    return {
        **wire(inv, without=("status", "imported_at", "rows")),
        "status": inv.status,
        "imported_at": iso(inv.imported_at),
        "fallback_row_count": sum(1 for r in inv.rows if r.booking == "fallback"),
        "rows": [booked_row(r) for r in inv.rows],
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
