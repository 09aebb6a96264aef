"""The kit's control plane, through a toy service: reset, snapshots, journal, clock, near-miss."""

from __future__ import annotations

import json

import httpx
import pytest

from simulators.kit import SimClock, SnapshotError
from tests.kit.toy import ToySimulator


def test_same_seed_gives_same_state_and_other_seed_differs() -> None:
    assert ToySimulator(seed=3).export_data() == ToySimulator(seed=3).export_data()
    assert ToySimulator(seed=3).export_data() != ToySimulator(seed=4).export_data()


def test_reset_to_preset_and_seed(client: httpx.Client) -> None:
    client.post("/api/items", json={"id": "extra"})
    r = client.post("/_sim/reset", json={"preset": "empty", "seed": 1})
    assert r.status_code == 200 and r.json() == {"preset": "empty", "seed": 1}
    assert client.get("/api/items").json() == []
    client.post("/_sim/reset", json={"preset": "demo", "seed": 7})
    assert len(client.get("/api/items").json()) == 3


@pytest.mark.parametrize(
    ("body", "fragment"),
    [({"preset": "nope"}, "unknown preset 'nope'"), ({"seed": "x"}, "seed: expected an integer")],
)
def test_reset_rejects_bad_input_with_a_clear_message(
    client: httpx.Client, body: dict, fragment: str
) -> None:
    r = client.post("/_sim/reset", json=body)
    assert r.status_code == 400
    assert fragment in r.json()["error"]["message"]


def test_export_reset_import_round_trip_over_http(served: httpx.Client) -> None:
    served.post("/api/items", json={"id": "kept", "value": 1})
    snapshot = served.get("/_sim/state").json()
    served.post("/_sim/reset", json={"preset": "empty"})
    assert served.get("/api/items").json() == []
    assert served.put("/_sim/state", json=snapshot).status_code == 200
    again = served.get("/_sim/state").json()
    assert again["data"] == snapshot["data"]
    assert "kept" in {i["id"] for i in served.get("/api/items").json()}


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"version": 99}, 409, "snapshot version 99 is not supported"),
        ({"service": "maventa"}, 400, "of the 'maventa' simulator"),
        ({"format": "other"}, 400, "not a severa-sandbox state snapshot"),
        ({"data": []}, 400, "'data': expected an object"),
        ({"redacted": True}, 400, "secrets redacted"),
    ],
)
def test_incompatible_snapshots_are_refused_and_state_is_kept(
    client: httpx.Client, change: dict, status: int, fragment: str
) -> None:
    snapshot = client.get("/_sim/state").json()
    client.post("/api/items", json={"id": "mine"})
    r = client.put("/_sim/state", json={**snapshot, **change})
    assert r.status_code == status
    assert fragment in r.json()["error"]["message"]
    assert "mine" in {i["id"] for i in client.get("/api/items").json()}


def test_inconsistent_snapshot_data_keeps_the_previous_state(sim: ToySimulator) -> None:
    snap = sim.export_state()
    snap["data"] = {"items": {}}  # api_key missing
    before = sim.export_data()
    with pytest.raises(SnapshotError, match="inconsistent"):
        sim.import_state(snap)
    assert sim.export_data() == before


def test_redacted_export_hides_secrets(client: httpx.Client, sim: ToySimulator) -> None:
    text = client.get("/_sim/state", params={"redact": "1"}).text
    assert sim.api_key not in text
    assert sim.api_key in client.get("/_sim/state").text


def test_journal_records_exchanges_with_secrets_redacted(client: httpx.Client, sim: ToySimulator) -> None:
    client.get("/api/items", headers={"Authorization": "Bearer supersecrettokenvalue"})
    client.post("/api/items", json={"id": "k", "client_secret": "hunter2hunter2", "api_key": sim.api_key})
    client.get("/_sim/journal")  # control-plane calls are not journalled
    body = client.get("/_sim/journal").json()
    text = json.dumps(body)
    assert "supersecrettokenvalue" not in text and "hunter2hunter2" not in text and sim.api_key not in text
    methods = [(e["method"], e["path"], e["status"]) for e in body["entries"]]
    assert methods == [("GET", "/api/items", 200), ("POST", "/api/items", 201)]
    assert body["entries"][0]["request_headers"]["Authorization"].startswith("Bearer ***")


def test_journal_filters_and_bound() -> None:
    sim = ToySimulator(journal_capacity=5)
    with sim.client() as c:
        for _ in range(4):
            c.get("/api/items")
        for _ in range(3):
            c.get("/api/items/nope")
        j = c.get("/_sim/journal", params={"status": 404}).json()
        assert len(j["entries"]) == 3 and j["dropped"] == 2
        assert len(c.get("/_sim/journal", params={"method": "get", "limit": 2}).json()["entries"]) == 2
        first = c.get("/_sim/journal").json()["entries"][0]["id"]
        assert all(e["id"] > first for e in c.get("/_sim/journal", params={"since": first}).json()["entries"])
        assert c.get("/_sim/journal", params={"since": "x"}).status_code == 400
        assert c.delete("/_sim/journal").status_code == 204
        assert c.get("/_sim/journal").json()["entries"] == []


def test_unknown_route_names_the_closest_routes_in_the_service_envelope(client: httpx.Client) -> None:
    r = client.get("/api/itemz/5")
    assert r.status_code == 404
    err = r.json()["toy_error"]
    assert "GET /api/items/{item_id}" in err["message"]


def test_wrong_method_is_405_in_the_service_envelope(client: httpx.Client) -> None:
    r = client.delete("/api/items")
    assert r.status_code == 405
    assert "allowed: GET, POST" in r.json()["toy_error"]["message"]
    assert r.headers["Allow"] == "GET, POST"


def test_body_over_the_limit_is_413_in_the_service_envelope() -> None:
    sim = ToySimulator(max_body_bytes=100)
    with sim.client() as c:
        r = c.post(
            "/api/items", content=b"{" + b" " * 200 + b"}", headers={"Content-Type": "application/json"}
        )
    assert r.status_code == 413
    assert "too large" in r.json()["toy_error"]["message"]


def test_clock_advance_set_and_freeze(client: httpx.Client) -> None:
    t0 = client.get("/_sim/clock").json()
    r = client.post("/_sim/clock", json={"freeze": True})
    frozen = r.json()["now"]
    assert client.post("/_sim/clock", json={"advance": 3601}).json()["now"] > frozen
    assert (
        client.post("/_sim/clock", json={"set": "2030-01-02T03:04:05Z"}).json()["now"]
        == "2030-01-02T03:04:05Z"
    )
    assert (
        client.get("/api/now").json()["now"] == "2030-01-02T03:04:05+00:00"
    )  # the service sees simulated time
    assert not t0["frozen"]
    assert client.post("/_sim/clock", json={"advance": -1}).status_code == 400
    assert client.post("/_sim/clock", json={"set": "yesterday"}).status_code == 400
    assert client.post("/_sim/clock", json={"warp": 1}).status_code == 400


def test_clock_unit() -> None:
    from datetime import UTC, datetime

    c = SimClock(frozen_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert c.advance(60).isoformat() == "2026-01-01T00:01:00+00:00"
    c.freeze(False)
    assert not c.frozen and c.now().year == 2026
    with pytest.raises(ValueError):
        c.advance(-5)


def test_credentials_routes_and_info(client: httpx.Client, sim: ToySimulator) -> None:
    assert client.get("/_sim/credentials").json() == {"api_key": sim.api_key}
    routes = {r["path"] for r in client.get("/_sim/routes").json()["routes"]}
    assert {"/api/items", "/_sim/reset", "/_sim/toy/poke"} <= routes
    info = client.get("/_sim").json()
    assert info["service"] == "toy" and info["state_version"] == 3
    assert client.post("/_sim/toy/poke").json() == {"poked": True}


def test_control_plane_errors_are_json_not_html(client: httpx.Client) -> None:
    r = client.get("/_sim/nothing-here")
    assert r.status_code == 404 and "error" in r.json()
    r = client.put("/_sim/state", content=b"{not json")
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]


def test_journal_filters_by_tenant_path_and_prefix(client: httpx.Client) -> None:
    client.get("/api/items", headers={"X-Tenant": "t1"})
    client.get("/api/items/1", headers={"X-Tenant": "t2"})
    client.post("/api/items", json={"id": "x"}, headers={"X-Tenant": "t1"})

    def calls(**params: str) -> list[tuple[str, str]]:
        return [
            (e["method"], e["path"]) for e in client.get("/_sim/journal", params=params).json()["entries"]
        ]

    assert calls(tenant="t1") == [("GET", "/api/items"), ("POST", "/api/items")]
    assert calls(tenant="t2") == [("GET", "/api/items/1")]
    assert calls(path="items/1") == [("GET", "/api/items/1")]
    assert calls(path_prefix="/api/items/") == [("GET", "/api/items/1")]
    assert calls(method="POST", tenant="t1") == [("POST", "/api/items")]
    assert calls(tenant="nobody") == []
