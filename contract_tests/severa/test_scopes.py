"""Every operation needs the scope the notes give it (severa-api.md §1.4): without it 403
InsufficientApiScope, with only it no 403. The table must name every implemented operation."""

from __future__ import annotations

import re

import pytest

from simulators.severa.auth import ALL_SCOPES

from .conftest import BASE, SeveraTarget, assert_envelope

GUID = "00000000-0000-4000-8000-000000000000"

# (method, path template) -> scope; None = public or any valid token
SCOPES: dict[tuple[str, str], str | None] = {
    ("GET", "/heartbeat/authorized"): None,
    ("GET", "/v1/invoices"): "invoices:read",
    ("GET", "/v1/invoices/{guid}"): "invoices:read",
    ("PATCH", "/v1/invoices/{guid}"): "invoices:write",
    ("DELETE", "/v1/invoices/{guid}"): "invoices:delete",
    ("GET", "/v1/invoices/{guid}/pdf"): "files:read",
    ("GET", "/v1/invoices/{invoiceGuid}/invoicerows"): "invoices:read",
    ("GET", "/v1/invoicerows/{guid}"): "invoices:read",
    ("GET", "/v1/invoices/{invoiceGuid}/workhours"): "invoices:read",
    ("GET", "/v1/invoices/{invoiceGuid}/projectfees"): "invoices:read",
    ("GET", "/v1/invoices/{invoiceGuid}/projecttravelexpenses"): "invoices:read",
    ("GET", "/v1/invoicerows/{invoiceRowGuid}/workhours"): "invoices:read",
    ("GET", "/v1/invoicerows/{invoiceRowGuid}/projectfees"): "invoices:read",
    ("GET", "/v1/invoicerows/{invoiceRowGuid}/projecttravelexpenses"): "invoices:read",
    ("GET", "/v1/invoicestatuses"): "settings:read",
    ("GET", "/v1/invoicestatuses/{guid}"): "settings:read",
    ("POST", "/v1/invoicestatuses"): "settings:write",
    ("PATCH", "/v1/invoicestatuses/{guid}"): "settings:write",
    ("DELETE", "/v1/invoicestatuses/{guid}"): "settings:delete",
    ("GET", "/v1/products"): "settings:read",
    ("GET", "/v1/products/{guid}"): "settings:read",
    ("GET", "/v1/worktypes"): "settings:read",
    ("GET", "/v1/worktypes/{guid}"): "settings:read",
    ("GET", "/v1/travelexpensetypes"): "settings:read",
    ("GET", "/v1/travelexpensetypes/{guid}"): "settings:read",
    ("GET", "/v1/businessunits"): "settings:read",
    ("GET", "/v1/businessunits/{guid}"): "settings:read",
    ("GET", "/v1/bankaccounts"): "settings:read",
    ("GET", "/v1/bankaccounts/{guid}"): "settings:read",
    ("GET", "/v1/customers"): "customers:read",
    ("GET", "/v1/customers/{guid}"): "customers:read",
    ("GET", "/v1/customers/{customerGuid}/addresses"): "customers:read",
    ("GET", "/v1/users"): "users:read",
    ("GET", "/v1/users/{guid}"): "users:read",
    ("GET", "/v1/organizationdetails"): "organization:read",
}
PUBLIC = {
    ("GET", "/heartbeat/server"),
    ("GET", "/heartbeat/database"),
    ("POST", "/v1/token"),
    ("POST", "/v1/refreshtoken"),
}


def test_the_table_names_every_implemented_operation(severa: SeveraTarget) -> None:
    severa.require_control()
    implemented = set()
    for rule in severa.sim.app.url_map.iter_rules():
        if not rule.rule.startswith(BASE + "/") or "/v1.0/" in rule.rule:
            continue
        template = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len(BASE) :])
        implemented |= {(m, template) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert implemented == set(SCOPES) | PUBLIC


def _headers(severa: SeveraTarget, scopes: list[str]) -> dict[str, str]:
    c = severa.creds()
    r = severa.http.post(
        f"{BASE}/v1/token",
        json={"client_id": c["client_id"], "client_secret": c["client_secret"], "scope": " ".join(scopes)},
    )
    assert r.status_code == 200, r.text
    assert sorted(r.json()["scope"].split(",")) == sorted(scopes)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.parametrize(("method", "template"), sorted(k for k, v in SCOPES.items() if v))
def test_operation_needs_exactly_its_scope(severa: SeveraTarget, method: str, template: str) -> None:
    severa.require_control()  # asks for tokens of every scope set: a simulator's full-access client
    scope = SCOPES[(method, template)]
    assert scope is not None
    url = BASE + re.sub(r"\{[^}]+\}", GUID, template)
    body = [] if method == "PATCH" else ({} if method == "POST" else None)
    without = _headers(severa, [s for s in ALL_SCOPES if s != scope])
    err = assert_envelope(severa.http.request(method, url, headers=without, json=body), 403)
    assert err["type"] == "InsufficientApiScope" and scope in err["details"][0]["message"]
    only = severa.http.request(method, url, headers=_headers(severa, [scope]), json=body)
    assert only.status_code != 403, only.text  # 200, or 400/404 for the dummy GUID and body
    assert only.status_code < 500
