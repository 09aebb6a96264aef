"""MV-9: the sending-error notification e-mail, delivered by SMTP to the sandbox mailbox."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.config import Secret, SmtpSettings
from bridge.notify import Notifier, SendingError, build_error_message, notification_message_id
from simulators.mailbox import MailboxSimulator

ERROR = "Invoice recipient's e-invoice address 003712345678 not found (code: recipient_not_found)"
PASSWORD = "smtp-password-9876543210"


def sample(**overrides: object) -> SendingError:
    values: dict[str, object] = {
        "invoice_guid": "0f3c2a9e-1111-4222-8333-444455556666",
        "invoice_number": "10042",
        "company_name": "Demo Konsultointi Oy",
        "error": ERROR,
        "customer_name": "Asiakas Oy",
        "occurred_at": datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        "send_uuid": "2b1e9a8c-5f6d-5e4f-8a9b-0c1d2e3f4a5b",
        "status_after_error": "Lähetysvirhe",
    }
    values.update(overrides)
    return SendingError(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def mailbox_server() -> Iterator[MailboxSimulator]:
    sim = MailboxSimulator()
    sim.start_smtp()
    yield sim
    sim.stop_smtp()


@pytest.fixture
def mailbox(mailbox_server: MailboxSimulator) -> MailboxSimulator:
    mailbox_server.reset()
    return mailbox_server


def smtp_for(sim: MailboxSimulator, **kw: object) -> SmtpSettings:
    assert sim.smtp_port is not None
    return SmtpSettings(host="127.0.0.1", port=sim.smtp_port, **kw)  # type: ignore[arg-type]


def test_the_notification_reaches_the_mailbox_in_finnish_and_english(mailbox: MailboxSimulator) -> None:
    result = Notifier(smtp_for(mailbox)).notify_sending_error("laskutus@demo.fi", sample())
    assert result.ok and result.error is None
    assert result.message_id == notification_message_id(sample().send_uuid or "")
    listed = mailbox.client().get("/_sim/messages", params={"to": "laskutus@demo.fi"}).json()
    [msg] = listed["messages"]
    assert msg["subject"] == f"Laskun 10042 lähetys epäonnistui / Sending invoice 10042 failed: {ERROR}"
    assert msg["mail_from"] == "severa-bridge@localhost"
    assert msg["message_id"] == result.message_id
    body = msg["text"]
    assert body.count(ERROR) == 2  # the service's exact text, in both languages
    assert "laskun lähetys Maventaan epäonnistui" in body and "Sending an invoice to Maventa failed" in body
    assert "Asiakas Oy" in body and "Demo Konsultointi Oy" in body and '"Lähetysvirhe"' in body
    assert "2026-11-23 09:30 UTC" in body


def test_several_recipients_and_comma_lists(mailbox: MailboxSimulator) -> None:
    result = Notifier(smtp_for(mailbox)).notify_sending_error("a@demo.fi, b@demo.fi;a@demo.fi", sample())
    assert result.ok and result.recipients == ("a@demo.fi", "b@demo.fi")
    [msg] = mailbox.find()
    assert msg.rcpt_tos == ["a@demo.fi", "b@demo.fi"]


def test_a_long_multiline_error_gives_a_one_line_subject_and_the_full_text_in_the_body() -> None:
    error = (
        "Validation failed:\r\n  line 1: BuyerOrganisationName missing\nBcc: evil@example.com\n" + "x" * 300
    )
    msg = build_error_message(sample(error=error), to=["a@demo.fi"], from_address="b@demo.fi")
    subject = str(msg["Subject"])
    assert "\n" not in subject and "\r" not in subject and len(subject) < 220
    assert subject.endswith("…")
    assert msg["Bcc"] is None  # no header injection
    assert "BuyerOrganisationName missing" in msg.get_content()


def test_login_uses_the_password_and_never_shows_it() -> None:
    with MailboxSimulator(smtp_credentials=("bridge", PASSWORD)) as sim:
        good = Notifier(smtp_for(sim, username="bridge", password=Secret(PASSWORD)))
        assert good.notify_sending_error("a@demo.fi", sample()).ok
        assert sim.find()[0].auth_user == "bridge"
        bad = Notifier(smtp_for(sim, username="bridge", password=Secret("wrong-password-123")))
        result = bad.notify_sending_error("a@demo.fi", sample())
        assert not result.ok
        assert result.error is not None and "login refused for user 'bridge' (535)" in result.error
        assert "wrong-password-123" not in repr(result) and PASSWORD not in sim.find()[0].raw
        assert len(sim.find()) == 1


def test_starttls_is_required_when_configured(mailbox: MailboxSimulator) -> None:
    result = Notifier(smtp_for(mailbox, tls="starttls")).notify_sending_error("a@demo.fi", sample())
    assert not result.ok and result.error is not None and "does not offer STARTTLS" in result.error
    assert mailbox.find() == []


def test_an_unreachable_server_is_reported_not_raised() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    result = Notifier(SmtpSettings(port=port, timeout=2)).notify_sending_error("a@demo.fi", sample())
    assert not result.ok and result.error == f"SMTP 127.0.0.1:{port}: connection refused"


def test_a_silent_server_times_out() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    t = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    t.start()
    try:
        started = time.monotonic()
        port = listener.getsockname()[1]
        result = Notifier(SmtpSettings(port=port, timeout=0.3)).notify_sending_error("a@demo.fi", sample())
        assert not result.ok and result.error == f"SMTP 127.0.0.1:{port}: timed out after 0.3 s"
        assert time.monotonic() - started < 3
    finally:
        for c in accepted:
            c.close()
        listener.close()


@pytest.mark.parametrize(
    ("to", "why"),
    [("", "no notification address is set"), ("not-an-address", "not an e-mail address: 'not-an-address'")],
)
def test_missing_or_bad_address(to: str, why: str) -> None:
    result = Notifier(SmtpSettings(port=1)).notify_sending_error(to, sample())
    assert not result.ok and result.error == why


def test_without_a_send_uuid_a_fresh_message_id_is_made(mailbox: MailboxSimulator) -> None:
    result = Notifier(smtp_for(mailbox)).notify_sending_error("a@demo.fi", sample(send_uuid=None))
    assert result.ok and result.message_id.startswith("<") and "sending-error" in result.message_id


@given(
    number=st.one_of(st.none(), st.text(max_size=20)),
    error=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=400),
)
def test_any_invoice_number_and_error_text_make_a_valid_message(number: str | None, error: str) -> None:
    msg = build_error_message(
        sample(invoice_number=number, error=error), to=["a@demo.fi"], from_address="b@demo.fi"
    )
    raw = msg.as_bytes()  # serialises without error
    subject = str(msg["Subject"])
    assert "\n" not in subject and "\r" not in subject
    shown = " ".join((number or "").split()) or "?"
    assert subject.startswith(f"Laskun {shown} lähetys epäonnistui")
    assert PASSWORD.encode() not in raw
