"""Visma Severa side of the bridge: the REST API client (see ``bridge.severa.client``)."""

from bridge.severa.client import (
    DEFAULT_SCOPES,
    MAESTRO_SCOPES,
    MAVENTA_SCOPES,
    JsonObject,
    SeveraClient,
    severa_rate_limiter,
)

__all__ = [
    "DEFAULT_SCOPES",
    "MAESTRO_SCOPES",
    "MAVENTA_SCOPES",
    "JsonObject",
    "SeveraClient",
    "severa_rate_limiter",
]
