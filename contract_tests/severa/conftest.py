"""Fixtures of the Severa contract suite.

`severa` (module scope, parametrised over --sim-mode) is a `SeveraTarget`: the generic
`Target` plus a token cache and helpers. Every response that passes through its HTTP client
and whose path is in the vendor spec is validated against `severa-openapi-subset.yaml`
by one session-wide `ParityValidator` (an httpx response hook), so the parity module can
assert at the end that every implemented operation was covered.

External mode: `SEVERA_BASE_URL` (e.g. https://api.severa.stag.visma.com/rest-api),
`SEVERA_CLIENT_ID`, `SEVERA_CLIENT_SECRET` (a trailing `/rest-api` on the base URL is
accepted: the suite adds it to every path itself); tests that change data also need
`SEVERA_ALLOW_WRITES=1`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.parity import ParityValidator
from contract_tests.targets import Target, open_target, specs_dir
from simulators.severa import SeveraSimulator

SPEC_NAME = "severa-openapi-subset.yaml"
BASE = "/rest-api"


# Real Severa operations that the subset spec leaves out but whose answer is, item for item,
# the one of a documented sibling: the source items of a whole invoice are the same
# WorkHour/ProjectFee/ProjectTravelExpense models as those of one row.
SIBLING_OPERATIONS = re.compile(
    rf"^{BASE}/v1(?:\.0)?/invoices/(?P<guid>[^/]+)/(?P<segment>workhours|projectfees|projecttravelexpenses)$"
)


class ParityState:
    """The session's validator (None when the spec is absent) and what it could not check."""

    def __init__(self, spec: Path | None) -> None:
        self.validator = (
            ParityValidator(spec, strip_prefix=BASE, aliases={"/v1.0/": "/v1/"}) if spec is not None else None
        )
        self.skipped_rate_limited = 0
        self.failures: list[str] = []
        self.sibling_validated: set[str] = set()  # "GET /v1/invoices/{invoiceGuid}/workhours", ...

    @staticmethod
    def as_sibling(response: httpx.Response) -> tuple[httpx.Response, str] | None:
        """The response re-addressed to its documented sibling operation, with the template it stands for."""
        found = SIBLING_OPERATIONS.match(response.request.url.raw_path.decode("ascii").split("?", 1)[0])
        if found is None:
            return None
        url = response.request.url.copy_with(
            raw_path=f"{BASE}/v1/invoicerows/{found['guid']}/{found['segment']}".encode("ascii")
        )
        request = httpx.Request(response.request.method, url, headers=response.request.headers)
        sibling = httpx.Response(
            response.status_code, headers=response.headers, content=response.content, request=request
        )
        return sibling, f"{response.request.method} /v1/invoices/{{invoiceGuid}}/{found['segment']}"

    def hook(self, response: httpx.Response) -> None:
        if self.validator is None:
            return
        path = response.request.url.path
        if not path.startswith(BASE + "/") or path.startswith("/_sim"):
            return
        if response.status_code == 429 and response.headers.get("content-type", "").startswith("text/plain"):
            # Severa's 429 comes from its rate-limit middleware, outside the documented contract.
            self.skipped_rate_limited += 1
            return
        response.read()
        sibling = self.as_sibling(response)
        if sibling is not None:
            response, template = sibling
            self.sibling_validated.add(template)
        try:
            self.validator.validate(response)
        except AssertionError as exc:
            text = str(exc)
            if "not in the vendor spec" in text or re.search(r"Operation \w+ not found", text):
                return  # not in the subset (e.g. /v1/bankaccounts) or an undocumented method (405)
            self.failures.append(str(exc))
            raise


@pytest.fixture(scope="session")
def parity(request: pytest.FixtureRequest) -> ParityState:
    path = specs_dir(request.config) / SPEC_NAME
    return ParityState(path if path.is_file() else None)


@dataclass
class SeveraTarget:
    target: Target
    parity: ParityState
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def http(self) -> httpx.Client:
        return self.target.http

    @property
    def sim(self) -> SeveraSimulator:
        assert isinstance(self.target.sim, SeveraSimulator)
        return self.target.sim

    @property
    def external(self) -> bool:
        return not self.target.has_control

    def require_control(self) -> None:
        self.target.require_control()

    def require_writes(self) -> None:
        if self.external and os.environ.get("SEVERA_ALLOW_WRITES") != "1":
            pytest.skip("changes data: set SEVERA_ALLOW_WRITES=1 to run against an external Severa")

    def control(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.target.control(method, path, **kw)

    def reset(self) -> None:
        self.target.reset()
        self._tokens.clear()

    def creds(self, label: str = "full access", organization: str = "main") -> dict[str, Any]:
        if self.external:
            if label != "full access" or organization != "main":
                pytest.skip("needs the simulator's extra clients (limited / second organisation)")
            return {
                "client_id": self.target.env["SEVERA_CLIENT_ID"],
                "client_secret": self.target.env["SEVERA_CLIENT_SECRET"],
            }
        return self.sim.client_credentials(label, organization)

    def login(self, label: str = "full access", organization: str = "main", scope: str | None = None) -> str:
        key = (label + "|" + organization, scope or "")
        if key not in self._tokens:
            c = self.creds(label, organization)
            body: dict[str, Any] = {"client_id": c["client_id"], "client_secret": c["client_secret"]}
            if scope:
                body["scope"] = scope
            r = self.http.post(f"{BASE}/v1/token", json=body)
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    def headers(
        self, label: str = "full access", organization: str = "main", scope: str | None = None
    ) -> dict[str, str]:
        c = self.creds(label, organization)
        return {
            "Authorization": f"Bearer {self.login(label, organization, scope)}",
            "Client_Id": c["client_id"],
        }

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(BASE + path, headers=kw.pop("headers", None) or self.headers(), **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.http.patch(
            BASE + path, json=body, headers=kw.pop("headers", None) or self.headers(), **kw
        )

    def post(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.http.post(BASE + path, json=body, headers=kw.pop("headers", None) or self.headers(), **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.delete(BASE + path, headers=kw.pop("headers", None) or self.headers(), **kw)

    def all_pages(
        self, path: str, params: dict[str, Any] | None = None, row_count: int = 20
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(1000):
            p = dict(params or {}, rowCount=row_count)
            if token:
                p["pageToken"] = token
            r = self.get(path, params=p)
            assert r.status_code == 200, r.text
            out += r.json()
            token = r.headers.get("NextPageToken")
            if not token:
                return out
        raise AssertionError("paging never ended")

    def status_guid(self, name: str) -> str:
        statuses = self.get("/v1/invoicestatuses", params={"rowCount": 100}).json()
        return next(s["guid"] for s in statuses if s["name"] == name)


def make_target(sim_mode: str, parity: ParityState, make_sim: Any) -> Iterator[SeveraTarget]:
    with open_target(
        sim_mode, make_sim, env_prefix="SEVERA", env_names=("SEVERA_CLIENT_ID", "SEVERA_CLIENT_SECRET")
    ) as t:
        if t.root_url.rstrip("/").endswith(BASE):
            t.http.base_url = httpx.URL(t.root_url.rstrip("/")[: -len(BASE)])
        t.http.event_hooks["response"].append(parity.hook)
        yield SeveraTarget(t, parity)


@pytest.fixture(scope="module")
def severa(sim_mode: str, parity: ParityState) -> Iterator[SeveraTarget]:
    yield from make_target(sim_mode, parity, lambda: SeveraSimulator(seed=0))


def assert_envelope(r: httpx.Response, status: int, type_: str | None = None) -> dict[str, Any]:
    """The answer is `status` in Severa's ExceptionModel envelope (and `type_`, if given)."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    err = r.json()["error"]
    assert err["httpStatusCode"] == status
    assert isinstance(err["details"], list) and err["details"] and err["details"][0]["message"]
    assert "stack" in err and err["stack"] is None
    if type_ is not None:
        assert err["type"] == type_, err
    return err
