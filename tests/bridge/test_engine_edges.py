"""The transfer engine at the edges a customer can reach: invoices deleted in Severa mid-transfer,
a notification that cannot be mailed, an authentication request with a bad second address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.config import SmtpSettings
from bridge.connectors.maventa.integration import IntegrationError
from bridge.notify import Notifier
from bridge.store import LedgerState, LogLevel

from .world import TO_TRANSFER, World, setup_company, world

S = LedgerState


@pytest.fixture
def w() -> Iterator[World]:
    with world() as built:
        yield built


def messages(w: World, level: LogLevel | None = None) -> list[str]:
    return [e.message for e in w.store.log.entries() if level is None or e.level is level]


def test_an_invoice_deleted_in_severa_before_it_was_sent_is_forgotten_with_a_warning(w: World) -> None:
    setup_company(w)
    guid = w.create_invoice("einvoice-maventa")
    w.severa_sim.add_fault(  # the pass picks it up but cannot read its rows yet
        {
            "match": {"method": "GET", "path": f"/rest-api/v1/invoices/{guid}/invoicerows"},
            "effect": {"type": "status", "status": 503},
            "trigger": {"type": "next", "count": 4},
        }
    )
    w.run_pass()
    row = w.ledger(guid)
    assert row is not None and row.state is S.PREPARED
    w.severa_sim.faults.clear()
    number = w.severa_number(guid)
    w.severa_sim.main.delete_invoice(guid)  # a Severa user deletes it (still in the transfer status)
    w.settle()
    assert w.ledger(guid) is None
    assert number and [i for i in w.maventa_invoices() if str(i.number) == number] == []
    assert any("was deleted in Severa before it was sent" in m for m in messages(w, LogLevel.WARNING))


def test_an_invoice_gone_from_severa_after_it_was_sent_still_settles(w: World) -> None:
    """Severa answers 404 to the status PATCH (the invoice was deleted meanwhile): the transfer log
    says so, Maventa's delivery is still followed, nothing is stuck and `sync` stops complaining."""
    setup_company(w)
    guids = set(w.invoice_guids_in(TO_TRANSFER))
    w.severa_sim.add_fault(
        {
            "match": {"method": "PATCH", "path": "/rest-api/v1/invoices/*"},
            "effect": {"type": "status", "status": 404},
            "trigger": {"type": "next", "count": 1},
        }
    )
    w.settle()
    states = sorted(w.ledger(g).state.value for g in guids)  # type: ignore[union-attr]
    assert states == ["DELIVERED", "DELIVERED", "NOTIFIED"]
    assert any("is no longer in Severa" in m for m in messages(w, LogLevel.WARNING))
    assert not w.run_pass().problems


def test_a_notification_that_cannot_be_mailed_is_reported_by_the_pass(w: World) -> None:
    setup_company(w)  # the demo's paper-only customer fails: print is not enabled
    w.restart(notifier=Notifier(SmtpSettings(host="127.0.0.1", port=1, timeout=1.0)), max_notify_attempts=2)
    problems: list[str] = []
    for _ in range(4):
        problems += w.run_pass().problems
        w.advance(120)
    assert any("the notification to" in p and "could not be sent" in p for p in problems)
    assert any("could not be sent" in m for m in messages(w, LogLevel.INFO))  # given up: logged


def test_with_an_address_but_no_smtp_the_log_does_not_claim_there_is_no_address(w: World) -> None:
    setup_company(w)
    w.restart(notifier=None)
    w.settle()
    assert any("SMTP) is not configured" in m for m in messages(w))
    assert not any("no notification address is set" in m for m in messages(w))


def test_a_bad_second_address_refuses_the_authentication_request_before_anything_is_sent(w: World) -> None:
    users = [u for u in w.severa.iter_users() if u.get("isActive", True)]
    w.integration.register("Ranta Oy", str(users[0]["guid"]))
    outbox_before = len(w.maventa_sim.outbox_messages())
    with pytest.raises(IntegrationError, match="'bad address' is not an e-mail address"):
        w.integration.send_authentication_request("Ranta Oy", "hyvaksyja@ranta.fi", "bad address")
    with pytest.raises(
        IntegrationError, match="The language must be one of FI, NO, SE, EN, NL, BE, not 'SV'"
    ):
        w.integration.send_authentication_request("Ranta Oy", "hyvaksyja@ranta.fi", locale="SV")
    assert len(w.maventa_sim.outbox_messages()) == outbox_before
    company = w.integration.send_authentication_request("Ranta Oy", "hyvaksyja@ranta.fi", locale="se")
    assert company.auth_email == "hyvaksyja@ranta.fi"


def test_after_a_pass_new_credentials_are_used_without_a_restart(w: World) -> None:
    """`bridge run` keeps one engine: a `maventa connect` with another key between passes is used by
    the next pass (the engine does not keep the old key's client)."""
    company = setup_company(w)
    w.run_pass()
    assert company.maventa_api_key is not None
    w.integration.connect("Ranta Oy", company.maventa_api_key.reveal(), company.maventa_company_uuid)
    before = len(
        w.maventa_sim.journal.entries(method="POST", path="/oauth2/token")
    )  # connect's own checks done
    w.create_invoice("einvoice-maventa")
    w.run_pass()
    assert len(w.maventa_sim.journal.entries(method="POST", path="/oauth2/token")) > before
