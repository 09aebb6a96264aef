"""``PATCH /v1/company/settings`` (yritysasetukset): lenient, block-by-block, type-checked.

The spec marks ``details``, ``address`` and ``invoice_notifications`` as required in the PATCH
body, but Maventa's docs show single-block PATCHes (``{"send_invoice_print": {"enabled":
true}}``); the fake accepts any subset of blocks and merges them. Wrong types or unknown
fields answer 400 ``invalid_parameters`` and change nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import bad_request

BOOL, STR, NUM, EMAILS = "bool", "str", "num", "emails"
SCHEMA: dict[str, Any] = {
    "details": {"name": STR, "email": STR, "website": STR, "country": STR, "bid": STR, "vat_number": STR},
    "address": {"street_address": STR, "post_code": STR, "post_office": STR, "city": STR, "country": STR},
    "invoice_notifications": {
        "on_receiving": {"enabled": BOOL, "how_to_send": STR, "other_email": STR},
        "on_send_errors": {"to_user": BOOL, "to_emails": EMAILS},
    },
    "send_invoice_email": {
        "enabled": BOOL,
        "how_to_send": ("EMBEDDED", "WITH_OBJECTIONS", "WITH_LINK", "EMBEDDED_MERGE"),
        "reminder_frequency": NUM,
        "content_data": {"note_to_receiver": STR, "contact": {"email": STR, "name": STR, "phone": STR}},
    },
    "send_invoice_print": {
        "enabled": BOOL,
        "letter_class": ("ECONOMY", "PRIORITY"),
        "color_scheme": ("BLACK_AND_WHITE", "COLORED"),
        "attachment_print": BOOL,
        "marketing_page": BOOL,
        "use_own_pdf": BOOL,
    },
    "send_invoice_general": {"stop_duplicate_numbers": BOOL, "hold_multiple_recipients": BOOL},
    "logos": {"pdf": {"content": STR}, "email_header": {"content": STR}},
    "email_reports": {"report_interval": ("off", "daily", "weekly", "monthly"), "email_reports": EMAILS},
    "billing_details": {
        "electronic_invoicing_details": {"invoicing_eia": STR, "invoicing_operator": STR},
        "invoicing_email": STR,
        "invoicing_street_address1": STR,
        "invoicing_street_address2": STR,
        "invoicing_post_code": STR,
        "invoicing_post_office": STR,
        "billing_company_id": STR,
    },
}


def _check(value: Any, kind: Any, path: str, problems: list[str]) -> None:
    if isinstance(kind, dict):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object")
            return
        for k, v in value.items():
            if k not in kind:
                problems.append(f"{path}.{k}: unknown field")
            else:
                _check(v, kind[k], f"{path}.{k}", problems)
    elif isinstance(kind, tuple):
        if value not in kind:
            problems.append(f"{path}: does not have a valid value ({', '.join(kind)})")
    elif kind == BOOL and not isinstance(value, bool):
        problems.append(f"{path}: expected true or false")
    elif kind == STR and not isinstance(value, str):
        problems.append(f"{path}: expected a string")
    elif kind == NUM and (isinstance(value, bool) or not isinstance(value, (int, float))):
        problems.append(f"{path}: expected a number")
    elif kind == EMAILS and (
        not isinstance(value, list) or not all(isinstance(e, str) and "@" in e for e in value)
    ):
        problems.append(f"{path}: expected a list of e-mail addresses")


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        else:
            target[k] = copy.deepcopy(v)


def apply_patch(settings: dict[str, Any], body: dict[str, Any]) -> None:
    if not body:
        raise bad_request("Invalid parameters", ["the body must contain at least one settings block"])
    problems: list[str] = []
    _check(body, SCHEMA, "settings", problems)
    if problems:
        raise bad_request("Invalid parameters", [p.removeprefix("settings.") for p in problems])
    _merge(settings, body)
