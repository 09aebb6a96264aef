"""One seeded factory for every id, GUID and token a fake mints: same seed, same world.

Each value is derived from (the service's namespace, the seed, what it is for, a counter), so
a reset with the same seed followed by the same requests mints the same values, byte for byte,
and a restored snapshot (the counter travels in it, ``"ids"``) continues the same sequence.

Tokens include what they are for (e.g. the client and scopes) in their derivation: after a
reset the n-th token of the world is never another client's earlier n-th token, so a client
still holding a token from before the reset cannot borrow someone else's identity with it.
They are predictable from the seed, like every other sandbox credential; never use a fake's
tokens outside the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any


def namespace_for(service: str) -> uuid.UUID:
    """The default id namespace of a service (stable across releases)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://severa-sandbox.invalid/{service}")


class IdFactory:
    """Mints GUIDs, tokens and seeded generators from (namespace, seed, kind, counter)."""

    def __init__(
        self,
        namespace: uuid.UUID,
        seed: int = 0,
        counter: int = 0,
        *,
        on_secret: Callable[[str], None] | None = None,
    ) -> None:
        self.namespace = namespace
        self.seed = seed
        self.counter = counter
        self.on_secret = on_secret
        self._lock = threading.Lock()

    def _next(self) -> int:
        with self._lock:
            self.counter += 1
            return self.counter

    def _material(self, kind: str, n: int) -> bytes:
        return f"{self.namespace}:{self.seed}:{kind}:{n}".encode("utf-8", "surrogatepass")

    def guid(self, kind: str = "guid", *, version: int = 4) -> str:
        """A new GUID. ``version=4`` looks like a random GUID (what .NET and most APIs mint);
        ``version=5`` is the plain name-based UUID of (seed, kind, counter)."""
        n = self._next()
        name = uuid.uuid5(self.namespace, f"{self.seed}:{kind}:{n}")
        return str(name if version == 5 else uuid.UUID(bytes=name.bytes, version=4))

    def token(self, kind: str = "token", nbytes: int = 32) -> str:
        """A new URL-safe token of `nbytes` bytes (as ``secrets.token_urlsafe`` shapes them).

        Registered as a secret (journal, exports and logs redact it) through ``on_secret``."""
        digest = hashlib.shake_256(self._material(kind, self._next())).digest(nbytes)
        value = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if self.on_secret is not None:
            self.on_secret(value)
        return value

    def random(self, kind: str = "random") -> random.Random:
        """A generator seeded from the next value of the sequence (for composite fake data)."""
        return random.Random(hashlib.sha256(self._material(kind, self._next())).digest())

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "counter": self.counter}

    def load_json(self, data: Any, *, default_seed: int = 0) -> None:
        """Continue the sequence a snapshot recorded; a bad value raises ValueError naming it."""
        if not isinstance(data, dict):
            raise ValueError(f"ids: expected an object, got {type(data).__name__}")
        seed, counter = data.get("seed", default_seed), data.get("counter", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"ids.seed: expected an integer, got {seed!r}")
        if isinstance(counter, bool) or not isinstance(counter, int) or counter < 0:
            raise ValueError(f"ids.counter: expected a non-negative integer, got {counter!r}")
        with self._lock:
            self.seed, self.counter = seed, counter
