"""Serialisers: domain dataclasses -> the JSON of Severa's output models (invoices, their rows and
source items, invoice statuses; the registers and settings are in `views_registers.py`).

Sub-objects that would be null are left out rather than sent as null where the published
schema does not allow null for them (the spec is the oracle the contract tests use).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from .backend import OrganizationBackend as Backend
from .models import (
    Audit,
    Customer,
    Invoice,
    InvoiceRow,
    InvoiceStatus,
    ProjectFee,
    TravelExpense,
    WorkHour,
    money_cents,
)
from .rows import ROW_CATEGORY


def dt(d: datetime | None) -> str | None:
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day(d: date | None) -> str | None:
    return d.isoformat() if d else None


def money(amount: float | None) -> dict[str, Any]:
    """`MoneyModel`: the amount rounded to cents half away from zero, a number on the wire."""
    return {"amount": None if amount is None else float(money_cents(amount)), "currencyCode": "EUR"}


def user_ref(b: Backend, guid: str | None) -> dict[str, Any] | None:
    u = b.org.users.get(guid or "")
    if u is None:
        return None
    return {
        "guid": u.guid,
        "name": f"{u.first_name} {u.last_name}",
        "firstName": u.first_name,
        "lastName": u.last_name,
        "code": u.code,
    }


def audit(b: Backend, a: Audit) -> dict[str, Any]:
    out: dict[str, Any] = {
        "createdDateTime": dt(a.created),
        "lastUpdatedDateTime": dt(a.updated or a.created),
    }
    created, updated = user_ref(b, a.created_by), user_ref(b, a.updated_by or a.created_by)
    if created:
        out["createdBy"] = created
    if updated:
        out["lastUpdatedBy"] = updated
    return out


def status(b: Backend, s: InvoiceStatus) -> dict[str, Any]:
    return {
        "guid": s.guid,
        "name": s.name,
        "isActive": s.is_active,
        "isDefault": s.is_default,
        "isReadOnly": s.is_read_only,
        "hasInvoiceNumber": s.has_invoice_number,
        "isSent": s.is_sent,
        "isWaitingPayment": s.is_waiting_payment,
        "isPaid": s.is_paid,
        "isDefaultForCreditNote": s.is_default_for_credit_note,
        "sortOrder": s.sort_order,
        **audit(b, s.audit),
    }


def customer_ref(c: Customer | None) -> dict[str, Any]:
    if c is None:
        return {}
    return {"guid": c.guid, "name": c.name, "number": c.number}


def invoice(b: Backend, inv: Invoice) -> dict[str, Any]:
    o = b.org
    st = o.invoice_statuses[inv.status_guid]
    cust, billing = o.customers.get(inv.customer_guid), o.customers.get(inv.billing_customer_guid)
    addr = o.addresses.get(billing.headquarter_address_guid or "") if billing else None
    bu = o.business_units.get(inv.business_unit_guid)
    sender_bu = bu
    while sender_bu is not None and not sender_bu.vat_number and sender_bu.parent_guid:
        sender_bu = o.business_units.get(sender_bu.parent_guid)
    company = o.companies.get(bu.company_guid) if bu else None
    proj = o.projects.get(inv.project_guid or "")
    t = b.totals(inv)
    sender = user_ref(b, inv.sender_contact_guid)
    out: dict[str, Any] = {
        "guid": inv.guid,
        "number": inv.number,
        "referenceNumber": inv.reference_number,
        "status": {
            "guid": st.guid,
            "name": st.name,
            "isSent": st.is_sent,
            "isWaitingPayment": st.is_waiting_payment,
            "isPaid": st.is_paid,
        },
        "customer": customer_ref(cust),
        "billingCustomer": customer_ref(billing),
        "projects": [{"guid": proj.guid, "name": proj.name, "number": proj.number}] if proj else [],
        "date": day(inv.date),
        "dueDate": day(inv.due_date),
        "paymentDate": day(inv.payment_date),
        "entryDate": day(inv.entry_date),
        "paymentTerm": inv.payment_term,
        "overdueInterest": inv.overdue_interest,
        "ourReference": inv.our_reference,
        "yourReference": inv.your_reference,
        "orderNumber": inv.order_number,
        "currency": {"guid": currency_guid(b), "name": "Euro", "code": "EUR", "symbol": "€"},
        "currencyRate": 1.0,
        "totalExcludingTax": money(t["excl"]),
        "totalIncludingTax": money(t["incl"]),
        "totalTax": money(t["tax"]),
        "workHoursTotalExcludingTax": money(t["Hours"]),
        "projectFeesTotalExcludingTax": money(t["ProjectFees"]),
        "projectTravelExpensesTotalExcludingTax": money(t["TravelExpenses"]),
        "flatRatesTotalExcludingTax": money(t["FlatRate"]),
        "workHoursQuantity": t["hours_qty"],
        "workHourValueAddedTax": 25.5,
        "receiverCustomerName": billing.name if billing else None,
        "receiverContactGuid": None,
        "receiverContactName": None,
        "receiverContactEmail": billing.email if billing else None,
        "receiverAddress": {
            "addressline": addr.addressline if addr else None,
            "postalCode": addr.postal_code if addr else None,
            "city": addr.city if addr else None,
            "state": None,
            "country": addr.country if addr else None,
        },
        "receiverVatNumber": billing.vat_number if billing else None,
        "receiverKvkNumber": None,
        "senderName": company.name if company else o.details.name,
        "senderContactName": sender["name"] if sender else None,
        "senderContactGuid": sender["guid"] if sender else None,
        "senderAddress": {
            "addressline": (bu.address if bu and bu.address else o.details.address),
            "postalCode": (bu.postal_code if bu and bu.postal_code else o.details.postal_code),
            "city": (bu.city if bu and bu.city else o.details.city),
            "state": None,
            "country": "Finland",
        },
        "senderVatNumber": sender_bu.vat_number if sender_bu else o.details.vat_number,
        "senderKvkNumber": None,
        "isCreditNote": inv.is_credit_note,
        "invoiceNumberBusinessUnitGuid": inv.business_unit_guid,
        "invoiceTemplate": {"guid": template_guid(b), "name": "Oletuslaskupohja"},
        "culture": {"name": "suomi (Suomi)", "englishName": "Finnish (Finland)", "code": "fi-FI"},
        "language": {"guid": language_guid(b), "name": "suomi", "englishName": "Finnish", "code": "fi"},
        "notes": inv.notes,
        "canBeDeleted": not st.is_read_only,
        **audit(b, inv.audit),
    }
    return out


def stable(b: Backend, what: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.UUID(b.guid), what))


def currency_guid(b: Backend) -> str:
    return stable(b, "currency:EUR")


def template_guid(b: Backend) -> str:
    return stable(b, "invoicetemplate:default")


def language_guid(b: Backend) -> str:
    return stable(b, "language:fi")


def _account(number: str) -> dict[str, Any]:
    names = {"3000": "Myynti", "2939": "Arvonlisäverovelka", "1700": "Myyntisaamiset"}
    return {"number": number, "name": names.get(number, "Myynti")}


def row(b: Backend, r: InvoiceRow) -> dict[str, Any]:
    return {
        "guid": r.guid,
        "invoiceGuid": r.invoice_guid,
        "rowType": r.row_type,
        "category": ROW_CATEGORY[r.row_type],
        "description": r.description,
        "quantity": r.quantity,
        "measurementUnit": r.measurement_unit,
        "unitPrice": money(r.unit_price),
        "vatRate": r.vat_rate,
        "sortOrder": r.sort_order,
        "salesAccount": _account(r.sales_account),
        "vatAccount": _account("2939"),
        "salesReceivableAccount": _account("1700"),
        "flatRateGuid": None,
        "hasInvoiceComment": False,
        "code": b.row_codes(r),
        **audit(b, r.audit),
    }


def _invoice_sub(b: Backend, guid: str) -> dict[str, Any]:
    inv = b.org.invoices.get(guid)
    return {"guid": guid, "number": inv.number if inv else None, "date": day(inv.date) if inv else None}


def _project(b: Backend, guid: str) -> dict[str, Any] | None:
    p = b.org.projects.get(guid)
    if p is None:
        return None
    company = b.org.business_units.get(p.business_unit_guid)
    return {
        "guid": p.guid,
        "name": p.name,
        "number": p.number,
        "companyGuid": company.company_guid if company else None,
    }


def _customer_of_project(b: Backend, guid: str) -> dict[str, Any]:
    p = b.org.projects.get(guid)
    c = b.org.customers.get(p.customer_guid) if p else None
    return customer_ref(c)


def work_hour(b: Backend, w: WorkHour) -> dict[str, Any]:
    wt = b.org.work_types.get(w.work_type_guid)
    u = user_ref(b, w.user_guid) or {"guid": w.user_guid}
    proj = _project(b, w.project_guid)
    out: dict[str, Any] = {
        "guid": w.guid,
        "eventDate": day(w.event_date),
        "quantity": w.quantity,
        "invoiceQuantity": w.quantity,
        "description": w.description,
        "unitPrice": money(w.unit_price),
        "unitCost": money(None),
        "workType": {
            "guid": w.work_type_guid,
            "name": wt.name if wt else None,
            "code": wt.code if wt else None,
        },
        "user": u,
        "customer": _customer_of_project(b, w.project_guid),
        "invoice": _invoice_sub(b, w.invoice_guid),
        "invoiceRowGuid": w.invoice_row_guid,
        "billableStatus": "Billable",
        "isBillable": True,
        "isApproved": True,
        "isModifiable": False,
        "isProductive": wt.is_productive if wt else True,
        **audit(b, w.audit),
    }
    if proj:
        out["project"] = {k: v for k, v in proj.items()} | {"isClosed": False}
    return out


def project_fee(b: Backend, f: ProjectFee) -> dict[str, Any]:
    pr = b.org.products.get(f.product_guid)
    out: dict[str, Any] = {
        "guid": f.guid,
        "name": pr.name if pr else f.description,
        "description": f.description,
        "eventDate": day(f.event_date),
        "quantity": f.quantity,
        "invoiceQuantity": f.quantity,
        "unitPrice": money(f.unit_price),
        "unitCost": money(pr.unit_cost if pr else None),
        "vatRate": f.vat_rate,
        "measurementUnit": f.measurement_unit,
        "product": {"guid": f.product_guid, "name": pr.name if pr else None, "code": pr.code if pr else None},
        "productType": pr.type if pr else "FixedFees",
        "customer": _customer_of_project(b, f.project_guid),
        "invoice": _invoice_sub(b, f.invoice_guid),
        "invoiceRowGuid": f.invoice_row_guid,
        "isBillable": True,
        "billingSchedule": "Immediately",
        "hasVolumePricing": False,
        "isRecurrenceRule": False,
        "user": {"guid": f.user_guid},
        **audit(b, f.audit),
    }
    proj = _project(b, f.project_guid)
    if proj:
        out["project"] = {"guid": proj["guid"], "name": proj["name"], "companyGuid": proj["companyGuid"]}
    return out


def travel_expense(b: Backend, t: TravelExpense) -> dict[str, Any]:
    te = b.org.travel_expense_types.get(t.travel_expense_type_guid)
    out: dict[str, Any] = {
        "guid": t.guid,
        "description": t.description,
        "eventDate": day(t.event_date),
        "quantity": t.quantity,
        "invoiceQuantity": t.quantity,
        "unitPrice": money(t.unit_price),
        "unitCost": money(te.unit_cost if te else None),
        "vatRate": t.vat_rate,
        "purchaseVatRate": 0.0,
        "measurementUnit": t.measurement_unit,
        "travelExpense": {
            "guid": t.travel_expense_type_guid,
            "name": te.name if te else None,
            "code": te.code if te else None,
            "expenseClass": te.expense_class if te else "OtherTravelExpense",
            "includeTime": False,
        },
        "invoice": _invoice_sub(b, t.invoice_guid),
        "invoiceRowGuid": t.invoice_row_guid,
        "isBillable": True,
        "billingSchedule": "Immediately",
        "attachmentCount": 0,
        "travelReimbursementRequired": False,
        "user": user_ref(b, t.user_guid) or {"guid": t.user_guid},
        **audit(b, t.audit),
    }
    proj = _project(b, t.project_guid)
    if proj:
        out["project"] = {**proj, "isInternal": False}
        out["customer"] = {k: v for k, v in _customer_of_project(b, t.project_guid).items() if k != "number"}
    out["user"] = {k: v for k, v in out["user"].items() if k in ("guid", "name", "code", "companyGuid")}
    return out
