"""Maestro ERP side of the bridge (Severa → Maestro, MA-1 ... MA-8).

* ``client``: the REST API client (``MaestroClient``), written against Maestro's OpenAPI document;
* ``preflight``: the checks before the first transfer (MA-4 scopes, MA-8 statuses);
* ``customers``: the customer register, incremental (MA-2);
* ``mapping``: what a Severa customer and invoice become in Maestro;
* ``connector``: what the transfer engine sends to Maestro (MA-1, MA-3, MA-5 ... MA-7);
* ``audit``: the codes that would land on ``A/0``, found before a transfer.
"""

from bridge.connectors.maestro.client import API_KEY_HEADER, PAGE_SIZE, MaestroApiKeyAuth, MaestroClient

__all__ = ["API_KEY_HEADER", "PAGE_SIZE", "MaestroApiKeyAuth", "MaestroClient"]
