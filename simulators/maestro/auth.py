"""API-key authentication: one key per Maestro company (yrityksen API-avain).

The key travels in the `X-Maestro-Api-Key` header on every route under `/api`. A missing
header is 401 `missing_api_key`, an unknown key 401 `invalid_api_key`; both in Maestro's
error body. The key decides the tenant: a company never sees another company's data.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from .backend import CompanyBackend
from .errors import MaestroError, detail

API_KEY_HEADER = "X-Maestro-Api-Key"


def company_for_key(companies: Iterable[CompanyBackend], key: str | None) -> CompanyBackend | None:
    if not key:
        return None
    found = None
    for backend in companies:
        # compare against every key, in constant time per key
        if hmac.compare_digest(backend.company.api_key.encode(), key.encode()):
            found = backend
    return found


def authenticate(companies: Iterable[CompanyBackend], key: str | None) -> CompanyBackend:
    """The company of an API key, or 401 in Maestro's error body."""
    key = (key or "").strip()
    if not key:
        raise MaestroError(
            401,
            "missing_api_key",
            f"The {API_KEY_HEADER} header is missing.",
            [detail(API_KEY_HEADER, "is required")],
        )
    backend = company_for_key(companies, key)
    if backend is None:
        raise MaestroError(
            401,
            "invalid_api_key",
            "The API key is not valid for any Maestro company.",
            [detail(API_KEY_HEADER, "unknown API key")],
        )
    return backend
