"""Hypothesis against every fake's write routes: any JSON at all (lone surrogates, huge and odd
numbers, deep and wide structures, any keys) is a 2xx-4xx, and nothing is poisoned."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.harness import FAKES, make

TEXT = st.text(
    st.characters(exclude_categories=[]) | st.sampled_from(["\ud800", "\udfff", "\x00", "\r", "\n"]),
    max_size=20,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=20,
)


@pytest.mark.parametrize("name", [n for n in FAKES if n != "mailbox"])
def test_any_json_at_any_write_route(name: str) -> None:
    fake = make(name)
    routes = [(m, p) for m, p, example in fake.writes if example is not None] + [
        ("POST", "/_sim/faults"),
        ("POST", "/_sim/clock"),
    ]

    @settings(
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None
    )
    @given(st.sampled_from(routes), JSON_VALUES, st.booleans())
    def attack(route: tuple[str, str], value: Any, raw_utf8: bool) -> None:
        method, path = route
        body = json.dumps(value, ensure_ascii=not raw_utf8).encode("utf-8", "surrogatepass")
        r = fake.http.request(
            method, path, content=body, headers={**fake.auth, "Content-Type": "application/json"}
        )
        assert r.status_code < 500, (method, path, body[:200], r.text[:300])
        if path == "/_sim/faults" and r.status_code == 201:
            fake.http.delete("/_sim/faults")

    attack()
    assert fake.not_poisoned() == []
