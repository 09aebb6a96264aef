"""No request poisons state: text that is not Unicode is refused at the edge, and exports,
listings and the journal survive any text that gets in another way."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.kit.jsontext import lone_surrogate_path
from tests.kit.toy import ToySimulator

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"id": "x", "name": "a\\ud800b"}', "name"),
        (b'{"id": "x", "tags": [1, {"deep": "\\udfff"}]}', "tags[1].deep"),
        (b'{"id": "x", "k\\ud800": 1}', "k\\ud800"),
        (b'{"id": "x", "name": "\xed\xa0\x80"}', "name"),  # the UTF-8 bytes of a surrogate
        (b'"\\ud800"', "$"),
    ],
)
def test_a_lone_surrogate_is_refused_naming_the_field_and_nothing_is_stored(
    client: httpx.Client, body: bytes, field: str
) -> None:
    before = client.get("/api/items").json()
    r = client.post("/api/items", content=body, headers=JSON)
    assert r.status_code == 400
    message = r.json()["toy_error"]["message"]
    assert message.startswith(f"{field}: ") and "surrogate" in message
    assert client.get("/api/items").json() == before
    assert client.get("/_sim/state").status_code == 200
    assert client.get("/_sim/journal").status_code == 200


def test_a_complete_surrogate_pair_is_an_ordinary_character(client: httpx.Client) -> None:
    r = client.post("/api/items", content=b'{"id": "smile", "name": "\\ud83d\\ude00"}', headers=JSON)
    assert r.status_code == 201 and r.json()["name"] == "\U0001f600"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_sim/faults", b'{"match": {"path": "/api/\\ud800"}, "effect": {"type": "status"}}'),
        ("/_sim/reset", b'{"preset": "\\udc00"}'),
        ("/_sim/toy/poke", b'{"x": "\\ud800"}'),
    ],
)
def test_the_control_plane_refuses_it_too(client: httpx.Client, path: str, body: bytes) -> None:
    r = client.post(path, content=body, headers=JSON)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_text"
    assert client.get("/_sim/faults").json()["faults"] == []


def test_a_snapshot_with_a_lone_surrogate_is_refused(client: httpx.Client) -> None:
    snap = client.get("/_sim/state").text.replace('"value"', '"value\\ud800"', 1)
    r = client.put("/_sim/state", content=snap.encode(), headers=JSON)
    assert r.status_code == 400 and "data.items" in r.json()["error"]["message"]


def test_text_that_got_in_through_the_python_api_is_exported_escaped_and_round_trips(
    sim: ToySimulator, client: httpx.Client
) -> None:
    sim.items["bad"] = {"id": "bad", "value": "a\ud800b", "ok": "äö"}
    listing = client.get("/api/items")
    assert listing.status_code == 200 and "\\ud800" in listing.text and "äö" in listing.json()[-1]["ok"]
    assert client.get("/_sim/journal").status_code == 200
    export = client.get("/_sim/state")
    assert export.status_code == 200
    assert json.loads(export.text)["data"]["items"]["bad"]["value"] == "a\ud800b"  # nothing lost


def test_raw_bytes_in_a_query_string_are_read_as_escaped(sim: ToySimulator) -> None:
    """werkzeug decodes the query strictly: '?method=\\xff' sent raw was a 500 on every route reading it."""
    server = sim.serve()
    try:
        with socket.create_connection((server.host, server.port), timeout=10) as sock:
            sock.sendall(b"GET /_sim/journal?method=\xff&path=%ED%A0%80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    finally:
        server.stop()


ANY_TEXT = st.text(st.characters(exclude_categories=[]) | st.sampled_from("\ud800\udfff"), max_size=6)


@given(st.recursive(ANY_TEXT, lambda c: st.lists(c) | st.dictionaries(ANY_TEXT, c), max_leaves=8))
def test_the_path_names_a_string_with_a_surrogate_exactly_when_there_is_one(value: object) -> None:
    parsed = json.loads(json.dumps(value))  # as a client sends it (an adjacent pair is one character)
    has = any(0xD800 <= ord(ch) <= 0xDFFF for ch in json.dumps(parsed, ensure_ascii=False))
    assert (lone_surrogate_path(parsed) is not None) == has


@given(ANY_TEXT)
def test_any_text_sent_either_is_stored_and_listed_or_refused(text: str) -> None:
    sim = ToySimulator()
    with sim.client() as client:
        r = client.post("/api/items", content=json.dumps({"id": "t", "name": text}).encode(), headers=JSON)
        assert r.status_code in (201, 400)
        assert client.get("/api/items").status_code == 200
        assert client.get("/_sim/state").status_code == 200
        assert client.get("/_sim/journal").status_code == 200
