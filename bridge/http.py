"""The HTTP core of the bridge: retries, backoff, ``Retry-After``, rate limit, auth flows, JSON shapes.

Every service client (``bridge.severa.SeveraClient``, ``bridge.connectors.maventa.MaventaClient``,
``bridge.connectors.maestro.MaestroClient``) sends every request through one ``ServiceHttp``.
It owns:

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
* **Authentication** (``TokenAuth``, an ``httpx.Auth`` flow): the header goes on in the flow,
  the token is cached and renewed ``refresh_margin`` seconds before it expires, and a 401
  drops it, gets a fresh one and repeats the request once. The flow runs inside every attempt
  of the retry loop, so a retry after a 5xx or a reset carries the then-current token, and a
  token request is itself a ``ServiceHttp`` call with the same retry policy. Every request the
  flow puts on the wire (the repeat after a 401 included) passes the rate limiter and is
  counted in ``calls``. Each service's token dance is a subclass next to its client.
* **JSON shapes**: ``expect_object``, ``expect_array``, ``expect_page`` (and ``expect_json``,
  ``expect_nothing``) are the ``parse`` functions of every call; a body of the wrong shape
  raises ``UnexpectedShape``, which ``ServiceHttp`` turns into the service's own
  ``MalformedResponseError`` subclass (retried when the request was safe to repeat).
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
from collections.abc import Callable, Generator, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self, TypedDict, TypeVar
from urllib.parse import quote

import httpx

from bridge.errors import ConfigurationError, MalformedResponseError, ServiceError, TransportFailure

__all__ = [
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "HeaderAuth",
    "HttpOptions",
    "JsonObject",
    "Page",
    "RateLimiter",
    "RetryPolicy",
    "ServiceClient",
    "ServiceHttp",
    "Token",
    "TokenAuth",
    "UnexpectedShape",
    "expect_array",
    "expect_json",
    "expect_nothing",
    "expect_object",
    "expect_page",
    "iter_pages",
    "make_client",
    "parse_retry_after",
    "path_segment",
]

log = logging.getLogger("bridge.http")

T = TypeVar("T")
C = TypeVar("C")

JsonObject = dict[str, Any]

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


# -- JSON shapes -------------------------------------------------------------------------------


class UnexpectedShape(Exception):
    """A 2xx body is not what the API promises. Raised by the ``expect_*`` parsers; inside
    ``ServiceHttp.request`` it becomes the service's ``MalformedResponseError`` subclass."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


@dataclass(frozen=True)
class Page:
    """One page of a list answer: its items, the answer's headers (where some services put
    the next page's cursor) and, for lists wrapped in an object, that object (``total`` ...)."""

    items: list[JsonObject]
    headers: httpx.Headers
    envelope: JsonObject | None = None

    def header(self, name: str) -> str | None:
        """A header's value, or None when absent or blank."""
        value = self.headers.get(name)
        return (value.strip() or None) if value is not None else None


def expect_json(response: httpx.Response) -> Any:
    """The JSON body, whatever its shape."""
    try:
        return response.json()
    except ValueError:
        raise UnexpectedShape("the answer is not valid JSON") from None


def expect_object(response: httpx.Response) -> JsonObject:
    """The body as one JSON object."""
    data = expect_json(response)
    if not isinstance(data, dict):
        raise UnexpectedShape("expected a JSON object")
    return data


def _objects(data: Any, what: str) -> list[JsonObject]:
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise UnexpectedShape(f"expected {what} of objects")
    return data


def expect_array(response: httpx.Response) -> list[JsonObject]:
    """The body as a JSON array of objects."""
    return _objects(expect_json(response), "a JSON array")


def expect_page(response: httpx.Response, items_key: str | None = None) -> Page:
    """One page of a list: a bare array of objects, or (``items_key``) an object whose
    ``items_key`` member is that array (e.g. Maestro's ``{items, total, limit, offset}``)."""
    if items_key is None:
        return Page(expect_array(response), response.headers)
    envelope = expect_object(response)
    items = _objects(envelope.get(items_key), f"{items_key!r} to be an array")
    return Page(items, response.headers, envelope)


def expect_nothing(response: httpx.Response) -> None:
    """Any 2xx answer, body ignored (a 204)."""
    return None


def iter_pages(fetch: Callable[[C | None], tuple[list[JsonObject], C | None]]) -> Iterator[JsonObject]:
    """Items of a paged list, one page at a time: ``fetch(cursor)`` (None for the first page)
    returns ``(items, next cursor or None)``. A cursor seen before ends the walk (a server
    that repeats itself must not make us loop)."""
    cursor: C | None = None
    seen: list[C] = []
    while True:
        items, cursor = fetch(cursor)
        yield from items
        if cursor is None or cursor in seen:
            return
        seen.append(cursor)


def path_segment(value: object, service: str, *, opaque: bool = False) -> str:
    """``value`` as one URL path segment.

    By default it must be an identifier that needs no escaping (a GUID, a uuid): anything
    holding ``/ ? #`` or ``..`` is refused before a request is made. ``opaque=True`` is for
    values that may hold any character (Maestro product codes such as ``A/0``): the value is
    percent-encoded (``A/0`` -> ``A%2F0``); only an empty value and ``.``/``..`` are refused.
    """
    bad = not isinstance(value, str) or not value or value in (".", "..")
    if not bad and not opaque:
        bad = any(c in str(value) for c in "/?#") or ".." in str(value)
    if bad:
        raise ConfigurationError(f"invalid identifier for a {service} path: {value!r}")
    return quote(str(value), safe="") if opaque else str(value)


# -- authentication ---------------------------------------------------------------------------


@dataclass
class Token:
    """A cached access token. ``renew_at`` is on ``ServiceHttp.clock``'s (monotonic) scale."""

    access: str
    kind: str
    renew_at: float
    refresh: str | None = None
    refresh_valid_until: float | None = None
    scope: str | None = None  # the granted scope text, when the service says


class HeaderAuth(httpx.Auth):
    """An ``httpx.Auth`` flow that puts credentials in headers: ``headers()`` says which."""

    def headers(self) -> dict[str, str]:
        """The headers a request needs now (also for a raw call outside the client)."""
        raise NotImplementedError

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self.headers())
        yield request


class TokenAuth(HeaderAuth):
    """An ``httpx.Auth`` flow for token-based APIs: cache, renew, and repeat once on a 401.

    Subclasses implement ``fetch`` (get a new token through ``self.http``, so the token
    request has the service's retry policy) and may extend ``apply`` (headers on every call).
    Thread-safe: one lock guards the cache, so concurrent callers wait for one renewal
    instead of each asking for a token. The request body is buffered (``requires_request_body``)
    so it can be sent again after a 401, and the 401's body is read before the renewal.
    """

    requires_request_body = True
    requires_response_body = True

    #: field names of the token answer (OAuth 2.0's by default; a service may name its own)
    access_field = "access_token"
    kind_field = "token_type"
    lifetime_field = "expires_in"
    refresh_field = "refresh_token"
    refresh_lifetime_field: str | None = None
    scope_field = "scope"

    def __init__(self, http: ServiceHttp, *, refresh_margin: float = 60.0) -> None:
        self.http = http
        self.refresh_margin = refresh_margin
        self._token: Token | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:  # never show the token
        return f"{type(self).__name__}(service={self.http.service!r})"

    # -- for subclasses ---------------------------------------------------------------------

    def fetch(self, previous: Token | None) -> Token:
        """A new token; ``previous`` is the expired or refused one (None at first)."""
        raise NotImplementedError

    def apply(self, headers: MutableMapping[str, str], token: Token) -> None:
        """Put the credentials on a request's headers."""
        headers["Authorization"] = f"{token.kind} {token.access}"

    def token_answer(self, response: httpx.Response) -> Token:
        """Parse a token answer (the ``parse`` of a token request) into a ``Token``."""
        data = expect_object(response)
        return self.make_token(
            data.get(self.access_field),
            data.get(self.kind_field),
            data.get(self.lifetime_field),
            refresh=data.get(self.refresh_field),
            refresh_lifetime=data.get(self.refresh_lifetime_field) if self.refresh_lifetime_field else None,
            scope=data.get(self.scope_field),
        )

    def make_token(
        self,
        access: Any,
        kind: Any,
        lifetime: Any,
        *,
        refresh: Any = None,
        refresh_lifetime: Any = None,
        scope: Any = None,
    ) -> Token:
        """A ``Token`` from a token answer's fields: renewed ``refresh_margin`` seconds (at most
        10 % of its lifetime) before it expires; a missing lifetime counts as 3600 s."""
        if not isinstance(access, str) or not access:
            raise UnexpectedShape("the token answer has no access_token")
        now = self.http.clock()
        seconds = _seconds(lifetime, 3600.0)
        margin = min(self.refresh_margin, seconds * 0.1)
        text = str(kind or "Bearer")
        return Token(
            access=access,
            kind="Bearer" if text.lower() == "bearer" else text,
            renew_at=now + max(seconds - margin, 0.0),
            refresh=refresh if isinstance(refresh, str) and refresh else None,
            refresh_valid_until=None
            if refresh_lifetime is None
            else now + max(_seconds(refresh_lifetime, 0.0) - margin, 0.0),
            scope=scope if isinstance(scope, str) else None,
        )

    # -- public -----------------------------------------------------------------------------

    def token(self) -> Token:
        """The current token, fetched or renewed when needed."""
        with self._lock:
            token = self._token
            if token is not None and self.http.clock() < token.renew_at:
                return token
            self._token = self.fetch(token)
            return self._token

    def renew(self) -> Token:
        """Forget the cached token and get a new one now."""
        with self._lock:
            self._token = None
            return self.token()

    def invalidate(self, token: Token) -> None:
        """The service refused ``token``: renew it on next use (its refresh token stays usable)."""
        with self._lock:
            if self._token is token:
                token.renew_at = float("-inf")

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        self.apply(out, self.token())
        return out

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        self.apply(request.headers, token)
        response = yield request
        if response.status_code == 401:
            self.invalidate(token)
            self.apply(request.headers, self.token())
            yield request


class _Metered(httpx.Auth):
    """Wraps the caller's auth flow so every request it sends passes the limiter and is counted."""

    def __init__(self, http: ServiceHttp, inner: httpx.Auth | None) -> None:
        self.http = http
        self.inner = inner or httpx.Auth()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self.inner.sync_auth_flow(request)
        try:
            request = next(flow)
            while True:
                self.http.on_wire()
                response = yield request
                try:
                    request = flow.send(response)
                except StopIteration:
                    return
        finally:
            flow.close()


class HttpOptions(TypedDict, total=False):
    """The keyword options every client passes on to its ``ServiceHttp``: the retry policy, a rate
    limiter and the test seams (None = the default)."""

    policy: RetryPolicy | None
    limiter: RateLimiter | None
    clock: Callable[[], float] | None
    sleep: Callable[[float], None] | None
    rand: Callable[[], float] | None


class ServiceHttp:
    """One service's HTTP channel: base URL, retry policy, optional rate limiter, error typing.

    ``error_factory(response, parsed_json_or_None, retry_after)`` builds the service's typed
    error for a >= 400 answer (e.g. ``SeveraError.from_response``); ``malformed_factory(response,
    why)`` the error for an unreadable 2xx body (e.g. ``SeveraMalformedResponse.for_response``).
    ``headers`` go on every request (e.g. ``Accept``). ``clock``, ``sleep``, ``rand`` and
    ``wallclock`` are test seams (None = the real clock, sleep and randomness).
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
        headers: dict[str, str] | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        rand: Callable[[], float] | None = None,
        wallclock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client, self._owned = make_client(http)
        self.service = service
        self.policy = policy or RetryPolicy()
        self.limiter = limiter
        self.headers = dict(headers or {})
        self._error_factory = error_factory
        self._malformed_factory = malformed_factory
        # test seams; None = the real thing
        self.clock: Callable[[], float] = clock or time.monotonic
        self._sleep: Callable[[float], None] = sleep or time.sleep
        self._rand: Callable[[], float] = rand or random.random
        self._wallclock: Callable[[], datetime] = wallclock or (lambda: datetime.now(UTC))
        self.calls = 0  # requests actually put on the wire (benchmarks read this)
        self._count_lock = threading.Lock()

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
        auth: httpx.Auth | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send with retries; returns ``parse(response)`` (or the response when no parser).

        ``kwargs`` go to ``httpx.Client.request`` (``params``, ``json``, ``content``, ``data``,
        ``files``, ``headers``, ``timeout``). ``auth`` (e.g. a ``TokenAuth``) runs afresh on
        every attempt. ``parse`` runs inside the retry loop, so an unreadable body of a safe
        request is retried too; its ``UnexpectedShape`` becomes the service's
        ``MalformedResponseError``.
        """
        method = method.upper()
        safe = (method in IDEMPOTENT_METHODS) if idempotent is None else idempotent
        if self.headers:
            kwargs["headers"] = {**self.headers, **(kwargs.get("headers") or {})}
        metered = _Metered(self, auth)
        start = self.clock()
        attempt = 0
        ambiguous = False  # an earlier attempt may have reached the server
        while True:
            attempt += 1
            try:
                response = self.client.request(method, path, auth=metered, **kwargs)
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
                try:
                    return parse(response)
                except UnexpectedShape as shape:
                    raise self._malformed_factory(response, shape.why) from None
            except MalformedResponseError:
                if safe and self._wait(attempt, None, start, method, path, "unreadable body"):
                    ambiguous = True
                    continue
                raise

    def json(self, response: httpx.Response) -> Any:
        """The JSON body of a 2xx answer, or the service's ``MalformedResponseError``."""
        try:
            return expect_json(response)
        except UnexpectedShape as shape:
            raise self._malformed_factory(response, shape.why) from None

    def on_wire(self) -> None:
        """Called just before each request leaves: wait for the limiter, count the call."""
        if self.limiter is not None:
            self.limiter.acquire()
        with self._count_lock:
            self.calls += 1

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


class ServiceClient:
    """What every service client shares: ``http`` (its ``ServiceHttp``; ``http.calls`` counts
    the requests sent), ``auth`` (its auth flow), ``auth_headers()``, ``close()`` and use as a
    context manager."""

    http: ServiceHttp
    auth: HeaderAuth

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def calls(self) -> int:
        """Requests sent so far (each attempt, token request and repeat after a 401 counts)."""
        return self.http.calls

    def auth_headers(self) -> dict[str, str]:
        """The credential headers a call needs now, for a raw request outside this client (a
        token is fetched or renewed when needed)."""
        return self.auth.headers()

    def _call(self, method: str, path: str, *, parse: Callable[[httpx.Response], Any], **kwargs: Any) -> Any:
        """One authenticated call through the retry policy; ``parse`` reads the answer."""
        return self.http.request(method, path, auth=self.auth, parse=parse, **kwargs)


def _path_only(path: str) -> str:
    return path.split("?", 1)[0]


def _seconds(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return float(value)
