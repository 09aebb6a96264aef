"""Maventa (AutoXChange) side of the bridge.

* ``client``: the AX REST API client (``MaventaClient``);
* ``integration``: Severa's settings page *Asetukset > Integraatiot > Maventa/AutoInvoice*
  (registration, authentication request, settings, activation: MV-1 ... MV-5, MV-13, MV-14);
* ``connector``: what the transfer engine sends to Maventa and how it follows it (MV-6 ... MV-12).
"""

from bridge.connectors.maventa.client import DEFAULT_SCOPE, INVOICE_FORMATS, ROUTES, JsonObject, MaventaClient

__all__ = ["DEFAULT_SCOPE", "INVOICE_FORMATS", "ROUTES", "JsonObject", "MaventaClient"]
