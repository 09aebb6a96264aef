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
`OrganizationBackend` (create invoices with rows, set statuses, add statuses), `sim.main` /
`sim.second` the demo tenants, `sim.client_credentials(label)` one client's credentials.
"""

from __future__ import annotations

from typing import Any

from simulators.kit import Alias, SimClock, Simulator
from simulators.kit.serde import from_json, to_json

from . import actors, errors, presets, routes
from .auth import AuthStore
from .backend import OrganizationBackend, SeveraBackend, SeveraOptions
from .models import SeveraState
from .ratelimit import SlidingWindowLimiter


class SeveraSimulator(Simulator, service="severa", routes=routes, actors=actors, errors=errors):
    backend: SeveraBackend
    # the options and the state under their old names (the Python API of tests and scenarios)
    rate_limit = Alias[bool]("options", "rate_limit")
    rate_limit_per_second = Alias[int]("options", "rate_limit_per_second")
    page_size_cap = Alias[int]("options", "page_size_cap")
    strict_client_id = Alias[bool]("options", "strict_client_id")
    state = Alias[SeveraState]("backend", "state")  # every organisation, API client and live token
    refs = Alias[dict[str, Any]]("backend", "refs")  # the preset's labels ("main", ...) -> GUIDs
    auth = Alias[AuthStore]("backend", "auth")

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
        self.options = SeveraOptions(rate_limit, rate_limit_per_second, page_size_cap, strict_client_id)
        self.limiter = SlidingWindowLimiter(rate_limit_per_second)
        super().__init__(preset, seed, clock=clock, **kwargs)

    # ------------------------------------------------------------------ kit hooks
    def build_state(self, preset: str, seed: int) -> None:
        state, refs = presets.build(preset, seed)
        self._use(state, refs)
        self.limiter.clear()

    def _use(self, state: SeveraState, refs: dict[str, Any]) -> None:
        self.backend = SeveraBackend(
            state, refs, ids=self.ids, now=self.clock.now, options=self.options, limiter=self.limiter
        )

    def export_data(self) -> dict[str, Any]:
        return {"state": to_json(self.state), "refs": dict(self.refs)}

    def import_data(self, data: dict[str, Any]) -> None:
        state = from_json(SeveraState, data["state"])
        if not isinstance(state, SeveraState) or not state.organizations:
            raise ValueError("the snapshot holds no organisations")
        self._use(state, dict(data.get("refs") or {}))

    def rate_limited_response(self, retry_after: int) -> Any:
        return errors.rate_limited(self.rate_limit_per_second, retry_after)

    def tenant_of(self, req: Any) -> str | None:
        scheme, _, value = (req.headers.get("Authorization") or "").partition(" ")
        tok = self.state.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        return tok.organization_guid if tok else None

    def credentials(self) -> dict[str, Any]:
        orgs = self.state.organizations
        return {
            "base_path": routes.PUBLIC_ROOT,
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
        return path.replace(routes.PUBLIC_ROOT + "/v1.0/", routes.PUBLIC_ROOT + "/v1/")

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

    # ------------------------------------------------------------------ Python API
    def tenant(self, org: str) -> OrganizationBackend:
        """The backend of an organisation, by GUID, name, or the preset labels "main"/"second"."""
        return self.backend.tenant(org)

    @property
    def main(self) -> OrganizationBackend:
        return self.tenant("main")

    @property
    def second(self) -> OrganizationBackend:
        return self.tenant("second")

    def client_credentials(self, label: str = "full access", organization: str = "main") -> dict[str, Any]:
        """`{"client_id", "client_secret", "scopes"}` of one preset client (by label)."""
        org_guid = self.refs.get(organization, organization)
        for c in self.state.clients.values():
            if c.label == label and c.organization_guid == org_guid:
                return {"client_id": c.client_id, "client_secret": c.client_secret, "scopes": list(c.scopes)}
        raise KeyError(f"no client {label!r} for organisation {organization!r}")
