"""Parity: every implemented operation that the vendor spec documents answers per the spec.

Every response of this suite already goes through the session's `ParityValidator` (the
response hook in conftest). This module makes coverage independent of test order and of
xdist: it tours every implemented operation once, then asserts that each one the subset
spec documents was validated.
"""

from __future__ import annotations

import re

import pytest

from contract_tests.targets import vendor_spec

from .conftest import BASE, ParityState, SeveraTarget

SPEC = "severa-openapi-subset.yaml"
SOURCE_SEGMENTS = ("workhours", "projectfees", "projecttravelexpenses")


def implemented_spec_operations(severa: SeveraTarget, parity: ParityState) -> set[tuple[str, str]]:
    assert parity.validator is not None
    spec = parity.validator.spec_operations()
    out = set()
    for rule in severa.sim.app.url_map.iter_rules():
        path = rule.rule
        if not path.startswith(BASE + "/") or "/v1.0/" in path:
            continue
        template = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", path[len(BASE) :])
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if (method, template) in spec:
                out.add((method, template))
    return out


def tour(severa: SeveraTarget) -> None:
    """One call of every implemented operation (through the validating client)."""
    c = severa.creds()
    assert severa.http.get(f"{BASE}/heartbeat/server").status_code == 200
    tok = severa.http.post(
        f"{BASE}/v1/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]}
    ).json()
    assert severa.http.post(f"{BASE}/v1/refreshtoken", json=tok["refresh_token"]).status_code == 200
    assert severa.http.get(f"{BASE}/heartbeat/authorized", headers=severa.headers()).status_code == 204
    for path in (
        "/v1/invoices",
        "/v1/invoicestatuses",
        "/v1/products",
        "/v1/worktypes",
        "/v1/travelexpensetypes",
        "/v1/businessunits",
        "/v1/customers",
        "/v1/users",
        "/v1/organizationdetails",
    ):
        r = severa.get(path)
        assert r.status_code == 200, (path, r.text)
        if isinstance(r.json(), list):
            assert severa.get(f"{path}/{r.json()[0]['guid']}").status_code == 200
    cust = severa.get("/v1/customers").json()[0]
    assert severa.get(f"/v1/customers/{cust['guid']}/addresses").status_code == 200
    inv = severa.get("/v1/invoices").json()[0]
    assert severa.get(f"/v1/invoices/{inv['guid']}/pdf").status_code == 200
    rows = severa.get(f"/v1/invoices/{inv['guid']}/invoicerows").json()
    assert severa.get(f"/v1/invoicerows/{rows[0]['guid']}").status_code == 200
    for segment in SOURCE_SEGMENTS:
        assert severa.get(f"/v1/invoicerows/{rows[0]['guid']}/{segment}").status_code == 200
        assert severa.get(f"/v1/invoices/{inv['guid']}/{segment}").status_code == 200
    st = severa.post("/v1/invoicestatuses", {"name": "Parity"}).json()
    assert (
        severa.patch(
            f"/v1/invoicestatuses/{st['guid']}", [{"op": "replace", "path": "/isSent", "value": "false"}]
        ).status_code
        == 200
    )
    assert severa.delete(f"/v1/invoicestatuses/{st['guid']}").status_code == 204
    drafts = [i for i in severa.all_pages("/v1/invoices") if i["number"] is None]
    r = severa.patch(f"/v1/invoices/{drafts[0]['guid']}", [{"op": "replace", "path": "/notes", "value": "p"}])
    assert r.status_code == 200
    assert severa.delete(f"/v1/invoices/{drafts[0]['guid']}").status_code == 204


def test_every_implemented_operation_is_covered_and_valid(
    severa: SeveraTarget, parity: ParityState, request: pytest.FixtureRequest
) -> None:
    vendor_spec(request.config, SPEC)  # skips with the reason when the document is absent
    severa.require_control()
    severa.reset()
    tour(severa)
    assert parity.validator is not None
    implemented = implemented_spec_operations(severa, parity)
    assert len(implemented) >= 25
    missing = implemented - parity.validator.covered
    assert not missing, f"implemented but never validated: {sorted(missing)}"
    # the operations the subset leaves out but whose answers share a documented model
    assert {f"GET /v1/invoices/{{invoiceGuid}}/{s}" for s in SOURCE_SEGMENTS} <= parity.sibling_validated
    assert not parity.failures
    severa.reset()


def test_parity_validator_rejects_a_wrong_response(
    severa: SeveraTarget, parity: ParityState, request: pytest.FixtureRequest
) -> None:
    """The oracle is alive: a response with a wrong type breaks the spec."""
    import httpx

    vendor_spec(request.config, SPEC)
    assert parity.validator is not None
    req = httpx.Request("GET", "http://x/rest-api/v1/invoices/abc")
    bad = httpx.Response(200, json={"number": "10001", "status": {"name": "no guid"}}, request=req)
    with pytest.raises(AssertionError, match="breaks the vendor spec"):
        parity.validator.validate(bad)


def test_sibling_validation_catches_a_wrong_source_item(
    severa: SeveraTarget, parity: ParityState, request: pytest.FixtureRequest
) -> None:
    """Per-invoice source items are held to the per-row operation's schema: a wrong type fails."""
    import httpx

    vendor_spec(request.config, SPEC)
    assert parity.validator is not None
    req = httpx.Request("GET", f"http://x{BASE}/v1/invoices/abc/workhours")
    bad = httpx.Response(200, json=[{"guid": "g", "quantity": "seven"}], request=req)
    sibling = parity.as_sibling(bad)
    assert sibling is not None and sibling[0].request.url.path == f"{BASE}/v1/invoicerows/abc/workhours"
    with pytest.raises(AssertionError, match="breaks the vendor spec"):
        parity.validator.validate(sibling[0])
