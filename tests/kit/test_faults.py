"""Fault rules: matching, effects in the service's envelope, triggers, network faults."""

from __future__ import annotations

import time

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.kit import SnapshotError
from simulators.kit.faults import FaultEngine, FaultRuleError, parse_rule
from tests.kit.toy import ToySimulator


def _rule(effect: dict, trigger: dict | None = None, **match: str) -> dict:
    return {
        "match": match or {"path": "/api/items"},
        "effect": effect,
        "trigger": trigger or {"type": "always"},
    }


def test_next_two_calls_fail_in_the_service_envelope_then_normal(client: httpx.Client) -> None:
    client.post(
        "/_sim/faults",
        json=_rule(
            {"type": "status", "status": 503}, {"type": "next", "count": 2}, method="GET", path="/api/items"
        ),
    )
    codes = [client.get("/api/items").status_code for _ in range(4)]
    assert codes == [503, 503, 200, 200]
    r = client.get("/_sim/faults").json()["faults"][0]
    assert r["fired"] == 2 and r["exhausted"]
    journal = client.get("/_sim/journal", params={"faulted": "true"}).json()["entries"]
    assert [e["status"] for e in journal] == [503, 503]
    assert all(e["fault"].startswith("fault #1") for e in journal)


def test_status_effect_uses_the_service_envelope(client: httpx.Client) -> None:
    client.post("/_sim/faults", json=_rule({"type": "status", "status": 500, "code": "X", "message": "boom"}))
    r = client.get("/api/items")
    assert r.status_code == 500 and r.json() == {"toy_error": {"status": 500, "code": "X", "message": "boom"}}


def test_after_n_calls_trigger(client: httpx.Client) -> None:
    client.post(
        "/_sim/faults",
        json=_rule({"type": "status", "status": 502}, {"type": "after", "count": 2, "times": 1}),
    )
    assert [client.get("/api/items").status_code for _ in range(4)] == [200, 200, 502, 200]


def test_probability_trigger_is_repeatable_with_a_seed() -> None:
    def run() -> list[int]:
        sim = ToySimulator()
        sim.add_fault(_rule({"type": "status", "status": 500}, {"type": "probability", "p": 0.5, "seed": 42}))
        with sim.client() as c:
            return [c.get("/api/items").status_code for _ in range(20)]

    first = run()
    assert first == run() and 500 in first and 200 in first


def test_match_by_method_and_tenant(client: httpx.Client) -> None:
    client.post(
        "/_sim/faults",
        json=_rule({"type": "status", "status": 503}, method="POST", path="/api/*", tenant="t1"),
    )
    assert client.get("/api/items", headers={"X-Tenant": "t1"}).status_code == 200
    assert client.post("/api/items", json={"id": "a"}, headers={"X-Tenant": "t2"}).status_code == 201
    assert client.post("/api/items", json={"id": "b"}, headers={"X-Tenant": "t1"}).status_code == 503


def test_rate_limit_and_malformed_effects(client: httpx.Client) -> None:
    client.post("/_sim/faults", json=_rule({"type": "rate_limit", "retry_after": 7}, {"type": "next"}))
    r = client.get("/api/items")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    client.post("/_sim/faults", json=_rule({"type": "malformed"}, {"type": "next"}))
    r = client.get("/api/items")
    with pytest.raises(ValueError):
        r.json()


def test_after_processing_loses_the_answer_but_keeps_the_change(client: httpx.Client) -> None:
    client.post(
        "/_sim/faults",
        json=_rule(
            {"type": "reset", "after_processing": True}, {"type": "next"}, method="POST", path="/api/items"
        ),
    )
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/api/items", json={"id": "ghost"})
    assert "ghost" in {i["id"] for i in client.get("/api/items").json()}
    client.post(
        "/_sim/faults",
        json=_rule(
            {"type": "status", "status": 504, "after_processing": True},
            {"type": "next"},
            method="POST",
            path="/api/items",
        ),
    )
    assert client.post("/api/items", json={"id": "ghost2"}).status_code == 504
    assert "ghost2" in {i["id"] for i in client.get("/api/items").json()}


def test_before_processing_changes_nothing(client: httpx.Client) -> None:
    client.post("/_sim/faults", json=_rule({"type": "hang"}, {"type": "next"}, method="POST"))
    with pytest.raises(httpx.ReadTimeout):
        client.post("/api/items", json={"id": "never"})
    assert "never" not in {i["id"] for i in client.get("/api/items").json()}


def test_network_faults_over_a_real_socket(served: httpx.Client) -> None:
    served.post("/_sim/faults", json=_rule({"type": "reset"}, {"type": "next"}))
    with pytest.raises(httpx.TransportError):
        served.get("/api/items")
    served.post("/_sim/faults", json=_rule({"type": "hang", "seconds": 5}, {"type": "next"}))
    t = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        served.get("/api/items", timeout=0.3)
    assert time.monotonic() - t < 3
    assert served.get("/api/items").status_code == 200
    entries = served.get("/_sim/journal", params={"faulted": "1"}).json()["entries"]
    assert [e["status"] for e in entries] == [0, 0]


def test_delay_effect_adds_latency(client: httpx.Client) -> None:
    client.post("/_sim/faults", json=_rule({"type": "delay", "seconds": 0.2}, {"type": "next"}))
    t = time.monotonic()
    assert client.get("/api/items").status_code == 200
    assert time.monotonic() - t >= 0.2


def test_delete_rules(client: httpx.Client) -> None:
    rid = client.post("/_sim/faults", json=_rule({"type": "status"})).json()["id"]
    assert client.delete(f"/_sim/faults/{rid}").status_code == 204
    assert client.delete(f"/_sim/faults/{rid}").status_code == 404
    client.post("/_sim/faults", json=[_rule({"type": "status"}), _rule({"type": "delay"})])
    assert len(client.get("/_sim/faults").json()["faults"]) == 2
    assert client.delete("/_sim/faults").status_code == 204
    assert client.get("/api/items").status_code == 200


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"match": {}, "effect": {"type": "explode"}}, "effect.type"),
        ({"match": {"method": "FETCH"}, "effect": {"type": "status"}}, "match.method"),
        ({"effect": {"type": "status", "status": 999}}, "effect.status"),
        ({"effect": {"type": "status", "status": "500"}}, "effect.status: expected an integer"),
        ({"effect": {"type": "status"}, "trigger": {"type": "probability", "p": 2}}, "trigger.p"),
        ({"effect": {"type": "status"}, "trigger": {"type": "next", "count": -1}}, "trigger.count"),
        ({"effect": {"type": "status"}, "when": 1}, "unknown field"),
        ({"effect": {"type": "status", "colour": "red"}}, "effect: unknown field"),
        ({"match": {"path_regex": "("}, "effect": {"type": "status"}}, "match.path_regex"),
        ("nope", "expected an object"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(client: httpx.Client, rule: object, fragment: str) -> None:
    r = client.post("/_sim/faults", json=rule)
    assert r.status_code == 400
    assert fragment in r.json()["error"]["message"]
    assert client.get("/_sim/faults").json()["faults"] == []


def test_a_bad_rule_in_a_list_adds_none() -> None:
    engine = FaultEngine()
    with pytest.raises(FaultRuleError):
        parse_rule({"effect": {"type": "nope"}}, 1)
    assert engine.rules() == []


def test_faults_survive_a_snapshot_round_trip(sim: ToySimulator) -> None:
    sim.add_fault(_rule({"type": "status", "status": 503}, {"type": "next", "count": 3}))
    with sim.client() as c:
        c.get("/api/items")
    snap = sim.export_state()
    sim.reset(clear_faults=True)
    sim.import_state(snap)
    (rule,) = sim.faults.rules()
    assert rule.fired == 1 and rule.trigger.count == 3


@given(count=st.integers(0, 10), calls=st.integers(0, 20))
def test_next_n_fires_exactly_min_n_calls(count: int, calls: int) -> None:
    engine = FaultEngine()
    engine.add(_rule({"type": "status"}, {"type": "next", "count": count}))
    fired = sum(engine.evaluate("GET", "/api/items", None) is not None for _ in range(calls))
    assert fired == min(count, calls)


@given(after=st.integers(0, 10), times=st.none() | st.integers(0, 5), calls=st.integers(0, 20))
def test_after_n_fires_only_after_n(after: int, times: int | None, calls: int) -> None:
    engine = FaultEngine()
    engine.add(_rule({"type": "status"}, {"type": "after", "count": after, "times": times}))
    hits = [engine.evaluate("GET", "/api/items", None) is not None for _ in range(calls)]
    assert not any(hits[:after])
    expected = max(0, calls - after) if times is None else min(times, max(0, calls - after))
    assert sum(hits) == expected


def test_a_snapshot_keeps_rule_ids_counters_and_the_seeded_sequence() -> None:
    def sim_with_rules() -> ToySimulator:
        sim = ToySimulator()
        sim.add_fault(_rule({"type": "status", "status": 500}, {"type": "probability", "p": 0.5, "seed": 9}))
        sim.add_fault(_rule({"type": "delay"}, method="POST"))
        sim.faults.remove(2)
        sim.add_fault(_rule({"type": "status", "status": 502}, {"type": "next", "count": 5}, method="PUT"))
        return sim

    original, copy = sim_with_rules(), sim_with_rules()
    with original.client() as c:
        first = [c.get("/api/items").status_code for _ in range(7)]
    snap = original.export_state()
    copy.reset("empty", 1, clear_faults=True)
    copy.import_state(snap)
    assert copy.export_state() == snap
    assert [r.id for r in copy.faults.rules()] == [1, 3]
    with original.client() as a, copy.client() as b:
        rest = [a.get("/api/items").status_code for _ in range(10)]
        assert [b.get("/api/items").status_code for _ in range(10)] == rest
        assert 500 in first + rest and 200 in first + rest
        assert b.delete("/_sim/faults/3").status_code == 204  # the id a client holds still names its rule
    assert copy.add_fault(_rule({"type": "status"})).id == 4  # new ids never reuse old ones


def test_a_snapshot_with_a_bad_rule_changes_nothing(sim: ToySimulator) -> None:
    sim.add_fault(_rule({"type": "status", "status": 503}))
    before = sim.export_state()
    broken = {**before, "faults": [*before["faults"], {"effect": {"type": "explode"}}]}
    with pytest.raises(SnapshotError, match=r"effect\.type"):
        sim.import_state(broken)
    assert sim.export_state() == before
