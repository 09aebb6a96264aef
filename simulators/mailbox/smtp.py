"""The mailbox's SMTP listener: aiosmtpd on its own thread and event loop.

The socket is bound before the thread starts, so `port=0` gives a free port that is known at
once (aiosmtpd's own `Controller` cannot report a port-0 binding).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import warnings
from typing import Any, Protocol

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from .auth import smtp_login_ok


class _QuietLoginData(logging.Filter):
    """aiosmtpd itself sets its deprecated Session.login_data on every AUTH and logs a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_QuietLoginData())


class Deliver(Protocol):
    def __call__(
        self, mail_from: str, rcpt_tos: list[str], content: bytes, *, peer: str | None, auth_user: str | None
    ) -> Any: ...


class DataHandler:
    """aiosmtpd handler: hands each DATA to `deliver` (the simulator's `receive`)."""

    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "replace")
        peer = session.peer[0] if isinstance(session.peer, tuple) else None
        auth = session.auth_data if isinstance(session.auth_data, str) else None
        msg = self.deliver(
            envelope.mail_from or "", list(envelope.rcpt_tos), content, peer=peer, auth_user=auth
        )
        return f"250 2.0.0 Ok: queued as {msg.id}"


class SmtpListener:
    def __init__(
        self,
        handler: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        data_size_limit: int,
        credentials: tuple[str, str] | None = None,
        hostname: str = "mailbox.severa-sandbox.local",
    ) -> None:
        self.handler, self.host, self.requested_port = handler, host, port
        self.data_size_limit, self.credentials, self.hostname = data_size_limit, credentials, hostname
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _authenticate(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        ok = smtp_login_ok(self.credentials, user, auth_data.password.decode("utf-8", "replace"))
        if self.credentials is None:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=ok, auth_data=user if ok else None, handled=False)

    def _protocol(self) -> SMTP:
        if self.credentials is None:
            return self._make_protocol()
        with warnings.catch_warnings():
            # AUTH without TLS is the point of a local catcher; aiosmtpd warns about it.
            warnings.simplefilter("ignore")
            return self._make_protocol()

    def _make_protocol(self) -> SMTP:
        return SMTP(
            self.handler,
            data_size_limit=self.data_size_limit,
            enable_SMTPUTF8=True,
            hostname=self.hostname,
            authenticator=self._authenticate,
            auth_require_tls=False,
            auth_required=self.credentials is not None,
            loop=self._loop,
        )

    def start(self, timeout: float = 5.0) -> int:
        if self.running:
            assert self.port is not None
            return self.port
        sock = socket.create_server((self.host, self.requested_port))
        self.port = int(sock.getsockname()[1])
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(loop.create_server(self._protocol, sock=sock))
            except BaseException as exc:  # pragma: no cover - reported to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                server.close()
                tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in tasks:
                    t.cancel()
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(server.wait_closed())
                loop.close()

        self._thread = threading.Thread(target=run, name=f"mailbox-smtp-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failure:
            raise RuntimeError(f"the mailbox SMTP server did not start on {self.host}:{self.port}: {failure}")
        return self.port

    def stop(self, timeout: float = 5.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._loop = self._thread = None
        self.port = None
