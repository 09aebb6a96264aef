"""The three transports of one contract suite (SPEC §3 rule 4).

* ``inprocess``: the Flask app behind ``httpx.WSGITransport``, no sockets;
* ``server``: the same simulator on a threaded server on a free port, over real HTTP;
* ``external``: a base URL and credentials from the environment (a real tenant, or a fake
  started elsewhere); tests that need the control plane skip with a reason there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.kit import Simulator, ThreadedServer

MODES = ("inprocess", "server", "external")


@dataclass
class Target:
    """One service under test, reached in one mode."""

    mode: str
    root_url: str  # scheme://host:port, no base path
    http: httpx.Client  # base_url = root_url
    sim: Simulator | None = None  # the fake itself (None in external mode)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def has_control(self) -> bool:
        return self.mode != "external"

    def require_control(self) -> None:
        if not self.has_control:
            pytest.skip(
                "needs the simulator's control plane (/_sim); not available against an external service"
            )

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the control plane over HTTP (both in-process and on the threaded server).

        A state-changing call always says ``Content-Type: application/json`` (the served fakes
        refuse anything else, so that no other web site can make a browser send it)."""
        self.require_control()
        if method.upper() in ("POST", "PUT", "PATCH") and not {"json", "content", "data"} & set(kwargs):
            kwargs["json"] = {}
        resp = self.http.request(method, "/_sim" + path, **kwargs)
        return resp

    def reset(self, preset: str = "demo", seed: int = 0) -> None:
        r = self.control("POST", "/reset", json={"preset": preset, "seed": seed})
        assert r.status_code == 200, r.text


def modes_from_option(config: pytest.Config) -> list[str]:
    raw = config.getoption("--sim-mode")
    if raw == "all":
        return ["inprocess", "server"]
    modes = [m.strip() for m in raw.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise pytest.UsageError(f"--sim-mode: unknown mode(s) {bad}; choose from {MODES} or 'all'")
    return modes


@contextmanager
def open_target(
    mode: str,
    make_sim: Callable[[], Simulator],
    *,
    env_prefix: str,
    env_names: tuple[str, ...] = (),
    timeout: float = 10.0,
) -> Iterator[Target]:
    """Open `mode` for one service. External mode reads ``{env_prefix}_BASE_URL`` and `env_names`."""
    if mode == "inprocess":
        sim = make_sim()
        with sim.client(base_url="http://testserver", timeout=timeout) as http:
            yield Target(mode, "http://testserver", http, sim)
    elif mode == "server":
        sim = make_sim()
        server: ThreadedServer = sim.serve()
        try:
            with httpx.Client(base_url=server.url, timeout=timeout) as http:
                yield Target(mode, server.url, http, sim)
        finally:
            server.stop()
    else:
        url = os.environ.get(f"{env_prefix}_BASE_URL")
        if not url:
            pytest.skip(
                f"external mode: set {env_prefix}_BASE_URL (and {', '.join(env_names) or 'credentials'})"
            )
        env = {n: os.environ.get(n, "") for n in env_names}
        missing = [n for n, v in env.items() if not v]
        if missing:
            pytest.skip(f"external mode: set {', '.join(missing)}")
        with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as http:
            yield Target(mode, url.rstrip("/"), http, None, env)


def specs_dir(config: pytest.Config) -> Path:
    return Path(
        config.getoption("--specs-dir") or os.environ.get("SEVERA_SANDBOX_SPECS") or "../shared/specs"
    )


def vendor_spec(config: pytest.Config, name: str) -> Path:
    """The path of a vendor document in the specs dir, or skip with the reason."""
    path = specs_dir(config) / name
    if not path.is_file():
        pytest.skip(f"vendor spec {name} not found at {path} (set SEVERA_SANDBOX_SPECS or --specs-dir)")
    return path
