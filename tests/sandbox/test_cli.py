"""The `severa-sandbox` command line: serve, demo, specs; errors are one clear line."""

from __future__ import annotations

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
        "Status of invoices to be transferred can not be sent",  # MV-14 refusal
        "already has a Maventa user",  # MV-2
        "company_state VERIFIED",  # MV-3 after the approver signs
        "EINVOICE",
        "EMAIL",
        "PRINT",
        "cover page added: True",  # MV-7
        "Maventa-virhe",  # MV-12
        "mailbox (SMTP)",  # MV-9
        "demo finished",
    ):
        assert expected in out, expected


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
