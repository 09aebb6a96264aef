"""JSON Patch on Severa's writable resources: invoices (PATCH /invoices/{guid}) and invoice
statuses (PATCH /invoicestatuses/{guid}). The routes check a patch's shape (`query.read_patch`);
the rules of what may change live here.

* An invoice patch is applied atomically: any refused operation leaves the invoice as it was.
* A status change (`/status/guid`, or `/status` with an object holding `guid`) is allowed in any
  status; every other edit is refused while the invoice is in an `isReadOnly` status.
* `paymentTerm` moves the due date with it, and so does `date`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .backend import OrganizationBackend
from .errors import SeveraError, bad_param
from .models import Invoice

STATUS_FIELDS = {
    "isactive": "is_active",
    "isdefault": "is_default",
    "isreadonly": "is_read_only",
    "hasinvoicenumber": "has_invoice_number",
    "issent": "is_sent",
    "iswaitingpayment": "is_waiting_payment",
    "ispaid": "is_paid",
    "isdefaultforcreditnote": "is_default_for_credit_note",
}


def unsupported(op: dict[str, Any]) -> SeveraError:
    return SeveraError(
        400,
        f"Operation '{op['op']}' is not supported on {op['path']}.",
        type="InvalidOperation",
        location="RequestBody",
        name=op["path"],
    )


def bool_value(path: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise bad_param(path, f"Invalid value for {path}: expected true or false.", "RequestBody")


def status_changes(ops: list[dict[str, Any]]) -> dict[str, Any]:
    """The changes an invoice status patch asks for (checked; nothing applied yet)."""
    changes: dict[str, Any] = {}
    for op in ops:
        key = op["path"].strip("/").lower()
        if op["op"] not in ("add", "replace"):
            raise unsupported(op)
        if key in STATUS_FIELDS:
            changes[STATUS_FIELDS[key]] = bool_value(op["path"], op["value"])
        elif key == "name":
            if not isinstance(op["value"], str) or not op["value"].strip():
                raise bad_param(op["path"], "name must be a non-empty string.", "RequestBody")
            changes["name"] = op["value"]
        elif key == "sortorder":
            v = op["value"]
            if (
                isinstance(v, bool)
                or not (isinstance(v, int) or (isinstance(v, str) and v.isdigit()))
                or not 0 <= int(v) <= 2**31 - 1  # int32 on the wire
            ):
                raise bad_param(
                    op["path"], "sortOrder must be an integer from 0 to 2147483647.", "RequestBody"
                )
            changes["sort_order"] = int(v)
        else:
            raise bad_param(
                op["path"], f"The path '{op['path']}' is not valid for an invoice status.", "RequestBody"
            )
    return changes


def patch_invoice(backend: OrganizationBackend, guid: str, ops: list[dict[str, Any]]) -> Invoice:
    """Apply a JSON Patch (already shape-checked) atomically."""
    inv: Invoice = backend.get("invoices", guid, "Invoice")
    snapshot = _copy_invoice(inv)
    next_number = backend.org.next_invoice_number
    updated = (inv.audit.updated, inv.audit.updated_by)
    try:
        for op in ops:
            _apply_invoice_op(backend, inv, op)
    except SeveraError:
        _restore_invoice(inv, snapshot)
        backend.org.next_invoice_number = next_number
        inv.audit.updated, inv.audit.updated_by = updated
        raise
    backend.touch(inv.audit)
    return inv


def _apply_invoice_op(backend: OrganizationBackend, inv: Invoice, op: dict[str, Any]) -> None:
    path = op["path"]
    value = op.get("value")
    kind = op["op"]
    segs = [s for s in path.strip("/").split("/")]
    top = segs[0].lower() if segs else ""
    if top == "status":
        if kind not in ("add", "replace"):
            raise unsupported(op)
        if len(segs) == 2 and segs[1].lower() == "guid":
            target = value
        elif len(segs) == 1:
            target = value.get("guid") if isinstance(value, dict) else None
            if target is None:
                target = (
                    next((v for k, v in value.items() if k.lower() == "guid"), None)
                    if isinstance(value, dict)
                    else None
                )
        else:
            raise bad_param(path, f"The path '{path}' is not valid for an invoice.", "RequestBody")
        if not isinstance(target, str) or not target:
            raise bad_param(path, "The invoice status must be given by its guid (a string).", "RequestBody")
        if target not in backend.org.invoice_statuses:
            raise bad_param(path, f"Invoice status '{target}' was not found.", "RequestBody")
        backend.set_status(inv.guid, target)
        return
    if backend.status_of(inv).is_read_only:
        raise SeveraError(
            400,
            f"The invoice is in status '{backend.status_of(inv).name}', which is not editable.",
            type="InvalidOperation",
            location="RequestBody",
            name=path,
        )
    spec = _EDITABLE.get(top)
    if spec is None or len(segs) != 1:
        raise bad_param(path, f"The path '{path}' is not valid for an invoice.", "RequestBody")
    attr, conv = spec
    if kind == "remove":
        if attr in ("date", "due_date", "payment_term"):
            raise bad_param(path, f"{path} cannot be removed.", "RequestBody")
        setattr(inv, attr, None)
        return
    if kind not in ("add", "replace"):
        raise unsupported(op)
    try:
        new = conv(value)
    except (TypeError, ValueError) as exc:
        raise bad_param(path, f"Invalid value for {path}: {exc}", "RequestBody") from exc
    if new is None and attr in ("date", "due_date", "payment_term"):
        raise bad_param(path, f"{path} cannot be empty.", "RequestBody")
    setattr(inv, attr, new)
    if attr == "payment_term":
        inv.due_date = inv.date + timedelta(days=new)
    if attr == "date":
        inv.due_date = new + timedelta(days=inv.payment_term)


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise TypeError(f"expected a string, got {type(v).__name__}")
    return v


def _date(v: Any) -> date | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise TypeError(f"expected a date string YYYY-MM-DD, got {type(v).__name__}")
    return date.fromisoformat(v[:10])


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(v, int):
        out = v
    elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
        out = int(v)
    else:
        raise TypeError(f"expected an integer, got {v!r}")
    if not 0 <= out <= 3650:
        raise ValueError("must be between 0 and 3650")
    return out


_EDITABLE: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "ourreference": ("our_reference", _text),
    "yourreference": ("your_reference", _text),
    "ordernumber": ("order_number", _text),
    "notes": ("notes", _text),
    "date": ("date", _date),
    "duedate": ("due_date", _date),
    "paymentdate": ("payment_date", _date),
    "entrydate": ("entry_date", _date),
    "paymentterm": ("payment_term", _int),
}


def _copy_invoice(inv: Invoice) -> dict[str, Any]:
    return {k: getattr(inv, k) for k in inv.__dataclass_fields__ if k not in ("audit", "row_guids")}


def _restore_invoice(inv: Invoice, snap: dict[str, Any]) -> None:
    for k, v in snap.items():
        setattr(inv, k, v)
