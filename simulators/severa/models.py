"""Domain model of the Severa fake: plain dataclasses, one `Organization` per tenant.

Field names follow the wire models (`InvoiceOutputModel`, `InvoiceStatusModel`, ...) in
snake_case; `views.py` turns them into the JSON Severa sends. Money is a float in the
organisation currency (EUR) on the wire and in the state; every amount Severa computes is
computed in `Decimal` and rounded to cents half away from zero, row by row ([inferred], see
`money_cents` and the README): a row's net (veroton) = quantity x unit price, its VAT (ALV)
= net x rate / 100, and an invoice's totals are the sums of its rounded rows.

Finnish UI terms support staff search for: lasku (invoice), laskurivi (invoice row),
laskun tila (invoice status), tuote (product), työlaji (work type), matkakululaji
(travel expense type), asiakas (customer), liiketoimintayksikkö (business unit),
käyttäjä (user), pankkitili (bank account), viitenumero (reference number).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def as_decimal(value: float | int | Decimal) -> Decimal:
    """A stored number as the decimal it was written as (0.59, not 0.58999999999999996891)."""
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def money_cents(value: float | int | Decimal) -> Decimal:
    """Rounded to cents half away from zero (2.345 -> 2.35, -2.345 -> -2.35), as Severa rounds
    money ([inferred]: Python's float `round` would give 2.35 -> 2.4 but 2.675 -> 2.67)."""
    return as_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Audit:
    created: datetime
    created_by: str | None = None  # user guid
    updated: datetime | None = None
    updated_by: str | None = None


@dataclass
class Company:
    guid: str
    name: str
    root_business_unit_guid: str
    currency_code: str = "EUR"
    country_code3: str = "FIN"


@dataclass
class BusinessUnit:
    """Liiketoimintayksikkö. A unit acting as its own company has its own `vat_number`."""

    guid: str
    name: str
    code: str | None
    company_guid: str
    parent_guid: str | None
    vat_number: str | None
    audit: Audit
    is_active: bool = True
    address: str = ""
    postal_code: str = ""
    city: str = ""


@dataclass
class BankAccount:
    """Pankkitili (Settings > Bank accounts); the IBAN + BIC printed on invoices."""

    guid: str
    account_number: str  # IBAN
    bic: str
    bank_name: str
    company_guid: str
    business_unit_guid: str | None
    audit: Audit
    is_active: bool = True
    account_number_format: str = "Iban"


@dataclass
class User:
    guid: str
    first_name: str
    last_name: str
    email: str
    code: str
    business_unit_guid: str
    audit: Audit
    title: str | None = None
    phone: str | None = None
    is_active: bool = True
    user_type: str = "FullUser"


@dataclass
class InvoiceStatus:
    """Laskun tila (Settings > Invoicing > Invoice statuses) and its flags."""

    guid: str
    name: str
    audit: Audit
    sort_order: int = 0
    is_active: bool = True
    is_default: bool = False
    is_read_only: bool = False  # "Not editable" / "Ei muokattavissa"
    has_invoice_number: bool = False  # "Invoice number" / "Laskunumero"
    is_sent: bool = False  # "Sent" / "Lähetetty"
    is_waiting_payment: bool = False
    is_paid: bool = False
    is_default_for_credit_note: bool = False

    FLAGS = (
        "isActive",
        "isDefault",
        "isReadOnly",
        "hasInvoiceNumber",
        "isSent",
        "isWaitingPayment",
        "isPaid",
        "isDefaultForCreditNote",
    )


@dataclass
class Product:
    """Tuote (project fee product); `code` is matched to Maestro product codes."""

    guid: str
    name: str
    code: str | None
    unit_price: float
    vat_rate: float
    audit: Audit
    unit_cost: float = 0.0
    measurement_unit: str = "kpl"
    type: str = "FixedFees"  # FixedFees | Materials | Subcontracting
    is_active: bool = True


@dataclass
class WorkType:
    """Työlaji; hour rows carry its `code`."""

    guid: str
    name: str
    code: str | None
    hour_cost: float
    audit: Audit
    is_active: bool = True
    is_default: bool = False
    is_productive: bool = True


@dataclass
class TravelExpenseType:
    """Matkakululaji; travel rows carry its `code`."""

    guid: str
    name: str
    code: str | None
    expense_class: str  # Mileage | DailyAllowance | OtherTravelExpense
    unit_cost: float
    vat_rate: float
    measurement_unit: str
    audit: Audit
    is_active: bool = True


@dataclass
class Address:
    guid: str
    customer_guid: str
    addressline: str
    postal_code: str
    city: str
    country: str
    audit: Audit
    is_billing: bool = True
    is_postal: bool = True
    is_visit: bool = False
    phone: str | None = None


@dataclass
class Customer:
    """Asiakas; the e-invoicing fields (verkkolaskuosoite, operaattori) live here."""

    guid: str
    name: str
    number: int
    vat_number: str | None  # Y-tunnus (business ID)
    audit: Audit
    is_active: bool = True
    is_internal: bool = False
    # how it is invoiced: e-invoice address and operator, e-mail, terms
    e_invoice_address: str | None = None
    e_invoice_operator: str | None = None
    email: str | None = None
    payment_term: int = 14
    overdue_interest: float = 8.0
    vat_rate: float = 25.5
    website: str | None = None
    notes: str | None = None
    headquarter_address_guid: str | None = None
    owner_guid: str | None = None


@dataclass
class Project:
    guid: str
    name: str
    number: int
    customer_guid: str
    business_unit_guid: str
    owner_guid: str


@dataclass
class WorkHour:
    guid: str
    invoice_guid: str
    invoice_row_guid: str
    project_guid: str
    work_type_guid: str
    user_guid: str
    event_date: date
    quantity: float
    unit_price: float
    description: str
    audit: Audit


@dataclass
class ProjectFee:
    guid: str
    invoice_guid: str
    invoice_row_guid: str
    project_guid: str
    product_guid: str
    user_guid: str
    event_date: date
    quantity: float
    unit_price: float
    vat_rate: float
    measurement_unit: str
    description: str
    audit: Audit


@dataclass
class TravelExpense:
    guid: str
    invoice_guid: str
    invoice_row_guid: str
    project_guid: str
    travel_expense_type_guid: str
    user_guid: str
    event_date: date
    quantity: float
    unit_price: float
    vat_rate: float
    measurement_unit: str
    description: str
    audit: Audit


@dataclass
class InvoiceRow:
    """Laskurivi. `row_type`: Hours | ProjectFees | TravelExpenses | FlatRate."""

    guid: str
    invoice_guid: str
    row_type: str
    description: str
    quantity: float
    measurement_unit: str
    unit_price: float
    vat_rate: float
    sort_order: int
    audit: Audit
    sales_account: str = "3000"

    @property
    def net(self) -> Decimal:
        """Rivin veroton summa: quantity x unit price, rounded to cents."""
        return money_cents(as_decimal(self.quantity) * as_decimal(self.unit_price))

    @property
    def vat(self) -> Decimal:
        """Rivin ALV: the rounded net x VAT rate / 100, rounded to cents."""
        return money_cents(self.net * as_decimal(self.vat_rate) / 100)

    @property
    def total(self) -> float:
        return float(self.net)


@dataclass
class Invoice:
    """Lasku. `number` and `reference_number` stay empty until a hasInvoiceNumber status."""

    guid: str
    status_guid: str
    customer_guid: str
    billing_customer_guid: str
    project_guid: str | None
    business_unit_guid: str
    date: _dt.date
    due_date: _dt.date
    payment_term: int
    audit: Audit
    number: int | None = None
    reference_number: str | None = None
    payment_date: _dt.date | None = None
    entry_date: _dt.date | None = None
    overdue_interest: float = 8.0
    our_reference: str | None = None
    your_reference: str | None = None
    order_number: str | None = None
    notes: str | None = None
    sender_contact_guid: str | None = None
    is_credit_note: bool = False
    row_guids: list[str] = field(default_factory=list)


@dataclass
class OrganizationDetails:
    guid: str
    name: str
    vat_number: str
    address: str
    postal_code: str
    city: str
    phone: str | None
    e_invoice_address: str | None
    e_invoice_operator_code: str | None
    active_addons: list[str] = field(default_factory=list)


@dataclass
class Organization:
    """One tenant (organisation) with everything it owns."""

    details: OrganizationDetails
    companies: dict[str, Company] = field(default_factory=dict)
    business_units: dict[str, BusinessUnit] = field(default_factory=dict)
    bank_accounts: dict[str, BankAccount] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    invoice_statuses: dict[str, InvoiceStatus] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    work_types: dict[str, WorkType] = field(default_factory=dict)
    travel_expense_types: dict[str, TravelExpenseType] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    addresses: dict[str, Address] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    invoice_rows: dict[str, InvoiceRow] = field(default_factory=dict)
    work_hours: dict[str, WorkHour] = field(default_factory=dict)
    project_fees: dict[str, ProjectFee] = field(default_factory=dict)
    travel_expenses: dict[str, TravelExpense] = field(default_factory=dict)
    next_invoice_number: int = 10001
    next_customer_number: int = 1001
    next_project_number: int = 5001
    api_user_guid: str | None = None  # who the API acts as (audit stamps of API writes)


@dataclass
class ApiClient:
    """REST API client credentials (Settings > Integrations > REST API)."""

    client_id: str
    client_secret: str
    organization_guid: str
    scopes: list[str]
    label: str = ""


@dataclass
class Token:
    access_token: str
    refresh_token: str
    client_id: str
    organization_guid: str
    scopes: list[str]
    access_expires: datetime
    refresh_expires: datetime
    refresh_used: bool = False


@dataclass
class SeveraState:
    """What a snapshot holds: every organisation (tenant), the API clients and the live tokens."""

    organizations: dict[str, Organization] = field(default_factory=dict)
    clients: dict[str, ApiClient] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
