"""Maventa (AutoXChange) side of the bridge: the REST API client (``bridge.connectors.maventa.client``)."""

from bridge.connectors.maventa.client import DEFAULT_SCOPE, INVOICE_FORMATS, ROUTES, JsonObject, MaventaClient

__all__ = ["DEFAULT_SCOPE", "INVOICE_FORMATS", "ROUTES", "JsonObject", "MaventaClient"]
