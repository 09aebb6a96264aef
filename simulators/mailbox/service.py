"""`MailboxSimulator`: an SMTP catcher whose messages are read over the control plane.

The bridge's notifier (MV-9 sending-error e-mails) points here by default in the sandbox:
SMTP on 127.0.0.1:8025 next to `up`'s other services, any server otherwise. Nothing is relayed.

* SMTP (aiosmtpd, own thread and event loop, `smtp.py`): `start_smtp()` returns the bound port
  (`smtp_port=0` picks a free one); `serve()` starts it along with the HTTP server and its
  `stop()` stops both. No TLS. AUTH PLAIN/LOGIN is accepted without TLS (`auth.py`); with
  `smtp_credentials=(user, password)` it is required and checked. Messages over
  `max_message_bytes` are refused with SMTP 552.
* State (`backend.py`): the received messages (envelope, subject, text body, headers,
  attachments, the simulated receive time), at most `capacity`. Reset, snapshots and the
  journal (HTTP only) come from the kit; the control plane is `actors.py`.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from simulators.kit import Alias, SimClock, Simulator, ThreadedServer

from . import actors, errors, presets, routes
from .backend import MailboxBackend
from .models import MailMessage
from .smtp import DataHandler, SmtpListener

DEFAULT_SMTP_PORT = 8025
DEFAULT_HTTP_PORT = 8704
DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024
DEFAULT_CAPACITY = 1000


class MailboxSimulator(Simulator, service="mailbox", routes=routes, actors=actors, errors=errors):
    presets: ClassVar[tuple[str, ...]] = ("empty", "demo")  # the demo mailbox starts empty too
    default_preset = "empty"
    backend: MailboxBackend

    def __init__(
        self,
        preset: str | None = None,
        seed: int = 0,
        *,
        smtp_host: str = "127.0.0.1",
        smtp_port: int = 0,
        smtp_credentials: tuple[str, str] | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        capacity: int = DEFAULT_CAPACITY,
        clock: SimClock | None = None,
        journal_capacity: int = 2000,
        **options: Any,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.max_message_bytes = max_message_bytes
        self.smtp_host = smtp_host
        self._smtp = SmtpListener(
            DataHandler(self.receive),
            smtp_host,
            smtp_port,
            data_size_limit=max_message_bytes,
            credentials=smtp_credentials,
        )
        super().__init__(preset, seed, clock=clock, journal_capacity=journal_capacity, **options)

    # ------------------------------------------------------------------ state
    def build_state(self, preset: str, seed: int) -> None:
        self.backend = presets.build(preset, seed, capacity=self.capacity, now=self._received_at)
        self.backend.smtp_info = self._smtp_info

    def _received_at(self) -> str:
        return self.clock.now().isoformat().replace("+00:00", "Z")

    def export_data(self) -> dict[str, Any]:
        return self.backend.to_json()

    def import_data(self, data: dict[str, Any]) -> None:
        self.backend.load_json(data)

    # ------------------------------------------------------------------ Python API
    messages = Alias[deque[MailMessage]]("backend", "messages")
    next_id = Alias[int]("backend", "next_id")
    dropped = Alias[int]("backend", "dropped")

    def receive(self, *message: Any, **about: Any) -> MailMessage:
        """Keep one message: ``receive(mail_from, rcpt_tos, content, peer=..., auth_user=...)``, as
        `MailboxBackend.receive` (called by the SMTP listener; usable directly in-process)."""
        with self.lock:
            return self.backend.receive(*message, **about)

    def find(self, **filters: Any) -> list[MailMessage]:
        """Messages matching every filter (`to`, `sender`, `subject`, `since_id`, `limit`; see
        `MailboxBackend.find`), oldest first: the Python twin of GET /_sim/messages."""
        with self.lock:
            return self.backend.find(**filters)

    def get(self, msg_id: int) -> MailMessage | None:
        with self.lock:
            return self.backend.get(msg_id)

    def clear(self) -> None:
        with self.lock:
            self.backend.messages.clear()

    # ------------------------------------------------------------------ SMTP lifecycle
    @property
    def smtp_port(self) -> int | None:
        return self._smtp.port if self._smtp.running else None

    @property
    def smtp_running(self) -> bool:
        return self._smtp.running

    def start_smtp(self) -> int:
        """Start the SMTP listener (idempotent); returns the bound port."""
        return self._smtp.start()

    def stop_smtp(self) -> None:
        self._smtp.stop()

    def serve(self, host: str = "127.0.0.1", port: int = 0, *, read_timeout: float = 30.0) -> ThreadedServer:
        """The HTTP control plane and the SMTP listener together; `.stop()` stops both."""
        self.start_smtp()
        server = super().serve(host, port, read_timeout=read_timeout)
        http_stop = server.stop

        def stop(*args: Any, **kwargs: Any) -> Any:
            try:
                return http_stop(*args, **kwargs)
            finally:
                self.stop_smtp()

        setattr(server, "stop", stop)  # noqa: B010 (wrap the instance's bound method)
        return server

    def close(self) -> None:
        self.stop_smtp()

    def __enter__(self) -> MailboxSimulator:
        self.start_smtp()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_smtp()

    # ------------------------------------------------------------------ kit hooks
    def secret_values(self) -> list[str]:
        """The SMTP password, when one is required (journal, exports and logs never show it)."""
        creds = self._smtp.credentials
        return [creds[1]] if creds else []

    def describe(self) -> dict[str, Any]:
        return {"smtp": self._smtp_info(), "messages": len(self.messages), "dropped": self.dropped}

    def _smtp_info(self) -> dict[str, Any]:
        return {
            "host": self.smtp_host,
            "port": self.smtp_port,
            "running": self.smtp_running,
            "max_message_bytes": self.max_message_bytes,
            "auth_required": self._smtp.credentials is not None,
        }
