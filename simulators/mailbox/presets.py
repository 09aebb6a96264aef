"""The mailbox's presets: ``empty`` and ``demo`` both start with no messages (the demo's mail
is what the bridge sends while it runs), message ids counting from 1."""

from __future__ import annotations

from collections.abc import Callable

from .backend import MailboxBackend


def build(preset: str, seed: int, *, capacity: int, now: Callable[[], str]) -> MailboxBackend:
    return MailboxBackend(capacity=capacity, now=now)
