"""The shared retry / backoff / Retry-After / rate-limit policy (bridge.http)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.errors import MalformedResponseError, MaventaError, ServiceError, TransportFailure
from bridge.http import RateLimiter, RetryPolicy, ServiceHttp, parse_retry_after
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
