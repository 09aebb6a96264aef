"""`SeveraSimulator`: the Visma Severa public REST API fake, on the simulator kit.

Served under `/rest-api` (base URL `http://127.0.0.1:PORT/rest-api`, like production), with
`/v1/...` and the `/v1.0/...` alias; `normalize_path` maps the alias onto `/v1/` so one fault
rule matches both. Options:

* `rate_limit` (default off here; `severa-sandbox serve` turns it on): 10 requests/s per
  client (`rate_limit_per_second`), sliding window of real time, 429 text/plain;
* `page_size_cap` (default 100): the largest `rowCount` honoured (larger ones are clamped);
* `strict_client_id`: require the `Client_Id` header to match the token (off: the real
  server does not appear to enforce it).

Tenants are organisations; `tenant_of` names a request's organisation GUID (fault rules
can match on it). Python API for tests and scenarios: `sim.tenant(name_or_guid)` gives the
`Backend` (create invoices with rows, set statuses, add statuses), `sim.main` / `sim.second`
the demo tenants, `sim.client_credentials(label)` one client's credentials.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Request, Response, jsonify

from simulators.kit import ControlError, SimClock, Simulator, json_body, request_json
from simulators.kit.serde import from_json, to_json

from . import api, views
from .auth import AuthStore
from .errors import SeveraError, bad_param, envelope, rate_limited
from .presets import build_demo, build_empty
from .ratelimit import SlidingWindowLimiter
from .state import Backend, SeveraState

EXCEPTION_TYPES = {
    "InternalSystemError",
    "AuthenticationRequired",
    "AddonMissing",
    "FeatureIsNotEnabled",
    "InvalidParameter",
    "InvalidOperation",
    "InvalidRequest",
    "InsufficientApiScope",
    "InvalidApiVersion",
    "ConfigurationError",
    "UserLicenseType",
    "TermsOfServiceNotApproved",
    "HttpsRequired",
    "OrganizationNotActive",
    "PermissionDenied",
    "TrialExpired",
    "NotAvailableInTrial",
    "InvalidRecaptcha",
    "AddonMissingTermsOfServiceApproval",
}


class SeveraSimulator(Simulator):
    service = "severa"
    state_version = 1
    presets = ("empty", "demo")
    default_preset = "demo"

    def __init__(
        self,
        preset: str | None = None,
        seed: int = 0,
        *,
        rate_limit: bool = False,
        rate_limit_per_second: int = 10,
        page_size_cap: int = 100,
        strict_client_id: bool = False,
        clock: SimClock | None = None,
        **kwargs: Any,
    ) -> None:
        self.rate_limit = rate_limit
        self.rate_limit_per_second = rate_limit_per_second
        self.page_size_cap = page_size_cap
        self.strict_client_id = strict_client_id
        self.limiter = SlidingWindowLimiter(rate_limit_per_second)
        self.state = SeveraState()
        self.refs: dict[str, Any] = {}
        super().__init__(preset, seed, clock=clock, **kwargs)

    # ------------------------------------------------------------------ kit hooks
    def build_state(self, preset: str, seed: int) -> None:
        state, refs = (build_demo if preset == "demo" else build_empty)(seed)
        self.state, self.refs = state, refs
        self.auth = AuthStore(self.state.clients, self.state.tokens, self.ids)
        self.limiter.clear()

    def export_data(self) -> dict[str, Any]:
        return {"state": to_json(self.state), "refs": dict(self.refs)}

    def import_data(self, data: dict[str, Any]) -> None:
        state = from_json(SeveraState, data["state"])
        if not isinstance(state, SeveraState) or not state.organizations:
            raise ValueError("the snapshot holds no organisations")
        self.state, self.refs = state, dict(data.get("refs") or {})
        self.auth = AuthStore(self.state.clients, self.state.tokens, self.ids)

    def register_routes(self, app: Flask) -> None:
        api.register_routes(app, self)

    def register_actors(self, control: Blueprint) -> None:
        """Actors: a Severa user working in the UI (create invoices, move them between statuses).

        * `POST /_sim/severa/invoices` `{"organization": "main", "customer": guid|number|name,
          "status": name|guid, "rows": [{"kind": "hours"|"fee"|"travel", "ref": code|guid,
          "quantity": n, ...}], "your_reference": ...}` -> 201 the invoice as the API shows it;
        * `POST /_sim/severa/invoices/<guid>/status` `{"status": name|guid, "organization": ...}`;
        * `POST /_sim/severa/statuses` `{"organization", "name", "is_sent": true, ...}` -> 201.
        """
        sim = self

        def locked(fn: Callable[..., Response]) -> Callable[..., Response]:
            @functools.wraps(fn)
            def wrapper(**kwargs: Any) -> Response:
                json_body(required=True)  # read and parse first (cached): never under the lock
                with sim.lock:  # control routes skip the kit's request lock; the UI actor mutates state
                    return fn(**kwargs)

            return wrapper

        def backend(body: dict[str, Any]) -> Backend:
            try:
                return sim.tenant(str(body.get("organization", "main")))
            except KeyError as exc:
                raise ControlError(str(exc.args[0]), 404, "not_found") from exc

        @control.post("/severa/invoices")
        @locked
        def ui_create_invoice() -> Response:
            body = json_body(required=True)
            b = backend(body)
            extra = {k: v for k, v in body.items() if k not in ("organization", "customer", "status", "rows")}
            rows = body.get("rows") or []
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ControlError("rows: expected a list of objects")
            try:
                cust = b.find_customer(body.get("customer") or next(iter(b.org.customers)))
                inv = b.create_invoice(cust.guid, status=body.get("status"), rows=rows, **extra)
            except (KeyError, TypeError, ValueError, StopIteration) as exc:
                raise ControlError(f"cannot create the invoice: {exc}") from exc
            except SeveraError as exc:
                raise ControlError(exc.message) from exc
            resp = jsonify(views.invoice(b, inv))
            resp.status_code = 201
            return resp

        @control.post("/severa/invoices/<guid>/status")
        @locked
        def ui_set_status(guid: str) -> Response:
            body = json_body(required=True)
            b = backend(body)
            if not isinstance(body.get("status"), str):
                raise ControlError("status: expected a status name or guid")
            try:
                inv = b.set_status(guid, body["status"])
            except SeveraError as exc:
                raise ControlError(exc.message, 404 if exc.status == 404 else 400) from exc
            return jsonify(views.invoice(b, inv))

        @control.post("/severa/statuses")
        @locked
        def ui_add_status() -> Response:
            body = json_body(required=True)
            b = backend(body)
            flags = {k: v for k, v in body.items() if k not in ("organization", "name")}
            if not isinstance(body.get("name"), str) or not all(isinstance(v, bool) for v in flags.values()):
                raise ControlError("expected {'name': str, <flag>: bool, ...}")
            try:
                st = b.add_status(body["name"], **flags)
            except (TypeError, SeveraError) as exc:
                raise ControlError(str(exc)) from exc
            resp = jsonify(views.status(b, st))
            resp.status_code = 201
            return resp

    def error_response(
        self, status: int, message: str, *, code: str | None = None, details: Any = None
    ) -> Response:
        return envelope(status, message, type=code if code in EXCEPTION_TYPES else None)

    def invalid_text_response(self, field: str, message: str) -> Response:
        return bad_param(field, message, "RequestBody").response()

    def rate_limited_response(self, retry_after: int) -> Response:
        return rate_limited(self.rate_limit_per_second, retry_after)

    def tenant_of(self, req: Any) -> str | None:
        scheme, _, value = (req.headers.get("Authorization") or "").partition(" ")
        tok = self.state.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        return tok.organization_guid if tok else None

    def credentials(self) -> dict[str, Any]:
        orgs = self.state.organizations
        return {
            "base_path": api.PUBLIC_ROOT,
            "clients": [
                {
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "organization": orgs[c.organization_guid].details.name
                    if c.organization_guid in orgs
                    else None,
                    "organization_guid": c.organization_guid,
                    "scopes": list(c.scopes),
                    "label": c.label,
                }
                for c in self.state.clients.values()
            ],
        }

    def secret_values(self) -> list[str]:
        out = [c.client_secret for c in self.state.clients.values()]
        for t in self.state.tokens.values():
            out += [t.access_token, t.refresh_token]
        return out

    def normalize_path(self, path: str) -> str:
        return path.replace(api.PUBLIC_ROOT + "/v1.0/", api.PUBLIC_ROOT + "/v1/")

    def describe(self) -> dict[str, Any]:
        return {
            "organizations": [
                {"guid": g, "name": o.details.name} for g, o in self.state.organizations.items()
            ],
            "rate_limit": self.rate_limit_per_second if self.rate_limit else None,
            "page_size_cap": self.page_size_cap,
        }

    def on_clock_moved(self) -> None:
        self.auth.purge(self.clock.now())

    # ------------------------------------------------------------------ rate limit
    def check_rate_limit(self, req: Request) -> Response | None:
        if not self.rate_limit:
            return None
        key = self._client_key(req)
        wait = self.limiter.hit(key)
        return None if wait is None else self.rate_limited_response(wait)

    def _client_key(self, req: Request) -> str:
        scheme, _, value = (req.headers.get("Authorization") or "").partition(" ")
        tok = self.state.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if tok is not None:
            return tok.client_id
        try:
            body = request_json() if req.content_length else None
        except ValueError:  # the route answers bad JSON with its 400; here it only has no client id
            body = None
        if isinstance(body, dict):
            cid = next((v for k, v in body.items() if k.lower() == "client_id"), None)
            if isinstance(cid, str):
                return cid
        return req.headers.get("Client_Id") or req.remote_addr or "anonymous"

    # ------------------------------------------------------------------ Python API
    def tenant(self, org: str) -> Backend:
        """The backend of an organisation, by GUID, name, or the preset labels "main"/"second"."""
        guid = self.refs.get(org, org)
        found = self.state.organizations.get(guid)
        if found is None:
            found = next(
                (o for o in self.state.organizations.values() if o.details.name.lower() == org.lower()), None
            )
        if found is None:
            known = ", ".join(o.details.name for o in self.state.organizations.values())
            raise KeyError(f"no organisation {org!r}; known: {known}")
        return Backend(found, self.clock.now, ids=self.ids)

    @property
    def main(self) -> Backend:
        return self.tenant("main")

    @property
    def second(self) -> Backend:
        return self.tenant("second")

    def client_credentials(self, label: str = "full access", organization: str = "main") -> dict[str, Any]:
        """`{"client_id", "client_secret", "scopes"}` of one preset client (by label)."""
        org_guid = self.refs.get(organization, organization)
        for c in self.state.clients.values():
            if c.label == label and c.organization_guid == org_guid:
                return {"client_id": c.client_id, "client_secret": c.client_secret, "scopes": list(c.scopes)}
        raise KeyError(f"no client {label!r} for organisation {organization!r}")
