"""Client credentials, tokens and scopes (severa-api.md §1).

* `POST /v1/token` takes JSON `ClientCredentials`; field names are matched case-insensitively
  (ASP.NET model binding: `client_Id`, `Client_Secret` work); `scope` is separated by commas
  and/or whitespace.
* A token's scope = requested ∩ granted; no scope requested ⇒ every granted scope.
  Decision ([inferred]; the notes say Severa "will either refuse the token or issue a partial
  token"): asking for some scopes the client lacks gives a *partial* token without them;
  asking only for scopes the client lacks is refused with 401 AuthenticationRequired; a scope
  name Severa does not know is a 400 InvalidParameter.
* Access tokens live 3600 simulated seconds; refresh tokens 86400 ([unknown] in the notes).
  A refresh token can be used once: refreshing issues a new pair.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from simulators.kit.ids import IdFactory

from .errors import SeveraError, bad_param
from .models import ApiClient, Token

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 86400

ALL_SCOPES: tuple[str, ...] = tuple(
    f"{area}:{right}"
    for area, rights in (
        ("activities", ("read", "write", "delete")),
        ("customers", ("read", "write", "delete")),
        ("fees", ("read", "write", "delete")),
        ("files", ("read", "write", "delete")),
        ("hours", ("read", "write", "delete")),
        ("invoices", ("read", "write", "delete")),
        ("organization", ("read", "write")),
        ("projects", ("read", "write", "delete")),
        ("resourceallocations", ("read", "write", "delete")),
        ("settings", ("read", "write", "delete")),
        ("travels", ("read", "write", "delete")),
        ("users", ("read", "write", "delete")),
    )
    for right in rights
)


def parse_scopes(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise bad_param(
            "scope", "scope must be a string of scopes separated by commas or spaces.", "RequestBody"
        )
    scopes = [s for s in re.split(r"[,\s]+", raw.strip()) if s]
    unknown = [s for s in scopes if s.lower() not in ALL_SCOPES]
    if unknown:
        raise bad_param("scope", f"Unknown scope(s): {', '.join(unknown)}.", "RequestBody")
    return list(dict.fromkeys(s.lower() for s in scopes))


def field_ci(body: dict[str, Any], name: str) -> Any:
    """A JSON field looked up case-insensitively (ASP.NET model binding)."""
    for key, value in body.items():
        if key.lower() == name.lower():
            return value
    return None


class AuthStore:
    """Issues and checks tokens; the data lives in the state (so snapshots keep sessions).

    Tokens come from the simulator's seeded `IdFactory` (same seed and requests, same tokens),
    derived from the client and scopes they are for."""

    def __init__(self, clients: dict[str, ApiClient], tokens: dict[str, Token], ids: IdFactory) -> None:
        self.clients, self.tokens, self.ids = clients, tokens, ids

    def _issue(self, client: ApiClient, scopes: list[str], now: datetime) -> Token:
        purpose = f"{client.client_id}:{','.join(scopes)}"
        tok = Token(
            access_token="sev." + self.ids.token(f"access:{purpose}", 48),
            refresh_token="sevr." + self.ids.token(f"refresh:{purpose}", 32),
            client_id=client.client_id,
            organization_guid=client.organization_guid,
            scopes=scopes,
            access_expires=now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
            refresh_expires=now + timedelta(seconds=REFRESH_TOKEN_SECONDS),
        )
        self.tokens[tok.access_token] = tok
        return tok

    def login(self, body: Any, now: datetime) -> Token:
        if not isinstance(body, dict):
            raise SeveraError(
                400,
                "The request body must be a ClientCredentials object.",
                type="InvalidRequest",
                location="RequestBody",
                name="clientCredentials",
            )
        client_id, client_secret = field_ci(body, "client_id"), field_ci(body, "client_secret")
        for name, value in (("client_id", client_id), ("client_secret", client_secret)):
            if not isinstance(value, str) or not value:
                raise bad_param(name, f"The {name} field is required.", "RequestBody")
        requested = parse_scopes(field_ci(body, "scope"))
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(
            client.client_secret.encode(), client_secret.encode()
        ):
            raise SeveraError(401, "Invalid client credentials.", type="AuthenticationRequired")
        if not requested:
            scopes = list(client.scopes)
        else:
            scopes = [s for s in requested if s in client.scopes]
            if not scopes:
                raise SeveraError(
                    401,
                    "None of the requested scopes is granted to this client.",
                    type="AuthenticationRequired",
                )
        return self._issue(client, scopes, now)

    def refresh(self, body: Any, now: datetime) -> Token:
        if not isinstance(body, str) or not body:
            raise SeveraError(
                400,
                "The request body must be the refresh token as a JSON string.",
                type="InvalidParameter",
                location="RequestBody",
                name="refreshToken",
            )
        old = next((t for t in self.tokens.values() if t.refresh_token == body), None)
        if old is None or old.refresh_used or old.refresh_expires <= now:
            raise SeveraError(401, "Invalid or expired refresh token.", type="AuthenticationRequired")
        client = self.clients.get(old.client_id)
        if client is None:
            raise SeveraError(401, "The client credentials were removed.", type="AuthenticationRequired")
        old.refresh_used = True
        return self._issue(client, [s for s in old.scopes if s in client.scopes], now)

    def check(self, authorization: str | None, now: datetime) -> Token:
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise SeveraError(
                401,
                "Authentication required: send 'Authorization: Bearer <access_token>'.",
                type="AuthenticationRequired",
                location="RequestHeader",
                name="Authorization",
            )
        tok = self.tokens.get(value.strip())
        if tok is None or tok.access_expires <= now:
            raise SeveraError(
                401,
                "The access token is invalid or has expired.",
                type="AuthenticationRequired",
                location="RequestHeader",
                name="Authorization",
            )
        return tok

    def purge(self, now: datetime) -> None:
        """Forget tokens whose refresh token expired (keeps the state small)."""
        for key in [k for k, t in self.tokens.items() if t.refresh_expires <= now]:
            del self.tokens[key]


def output_model(tok: Token, now: datetime) -> dict[str, Any]:
    """`PublicAuthenticationOutputModel`."""

    def utc(d: datetime) -> str:
        return d.strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "access_token": tok.access_token,
        "access_token_type": "Bearer",
        "access_token_expires_in": max(0, int((tok.access_expires - now).total_seconds())),
        "access_token_expires_utc": utc(tok.access_expires),
        "refresh_token": tok.refresh_token,
        "refresh_token_expires_in": max(0, int((tok.refresh_expires - now).total_seconds())),
        "refresh_token_expires_utc": utc(tok.refresh_expires),
        "scope": ",".join(tok.scopes),
    }
