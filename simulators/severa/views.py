"""Serialisers: domain dataclasses -> the JSON of Severa's output models.

Sub-objects that would be null are left out rather than sent as null where the published
schema does not allow null for them (the spec is the oracle the contract tests use).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from .models import (
    Address,
    Audit,
    BankAccount,
    BusinessUnit,
    Customer,
    Invoice,
    InvoiceRow,
    InvoiceStatus,
    Product,
    ProjectFee,
    TravelExpense,
    TravelExpenseType,
    User,
    WorkHour,
    WorkType,
    money_cents,
)
from .state import ROW_CATEGORY, Backend


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


def _customer_ref(c: Customer | None) -> dict[str, Any]:
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
        "customer": _customer_ref(cust),
        "billingCustomer": _customer_ref(billing),
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
        "currency": {"guid": _currency_guid(b), "name": "Euro", "code": "EUR", "symbol": "€"},
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
        "invoiceTemplate": {"guid": _template_guid(b), "name": "Oletuslaskupohja"},
        "culture": {"name": "suomi (Suomi)", "englishName": "Finnish (Finland)", "code": "fi-FI"},
        "language": {"guid": _language_guid(b), "name": "suomi", "englishName": "Finnish", "code": "fi"},
        "notes": inv.notes,
        "canBeDeleted": not st.is_read_only,
        **audit(b, inv.audit),
    }
    return out


def _stable(b: Backend, what: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.UUID(b.guid), what))


def _currency_guid(b: Backend) -> str:
    return _stable(b, "currency:EUR")


def _template_guid(b: Backend) -> str:
    return _stable(b, "invoicetemplate:default")


def _language_guid(b: Backend) -> str:
    return _stable(b, "language:fi")


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
    return _customer_ref(c)


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


def product(b: Backend, p: Product) -> dict[str, Any]:
    return {
        "guid": p.guid,
        "name": p.name,
        "code": p.code,
        "unitPrice": money(p.unit_price),
        "unitCost": money(p.unit_cost),
        "vatRate": p.vat_rate,
        "measurementUnit": p.measurement_unit,
        "isActive": p.is_active,
        "type": p.type,
        "salesAccount": {"guid": _stable(b, "salesaccount:3000"), "name": "Myynti", "number": "3000"},
        "proposalDescription": None,
        **audit(b, p.audit),
    }


def work_type(b: Backend, w: WorkType) -> dict[str, Any]:
    return {
        "guid": w.guid,
        "name": w.name,
        "code": w.code,
        "hourCost": money(w.hour_cost),
        "isActive": w.is_active,
        "isDefault": w.is_default,
        "isProductive": w.is_productive,
        "salesAccount": {"guid": _stable(b, "salesaccount:3000"), "name": "Myynti"},
        **audit(b, w.audit),
    }


def travel_expense_type(b: Backend, t: TravelExpenseType) -> dict[str, Any]:
    return {
        "guid": t.guid,
        "name": t.name,
        "code": t.code,
        "expenseClass": t.expense_class,
        "isMileage": t.expense_class == "Mileage",
        "isDailyAllowance": t.expense_class == "DailyAllowance",
        "includeTime": t.expense_class == "DailyAllowance",
        "unitCost": money(t.unit_cost),
        "vatRate": t.vat_rate,
        "purchaseVatRate": 0.0,
        "measurementUnit": t.measurement_unit,
        "isActive": t.is_active,
        "salesAccount": {"guid": _stable(b, "salesaccount:3000"), "name": "Myynti", "number": "3000"},
        **audit(b, t.audit),
    }


def customer(b: Backend, c: Customer) -> dict[str, Any]:
    hq = b.org.addresses.get(c.headquarter_address_guid or "")
    out: dict[str, Any] = {
        "guid": c.guid,
        "name": c.name,
        "number": c.number,
        "isActive": c.is_active,
        "isInternal": c.is_internal,
        "email": c.email,
        "website": c.website,
        "notes": c.notes,
        "vatNumber": c.vat_number,
        "kvkNumber": None,
        "eInvoiceAddress": c.e_invoice_address,
        "eInvoiceOperator": c.e_invoice_operator,
        "paymentTerm": c.payment_term,
        "overdueInterest": c.overdue_interest,
        "invoicingVat": {"guid": _stable(b, f"vat:{c.vat_rate}"), "percentage": c.vat_rate, "code": None},
        "currency": {"guid": _currency_guid(b), "name": "Euro", "symbol": "€", "code": "EUR"},
        "language": {"guid": _language_guid(b), "name": "suomi", "englishName": "Finnish", "code": "fi"},
        "invoiceTemplate": {"guid": _template_guid(b), "name": "Oletuslaskupohja"},
        "numberOfEmployees": None,
        "annualRevenue": None,
        **audit(b, c.audit),
    }
    if hq:
        out["headquarterAddress"] = {
            "guid": hq.guid,
            "addressline": hq.addressline,
            "postalCode": hq.postal_code,
            "city": hq.city,
            "country": hq.country,
        }
    owner = user_ref(b, c.owner_guid)
    if owner:
        out["owner"] = owner
    return out


def address(b: Backend, a: Address) -> dict[str, Any]:
    cust = b.org.customers.get(a.customer_guid)
    return {
        "guid": a.guid,
        "addressline": a.addressline,
        "postalCode": a.postal_code,
        "city": a.city,
        "country": {
            "guid": _stable(b, f"country:{a.country}"),
            "name": a.country,
            "englishName": a.country,
            "hasRegions": "NoRegion",
        },
        "isBillingAddress": a.is_billing,
        "isPostalAddress": a.is_postal,
        "isVisitAddress": a.is_visit,
        "phone": a.phone,
        "fax": None,
        "customer": _customer_ref(cust),
        "contacts": [],
        **audit(b, a.audit),
    }


def business_unit(b: Backend, u: BusinessUnit) -> dict[str, Any]:
    company = b.org.companies.get(u.company_guid)
    return {
        "guid": u.guid,
        "name": u.name,
        "code": u.code,
        "parentGuid": u.parent_guid,
        "isActive": u.is_active,
        "vatNumber": u.vat_number,
        "kvkNumber": None,
        "companyGuid": u.company_guid,
        "companyName": company.name if company else None,
        "companyBusinessUnitGuid": company.root_business_unit_guid if company else None,
        "companyCountryGuid": _stable(b, "country:Finland"),
        "companyCurrencyGuid": _currency_guid(b),
        **audit(b, u.audit),
    }


def user(b: Backend, u: User) -> dict[str, Any]:
    bu = b.org.business_units.get(u.business_unit_guid)
    out: dict[str, Any] = {
        "guid": u.guid,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "email": u.email,
        "phone": u.phone,
        "code": u.code,
        "title": u.title,
        "isActive": u.is_active,
        "userType": u.user_type,
        "keywords": [],
        "language": {"guid": _language_guid(b), "name": "suomi", "englishName": "Finnish", "code": "fi"},
        "culture": {
            "guid": _stable(b, "culture:fi-FI"),
            "name": "suomi (Suomi)",
            "englishName": "Finnish (Finland)",
            "code": "fi-FI",
        },
        **audit(b, u.audit),
    }
    if bu:
        out["businessUnit"] = {
            "guid": bu.guid,
            "name": bu.name,
            "code": bu.code,
            "companyGuid": bu.company_guid,
        }
    return out


def bank_account(b: Backend, a: BankAccount) -> dict[str, Any]:
    """`BankAccountOutputModel` (not in the subset spec; field names from the full Severa spec)."""
    company = b.org.companies.get(a.company_guid)
    bu = b.org.business_units.get(a.business_unit_guid or "")
    out: dict[str, Any] = {
        "guid": a.guid,
        "accountNumber": a.account_number,
        "accountNumberFormat": a.account_number_format,
        "bankName": a.bank_name,
        "bic": a.bic,
        "isActive": a.is_active,
        **audit(b, a.audit),
    }
    if company:
        out["company"] = {"guid": company.guid, "name": company.name}
    if bu:
        out["businessUnit"] = {"guid": bu.guid, "name": bu.name}
    return out


def organization_details(b: Backend) -> dict[str, Any]:
    d = b.org.details
    return {
        "guid": d.guid,
        "name": d.name,
        "vatNumber": d.vat_number,
        "kvkNumber": None,
        "address": d.address,
        "postalCode": d.postal_code,
        "city": d.city,
        "phone": d.phone,
        "fax": None,
        "registeredOffice": d.city,
        "isVatRegistered": True,
        "eInvoiceAddress": d.e_invoice_address,
        "eInvoiceOperatorCode": d.e_invoice_operator_code,
        "country": {
            "guid": _stable(b, "country:Finland"),
            "name": "Suomi",
            "englishName": "Finland",
            "code": "FI",
        },
        "currency": {"guid": _currency_guid(b), "name": "Euro", "symbol": "€", "code": "EUR"},
        "language": {"guid": _language_guid(b), "name": "suomi", "code": "fi"},
        "formatting": {"guid": _stable(b, "culture:fi-FI"), "name": "suomi (Suomi)", "code": "fi-FI"},
        "timezone": {"guid": _stable(b, "tz:helsinki"), "name": "(UTC+02:00) Helsinki"},
        "activeAddons": list(d.active_addons),
        "activeCompanies": [
            {
                "guid": c.guid,
                "name": c.name,
                "rootBusinessUnitGuid": c.root_business_unit_guid,
                "country": {
                    "guid": _stable(b, "country:Finland"),
                    "name": "Suomi",
                    "englishName": "Finland",
                    "code3": c.country_code3,
                },
                "currencyGuid": _currency_guid(b),
                "currencyCode": c.currency_code,
                "currencySymbol": "€",
                "currencyRate": 1.0,
            }
            for c in b.org.companies.values()
        ],
    }
