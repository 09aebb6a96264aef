"""A threaded HTTP server on a free port (0 by default) with a ready signal, like moto's."""

from __future__ import annotations

import errno
import socket
import struct
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .transport import INPROCESS_KEY, NETWORK_FAULT_KEY, SimulatedNetworkFault


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return  # the journal is the log


class NetworkFaultMiddleware:
    """Turns a fault signalled by the app into a real network fault (or an in-process one)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], stopping: threading.Event) -> None:
        self.app = app
        self.stopping = stopping

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def deferred_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["args"] = (status, headers, exc_info)
            return lambda data: None

        body = b"".join(self.app(environ, deferred_start))
        fault = environ.get(NETWORK_FAULT_KEY)
        if fault is None:
            status, headers, exc_info = captured["args"]
            start_response(status, headers, exc_info)
            return [body]
        kind, seconds = fault
        if environ.get(INPROCESS_KEY):
            raise SimulatedNetworkFault(kind, seconds)
        sock = environ.get("werkzeug.socket")
        if kind == "hang":
            self.stopping.wait(seconds if seconds > 0 else None)
        if sock is not None:
            try:  # SO_LINGER 0: close with RST, the client sees "connection reset by peer"
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        raise ConnectionResetError("simulated network fault")  # werkzeug treats this as a dropped connection


class ThreadedServer:
    """Serve a WSGI app on host:port in a daemon thread. `port=0` picks a free port.

    `read_timeout` (seconds) bounds every read from a client socket: a client that stops
    sending in the middle of its request line, headers or body is dropped (or answered 408)
    after it, instead of holding a thread forever."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        stopping: threading.Event | None = None,
        *,
        read_timeout: float | None = 30.0,
    ) -> None:
        # `stopping` ends simulated hangs when the server stops (the app's middleware waits on it).
        self.stopping = stopping or threading.Event()
        self.host = host
        self.read_timeout = read_timeout
        handler = type("_TimedHandler", (_QuietHandler,), {"timeout": read_timeout})
        try:
            self._server: BaseWSGIServer = make_server(
                host, port, app, threaded=True, request_handler=handler
            )
        except SystemExit:  # werkzeug exits the process when the port is taken; a library must not
            raise OSError(errno.EADDRINUSE, f"port {port} on {host} is already in use") from None
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 5.0) -> ThreadedServer:
        def run() -> None:
            self.ready.set()
            self._server.serve_forever(poll_interval=0.05)

        self._thread = threading.Thread(target=run, name=f"sim-server-{self.port}", daemon=True)
        self._thread.start()
        if not self.ready.wait(timeout):
            raise RuntimeError(f"server on {self.url} did not start within {timeout}s")
        return self

    def serve_forever(self) -> None:
        self.ready.set()
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
