"""Maestro ERP side of the bridge (Severa → Maestro): the REST API client (``bridge.connectors.maestro.client``)."""

from bridge.connectors.maestro.client import API_KEY_HEADER, PAGE_SIZE, MaestroApiKeyAuth, MaestroClient

__all__ = ["API_KEY_HEADER", "PAGE_SIZE", "MaestroApiKeyAuth", "MaestroClient"]
