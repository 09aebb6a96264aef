"""The issue's reproductions, and their neighbours, against every fake (in-process).

Each case: the answer is the fake's own 4xx (its error envelope), and afterwards nothing is
poisoned (its listings, ``/_sim/state`` and ``/_sim/journal`` still answer)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.hostile.harness import FAKES, Fake, make

JSON = {"Content-Type": "application/json"}


@pytest.fixture(params=FAKES)
def fake(request: pytest.FixtureRequest) -> Iterator[Fake]:
    f = make(request.param)
    yield f
    f.http.close()


def envelope_ok(fake: Fake, body: dict) -> bool:
    """The error is in the fake's own envelope (the control plane has the kit's)."""
    if "error" in body and isinstance(body["error"], dict):
        return {"code", "message"} <= set(body["error"]) or {"httpStatusCode", "type", "details"} <= set(
            body["error"]
        )
    return {"code", "message", "details"} <= set(body)


def assert_not_poisoned(fake: Fake) -> None:
    assert fake.not_poisoned() == []


# ---------------------------------------------------------------------------- lone surrogates
SURROGATE_WRITES = {
    "severa": [
        ("POST", "/rest-api/v1/invoicestatuses", {"name": "Tila \ud800"}, "name"),
        ("POST", "/_sim/severa/statuses", {"name": "\udfff"}, "name"),
        ("POST", "/_sim/severa/invoices", {"your_reference": "x\ud800", "rows": []}, "your_reference"),
    ],
    "maventa": [
        (
            "POST",
            "/v1/users",
            {"vendor_api_key": "k", "email": "a@b.fi", "first_name": "Ti\ud800na"},
            "first_name",
        ),
        ("PATCH", "/v1/company/settings", {"details": {"name": "\ud800"}}, "details.name"),
        ("POST", "/v1/companies", {"name": "Yritys \ud800 Oy"}, "name"),
    ],
    "maestro": [
        ("PUT", "/api/v1/products/UUSI", {"name": "Tuote \ud800", "unit": "kpl", "vat_rate": 24}, "name"),
        ("PUT", "/api/v1/customers/55", {"name": "Asiakas \udc00 Oy"}, "name"),
        ("POST", "/_sim/companies", {"name": "\ud800", "business_id": "2615835-9"}, "name"),
    ],
    "mailbox": [],
}
CONTROL_SURROGATES = [
    ("POST", "/_sim/faults", {"match": {"path": "/x\ud800"}, "effect": {"type": "status"}}, "match.path"),
    ("POST", "/_sim/reset", {"preset": "demo\ud800"}, "preset"),
]


def test_a_lone_surrogate_is_refused_naming_the_field_everywhere(fake: Fake) -> None:
    for method, path, body, field in SURROGATE_WRITES[fake.name] + CONTROL_SURROGATES:
        for raw in (
            json.dumps(body).encode(),
            json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        ):
            r = fake.http.request(method, path, content=raw, headers={**fake.auth, **JSON})
            assert r.status_code == 400, (path, r.status_code, r.text)
            assert envelope_ok(fake, r.json()) and field in r.text and "surrogate" in r.text, r.text
    assert_not_poisoned(fake)


def test_deep_nesting_is_a_400_everywhere(fake: Fake) -> None:
    for method, path, _, _ in SURROGATE_WRITES[fake.name] + CONTROL_SURROGATES:
        r = fake.http.request(method, path, content=b"[" * 100_000, headers={**fake.auth, **JSON})
        assert r.status_code == 400 and envelope_ok(fake, r.json()), (path, r.text[:300])
    assert_not_poisoned(fake)


NOT_JSON_NUMBERS = [
    b'{"name": NaN}',
    b'{"name": 1e400}',
    b'{"name": Infinity}',
    b'{"a": ' + b"9" * 5000 + b"}",
]


def test_numbers_that_are_not_json_are_refused(fake: Fake) -> None:
    for raw in NOT_JSON_NUMBERS:
        for method, path, _, _ in SURROGATE_WRITES[fake.name] + CONTROL_SURROGATES:
            r = fake.http.request(method, path, content=raw, headers={**fake.auth, **JSON})
            assert 400 <= r.status_code < 500 and envelope_ok(fake, r.json()), (
                path,
                r.status_code,
                r.text[:300],
            )
    assert_not_poisoned(fake)


# ---------------------------------------------------------------------------- control-plane input
CONTROL_INPUT = [
    ("POST", "/_sim/clock", {"json": {"advance": 1e20}}, "advance"),
    ("POST", "/_sim/clock", {"json": {"set": "9999-01-01T00:00:00Z"}}, "set"),
    ("GET", "/_sim/journal", {"params": {"since": "9" * 5000}}, "since"),
    ("GET", "/_sim/journal", {"params": {"status": "9" * 5000}}, "status"),
    ("GET", "/_sim/journal", {"params": {"limit": "0"}}, "limit"),
    ("GET", "/_sim/journal", {"params": {"limit": "-2"}}, "limit"),
    (
        "POST",
        "/_sim/faults",
        {"json": {"match": {"path": "/nowhere"}, "effect": {"type": "status"}}},
        "match.path",
    ),
    ("POST", "/_sim/reset", {"json": {"seed": 10**30}}, "seed"),
    ("PUT", "/_sim/state", {"json": {"format": "severa-sandbox.state"}}, "snapshot"),
]


def test_control_plane_input_is_a_400_naming_it(fake: Fake) -> None:
    for method, path, kwargs, name in CONTROL_INPUT:
        r = fake.http.request(method, path, **kwargs)
        assert 400 <= r.status_code < 500 and name in r.json()["error"]["message"], (path, r.text[:300])
    assert_not_poisoned(fake)


# ---------------------------------------------------------------------------- memory
def test_large_headers_do_not_grow_the_journal(fake: Fake) -> None:
    path = fake.listings[0][1] if not fake.listings[0][1].startswith("/_sim") else "/"  # a journalled route
    for _ in range(100):
        fake.http.get(path, headers={**fake.auth, **{f"X-H{i}": "h" * 20_000 for i in range(20)}})
    journal = fake.sim.journal
    assert journal.bytes <= 100 * (20 * 1100 + 40_000)  # headers cut to 1 KiB, bodies to 16 KiB
    entry = journal.entries(limit=1)[0]
    assert all(len(v) <= 1024 for v in entry.request_headers.values()) and entry.notes


# ---------------------------------------------------------------------------- nothing slow under the lock
def test_json_bodies_are_parsed_before_the_lock_is_taken(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every route's JSON is parsed while no lock is held (a huge body is parsed by its own
    request's thread and holds up no one)."""
    import threading

    import simulators.kit.body as kit

    held: list[bool] = []
    real = kit.parse_json

    def probing(text: str | bytes, max_depth: int = 64) -> object:
        def probe() -> None:
            got = fake.sim.lock.acquire(timeout=0)
            held.append(not got)
            if got:
                fake.sim.lock.release()

        t = threading.Thread(target=probe)
        t.start()
        t.join()
        return real(text, max_depth)

    monkeypatch.setattr(kit, "parse_json", probing)
    for method, path, example, *_ in [*fake.writes, ("POST", "/_sim/reset", {"seed": 0})]:
        if example is not None:
            fake.http.request(method, path, json=example, headers=fake.auth)
    assert held and not any(held)


# ---------------------------------------------------------------------------- non-ASCII secrets
def test_a_non_ascii_secret_for_a_known_client_is_a_401_not_a_500() -> None:
    """A bundle's placeholder («secret-1») sent as a client secret reached a byte comparison that
    only takes ASCII text and answered 500."""
    f = make("severa")
    client = f.sim.credentials()["clients"][0]
    for secret in ("«secret-1»", "ä€😀", client["client_secret"] + "ä"):
        answer = f.http.post(
            "/rest-api/v1/token", json={"client_id": client["client_id"], "client_secret": secret}
        )
        assert answer.status_code == 401, (secret, answer.text)
        assert envelope_ok(f, answer.json())
    assert_not_poisoned(f)
