"""The mailbox's domain: the messages it received, at most `capacity` of them (the oldest are
dropped and counted), each parsed once on arrival and stamped with the simulated time."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from .models import MailMessage, parse_message


def _matches_address(wanted: str, candidates: list[str]) -> bool:
    w = wanted.strip().lower()
    return any(w in c.lower() for c in candidates)


# the messages' filters: name -> does a message match the value
MESSAGE_FILTERS: dict[str, Callable[[MailMessage, Any], bool]] = {
    "to": lambda m, v: _matches_address(v, [*m.rcpt_tos, m.to_header]),
    "sender": lambda m, v: _matches_address(v, [m.mail_from, m.from_header]),
    "subject": lambda m, v: v.lower() in m.subject.lower(),
    "since_id": lambda m, v: m.id > v,
}


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

    def find(self, *, limit: int | None = None, **filters: Any) -> list[MailMessage]:
        """Messages matching every filter of `MESSAGE_FILTERS` (None or "" filters nothing), oldest
        first (`limit`: the last `limit` of them)."""
        unknown = sorted(set(filters) - set(MESSAGE_FILTERS))
        if unknown:
            raise TypeError(f"unknown message filter(s) {unknown}; known: {', '.join(MESSAGE_FILTERS)}")
        wanted = [(MESSAGE_FILTERS[name], v) for name, v in filters.items() if v is not None and v != ""]
        found = [m for m in self.messages if all(keep(m, v) for keep, v in wanted)]
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
