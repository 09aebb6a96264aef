"""The `severa-sandbox` command line: serve, demo, specs; errors are one clear line."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from sandbox.cli import main


def test_demo_tells_the_whole_story_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for expected in (
        "Ranta Oy registered to Maventa",  # MV-1
        "Authentication request sent to hyvaksyja@ranta.fi",  # MV-3
        "company VERIFIED",  # MV-3 after the approver signs
        "Status of invoices to be transferred can not be sent",  # MV-14 refusal
        "Synchronisation switched on",  # MV-13
        "delivered by Maventa (EINVOICE)",
        "delivered by Maventa (EMAIL)",
        "delivered by Maventa (PRINT)",  # MV-7 with its cover page
        "e-mail to virheet@ranta.fi: Laskun 10003",  # MV-9
        "audit: travel_expense 'Kotimaan päiväraha' code 'PVR': missing from Maestro",  # found first
        "1 booked on A/0",  # MA-5..7
        "demo finished: 6 chapters",
    ):
        assert expected in out, expected
    assert "demo failed" not in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["serve", "nope"], "invalid choice: 'nope'"),
        (["serve", "severa", "--port", "99999"], "expected a port number 0-65535, got 99999"),
        (["serve", "maestro", "--no-rate-limit"], "--no-rate-limit applies to the severa simulator only"),
        (["serve", "severa", "--preset", "nonsense", "--port", "0"], "unknown preset 'nonsense'"),
    ],
)
def test_bad_arguments_give_one_clear_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in " ".join(err.split())
    assert "Traceback" not in err


def test_serve_refuses_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "severa", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow  # a fresh interpreter per service: ~4 s each; the in-process test below is the fast one
@pytest.mark.parametrize(
    ("service", "probe"), [("severa", "/heartbeat/server"), ("maestro", "/openapi.json")]
)
def test_serve_answers_over_http_on_loopback(service: str, probe: str) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", service, "--port", str(port), "--no-rate-limit"]
        if service == "severa"
        else [sys.executable, "-m", "sandbox", "serve", service, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}" + ("/rest-api" if service == "severa" else "")
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(base + probe, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        f"server did not start: {proc.stderr.read() if proc.stderr else ''}"
                    ) from None
                time.sleep(0.1)
        assert r.status_code == 200
        info = httpx.get(f"http://127.0.0.1:{port}/_sim", timeout=2).json()
        assert info["service"] == service and info["preset"] == "demo"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_specs_where_finds_the_shared_xsd(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["specs", "where"])
    out = capsys.readouterr().out
    if code == 1:
        assert "severa-sandbox specs fetch" in out
    else:
        assert out.strip().endswith("Finvoice3.0.xsd")


@pytest.mark.parametrize(("extra", "rate_limit"), [([], 10), (["--no-rate-limit"], None)])
def test_serve_severa_port_zero_seed_and_rate_limit(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    rate_limit: int | None,
) -> None:
    """`serve severa --port 0 --seed 5 [--no-rate-limit]`: the printed URL is the real one (never
    wrapped), the data come from seed 5, and the 10 requests/s limit is on unless switched off.

    The limiter's time is pinned (it reads real time, and a loaded machine cannot promise 12
    requests within one real second): the burst all lands at one instant, so with the limit on the
    11th and 12th calls are refused and a second later there is room again; with it off, none is."""
    from simulators.kit import ThreadedServer
    from simulators.severa.ratelimit import SlidingWindowLimiter

    pinned = [1000.0]  # the limiter's "now", moved only by this test
    real_hit = SlidingWindowLimiter.hit

    def hit_at_pinned_time(self: SlidingWindowLimiter, key: str, now: float | None = None) -> int | None:
        assert now is None  # the server leaves the time to the limiter (real time); here it is pinned
        return real_hit(self, key, pinned[0])

    monkeypatch.setattr(SlidingWindowLimiter, "hit", hit_at_pinned_time)
    probed: dict[str, object] = {}

    def serve_briefly(self: ThreadedServer) -> None:  # instead of blocking: serve, probe, then "Ctrl-C"
        self.start()
        try:
            printed = capsys.readouterr().out
            api = re.search(r"API: +(\S+)", printed)
            assert api and api.group(1) == f"http://127.0.0.1:{self.port}/rest-api" and self.port != 0
            assert f"credentials: {self.url}/_sim/credentials)" in printed  # on one line
            probed["heartbeat"] = httpx.get(api.group(1) + "/heartbeat/server", timeout=5).text
            probed["info"] = httpx.get(self.url + "/_sim", timeout=5).json()
            creds = httpx.get(self.url + "/_sim/credentials", timeout=5).json()["clients"][0]
            body = {"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
            with httpx.Client(timeout=5) as http:
                codes = [http.post(api.group(1) + "/v1/token", json=body).status_code for _ in range(12)]
                pinned[0] += 0.5  # still inside the one-second window
                codes.append(http.post(api.group(1) + "/v1/token", json=body).status_code)
                pinned[0] += 0.5  # the burst has left the window
                codes.append(http.post(api.group(1) + "/v1/token", json=body).status_code)
            probed["codes"] = codes
        finally:
            self.stop()
        raise KeyboardInterrupt

    monkeypatch.setattr(ThreadedServer, "serve_forever", serve_briefly)
    assert main(["serve", "severa", "--port", "0", "--seed", "5", *extra]) == 0
    assert "stopped." in capsys.readouterr().out
    assert probed["heartbeat"] == "Server is alive."
    info = probed["info"]
    assert isinstance(info, dict)
    assert (info["service"], info["preset"], info["seed"], info["rate_limit"]) == (
        "severa",
        "demo",
        5,
        rate_limit,
    )
    if rate_limit is None:
        assert probed["codes"] == [200] * 14
    else:
        assert probed["codes"] == [200] * 10 + [429, 429] + [429, 200]
