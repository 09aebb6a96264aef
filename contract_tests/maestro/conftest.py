"""Fixtures of the Maestro contract suite.

`maestro` (module scope, parametrised over --sim-mode) is a `MaestroTarget`: the generic
`Target` plus the company's API key and helpers. Every response under `/api` (and the document
itself) that passes through its HTTP client is validated against the OpenAPI document *that the
target serves* at `/openapi.json` (an httpx response hook with a `ParityValidator`), so every
test is also a schema test.

External mode: `MAESTRO_BASE_URL` (the server root, e.g. http://127.0.0.1:8703) and
`MAESTRO_API_KEY` (a company's key). Tests that need a second company or the control plane
skip there.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from contract_tests.parity import ParityValidator
from contract_tests.targets import Target, open_target
from simulators.maestro import MaestroSimulator
from simulators.maestro.openapi import schema_errors

API = "/api/v1"
KEY_HEADER = "X-Maestro-Api-Key"


class SchemaHook:
    """Validates responses against the served document; keeps the failures for a readable report."""

    def __init__(self, validator: ParityValidator) -> None:
        self.validator = validator
        self.checked = 0

    def __call__(self, response: httpx.Response) -> None:
        path = response.request.url.path
        if not (path.startswith("/api/") or path == "/openapi.json"):
            return
        response.read()
        try:
            self.validator.validate(_slash_free(response))
        except AssertionError as exc:
            if "not in the vendor spec" not in str(exc) or response.status_code not in (404, 405):
                raise
            # an unknown route or method: not an operation, but the body is still Maestro's error
            problems = schema_errors("#/components/schemas/Error", response.json())
            assert not problems, f"{response.request.method} {path} -> {response.status_code}: {problems}"
        self.checked += 1


def _slash_free(response: httpx.Response) -> httpx.Response:
    """The response with `%2F` inside path segments replaced, so `{code}` = `A/0` matches its template.

    httpx decodes the path before openapi-core sees it; response validation never looks at the
    parameter's value, only at which operation it is.
    """
    raw = response.request.url.raw_path
    if b"%2f" not in raw.lower():
        return response
    fixed = raw.replace(b"%2F", b"_").replace(b"%2f", b"_")
    req = response.request
    new_req = httpx.Request(
        req.method, req.url.copy_with(raw_path=fixed), headers=req.headers, content=req.content
    )
    return httpx.Response(
        response.status_code, headers=response.headers, content=response.content, request=new_req
    )


@dataclass
class MaestroTarget:
    target: Target
    schema: SchemaHook

    @property
    def http(self) -> httpx.Client:
        return self.target.http

    @property
    def sim(self) -> MaestroSimulator:
        assert isinstance(self.target.sim, MaestroSimulator)
        return self.target.sim

    @property
    def external(self) -> bool:
        return not self.target.has_control

    def require_control(self) -> None:
        self.target.require_control()

    def control(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.target.control(method, path, **kw)

    def reset(self, preset: str = "demo") -> None:
        self.target.reset(preset)

    def companies(self) -> list[dict[str, Any]]:
        r = self.control("GET", "/credentials")
        assert r.status_code == 200, r.text
        return list(r.json()["companies"])

    @property
    def key(self) -> str:
        if self.external:
            return self.target.env["MAESTRO_API_KEY"]
        return str(self.sim.credentials()["companies"][0]["api_key"])

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {KEY_HEADER: key or self.key}

    def get(self, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
        return self.http.get(API + path, headers=self.headers(key), **kw)

    def put(self, path: str, body: Any, key: str | None = None, **kw: Any) -> httpx.Response:
        return self.http.put(API + path, json=body, headers=self.headers(key), **kw)

    def post(self, path: str, body: Any, key: str | None = None, **kw: Any) -> httpx.Response:
        return self.http.post(API + path, json=body, headers=self.headers(key), **kw)

    def delete(self, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
        return self.http.delete(API + path, headers=self.headers(key), **kw)


@pytest.fixture(scope="module")
def maestro(sim_mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaestroTarget]:
    with open_target(
        sim_mode, lambda: MaestroSimulator(seed=0), env_prefix="MAESTRO", env_names=("MAESTRO_API_KEY",)
    ) as t:
        served = t.http.get("/openapi.json")
        assert served.status_code == 200, served.text
        text = json.dumps(served.json(), sort_keys=True)
        # one file per distinct document, so the parsed validator is shared across modules
        doc_path = (
            tmp_path_factory.getbasetemp()
            / f"maestro-openapi-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
        )
        if not doc_path.exists():
            doc_path.write_text(text, encoding="utf-8")
        hook = SchemaHook(ParityValidator(doc_path))
        t.http.event_hooks["response"].append(hook)
        yield MaestroTarget(t, hook)


def assert_error(
    r: httpx.Response, status: int, code: str | None = None, field: str | None = None
) -> dict[str, Any]:
    """The answer is `status` in Maestro's error body (with `code`, and a detail naming `field`)."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["message"]
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in [d["field"] for d in body["details"]], body
    return dict(body)


def new_guid() -> str:
    return str(uuid.uuid4())


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().int % 10**8:08d}"


def row(
    kind: str, codes: list[str], net: float = 100.0, vat_rate: float = 25.5, description: str = "rivi"
) -> dict[str, Any]:
    vat = round(net * vat_rate / 100, 2)
    return {
        "source_kind": kind,
        "codes": codes,
        "description": description,
        "quantity": 1,
        "unit": "kpl",
        "unit_price": net,
        "vat_rate": vat_rate,
        "net_amount": net,
        "vat_amount": vat,
        "gross_amount": round(net + vat, 2),
    }


def invoice(
    customer_number: str, rows: list[dict[str, Any]], guid: str | None = None, number: str | None = None
) -> dict[str, Any]:
    net = round(sum(r["net_amount"] for r in rows), 2)
    vat = round(sum(r["vat_amount"] for r in rows), 2)
    return {
        "severa_invoice_guid": guid or new_guid(),
        "invoice_number": number or unique("")[-6:],
        "invoice_date": "2026-11-20",
        "due_date": "2026-12-04",
        "customer_number": customer_number,
        "currency": "EUR",
        "reference_number": None,
        "total_excluding_vat": net,
        "total_vat": vat,
        "total_including_vat": round(net + vat, 2),
        "rows": rows,
    }


def ensure_customer(m: MaestroTarget, number: str | None = None) -> str:
    number = number or unique("C")
    r = m.put(f"/customers/{number}", {"name": "Testiasiakas Oy", "business_id": "0112038-9"})
    assert r.status_code in (200, 201), r.text
    return number
