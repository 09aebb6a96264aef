"""Serialisers of Severa's registers and settings: products, work types, travel expense types,
customers and their addresses, business units, users, bank accounts, organisation details
(the shared pieces are in `views.py`)."""

from __future__ import annotations

from typing import Any

from .backend import OrganizationBackend as Backend
from .models import (
    Address,
    BankAccount,
    BusinessUnit,
    Customer,
    Product,
    TravelExpenseType,
    User,
    WorkType,
)
from .views import audit, currency_guid, customer_ref, language_guid, money, stable, template_guid, user_ref


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
        "salesAccount": {"guid": stable(b, "salesaccount:3000"), "name": "Myynti", "number": "3000"},
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
        "salesAccount": {"guid": stable(b, "salesaccount:3000"), "name": "Myynti"},
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
        "salesAccount": {"guid": stable(b, "salesaccount:3000"), "name": "Myynti", "number": "3000"},
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
        "invoicingVat": {"guid": stable(b, f"vat:{c.vat_rate}"), "percentage": c.vat_rate, "code": None},
        "currency": {"guid": currency_guid(b), "name": "Euro", "symbol": "€", "code": "EUR"},
        "language": {"guid": language_guid(b), "name": "suomi", "englishName": "Finnish", "code": "fi"},
        "invoiceTemplate": {"guid": template_guid(b), "name": "Oletuslaskupohja"},
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
            "guid": stable(b, f"country:{a.country}"),
            "name": a.country,
            "englishName": a.country,
            "hasRegions": "NoRegion",
        },
        "isBillingAddress": a.is_billing,
        "isPostalAddress": a.is_postal,
        "isVisitAddress": a.is_visit,
        "phone": a.phone,
        "fax": None,
        "customer": customer_ref(cust),
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
        "companyCountryGuid": stable(b, "country:Finland"),
        "companyCurrencyGuid": currency_guid(b),
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
        "language": {"guid": language_guid(b), "name": "suomi", "englishName": "Finnish", "code": "fi"},
        "culture": {
            "guid": stable(b, "culture:fi-FI"),
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
            "guid": stable(b, "country:Finland"),
            "name": "Suomi",
            "englishName": "Finland",
            "code": "FI",
        },
        "currency": {"guid": currency_guid(b), "name": "Euro", "symbol": "€", "code": "EUR"},
        "language": {"guid": language_guid(b), "name": "suomi", "code": "fi"},
        "formatting": {"guid": stable(b, "culture:fi-FI"), "name": "suomi (Suomi)", "code": "fi-FI"},
        "timezone": {"guid": stable(b, "tz:helsinki"), "name": "(UTC+02:00) Helsinki"},
        "activeAddons": list(d.active_addons),
        "activeCompanies": [
            {
                "guid": c.guid,
                "name": c.name,
                "rootBusinessUnitGuid": c.root_business_unit_guid,
                "country": {
                    "guid": stable(b, "country:Finland"),
                    "name": "Suomi",
                    "englishName": "Finland",
                    "code3": c.country_code3,
                },
                "currencyGuid": currency_guid(b),
                "currencyCode": c.currency_code,
                "currencySymbol": "€",
                "currencyRate": 1.0,
            }
            for c in b.org.companies.values()
        ],
    }
