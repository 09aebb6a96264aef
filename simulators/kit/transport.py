"""In-process transport: the Flask app behind `httpx.WSGITransport`, no sockets.

Network faults (hang, connection reset) cannot happen without a socket, so the app signals
them and this transport raises what httpx would raise on a real network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx

INPROCESS_KEY = "severa_sandbox.inprocess"
NETWORK_FAULT_KEY = "severa_sandbox.network_fault"


class SimulatedNetworkFault(Exception):
    def __init__(self, kind: str, seconds: float = 0.0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.seconds = seconds


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        def marked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            environ[INPROCESS_KEY] = True
            # httpx puts the *unquoted* text path in PATH_INFO; WSGI (PEP 3333) wants the raw
            # bytes decoded as latin-1, or werkzeug fails on a non-latin-1 character.
            environ["PATH_INFO"] = environ.get("PATH_INFO", "").encode("utf-8").decode("latin-1")
            return app(environ, start_response)

        self._inner = httpx.WSGITransport(app=marked)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except SimulatedNetworkFault as fault:
            if fault.kind == "hang":
                raise httpx.ReadTimeout(
                    "simulated: the server did not answer in time", request=request
                ) from None
            raise httpx.RemoteProtocolError("simulated: connection reset by peer", request=request) from None
