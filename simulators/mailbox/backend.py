"""The mailbox's domain: the messages it received, at most `capacity` of them (the oldest are
dropped and counted), each parsed once on arrival and stamped with the simulated time."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from .models import MailMessage, parse_message


class MailboxBackend:
    """The received messages; the caller holds the simulator lock."""

    def __init__(self, *, capacity: int, now: Callable[[], str]) -> None:
        self.capacity, self.now = capacity, now
        self.messages: deque[MailMessage] = deque()
        self.next_id = 1
        self.dropped = 0
        self.smtp_info: Callable[[], dict[str, Any]] = dict  # set by the service: where SMTP listens

    def receive(
        self,
        mail_from: str,
        rcpt_tos: list[str],
        content: bytes,
        *,
        peer: str | None = None,
        auth_user: str | None = None,
    ) -> MailMessage:
        msg = parse_message(
            self.next_id, self.now(), mail_from, rcpt_tos, content, peer=peer, auth_user=auth_user
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
        """Messages matching every filter, oldest first (the last `limit` of them)."""
        found = [
            m
            for m in self.messages
            if (not to or _matches_address(to, [*m.rcpt_tos, m.to_header]))
            and (not sender or _matches_address(sender, [m.mail_from, m.from_header]))
            and (not subject or subject.lower() in m.subject.lower())
            and (since_id is None or m.id > since_id)
        ]
        return found[-limit:] if limit else found

    def get(self, msg_id: int) -> MailMessage | None:
        return next((m for m in self.messages if m.id == msg_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": [m.to_json() for m in self.messages],
            "next_id": self.next_id,
            "dropped": self.dropped,
        }

    def load_json(self, data: dict[str, Any]) -> None:
        messages = deque(MailMessage.from_json(m) for m in data["messages"])
        next_id = int(data.get("next_id", max((m.id for m in messages), default=0) + 1))
        self.messages, self.next_id, self.dropped = messages, next_id, int(data.get("dropped", 0))


def _matches_address(wanted: str, candidates: list[str]) -> bool:
    w = wanted.strip().lower()
    return any(w in c.lower() for c in candidates)
