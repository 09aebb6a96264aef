"""The Severa user's actors on the control plane: invoice statuses (Laskun tilat) added and
changed by their API flag names or in snake_case, with the valid flags listed on a mistake."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulators.severa.service import SeveraSimulator


@pytest.fixture
def sim() -> SeveraSimulator:
    return SeveraSimulator(seed=5)


@pytest.fixture
def ui(sim: SeveraSimulator) -> Iterator[httpx.Client]:
    with sim.client() as http:
        yield http


def test_a_status_is_added_with_the_api_flag_names(ui: httpx.Client) -> None:
    r = ui.post(
        "/_sim/severa/statuses", json={"name": "Odottaa hyväksyntää", "isSent": True, "isReadOnly": True}
    )
    assert r.status_code == 201
    body = r.json()
    assert (body["name"], body["isSent"], body["isReadOnly"], body["hasInvoiceNumber"]) == (
        "Odottaa hyväksyntää",
        True,
        True,
        False,
    )


def test_snake_case_flags_still_work(ui: httpx.Client) -> None:
    r = ui.post(
        "/_sim/severa/statuses", json={"name": "Vanha tapa", "is_sent": True, "has_invoice_number": True}
    )
    assert r.status_code == 201
    assert r.json()["isSent"] is True and r.json()["hasInvoiceNumber"] is True


def test_an_unknown_flag_is_refused_with_the_valid_ones_listed(ui: httpx.Client) -> None:
    r = ui.post("/_sim/severa/statuses", json={"name": "X", "isSnet": True})
    assert r.status_code == 400
    message = r.json()["error"]["message"]
    assert "'isSnet' is not an invoice status flag (did you mean 'isSent'?)" in message
    for flag in (
        "isActive",
        "isDefault",
        "isReadOnly",
        "hasInvoiceNumber",
        "isSent",
        "isDefaultForCreditNote",
    ):
        assert flag in message
    assert ui.post("/_sim/severa/statuses", json={"name": "X", "isSent": "yes"}).json()["error"][
        "message"
    ] == ("isSent: expected true or false, got 'yes'")


def test_the_flags_of_an_existing_status_change_by_name_or_guid(ui: httpx.Client) -> None:
    created = ui.post("/_sim/severa/statuses", json={"name": "Tarkastettu", "isSent": True}).json()
    r = ui.patch("/_sim/severa/statuses/Tarkastettu", json={"isSent": False, "isReadOnly": True})
    assert r.status_code == 200
    assert (r.json()["guid"], r.json()["isSent"], r.json()["isReadOnly"]) == (created["guid"], False, True)
    r = ui.patch(f"/_sim/severa/statuses/{created['guid']}", json={"name": "Tarkistettu", "is_paid": True})
    assert (r.json()["name"], r.json()["isPaid"], r.json()["isReadOnly"]) == ("Tarkistettu", True, True)


def test_changing_a_status_that_is_not_there_lists_the_statuses(ui: httpx.Client) -> None:
    r = ui.patch("/_sim/severa/statuses/Ei ole", json={"isSent": True})
    assert r.status_code == 404
    message = r.json()["error"]["message"]
    assert message.startswith("no invoice status 'Ei ole' in ")
    assert "'Luonnos'" in message
    r = ui.patch("/_sim/severa/statuses/Luonnos", json={})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith(
        "nothing to change: give a new name or flags"
    )


def test_the_mv14_sent_flag_set_by_the_actor_is_what_the_api_shows(
    sim: SeveraSimulator, ui: httpx.Client
) -> None:
    """The actor and Severa's own API agree: the flag the actor turned on is the API's isSent."""
    ui.patch("/_sim/severa/statuses/Luonnos", json={"isSent": True})
    c = sim.client_credentials()
    token = ui.post(
        "/rest-api/v1/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]}
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    statuses = ui.get("/rest-api/v1/invoicestatuses", headers=headers).json()
    assert [s["isSent"] for s in statuses if s["name"] == "Luonnos"] == [True]
