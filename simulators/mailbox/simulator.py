"""The sandbox mailbox: an SMTP catcher whose messages are read over the control plane.

The bridge's notifier (MV-9 sending-error e-mails) points here by default in the sandbox:
SMTP on 127.0.0.1:8025 next to `up`'s other services, any server otherwise. Nothing is relayed.

* SMTP (aiosmtpd, own thread and event loop): `start_smtp()` returns the bound port (`smtp_port=0`
  picks a free one); `serve()` starts it along with the HTTP server and its `stop()` stops both.
  No TLS. AUTH PLAIN/LOGIN is accepted without TLS; with `smtp_credentials=(user, password)` it
  is required and checked, otherwise any login is accepted (the user name is recorded, never the
  password). Messages over `max_message_bytes` are refused with SMTP 552.
* State: the received messages (envelope, subject, text body, headers, attachments, the
  simulated receive time), at most `capacity` (the oldest are dropped and counted). Reset,
  snapshots and the journal (HTTP only) come from the kit.
* Control plane: `GET /_sim/messages` (filters `to`, `from`, `subject` (contains, case-
  insensitive), `since` (id), `limit`), `GET /_sim/messages/{id}` (`?format=raw` for the RFC 5322
  text), `DELETE /_sim/messages`, `GET /_sim/smtp` (where it listens).
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any, ClassVar

from flask import Blueprint, Flask, Response, jsonify, request

from simulators.kit import ControlError, SimClock, Simulator, ThreadedServer

from .models import MailMessage, parse_message
from .smtp import SmtpListener

DEFAULT_SMTP_PORT = 8025
DEFAULT_HTTP_PORT = 8704
DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024
DEFAULT_CAPACITY = 1000


class _Handler:
    """aiosmtpd handler: hands each DATA to the simulator."""

    def __init__(self, sim: MailboxSimulator) -> None:
        self.sim = sim

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "replace")
        peer = session.peer[0] if isinstance(session.peer, tuple) else None
        auth = session.auth_data if isinstance(session.auth_data, str) else None
        msg = self.sim.receive(
            envelope.mail_from or "", list(envelope.rcpt_tos), content, peer=peer, auth_user=auth
        )
        return f"250 2.0.0 Ok: queued as {msg.id}"


class MailboxSimulator(Simulator):
    service = "mailbox"
    state_version = 1
    presets: ClassVar[tuple[str, ...]] = ("empty", "demo")  # the demo mailbox starts empty too
    default_preset = "empty"

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
            _Handler(self),
            smtp_host,
            smtp_port,
            data_size_limit=max_message_bytes,
            credentials=smtp_credentials,
        )
        super().__init__(preset, seed, clock=clock, journal_capacity=journal_capacity, **options)

    # ------------------------------------------------------------------ state
    def build_state(self, preset: str, seed: int) -> None:
        self.messages: deque[MailMessage] = deque()
        self.next_id = 1
        self.dropped = 0

    def export_data(self) -> dict[str, Any]:
        return {
            "messages": [m.to_json() for m in self.messages],
            "next_id": self.next_id,
            "dropped": self.dropped,
        }

    def import_data(self, data: dict[str, Any]) -> None:
        messages = deque(MailMessage.from_json(m) for m in data["messages"])
        next_id = int(data.get("next_id", max((m.id for m in messages), default=0) + 1))
        self.messages, self.next_id, self.dropped = messages, next_id, int(data.get("dropped", 0))

    def receive(
        self,
        mail_from: str,
        rcpt_tos: list[str],
        content: bytes,
        *,
        peer: str | None = None,
        auth_user: str | None = None,
    ) -> MailMessage:
        """Keep one message (called by the SMTP listener; usable directly in-process)."""
        with self.lock:
            msg = parse_message(
                self.next_id,
                self.clock.now().isoformat().replace("+00:00", "Z"),
                mail_from,
                rcpt_tos,
                content,
                peer=peer,
                auth_user=auth_user,
            )
            self.next_id += 1
            self.messages.append(msg)
            while len(self.messages) > self.capacity:
                self.messages.popleft()
                self.dropped += 1
            return msg

    def find(
        self,
        *,
        to: str | None = None,
        sender: str | None = None,
        subject: str | None = None,
        since_id: int | None = None,
        limit: int | None = None,
    ) -> list[MailMessage]:
        """Messages matching every filter, oldest first (the Python twin of GET /_sim/messages)."""
        with self.lock:
            found = []
            for m in self.messages:
                if to and not _matches_address(to, [*m.rcpt_tos, m.to_header]):
                    continue
                if sender and not _matches_address(sender, [m.mail_from, m.from_header]):
                    continue
                if subject and subject.lower() not in m.subject.lower():
                    continue
                if since_id is not None and m.id <= since_id:
                    continue
                found.append(m)
        return found[-limit:] if limit else found

    def get(self, msg_id: int) -> MailMessage | None:
        with self.lock:
            return next((m for m in self.messages if m.id == msg_id), None)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

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

    # ------------------------------------------------------------------ HTTP
    def register_routes(self, app: Flask) -> None:
        sim = self

        @app.get("/")
        def index() -> Response:
            return jsonify(
                {
                    "service": "mailbox",
                    "smtp": sim._smtp_info(),
                    "messages": len(sim.messages),
                    "read_messages_at": "/_sim/messages",
                }
            )

    def register_actors(self, control: Blueprint) -> None:
        sim = self

        def int_arg(name: str, low: int) -> int | None:
            v = request.args.get(name)
            if v is None or v == "":
                return None
            if not re.fullmatch(r"[0-9]{1,16}", v) or int(v) < low:
                raise ControlError(
                    f"query parameter {name!r}: expected an integer of at least {low}, got {v[:40]!r}"
                )
            return int(v)

        @control.get("/messages")
        def list_messages() -> Response:
            found = sim.find(
                to=request.args.get("to"),
                sender=request.args.get("from"),
                subject=request.args.get("subject"),
                since_id=int_arg("since", 0),
                limit=int_arg("limit", 1),
            )
            return jsonify(
                {
                    "messages": [m.summary() for m in found],
                    "count": len(found),
                    "total": len(sim.messages),
                    "dropped": sim.dropped,
                }
            )

        @control.get("/messages/<int:msg_id>")
        def get_message(msg_id: int) -> Response:
            msg = sim.get(msg_id)
            if msg is None:
                raise ControlError(f"no message with id {msg_id}", 404, "not_found")
            if request.args.get("format") == "raw":
                return Response(msg.raw, content_type="message/rfc822; charset=utf-8")
            return jsonify(msg.detail())

        @control.delete("/messages")
        def clear_messages() -> Response:
            sim.clear()
            return Response(status=204)

        @control.get("/smtp")
        def smtp_info() -> Response:
            return jsonify(sim._smtp_info())


def _matches_address(wanted: str, candidates: list[str]) -> bool:
    w = wanted.strip().lower()
    return any(w in c.lower() for c in candidates)
