"""Redaction by value: every secret the fake knows is replaced wherever it appears (key or
value, JSON-escaped, URL-encoded) in exports, the journal and logs; and the journal records
raw and cheaply, redacting when it is read."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.kit.redact import MARK, Redactor
from tests.kit.toy import ToySimulator


def forms(secret: str) -> set[str]:
    """Every way a secret may show up in text (what the grep looks for)."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}


def test_known_secrets_are_replaced_in_every_wire_form() -> None:
    odd = 'p@ss wörd/"+&=%'  # a secret a user chose: needs escaping everywhere
    token = "sev.AbCdEfGhIjKlMnOpQrStUv_-0123456789"
    r = Redactor([odd, token])
    for text in (
        f"Bearer {token}",
        json.dumps({"x": odd, token: 1}),
        json.dumps({"x": odd}, ensure_ascii=False),
        f"client_secret={quote_plus(odd)}&t={token}",
        f"/path/{quote(odd, safe='')}?q={quote(odd).lower()}",
        f"{token}{token}.{token}",
    ):
        out = r.text(text)
        assert not any(f in out for f in forms(odd) | forms(token)), out
        assert MARK in out


def test_a_placeholder_is_stable_and_keys_stay_apart() -> None:
    a, b = "tokenAAAA-0000-1111-x1234", "tokenBBBB-0000-2222-x1234"  # same last four characters
    r = Redactor([a, b])
    assert r.text(a) == r.text(f"{a}") == "***1234"
    assert r.obj({a: 1, b: 2}) == {"***1234": 1, "***1234#2": 2}
    assert r.obj({"client_secret": "not-known-but-named", "list": [a]}) == {
        "client_secret": "***amed",
        "list": ["***1234"],
    }


def test_the_start_of_a_secret_at_a_cut_is_masked() -> None:
    token = "sev." + "Q" * 60
    r = Redactor([token])
    assert r.text("x" * 10 + token[:30], cut=True) == "x" * 10 + MARK
    assert r.text("ordinary words", cut=True) == "ordinary words"


def test_ordinary_text_is_left_alone() -> None:
    r = Redactor(["sev.secret-token-0001", "short"])  # under six characters: never a secret
    text = "short sev.secret-token-0002 sev.secret-token-000 and sev.secret-token-0010"
    assert r.text(text) == text


@given(
    secret=st.text(st.characters(exclude_categories=["Cs"]), min_size=6, max_size=30),
    before=st.text(max_size=10),
    after=st.text(max_size=10),
)
def test_no_known_secret_survives_in_any_form(secret: str, before: str, after: str) -> None:
    r = Redactor([secret])
    for form in forms(secret):
        out = r.text(before + form + after)
        assert form not in out or form in before + after or form in MARK + before + after


def test_the_redacted_export_hides_a_secret_used_as_a_dict_key(
    sim: ToySimulator, client: httpx.Client
) -> None:
    sim.items[sim.api_key] = {"id": sim.api_key, "note": f"key={quote(sim.api_key)}"}
    text = client.get("/_sim/state", params={"redact": "1"}).text
    assert not any(f in text for f in forms(sim.api_key)), text
    assert sim.api_key in client.get("/_sim/state").text  # the full export keeps it (importable)


def test_recording_does_no_redaction_reading_does(
    sim: ToySimulator, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    original = Redactor.text

    def counting(self: Redactor, text: str, *, cut: bool = False) -> str:
        calls["n"] += 1
        return original(self, text, cut=cut)

    monkeypatch.setattr(Redactor, "text", counting)
    for _ in range(20):
        client.post("/api/items", json={"id": "k", "client_secret": "hunter2hunter2", "key": sim.api_key})
    assert calls["n"] == 0  # the hot path pays nothing for redaction
    text = client.get("/_sim/journal").text
    assert calls["n"] > 0 and "hunter2hunter2" not in text and sim.api_key not in text
    read_once = calls["n"]
    client.get("/_sim/journal")
    assert calls["n"] == read_once  # a redacted entry is kept until the secrets change


def test_a_secret_that_left_the_state_stays_redacted_in_the_journal(
    sim: ToySimulator, client: httpx.Client
) -> None:
    old = sim.api_key
    client.get("/api/items", params={"api": old})
    snap = sim.export_state()
    snap["data"]["api_key"] = "toy-key-rotated-secretvalue"
    assert client.put("/_sim/state", json=snap).status_code == 200  # the old key is gone from the state
    assert old not in client.get("/_sim/journal").text


def test_logs_are_redacted(sim: ToySimulator, client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert client.get("/api/boom").status_code == 500
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert "RuntimeError" in logged and "was rejected" in logged  # the traceback is still there
    assert sim.api_key not in logged
