"""OAuth2 client credentials (``POST /oauth2/token``) and bearer-token checks.

* ``client_id`` = company UUID, ``client_secret`` = user API key, ``vendor_api_key`` = the
  software (ERP) key; form-urlencoded, multipart and HTTP Basic (client id/secret) accepted.
* Scopes: space- or comma-separated; aliases ``eui``, ``global``, ``company`` expand to atomic
  scopes; no scope → ``global company`` [spec]. ``operator:*`` scopes are refused for company
  logins. Tokens live 3600 s of simulated time.
* A missing scope on an operation answers 403 ``insufficient_scope`` [inferred: the spec only
  says 401 "no access"; a distinct code lets clients tell it from an expired token, as the
  docs ask].
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .errors import MaventaError
from .models import MaventaState, Token

TOKEN_LIFETIME = 3600

ALIASES: dict[str, tuple[str, ...]] = {
    "eui": (
        "eui:open",
        "company:read",
        "company:write",
        "lookup",
        "receivables:assignments",
        "document:send",
        "document:receive",
        "invoice:receive",
        "invoice:send",
        "analysis",
    ),
    "global": ("company:read", "document:receive", "document:send", "lookup"),
    "company": ("company:read", "company:write"),
}
ATOMIC = frozenset(
    {
        "eui:open",
        "lookup",
        "document:receive",
        "document:send",
        "invoice:receive",
        "invoice:send",
        "company:read",
        "company:write",
        "validate",
        "receivables:assignments",
        "analysis",
        "billing:reports",
        "partner:invoice_delivery_actions",
        "partner:lookups",
        "partner:takeovers",
        "partner:lyanthe_scan_service",
        "fi_bank_message:send",
        "fi_bank_message:receive",
    }
)
DEFAULT_SCOPE = "global company"


def expand_scopes(raw: str | None) -> tuple[str, list[str]]:
    """(granted scope string, atomic scopes); raises 400 ``invalid_scope`` on unknown names."""
    text = (raw or "").replace(",", " ").split()
    if not text:
        text = DEFAULT_SCOPE.split()
    atomic: list[str] = []
    bad = []
    for s in text:
        if s in ALIASES:
            atomic.extend(ALIASES[s])
        elif s in ATOMIC:
            atomic.append(s)
        else:
            bad.append(s)
    if bad:
        operator = [b for b in bad if b.startswith("operator:")]
        msg = (
            "operator scopes are only for operator logins"
            if operator and len(operator) == len(bad)
            else "unknown scope"
        )
        raise MaventaError(400, "invalid_scope", f"Invalid scope: {', '.join(bad)}", [msg])
    return " ".join(text), sorted(set(atomic))


def credentials_from_request(form: dict[str, str], authorization: str | None) -> dict[str, str]:
    """Merge form fields with HTTP Basic ``client_id:client_secret`` (Basic wins only when the form has none)."""
    out = {k: v for k, v in form.items() if isinstance(v, str)}
    if authorization and authorization.lower().startswith("basic "):
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise MaventaError(400, "invalid_request", "Malformed HTTP Basic authorization header") from exc
        cid, _, secret = raw.partition(":")
        out.setdefault("client_id", cid)
        out.setdefault("client_secret", secret)
    return out


def issue_token(
    state: MaventaState, fields: dict[str, str], now: datetime, *, require_vendor_key: bool = False
) -> dict[str, Any]:
    grant = fields.get("grant_type", "")
    if grant != "client_credentials":
        raise MaventaError(
            400,
            "unsupported_grant_type",
            f"grant_type must be client_credentials, got {grant!r}" if grant else "grant_type is missing",
        )
    company_id, secret = fields.get("client_id", ""), fields.get("client_secret", "")
    vendor = fields.get("vendor_api_key", "")
    if not company_id or not secret:
        raise MaventaError(
            400,
            "invalid_request",
            "client_id and client_secret are required",
            ["client_id = company UUID, client_secret = user API key"],
        )
    company = state.companies.get(company_id)
    user = state.user_by_key(secret)
    if company is None or user is None or company.id not in user.company_ids:
        raise MaventaError(
            401,
            "invalid_credentials",
            "Invalid client credentials",
            ["Check the company UUID (client_id) and the user API key (client_secret)"],
        )
    if vendor and vendor not in state.vendor_keys:
        raise MaventaError(401, "invalid_credentials", "Invalid vendor API key")
    if require_vendor_key and not vendor:
        raise MaventaError(401, "invalid_credentials", "vendor_api_key is required")
    granted, scopes = expand_scopes(fields.get("scope"))
    token = state.new_token(f"token:{company.id}:{user.id}:{vendor}:{granted}")
    state.tokens[token] = Token(
        token=token,
        company_id=company.id,
        user_id=user.id,
        scopes=scopes,
        granted=granted,
        expires_at=now + timedelta(seconds=TOKEN_LIFETIME),
        vendor_api_key=vendor,
    )
    # drop expired tokens so the state stays small
    for key in [k for k, t in state.tokens.items() if t.expires_at <= now]:
        del state.tokens[key]
    return {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME, "scope": granted}


def bearer_token(state: MaventaState, authorization: str | None, now: datetime) -> Token:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise MaventaError(401, "auth_unauthorized", "Unauthorized", ["Missing bearer token"])
    tok = state.tokens.get(authorization[7:].strip())
    if tok is None:
        raise MaventaError(401, "auth_unauthorized", "Unauthorized", ["Invalid access token"])
    if tok.expires_at <= now:
        raise MaventaError(401, "auth_unauthorized", "Unauthorized", ["Access token has expired"])
    return tok


def require_scope(token: Token, any_of: Iterable[str]) -> None:
    wanted = list(any_of)
    if not set(wanted) & set(token.scopes):
        raise MaventaError(
            403,
            "insufficient_scope",
            "Access denied: missing scope",
            [f"This operation needs one of the scopes: {', '.join(wanted)}"],
        )
