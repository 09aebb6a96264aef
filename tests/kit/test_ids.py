"""Same seed, same world: every id, GUID and token comes from the kit's seeded IdFactory.

Two resets with the same seed followed by the same requests give byte-identical `/_sim/state`
exports for every fake, and a restored snapshot continues the id sequence where it was.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from simulators.kit import SimClock, Simulator
from simulators.kit.ids import IdFactory
from simulators.maestro import MaestroSimulator
from simulators.mailbox import MailboxSimulator
from simulators.maventa import MaventaSimulator
from simulators.severa import SeveraSimulator

FROZEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _severa(sim: Simulator, http: httpx.Client) -> None:
    creds = sim.client_credentials()  # type: ignore[attr-defined]
    tok = http.post(
        "/rest-api/v1/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    ).json()
    auth = {"Authorization": f"Bearer {tok['access_token']}"}
    assert (
        http.post("/rest-api/v1/invoicestatuses", json={"name": "Oma tila"}, headers=auth).status_code == 201
    )
    assert http.post("/rest-api/v1/refreshtoken", json=tok["refresh_token"]).status_code == 200
    made = http.post(
        "/_sim/severa/invoices",
        json={"rows": [{"kind": "hours", "ref": "KEH", "quantity": 2}], "status": "Luonnos"},
    )
    assert made.status_code == 201, made.text


def _maventa(sim: Simulator, http: httpx.Client) -> None:
    creds = http.get("/_sim/credentials").json()
    vendor = creds["vendor_api_keys"][0]
    made = http.post("/v1/users", json={"vendor_api_key": vendor, "email": "uusi@example.fi"})
    assert made.status_code == 201, made.text
    company = next(c for c in creds["companies"] if c["company_state"] == "VERIFIED")
    tok = http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": company["id"],
            "client_secret": company["users"][0]["user_api_key"],
            "vendor_api_key": vendor,
        },
    )
    assert tok.status_code == 200, tok.text


def _maestro(sim: Simulator, http: httpx.Client) -> None:
    made = http.post("/_sim/companies", json={"name": "Uusi Oy", "business_id": "2615835-9"})
    assert made.status_code == 201, made.text


def _mailbox(sim: Simulator, http: httpx.Client) -> None:
    sim.receive("a@example.fi", ["b@example.fi"], b"Subject: hei\r\n\r\nterve\r\n")  # type: ignore[attr-defined]


FAKES: dict[str, tuple[Callable[..., Simulator], Callable[[Simulator, httpx.Client], None]]] = {
    "severa": (SeveraSimulator, _severa),
    "maventa": (MaventaSimulator, _maventa),
    "maestro": (MaestroSimulator, _maestro),
    "mailbox": (MailboxSimulator, _mailbox),
}


@pytest.mark.parametrize("name", sorted(FAKES))
def test_same_seed_and_requests_give_byte_identical_exports_after_two_resets(name: str) -> None:
    make, work = FAKES[name]
    sim = make(seed=5, clock=SimClock(frozen_at=FROZEN))
    exports = []
    with sim.client() as http:
        for _ in range(2):
            assert http.post("/_sim/reset", json={"seed": 11, "preset": "demo"}).status_code == 200
            work(sim, http)
            exports.append(http.get("/_sim/state").text)
    assert exports[0] == exports[1]
    assert json.loads(exports[0])["ids"]["seed"] == 11


@pytest.mark.parametrize("name", ["severa", "maventa", "maestro"])
def test_another_seed_mints_other_ids(name: str) -> None:
    make, work = FAKES[name]
    texts = []
    for seed in (1, 2):
        sim = make(seed=seed, clock=SimClock(frozen_at=FROZEN))
        with sim.client() as http:
            work(sim, http)
        texts.append(json.dumps(sim.export_state()["data"]))
    assert texts[0] != texts[1]


@pytest.mark.parametrize("name", ["severa", "maventa", "maestro"])
def test_a_restored_snapshot_continues_the_same_sequence(name: str) -> None:
    make, work = FAKES[name]
    sim = make(seed=3, clock=SimClock(frozen_at=FROZEN))
    with sim.client() as http:
        snapshot = http.get("/_sim/state").json()
        work(sim, http)
        first = http.get("/_sim/state").text
        assert http.put("/_sim/state", json=snapshot).status_code == 200
        work(sim, http)
        assert http.get("/_sim/state").text == first


def test_severa_guids_made_after_the_preset_repeat_with_the_seed() -> None:
    """The regression: `tenant()` built each Backend with an unseeded random.Random()."""
    sim = SeveraSimulator(seed=4)
    first = sim.tenant("main").add_status("A").guid
    sim.reset(seed=4)
    assert sim.tenant("main").add_status("A").guid == first


def test_an_old_maventa_snapshot_without_ids_continues_from_its_own_counter() -> None:
    sim = MaventaSimulator(seed=2)
    snap = sim.export_state()
    counter = snap.pop("ids")["counter"]
    snap["data"]["counter"] = counter  # where the sequence lived before snapshots carried "ids"
    expected = sim.data.new_id("probe")
    sim.import_state(snap)
    assert sim.data.new_id("probe") == expected


def test_tokens_are_registered_as_secrets_and_depend_on_their_purpose() -> None:
    seen: list[str] = []
    a = IdFactory(uuid.NAMESPACE_DNS, 1, on_secret=seen.append)
    t1 = a.token("access:client-a")
    b = IdFactory(uuid.NAMESPACE_DNS, 1)
    assert b.token("access:client-b") != t1  # the same position in the sequence, another client
    assert seen == [t1]


@pytest.mark.parametrize(
    "data",
    [{"seed": "x"}, {"counter": -1}, {"counter": True}, [], {"counter": 1.5}],
)
def test_a_bad_id_sequence_in_a_snapshot_is_refused_and_nothing_changes(data: object) -> None:
    sim = SeveraSimulator(seed=1)
    snap = sim.export_state()
    before = json.dumps(snap)
    snap["ids"] = data
    with pytest.raises(Exception, match="ids"):
        sim.import_state(snap)
    assert json.dumps(sim.export_state()) == before
