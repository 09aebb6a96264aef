"""`severa-sandbox serve maventa --port N`: the fake answers the AX API and its control plane over HTTP."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("severa-sandbox")
    if script.is_file():
        return [str(script)]
    found = shutil.which("severa-sandbox")
    return [found] if found else [sys.executable, "-m", "sandbox"]


def test_serve_maventa_on_a_port() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [*_command(), "serve", "maventa", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                info = httpx.get(f"{base}/_sim", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        f"server did not start: {proc.stderr.read() if proc.stderr else ''}"
                    ) from None
                time.sleep(0.1)
        assert info.json()["service"] == "maventa" and info.json()["preset"] == "demo"
        creds = httpx.get(f"{base}/_sim/credentials", timeout=2).json()
        company = next(c for c in creds["companies"] if c["company_state"] == "VERIFIED")
        token = httpx.post(
            f"{base}/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": company["id"],
                "client_secret": company["users"][0]["user_api_key"],
                "vendor_api_key": creds["vendor_api_keys"][0],
            },
            timeout=2,
        )
        assert token.status_code == 200 and token.json()["token_type"] == "bearer"
        current = httpx.get(
            f"{base}/oauth2/current",
            headers={"Authorization": "Bearer " + token.json()["access_token"]},
            timeout=2,
        )
        assert current.json()["company"]["bid"] == "1916215-7"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"{base}" in out and "Maventa AutoXChange" in out
