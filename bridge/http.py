"""The shared HTTP policy of the bridge: retries, backoff, ``Retry-After``, rate limit.

Both service clients (``bridge.severa.SeveraClient``, ``bridge.connectors.maventa.MaventaClient``)
send every request through one ``ServiceHttp``. It owns:

* **Retries** (``RetryPolicy``): exponential backoff with *full jitter*
  (``uniform(0, min(max_delay, base_delay * 2**(n-1)))``) on 5xx, 408, 429, timeouts and
  connection errors/resets (``httpx.TransportError``), and on 2xx answers whose body cannot
  be read. A ``Retry-After`` header (seconds or an HTTP date) is honoured exactly; when it
  asks for longer than ``max_delay`` or than the remaining time budget, the call gives up
  at once with the 429/503 error (its ``retry_after`` tells the caller when to come back).
  Attempts are bounded (``max_attempts``) and so is the total time (``max_total``).
* **Retry safety.** A request is repeated after an ambiguous failure only when repeating
  it is harmless: GET/HEAD/OPTIONS/PUT/DELETE and PATCH (the bridge only PATCHes to an
  absolute state) by default, and POSTs the caller marks ``idempotent=True`` (a Maventa
  send carrying our ``uuid``, a token request). A non-idempotent POST is still retried
  when the server certainly did not act on it: 429 (refused by the rate limiter) and
  connection failures before anything was sent (``httpx.ConnectError``/``ConnectTimeout``/
  ``PoolTimeout``). Anything else surfaces at once as ``ServiceError`` or
  ``TransportFailure(maybe_delivered=True)``.
* **Rate limit** (``RateLimiter``): a thread-safe token bucket; Severa allows 10 requests
  per second per API client ("API calls quota exceeded! maximum admitted 10 per 1s."), so
  its client spaces calls 100 ms apart by default (burst 1, which keeps any 1-second
  window at 10 calls even when the server counts fixed windows). Share one limiter
  between clients that use the same Severa credentials.
* **Test seams**: ``clock`` (monotonic seconds), ``sleep``, ``rand`` (uniform [0,1)) and
  ``wallclock`` (aware ``datetime`` for HTTP-date ``Retry-After``) are injectable, so tests
  never sleep for real.

Logging (logger ``bridge.http``) names the method, the path and the status only:
never headers, bodies or query values, so no token or API key can reach a log.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from bridge.errors import MalformedResponseError, ServiceError, TransportFailure

__all__ = [
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "RateLimiter",
    "RetryPolicy",
    "ServiceHttp",
    "make_client",
    "parse_retry_after",
]

log = logging.getLogger("bridge.http")

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None when absent/unreadable.

    Accepts delta-seconds (``"3"``, also ``"1.5"`` which some servers send) and an HTTP
    date (``"Wed, 21 Oct 2026 07:28:00 GMT"``, relative to ``now``). Never negative.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds):
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. All times in seconds.

    ``max_attempts`` counts the first try (5 = 1 try + 4 retries). ``max_total`` bounds the
    wall time of one logical call including waits: a retry whose wait would cross it is
    not made.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_total: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_total < 0:
            raise ValueError("delays must not be negative")

    def backoff_cap(self, retry_number: int) -> float:
        """Upper bound of the jittered wait before retry ``retry_number`` (1-based)."""
        exponent = min(max(retry_number - 1, 0), 62)
        return min(self.max_delay, self.base_delay * (2.0**exponent))

    def backoff(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        """Full-jitter wait before retry ``retry_number``: uniform in [0, cap]."""
        r = min(max(rand(), 0.0), 1.0)
        return self.backoff_cap(retry_number) * r

    def delay(
        self, retry_number: int, retry_after: float | None, rand: Callable[[], float] = random.random
    ) -> float | None:
        """Wait before the next retry, or None when the server asks for longer than ``max_delay``."""
        if retry_after is not None:
            if retry_after > self.max_delay:
                return None
            return retry_after
        return self.backoff(retry_number, rand)


class RateLimiter:
    """Thread-safe token bucket: at most ``rate`` calls per second, bursts of ``burst``.

    ``acquire()`` reserves the next slot under a lock and sleeps outside it, so concurrent
    callers queue fairly. Returns the seconds waited.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._last = clock()

    def acquire(self) -> float:
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait


def make_client(
    http: httpx.Client | str, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT
) -> tuple[httpx.Client, bool]:
    """``(client, owned)`` from an ``httpx.Client`` or a base URL; ``owned`` = we must close it."""
    if isinstance(http, httpx.Client):
        return http, False
    if not isinstance(http, str) or not http.strip():
        raise TypeError("http must be an httpx.Client or a base URL string")
    return httpx.Client(base_url=http.strip(), timeout=timeout), True


ErrorFactory = Callable[[httpx.Response, Any, float | None], ServiceError]
MalformedFactory = Callable[[httpx.Response, str], MalformedResponseError]


class ServiceHttp:
    """One service's HTTP channel: base URL, retry policy, optional rate limiter, error typing.

    ``error_factory(response, parsed_json_or_None, retry_after)`` builds the service's typed
    error for a >= 400 answer; ``malformed_factory(response, why)`` the error for an
    unreadable 2xx body.
    """

    def __init__(
        self,
        http: httpx.Client | str,
        *,
        service: str,
        error_factory: ErrorFactory,
        malformed_factory: MalformedFactory,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        wallclock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client, self._owned = make_client(http)
        self.service = service
        self.policy = policy or RetryPolicy()
        self.limiter = limiter
        self._error_factory = error_factory
        self._malformed_factory = malformed_factory
        self.clock = clock
        self._sleep = sleep
        self._rand = rand
        self._wallclock = wallclock
        self.calls = 0  # requests actually put on the wire (benchmarks read this)

    def close(self) -> None:
        if self._owned:
            self.client.close()

    # -- public -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool | None = None,
        parse: Callable[[httpx.Response], T] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send with retries; returns ``parse(response)`` (or the response when no parser).

        ``kwargs`` go to ``httpx.Client.request`` (``params``, ``json``, ``content``, ``data``,
        ``files``, ``headers``, ``timeout``). ``parse`` runs inside the retry loop, so an
        unreadable body of a safe request is retried too.
        """
        method = method.upper()
        safe = (method in IDEMPOTENT_METHODS) if idempotent is None else idempotent
        start = self.clock()
        attempt = 0
        ambiguous = False  # an earlier attempt may have reached the server
        while True:
            attempt += 1
            if self.limiter is not None:
                self.limiter.acquire()
            self.calls += 1
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                not_sent = isinstance(exc, _NOT_SENT)
                ambiguous = ambiguous or not not_sent
                reason = type(exc).__name__ + (f": {exc}" if str(exc) else "")
                if (safe or not_sent) and self._wait(attempt, None, start, method, path, reason):
                    continue
                raise TransportFailure(
                    self.service, method, path, reason, maybe_delivered=ambiguous, attempts=attempt
                ) from None
            if response.status_code >= 400:
                error = self._error(response)
                error.attempts = attempt
                error.earlier_maybe_delivered = ambiguous
                refused = response.status_code == 429
                if (
                    error.retryable
                    and (safe or refused)
                    and self._wait(attempt, error.retry_after, start, method, path, str(response.status_code))
                ):
                    ambiguous = ambiguous or not refused
                    continue
                raise error
            if parse is None:
                return response
            try:
                return parse(response)
            except MalformedResponseError as error:
                if safe and self._wait(attempt, None, start, method, path, "unreadable body"):
                    ambiguous = True
                    continue
                raise

    def json(self, response: httpx.Response) -> Any:
        """The JSON body of a 2xx answer, or the service's ``MalformedResponseError``."""
        try:
            return response.json()
        except ValueError:
            raise self._malformed_factory(response, "the answer is not valid JSON") from None

    # -- internals --------------------------------------------------------------------------

    def _error(self, response: httpx.Response) -> ServiceError:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._wallclock())
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        return self._error_factory(response, payload, retry_after)

    def _wait(
        self, attempt: int, retry_after: float | None, start: float, method: str, path: str, why: str
    ) -> bool:
        if attempt >= self.policy.max_attempts:
            return False
        delay = self.policy.delay(attempt, retry_after, self._rand)
        if delay is None:
            return False
        if self.clock() - start + delay > self.policy.max_total:
            return False
        log.info(
            "%s %s %s failed (%s); retry %d in %.2fs",
            self.service,
            method,
            _path_only(path),
            why,
            attempt,
            delay,
        )
        if delay > 0:
            self._sleep(delay)
        return True


def _path_only(path: str) -> str:
    return path.split("?", 1)[0]
