"""Odd JSON never becomes a 500: deep nesting is a ValueError like any other bad JSON."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.kit import JSONNestingError, parse_json
from simulators.kit.jsontext import json_depth
from simulators.kit.redact import redact_text
from tests.kit.toy import ToySimulator


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("text", "depth"), [("1", 0), ("[]", 1), ('{"a": [1, {"b": {}}]}', 4)])
def test_depth(text: str, depth: int) -> None:
    assert json_depth(json.loads(text)) == depth


def test_limit_is_inclusive_and_deeper_is_a_value_error() -> None:
    assert parse_json(nested(64)) is not None
    with pytest.raises(JSONNestingError, match="maximum depth of 64"):
        parse_json(nested(65))
    with pytest.raises(ValueError):  # what json.loads itself cannot take (RecursionError there)
        parse_json(nested(100_000))


@given(
    st.recursive(st.none() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c))
)
def test_parse_json_agrees_with_json_loads_within_the_limit(value: object) -> None:
    text = json.dumps(value)
    assert parse_json(text, max_depth=10_000) == json.loads(text)


def test_journal_redaction_survives_deep_json() -> None:
    text = nested(5_000) + '{"client_secret": "sekret-sekret-1234"}'
    assert "sekret-sekret-1234" not in redact_text(text, "application/json")


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/_sim/faults"), ("PUT", "/_sim/state"), ("POST", "/_sim/reset")]
)
def test_control_plane_answers_deep_json_with_a_400(method: str, path: str) -> None:
    sim = ToySimulator()
    with sim.client() as c:
        r = c.request(method, path, content=nested(100_000).encode())
        assert r.status_code == 400 and "maximum depth" in r.json()["error"]["message"]


@pytest.mark.parametrize("depth", [65, 100_000])
def test_service_body_nested_too_deep_is_a_400_in_the_service_envelope(
    client: httpx.Client, depth: int
) -> None:
    # the toy parses with request.get_json, which raises RecursionError: the kit answers first
    r = client.post(
        "/api/items", content=nested(depth).encode(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert "maximum depth of 64" in r.json()["toy_error"]["message"]
    (entry,) = client.get("/_sim/journal").json()["entries"]
    assert entry["status"] == 400 and entry["method"] == "POST"


def test_bodies_within_the_depth_or_not_json_reach_the_service(client: httpx.Client) -> None:
    ok = {"id": "deep", "value": json.loads(nested(60))}
    assert client.post("/api/items", json=ok).status_code == 201
    brackets = b"[" * 500 + b" not json"
    r = client.post("/api/items", content=brackets, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["toy_error"]["message"] == "expected an object with 'id'"
