"""Control-plane input: every bad value is a 4xx naming the parameter, never a 500 or a surprise."""

from __future__ import annotations

import json

import httpx
import pytest

from simulators.kit import FaultRuleError
from simulators.mailbox import MailboxSimulator
from simulators.severa import SeveraSimulator
from tests.kit.toy import ToySimulator

JSON = {"Content-Type": "application/json"}
HUGE = "9" * 5000  # int() of it fails (Python's 4,300-digit limit): that was a 500


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ('{"advance": 1e20}', "advance"),
        ('{"advance": 1e308}', "advance"),
        ('{"advance": NaN}', "request body is not valid JSON: NaN is not a JSON number"),
        ('{"advance": Infinity}', "request body is not valid JSON: Infinity is not a JSON number"),
        ('{"advance": 1e400}', "request body is not valid JSON: the number 1e400 is out of range"),
        ('{"advance": -1}', "advance"),
        ('{"set": "9999-12-31T23:59:59Z"}', "set"),
        ('{"set": "0001-01-01T00:00:00Z"}', "set"),
        ('{"freeze": "no"}', "freeze"),
    ],
)
def test_bad_clock_moves_are_refused_and_the_clock_is_kept(
    client: httpx.Client, body: str, name: str
) -> None:
    before = client.get("/_sim/clock").json()
    r = client.post("/_sim/clock", content=body, headers=JSON)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith(name)
    after = client.get("/_sim/clock").json()
    assert after["frozen"] == before["frozen"] and after["now"][:4] == before["now"][:4]


def test_the_clock_can_still_be_moved_far(client: httpx.Client) -> None:
    assert client.post("/_sim/clock", json={"advance": 86400 * 365 * 50}).status_code == 200
    assert client.post("/_sim/clock", json={"set": "2030-01-01T00:00:00Z"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"since": HUGE}, "since"),
        ({"status": HUGE}, "status"),
        ({"status": "²"}, "status"),  # str.isdigit() says yes, int() says no
        ({"limit": "0"}, "limit"),
        ({"limit": "-2"}, "limit"),
        ({"since": "-1"}, "since"),
    ],
)
def test_bad_journal_filters_are_refused(client: httpx.Client, params: dict[str, str], name: str) -> None:
    client.get("/api/items")
    r = client.get("/_sim/journal", params=params)
    assert r.status_code == 400 and f"query parameter {name!r}" in r.json()["error"]["message"]


def test_limit_gives_the_newest_entries(client: httpx.Client) -> None:
    for _ in range(3):
        client.get("/api/items")
    (newest,) = client.get("/_sim/journal", params={"limit": 1}).json()["entries"]
    assert newest["id"] == 3


@pytest.mark.parametrize(
    ("params", "name"), [({"limit": "0"}, "limit"), ({"since": HUGE}, "since"), ({"limit": "²"}, "limit")]
)
def test_bad_mailbox_filters_are_refused(params: dict[str, str], name: str) -> None:
    with MailboxSimulator().client() as http:
        r = http.get("/_sim/messages", params=params)
    assert r.status_code == 400 and name in r.json()["error"]["message"]


def _rule(path: str, **match: str) -> dict:
    return {"match": {"path": path, **match}, "effect": {"type": "status", "status": 503}}


@pytest.mark.parametrize("path", ["/api/itemz", "/_sim/reset", "/api/items/*/x", "/nothing*"])
def test_a_fault_rule_whose_path_matches_no_route_is_refused_naming_the_closest(
    client: httpx.Client, path: str
) -> None:
    r = client.post("/_sim/faults", json=_rule(path))
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_fault_rule"
    message = r.json()["error"]["message"]
    assert message.startswith(f"match.path: {path!r} matches no route") and "closest routes: " in message
    assert "GET /api/" in message.split("closest routes: ")[1]
    assert client.get("/_sim/faults").json()["faults"] == []


def test_a_method_the_route_does_not_take_is_refused(client: httpx.Client) -> None:
    r = client.post("/_sim/faults", json=_rule("/api/items/*", method="POST"))
    assert r.status_code == 400 and "'POST /api/items/*' matches no route" in r.text


@pytest.mark.parametrize(
    "path", ["/api/items", "/api/items*", "/api/items/*", "/api/it?ms", "/api/[a-z]tems/7", "*"]
)
def test_rules_that_can_match_a_route_are_taken(client: httpx.Client, path: str) -> None:
    assert client.post("/_sim/faults", json=_rule(path)).status_code == 201


def test_severa_names_the_path_its_rules_see_for_the_alias() -> None:
    sim = SeveraSimulator()
    with pytest.raises(
        FaultRuleError, match=r"see requests to '/rest-api/v1.0/invoices' as '/rest-api/v1/invoices'"
    ):
        sim.add_fault(_rule("/rest-api/v1.0/invoices"))
    with pytest.raises(FaultRuleError, match=r"closest routes: GET /rest-api/v1/invoices"):
        sim.add_fault(_rule("/rest-api/v1/invoises"))
    sim.add_fault(_rule("/rest-api/v1/invoices/*/pdf"))


@pytest.mark.parametrize(
    ("effect", "trigger", "fragment"),
    [
        ({"type": "delay", "seconds": 1e20}, {}, "effect.seconds"),
        ({"type": "hang", "seconds": float("inf")}, {}, "effect.seconds"),
        ({"type": "status"}, {"type": "probability", "p": float("nan")}, "trigger.p"),
        ({"type": "rate_limit", "retry_after": 10**12}, {}, "effect.retry_after"),
        ({"type": "status", "message": "x" * 5000}, {}, "effect.message"),
    ],
)
def test_fault_numbers_and_texts_are_bounded(
    sim: ToySimulator, client: httpx.Client, effect: dict, trigger: dict, fragment: str
) -> None:
    rule = {"match": {"path": "/api/items"}, "effect": effect, "trigger": trigger}
    with pytest.raises(FaultRuleError, match=fragment):  # the Python API takes any float
        sim.add_fault(rule)
    r = client.post("/_sim/faults", content=json.dumps(rule), headers=JSON)  # NaN, Infinity: not JSON
    message = r.json()["error"]["message"]
    assert r.status_code == 400 and (fragment in message or "not a JSON number" in message)


def test_a_snapshot_cannot_make_a_probability_rule_replay_forever(sim: ToySimulator) -> None:
    sim.add_fault(
        {
            "match": {"path": "/api/items"},
            "effect": {"type": "status"},
            "trigger": {"type": "probability", "p": 0.5},
        }
    )
    snap = sim.export_state()
    snap["faults"][0]["seen"] = 10**12
    with pytest.raises(Exception, match="seen"):
        sim.import_state(snap)
    assert sim.faults.rules()[0].seen == 0
