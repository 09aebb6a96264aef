"""The shared retry / backoff / Retry-After / rate-limit policy (bridge.http)."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Response as WzResponse

from bridge.errors import (
    ConfigurationError,
    MalformedResponseError,
    MaventaError,
    ServiceError,
    TransportFailure,
)
from bridge.http import (
    RateLimiter,
    RetryPolicy,
    ServiceHttp,
    Token,
    TokenAuth,
    expect_array,
    expect_object,
    expect_page,
    iter_pages,
    parse_retry_after,
    path_segment,
)
from tests.bridge.http_fakes import FakeClock, Recorder, sequence

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def _error(response: httpx.Response, payload: Any, retry_after: float | None) -> ServiceError:
    return MaventaError.from_body(response.status_code, response.text, payload, retry_after=retry_after)


class _Malformed(MalformedResponseError):
    pass


def make_http(
    recorder: Recorder, clock: FakeClock, policy: RetryPolicy | None = None, **kwargs: Any
) -> ServiceHttp:
    return ServiceHttp(
        recorder.client(),
        service="Test",
        error_factory=_error,
        malformed_factory=lambda r, why: _Malformed(r.status_code, why, body=r.text),
        policy=policy or RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=10, max_total=30),
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 1.0,
        wallclock=lambda: NOW,
        **kwargs,
    )


# -- Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@given(st.integers(min_value=0, max_value=10**9))
def test_retry_after_delta_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds), NOW) == seconds


@given(st.integers(min_value=-(10**6), max_value=10**7))
def test_retry_after_http_date_is_relative_to_now_and_never_negative(offset: int) -> None:
    when = NOW + timedelta(seconds=offset)
    assert parse_retry_after(format_datetime(when, usegmt=True), NOW) == max(0, offset)


# -- backoff -----------------------------------------------------------------------------------


@given(
    retry=st.integers(min_value=1, max_value=10_000),
    base=st.floats(min_value=0, max_value=10),
    cap=st.floats(min_value=0, max_value=120),
    r=st.floats(min_value=0, max_value=1),
)
def test_backoff_never_exceeds_the_caps(retry: int, base: float, cap: float, r: float) -> None:
    policy = RetryPolicy(base_delay=base, max_delay=cap)
    wait = policy.backoff(retry, lambda: r)
    assert 0 <= wait <= policy.backoff_cap(retry) <= cap
    assert retry > 60 or policy.backoff_cap(retry) <= base * 2 ** (retry - 1)


@given(st.integers(min_value=1, max_value=30))
def test_backoff_cap_grows_exponentially_until_max_delay(retry: int) -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=16)
    assert policy.backoff_cap(retry) == min(16, 0.25 * 2 ** (retry - 1))
    assert policy.backoff_cap(retry + 1) >= policy.backoff_cap(retry)


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_retry_after_is_honoured_up_to_max_delay(seconds: float) -> None:
    policy = RetryPolicy(max_delay=20)
    assert policy.delay(1, seconds, lambda: 0.5) == (seconds if seconds <= 20 else None)


# -- retries -----------------------------------------------------------------------------------


def test_503_then_200_retries_a_get() -> None:
    clock = FakeClock()
    rec = Recorder(sequence(httpx.Response(503, text="busy"), httpx.Response(200, json={"ok": 1})), clock)
    http = make_http(rec, clock)
    assert http.request("GET", "/x", parse=http.json) == {"ok": 1}
    assert len(rec.requests) == 2
    assert clock.sleeps == [0.5]  # first retry: cap 0.5 * rand 1.0


def test_429_with_retry_after_waits_exactly_that_long() -> None:
    clock = FakeClock()
    rec = Recorder(
        sequence(
            httpx.Response(429, headers={"Retry-After": "3"}, text="quota"), httpx.Response(200, json=[])
        ),
        clock,
    )
    http = make_http(rec, clock)
    assert http.request("GET", "/x", parse=http.json) == []
    assert clock.sleeps == [3.0]
    assert rec.times[1] - rec.times[0] == 3.0


def test_429_with_an_http_date_retry_after() -> None:
    clock = FakeClock()
    later = format_datetime(NOW + timedelta(seconds=7), usegmt=True)
    rec = Recorder(sequence(httpx.Response(429, headers={"Retry-After": later}), httpx.Response(204)), clock)
    make_http(rec, clock).request("GET", "/x")
    assert clock.sleeps == [7.0]


def test_429_without_retry_after_backs_off_exponentially() -> None:
    clock = FakeClock()
    rec = Recorder(
        sequence(httpx.Response(429), httpx.Response(429), httpx.Response(429), httpx.Response(200))
    )
    make_http(rec, clock).request("GET", "/x")
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_retry_after_longer_than_max_delay_gives_up_at_once_with_the_hint() -> None:
    clock = FakeClock()
    rec = Recorder(sequence(httpx.Response(429, headers={"Retry-After": "120"}, json={"code": "slow_down"})))
    with pytest.raises(MaventaError) as info:
        make_http(rec, clock).request("GET", "/x")
    assert info.value.status == 429 and info.value.retry_after == 120 and info.value.retryable
    assert len(rec.requests) == 1 and clock.sleeps == []


def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    clock = FakeClock()
    rec = Recorder(sequence(httpx.Response(502, json={"code": "bad_gateway", "message": "upstream"})))
    with pytest.raises(MaventaError) as info:
        make_http(rec, clock).request("GET", "/x")
    assert len(rec.requests) == 4 and info.value.attempts == 4
    assert info.value.code == "bad_gateway" and info.value.earlier_maybe_delivered


def test_total_time_is_bounded() -> None:
    clock = FakeClock()
    rec = Recorder(sequence(httpx.Response(503, headers={"Retry-After": "9"})))
    policy = RetryPolicy(max_attempts=100, max_delay=10, max_total=20)
    with pytest.raises(MaventaError):
        make_http(rec, clock, policy).request("GET", "/x")
    assert sum(clock.sleeps) <= 20 and len(rec.requests) == 3


def test_client_errors_are_not_retried() -> None:
    clock = FakeClock()
    body = {"code": "invalid_parameters", "message": "bad", "details": ["direction is empty"]}
    rec = Recorder(sequence(httpx.Response(400, json=body)))
    with pytest.raises(MaventaError) as info:
        make_http(rec, clock).request("GET", "/x")
    err = info.value
    assert len(rec.requests) == 1
    assert (err.code, err.message, err.details) == ("invalid_parameters", "bad", ["direction is empty"])
    assert err.is_validation and not err.retryable and not err.is_auth


def test_connection_reset_then_200_retries_a_get() -> None:
    clock = FakeClock()
    rec = Recorder(sequence(httpx.RemoteProtocolError("reset"), httpx.Response(200, json={"a": 1})))
    assert make_http(rec, clock).request("GET", "/x").json() == {"a": 1}
    assert len(rec.requests) == 2


def test_a_plain_post_is_not_repeated_after_an_ambiguous_failure() -> None:
    clock = FakeClock()
    rec = Recorder(sequence(httpx.ReadTimeout("slow"), httpx.Response(201, json={})))
    with pytest.raises(TransportFailure) as info:
        make_http(rec, clock).request("POST", "/x", json={})
    assert info.value.maybe_delivered and len(rec.requests) == 1


def test_a_plain_post_is_not_repeated_after_a_5xx() -> None:
    rec = Recorder(sequence(httpx.Response(500), httpx.Response(201)))
    with pytest.raises(MaventaError):
        make_http(rec, FakeClock()).request("POST", "/x")
    assert len(rec.requests) == 1


def test_a_plain_post_is_repeated_when_it_never_left_or_was_refused() -> None:
    clock = FakeClock()
    rec = Recorder(sequence(httpx.ConnectError("refused"), httpx.Response(429), httpx.Response(201, json={})))
    assert make_http(rec, clock).request("POST", "/x").status_code == 201
    assert len(rec.requests) == 3


def test_an_idempotent_post_is_repeated_after_a_timeout() -> None:
    rec = Recorder(sequence(httpx.ReadTimeout("slow"), httpx.Response(201, json={"id": "u"})))
    assert make_http(rec, FakeClock()).request("POST", "/x", idempotent=True).status_code == 201
    assert len(rec.requests) == 2


def test_no_answer_at_all_becomes_transport_failure() -> None:
    rec = Recorder(sequence(httpx.ConnectError("refused")))
    with pytest.raises(TransportFailure) as info:
        make_http(rec, FakeClock()).request("GET", "/x")
    assert not info.value.maybe_delivered and info.value.attempts == 4
    assert "refused" in str(info.value)


def test_malformed_body_is_retried_for_safe_requests_then_typed() -> None:
    rec = Recorder(sequence(httpx.Response(200, text="{not json")))
    http = make_http(rec, FakeClock())
    with pytest.raises(_Malformed) as info:
        http.request("GET", "/x", parse=http.json)
    assert len(rec.requests) == 4 and info.value.body == "{not json" and info.value.retryable


def test_error_body_that_is_not_json_keeps_the_text() -> None:
    rec = Recorder(sequence(httpx.Response(418, text="I am a teapot")))
    with pytest.raises(MaventaError) as info:
        make_http(rec, FakeClock()).request("GET", "/x")
    assert info.value.message == "I am a teapot" and info.value.code is None


def test_calls_are_counted() -> None:
    rec = Recorder(sequence(httpx.Response(503), httpx.Response(200)))
    http = make_http(rec, FakeClock())
    http.request("GET", "/x")
    assert http.calls == 2


# -- rate limiter ------------------------------------------------------------------------------


def test_limiter_spaces_calls_at_the_rate_with_a_fake_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, 1, clock=clock, sleep=clock.sleep)
    rec = Recorder(sequence(httpx.Response(200)), clock)
    http = make_http(rec, clock, limiter=limiter)
    for _ in range(25):
        http.request("GET", "/x")
    gaps = [b - a for a, b in zip(rec.times, rec.times[1:], strict=False)]
    assert all(g >= 0.1 - 1e-9 for g in gaps)
    assert rec.times[-1] - rec.times[0] == pytest.approx(2.4)
    # no 1-second window ever holds more than 10 calls
    assert max(sum(1 for t in rec.times if s <= t < s + 1) for s in rec.times) == 10


def test_limiter_lets_idle_time_pay_for_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, 5, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == [0, 0, 0, 0, 0]
    assert limiter.acquire() == pytest.approx(0.1)
    clock.advance(10)
    assert [limiter.acquire() for _ in range(5)] == [0, 0, 0, 0, 0]


@given(st.integers(min_value=1, max_value=60), st.integers(min_value=1, max_value=5))
def test_limiter_never_exceeds_rate_plus_burst(calls: int, burst: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, burst, clock=clock, sleep=clock.sleep)
    start = clock()
    for _ in range(calls):
        limiter.acquire()
    assert clock() - start >= (calls - burst) / 10 - 1e-9


def test_limiter_is_thread_safe() -> None:
    limiter = RateLimiter(400, 1)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 40
    assert time.monotonic() - t0 >= 39 / 400 - 0.01


def test_make_client_refuses_rubbish() -> None:
    with pytest.raises(TypeError):
        ServiceHttp(
            123,  # type: ignore[arg-type]
            service="x",
            error_factory=_error,
            malformed_factory=lambda r, w: _Malformed(1, w),
        )


# -- JSON shapes -------------------------------------------------------------------------------


def _shape_http(body: httpx.Response) -> tuple[ServiceHttp, Recorder]:
    rec = Recorder(sequence(body))
    return make_http(rec, FakeClock(), RetryPolicy(max_attempts=1)), rec


@pytest.mark.parametrize(
    ("parse", "body", "why"),
    [
        (expect_object, httpx.Response(200, json=[1]), "expected a JSON object"),
        (expect_array, httpx.Response(200, json={"a": 1}), "expected a JSON array of objects"),
        (expect_array, httpx.Response(200, json=[{"a": 1}, 2]), "expected a JSON array of objects"),
        (expect_page, httpx.Response(200, text="<html>"), "the answer is not valid JSON"),
        (
            lambda r: expect_page(r, "items"),
            httpx.Response(200, json={"items": {}}),
            "expected 'items' to be an array of objects",
        ),
        (lambda r: expect_page(r, "items"), httpx.Response(200, json=[]), "expected a JSON object"),
    ],
)
def test_a_body_of_the_wrong_shape_is_the_services_malformed_error(
    parse: Any, body: httpx.Response, why: str
) -> None:
    http, _ = _shape_http(body)
    with pytest.raises(_Malformed) as info:
        http.request("GET", "/x", parse=parse)
    assert info.value.message == why and info.value.status == 200


def test_pages_keep_their_headers_and_envelope() -> None:
    http, _ = _shape_http(httpx.Response(200, json={"items": [{"a": 1}], "total": 3}, headers={"X-N": " 2 "}))
    page = http.request("GET", "/x", parse=lambda r: expect_page(r, "items"))
    assert page.items == [{"a": 1}] and page.envelope == {"items": [{"a": 1}], "total": 3}
    assert page.header("x-n") == "2" and page.header("missing") is None


def test_iter_pages_stops_when_a_cursor_repeats() -> None:
    asked: list[str | None] = []

    def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        asked.append(cursor)
        return [{"n": len(asked)}], "same"

    assert list(iter_pages(fetch)) == [{"n": 1}, {"n": 2}]
    assert asked == [None, "same"]


def test_strict_path_segments_refuse_what_would_change_the_path() -> None:
    assert path_segment("0b0c1d2e-0000-4000-8000-000000000001", "X") == "0b0c1d2e-0000-4000-8000-000000000001"
    for bad in ("", ".", "..", "../token", "a/b", "a?b", "a#b", None, 5):
        with pytest.raises(ConfigurationError, match="invalid identifier for a X path"):
            path_segment(bad, "X")


@given(st.text(min_size=1, max_size=40).filter(lambda t: t not in (".", "..")))
def test_opaque_path_segments_are_one_segment_that_decodes_back(value: str) -> None:
    encoded = path_segment(value, "Maestro", opaque=True)
    assert not any(c in encoded for c in "/?#") and unquote(encoded) == value
    url = httpx.URL("https://erp.example.test/api/v1/products/" + encoded)
    assert url.raw_path.decode("ascii").count("/") == 4 and url.path.endswith("/" + value)


# -- auth flows --------------------------------------------------------------------------------


class _Auth(TokenAuth):
    """A token service at /token: ``tok-1``, ``tok-2`` ... each valid for ``lifetime`` seconds."""

    def __init__(self, http: ServiceHttp, lifetime: float = 3600) -> None:
        super().__init__(http, refresh_margin=60)
        self.lifetime = lifetime

    def fetch(self, previous: Token | None) -> Token:
        return self.http.request(
            "POST", "/token", json={"secret": "s3cret"}, idempotent=True, parse=self.token_answer
        )


class TokenServer:
    """Issues tokens at /token; other paths need a valid one (``valid``); ``script`` queues answers."""

    def __init__(self, lifetime: int = 3600) -> None:
        self.lifetime = lifetime
        self.issued = 0
        self.valid: set[str] = set()
        self.script: dict[str, list[httpx.Response | Exception]] = {}
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = _short(request)
        queue = self.script.get(path)
        if queue:
            step = queue.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        if path == "/token":
            with self.lock:
                self.issued += 1
                token = f"tok-{self.issued}"
                self.valid.add(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "bearer", "expires_in": self.lifetime}
            )
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"code": "auth_unauthorized", "message": "Unauthorized"})
        return httpx.Response(
            200, json={"auth": request.headers["Authorization"], "body": request.content.decode()}
        )


def _short(request: httpx.Request) -> str:
    return request.url.path.removeprefix("/rest-api")


def _paths(rec: Recorder) -> list[str]:
    return [_short(r) for r in rec.requests]


def _token_world(
    server: TokenServer, clock: FakeClock | None = None, **kwargs: Any
) -> tuple[ServiceHttp, _Auth, Recorder, FakeClock]:
    clock = clock or FakeClock()
    rec = Recorder(server, clock)
    http = make_http(rec, clock, **kwargs)
    return http, _Auth(http, server.lifetime), rec, clock


def test_the_flow_adds_the_token_and_caches_it() -> None:
    http, auth, rec, _ = _token_world(TokenServer())
    for _ in range(3):
        assert http.request("GET", "/x", auth=auth, parse=http.json)["auth"] == "Bearer tok-1"
    assert _paths(rec) == ["/token", "/x", "/x", "/x"]
    assert http.calls == 4


def test_a_401_renews_the_token_and_repeats_the_request_once_with_its_body() -> None:
    server = TokenServer()
    http, auth, rec, _ = _token_world(server)
    http.request("GET", "/x", auth=auth)
    server.valid.clear()  # the server forgot the token
    answer = http.request("POST", "/x", json={"n": 1}, auth=auth, parse=http.json)
    assert answer == {"auth": "Bearer tok-2", "body": '{"n":1}'}
    assert _paths(rec)[-3:] == ["/x", "/token", "/x"]
    assert rec.requests[-3].content == rec.requests[-1].content == b'{"n":1}'
    assert http.calls == 5  # every request on the wire, the repeat included


def test_a_second_401_is_the_callers_auth_error() -> None:
    server = TokenServer()
    server.script["/x"] = [httpx.Response(401, json={"code": "auth_unauthorized"}) for _ in range(3)]
    http, auth, rec, _ = _token_world(server)
    with pytest.raises(MaventaError) as info:
        http.request("GET", "/x", auth=auth)
    assert info.value.is_auth and _paths(rec) == ["/token", "/x", "/token", "/x"]


def test_a_retry_after_a_5xx_runs_the_flow_again_with_the_then_current_token() -> None:
    server = TokenServer(lifetime=10)  # renewed after 9 s
    server.script["/x"] = [httpx.Response(503, headers={"Retry-After": "9"})]
    http, auth, rec, clock = _token_world(server)
    assert http.request("GET", "/x", auth=auth, parse=http.json)["auth"] == "Bearer tok-2"
    assert _paths(rec) == ["/token", "/x", "/token", "/x"]
    assert [r.headers["Authorization"] for r in rec.requests if _short(r) == "/x"] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]
    assert clock.sleeps == [9.0]


def test_the_token_request_has_the_same_retry_policy() -> None:
    server = TokenServer()
    server.script["/token"] = [httpx.Response(503), httpx.ConnectError("refused")]
    http, auth, rec, clock = _token_world(server)
    assert http.request("GET", "/x", auth=auth, parse=http.json)["auth"] == "Bearer tok-1"
    assert _paths(rec) == ["/token", "/token", "/token", "/x"]
    assert len(clock.sleeps) == 2


def test_a_refused_token_request_is_the_callers_typed_error_and_nothing_else_is_sent() -> None:
    server = TokenServer()
    server.script["/token"] = [
        httpx.Response(401, json={"code": "invalid_credentials", "message": "Bad key"})
    ]
    http, auth, rec, _ = _token_world(server)
    with pytest.raises(MaventaError) as info:
        http.request("GET", "/x", auth=auth)
    assert info.value.code == "invalid_credentials" and info.value.message == "Bad key"
    assert _paths(rec) == ["/token"]


def test_the_repeat_after_a_401_waits_for_the_rate_limiter() -> None:
    server = TokenServer()
    clock = FakeClock()
    limiter = RateLimiter(10, 1, clock=clock, sleep=clock.sleep)
    http, auth, rec, _ = _token_world(server, clock, limiter=limiter)
    http.request("GET", "/x", auth=auth)
    server.valid.clear()
    http.request("GET", "/x", auth=auth)
    assert len(rec.times) == 5
    gaps = [b - a for a, b in zip(rec.times, rec.times[1:], strict=False)]
    assert min(gaps) >= 0.1 - 1e-9  # token, call, call(401), token, repeat: all 100 ms apart


def test_headers_give_the_current_credentials_for_a_raw_call() -> None:
    _, auth, rec, _ = _token_world(TokenServer())
    assert auth.headers() == {"Authorization": "Bearer tok-1"}
    assert auth.headers() == {"Authorization": "Bearer tok-1"}
    assert _paths(rec) == ["/token"]
    assert "tok-1" not in repr(auth)


def test_concurrent_callers_share_one_token_request() -> None:
    server = TokenServer()
    slow = server.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            time.sleep(0.05)  # a slow token service widens the race
        return slow(request)

    http = ServiceHttp(
        httpx.Client(base_url="https://api.example.test", transport=httpx.MockTransport(handler)),
        service="Test",
        error_factory=_error,
        malformed_factory=lambda r, why: _Malformed(r.status_code, why, body=r.text),
    )
    auth = _Auth(http)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                http.request("GET", "/x", auth=auth)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and server.issued == 1 and http.calls == 31


def _wsgi_token_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI service (no sockets): /token issues ``w-<n>``; /upload echoes the body's length
    for the latest token only, 401 for any other."""
    state = _wsgi_token_app.__dict__.setdefault("state", {"n": 0})
    if environ["PATH_INFO"] == "/token":
        state["n"] += 1
        body = json.dumps({"access_token": f"w-{state['n']}", "token_type": "Bearer", "expires_in": 3600})
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]
    if environ.get("HTTP_AUTHORIZATION") != f"Bearer w-{state['n']}" or state["n"] < 2:
        start_response("401 Unauthorized", [("Content-Type", "application/json")])
        return [b'{"code": "auth_unauthorized"}']
    length = int(environ.get("CONTENT_LENGTH") or 0)
    received = environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"length": len(received), "type": environ.get("CONTENT_TYPE")}).encode()]


def test_over_a_wsgi_transport_a_multipart_upload_is_sent_again_whole_after_a_401() -> None:
    _wsgi_token_app.__dict__.pop("state", None)
    client = httpx.Client(base_url="http://svc.local", transport=httpx.WSGITransport(app=_wsgi_token_app))
    http = ServiceHttp(
        client,
        service="Test",
        error_factory=_error,
        malformed_factory=lambda r, why: _Malformed(r.status_code, why, body=r.text),
    )
    auth = _Auth(http)
    files = [("file", ("a.xml", b"<x/>" * 1000, "application/xml")), ("uuid", (None, "u-1"))]
    answer = http.request(
        "POST",
        "/upload",
        files=files,
        headers={"Content-Type": "multipart/form-data; boundary=fixed-boundary"},
        idempotent=True,
        auth=auth,
        parse=http.json,
    )
    assert answer["type"] == "multipart/form-data; boundary=fixed-boundary"
    assert answer["length"] > 4000  # the whole body the second time, not an exhausted stream
    assert http.calls == 4  # token, upload (401), token, upload


def test_no_secret_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    server = TokenServer(lifetime=10)
    server.script["/x"] = [httpx.Response(503), httpx.ReadTimeout("slow")]
    http, auth, _, _ = _token_world(server)
    with caplog.at_level(logging.DEBUG):
        http.request("GET", "/x", auth=auth)
        server.valid.clear()
        http.request("GET", "/x", auth=auth)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "retry" in text  # something was logged
    # httpx logs each URL (with its query); none of the bridge's services takes a secret there
    for secret in ("s3cret", "tok-1", "tok-2"):
        assert secret not in text


class _StreamingTransport(httpx.BaseTransport):
    """Consumes the request stream as a socket would (no ``request.read()``), then asks ``server``."""

    def __init__(self, server: TokenServer) -> None:
        self.server = server
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = b"".join(request.stream)  # type: ignore[union-attr]
        self.bodies.append(body)
        answer = self.server(
            httpx.Request(request.method, request.url, headers=request.headers, content=body)
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


def test_a_streamed_body_is_buffered_so_the_repeat_after_a_401_sends_it_whole() -> None:
    server = TokenServer()
    transport = _StreamingTransport(server)
    http = ServiceHttp(
        httpx.Client(base_url="https://api.example.test", transport=transport),
        service="Test",
        error_factory=_error,
        malformed_factory=lambda r, why: _Malformed(r.status_code, why, body=r.text),
    )
    auth = _Auth(http)
    http.request("GET", "/x", auth=auth)
    server.valid.clear()
    chunks = (part for part in (b"abc", b"def"))  # a one-shot stream
    answer = http.request("PUT", "/x", content=chunks, auth=auth, parse=http.json)
    assert answer == {"auth": "Bearer tok-2", "body": "abcdef"}
    assert transport.bodies[-3:] == [b"abcdef", b'{"secret":"s3cret"}', b"abcdef"]


def test_over_a_real_socket_the_401_is_read_before_the_token_request_takes_the_connection(
    httpserver: HTTPServer,
) -> None:
    """With one pooled connection, an unread 401 would hold it while the flow asks for a token."""
    issued: list[str] = []

    def token(request: Any) -> Any:
        issued.append(f"r-{len(issued) + 1}")
        return WzResponse(
            json.dumps({"access_token": issued[-1], "expires_in": 3600}), 200, content_type="application/json"
        )

    def call(request: Any) -> Any:
        if request.headers.get("Authorization") != "Bearer r-2":
            return WzResponse(
                '{"code": "auth_unauthorized"}' + " " * 100_000, 401, content_type="application/json"
            )
        return WzResponse('{"ok": true}', 200, content_type="application/json")

    httpserver.expect_request("/token").respond_with_handler(token)
    httpserver.expect_request("/x").respond_with_handler(call)
    client = httpx.Client(
        base_url=httpserver.url_for("/"),
        limits=httpx.Limits(max_connections=1),
        timeout=httpx.Timeout(5.0, pool=0.5),
    )
    http = ServiceHttp(
        client,
        service="Test",
        error_factory=_error,
        malformed_factory=lambda r, why: _Malformed(r.status_code, why, body=r.text),
        policy=RetryPolicy(max_attempts=1),
    )
    with client:
        assert http.request("GET", "/x", auth=_Auth(http), parse=http.json) == {"ok": True}
    assert issued == ["r-1", "r-2"]
