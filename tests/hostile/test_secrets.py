"""No live secret in any export, journal or log: for every fake after a flow that mints and
sends secrets every way a client can, and after the whole `severa-sandbox demo`."""

from __future__ import annotations

import io
import json
import logging
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from rich.console import Console

from simulators.kit import Simulator
from tests.hostile.harness import FAKES, Fake, make


def live_secrets(sim: Simulator) -> set[str]:
    """Every secret the fake holds or has issued (what must never be shown)."""
    return {s for s in [*sim.secret_values(), *sim.secrets.values()] if isinstance(s, str) and len(s) >= 6}


def forms(secret: str) -> set[str]:
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret), quote(secret)}


def leaks(text: str, secrets: set[str]) -> list[str]:
    return sorted({s[:8] + "..." for s in secrets for f in forms(s) if f in text})


def _send_secrets_every_way(fake: Fake) -> None:
    """Each known secret, in a JSON body (as value and as key), a form body, a query string and a
    header, URL-encoded and JSON-escaped: as clients (and careless testers) send them."""
    secrets = sorted(live_secrets(fake.sim))
    assert secrets, f"{fake.name}: no secrets to look for"
    path = next((p for _, p, _ in fake.listings if not p.startswith("/_sim")), "/")  # a journalled route
    for s in secrets[:20]:
        fake.http.post(path, json={"secret_value": s, s: "as a key", "nested": [{"x": s}]}, headers=fake.auth)
        fake.http.post(
            path,
            content=urlencode({"x": s, "y": "z"}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        fake.http.get(path, params={"q": s}, headers={**fake.auth, "X-Echo": s})
        fake.http.get(f"{path}/{quote(s, safe='')}", headers=fake.auth)


def _mint(fake: Fake) -> None:
    """Fake-specific flows that issue new secrets (tokens, user keys, company keys)."""
    h = fake.http
    if fake.name == "severa":
        creds = fake.sim.client_credentials()  # type: ignore[attr-defined]
        tok = h.post("/rest-api/v1/token", json=creds).json()
        h.post("/rest-api/v1/refreshtoken", json=tok["refresh_token"])
        h.post(
            "/rest-api/v1/token",
            json={"client_id": creds["client_id"], "client_secret": "wrong-but-long-secret"},
        )
    elif fake.name == "maventa":
        vendor = h.get("/_sim/credentials").json()["vendor_api_keys"][0]
        h.post("/v1/users", json={"vendor_api_key": vendor, "email": "uusi@example.fi"})
        fake.relogin()
        fake.relogin()
    elif fake.name == "maestro":
        h.post(
            "/_sim/companies",
            json={"name": "Uusi Oy", "business_id": "2615835-9", "api_key": 'mae_ch/sen+by "user"'},
        )
    elif fake.name == "mailbox":
        fake.sim.receive("a@example.fi", ["b@example.fi"], b"Subject: x\r\n\r\ny\r\n", auth_user="mailer")


def _fakes_logs(caplog: pytest.LogCaptureFixture) -> str:
    """What the fakes and their servers logged (not the test's own HTTP client, which logs the
    URLs it calls, secrets in query strings included: that is the caller's log)."""
    return "\n".join(
        caplog.handler.format(r)
        for r in caplog.records
        if r.name.startswith(("simulators", "werkzeug", "mail"))
    )


@pytest.mark.parametrize("name", FAKES)
def test_no_live_secret_in_any_export_journal_or_log(name: str, caplog: pytest.LogCaptureFixture) -> None:
    fake = make(name, **({"smtp_credentials": ("mailer", "smtp-password-1234")} if name == "mailbox" else {}))
    caplog.set_level(logging.DEBUG)
    _mint(fake)
    _send_secrets_every_way(fake)
    secrets = live_secrets(fake.sim)
    exported = fake.http.get("/_sim/state", params={"redact": "1"}).text
    journal = fake.http.get("/_sim/journal").text
    assert json.loads(journal)["entries"]
    logged = _fakes_logs(caplog)
    for what, text in (("redacted export", exported), ("journal", journal), ("log", logged)):
        assert leaks(text, secrets) == [], f"{name}: live secrets in the {what}"
    if name != "mailbox":  # (the SMTP password is configuration, not state)
        assert leaks(fake.http.get("/_sim/state").text, secrets)  # the full export does hold them


def test_no_live_secret_anywhere_after_the_full_demo(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sandbox.demo import run_demo

    made: list[Simulator] = []

    def remembering(name: str) -> None:
        """Note every simulator the demo builds or reuses (a world may keep built ones)."""
        original = getattr(Simulator, name)

        def wrapper(self: Simulator, *args: Any, **kwargs: Any) -> Any:
            if all(self is not m for m in made):
                made.append(self)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(Simulator, name, wrapper)

    for name in ("__init__", "reset", "import_state", "client", "serve", "transport"):
        remembering(name)
    caplog.set_level(logging.DEBUG)
    out = io.StringIO()
    assert run_demo(Console(file=out, width=200)) == 0
    assert {s.service for s in made} >= {"severa", "maventa", "mailbox"}
    every_secret = set().union(*(live_secrets(s) for s in made))
    assert len(every_secret) > 10
    for sim in made:
        with sim.client() as http:
            for path, params in (("/_sim/state", {"redact": "1"}), ("/_sim/journal", {})):
                text = http.get(path, params=params).text
                assert leaks(text, every_secret) == [], f"{sim.service} {path}"
    assert leaks(out.getvalue(), every_secret) == [], "the demo's own output"
    assert leaks(_fakes_logs(caplog), every_secret) == [], "the logs"
