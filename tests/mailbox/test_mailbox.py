"""The sandbox mailbox: real SMTP in, messages out over the control plane."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import httpx
import pytest
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from simulators.mailbox import MailboxSimulator


@pytest.fixture(scope="module")
def started() -> Iterator[MailboxSimulator]:
    sim = MailboxSimulator()
    sim.start_smtp()
    yield sim
    sim.stop_smtp()


@pytest.fixture
def mailbox(started: MailboxSimulator) -> MailboxSimulator:
    started.reset()
    return started


def send(
    sim: MailboxSimulator,
    *,
    to: str = "ops@example.fi",
    subject: str = "Hello",
    body: str = "text",
    sender: str = "bridge@example.fi",
    attach: bytes | None = None,
) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(body)
    if attach is not None:
        msg.add_attachment(attach, maintype="application", subtype="pdf", filename="lasku.pdf")
    assert sim.smtp_port is not None
    with smtplib.SMTP("127.0.0.1", sim.smtp_port, timeout=5) as smtp:
        smtp.send_message(msg)


def test_a_message_sent_by_smtp_is_listed_and_readable_over_the_control_plane(
    mailbox: MailboxSimulator,
) -> None:
    fake = Faker("fi_FI")
    fake.seed_instance(7)
    body = fake.paragraph() + "\nÄäkköset: åäö ÅÄÖ"
    send(mailbox, to="kirjanpito@example.fi", subject="Laskun 1001 lähetys epäonnistui", body=body)
    http = mailbox.client()
    listed = http.get("/_sim/messages").json()
    assert listed["count"] == 1
    summary = listed["messages"][0]
    assert summary["rcpt_tos"] == ["kirjanpito@example.fi"]
    assert summary["mail_from"] == "bridge@example.fi"
    assert summary["subject"] == "Laskun 1001 lähetys epäonnistui"
    assert summary["text"].rstrip("\n") == body
    detail = http.get(f"/_sim/messages/{summary['id']}").json()
    assert ["Subject", "Laskun 1001 lähetys epäonnistui"] in detail["headers"]
    raw = http.get(f"/_sim/messages/{summary['id']}", params={"format": "raw"})
    assert raw.headers["content-type"].startswith("message/rfc822")
    assert "Subject:" in raw.text


def test_filters_by_recipient_sender_subject_since_and_limit(mailbox: MailboxSimulator) -> None:
    send(mailbox, to="a@example.fi", subject="Invoice 1 failed")
    send(mailbox, to="b@example.fi", subject="Invoice 2 failed", sender="other@example.fi")
    send(mailbox, to="a@example.fi", subject="Weekly report")
    http = mailbox.client()

    def subjects(**params: str) -> list[str]:
        return [m["subject"] for m in http.get("/_sim/messages", params=params).json()["messages"]]

    assert subjects(to="a@example.fi") == ["Invoice 1 failed", "Weekly report"]
    assert subjects(subject="FAILED") == ["Invoice 1 failed", "Invoice 2 failed"]
    assert subjects(**{"from": "other@"}) == ["Invoice 2 failed"]
    assert subjects(since="1") == ["Invoice 2 failed", "Weekly report"]
    assert subjects(limit="1") == ["Weekly report"]


def test_unknown_message_and_bad_query_are_clear_errors(mailbox: MailboxSimulator) -> None:
    http = mailbox.client()
    missing = http.get("/_sim/messages/999")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "no message with id 999"
    bad = http.get("/_sim/messages", params={"limit": "many"})
    assert bad.status_code == 400
    assert "limit" in bad.json()["error"]["message"]


def test_delete_and_reset_empty_the_mailbox(mailbox: MailboxSimulator) -> None:
    send(mailbox)
    http = mailbox.client()
    assert http.delete("/_sim/messages").status_code == 204
    assert http.get("/_sim/messages").json()["count"] == 0
    send(mailbox)
    assert http.post("/_sim/reset", json={}).status_code == 200
    assert http.get("/_sim/messages").json()["count"] == 0
    send(mailbox)  # SMTP keeps listening across a reset
    assert http.get("/_sim/messages").json()["messages"][0]["id"] == 1


def test_snapshot_round_trip_keeps_messages(mailbox: MailboxSimulator) -> None:
    send(mailbox, subject="Keep me", attach=b"%PDF-1.4 fake")
    snap = mailbox.export_state()
    mailbox.reset()
    assert mailbox.find() == []
    mailbox.import_state(snap)
    [msg] = mailbox.find()
    assert msg.subject == "Keep me"
    assert [(a.filename, a.content_type, a.size) for a in msg.attachments] == [
        ("lasku.pdf", "application/pdf", 13)
    ]
    send(mailbox, subject="Next")
    assert [m.id for m in mailbox.find()] == [1, 2]


def test_received_at_follows_the_simulated_clock(mailbox: MailboxSimulator) -> None:
    mailbox.clock.freeze()
    mailbox.clock.set(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    try:
        send(mailbox)
    finally:
        mailbox.clock.freeze(False)
    assert mailbox.find()[0].received_at == "2030-01-02T03:04:05Z"


def test_messages_over_the_size_limit_are_refused_with_552() -> None:
    with MailboxSimulator(max_message_bytes=2000) as sim:
        with pytest.raises(smtplib.SMTPResponseException) as exc:
            send(sim, body="x" * 5000)
        assert exc.value.smtp_code == 552
        send(sim, body="small")
        assert [m.text.strip() for m in sim.find()] == ["small"]


def test_capacity_drops_the_oldest_and_counts_them() -> None:
    with MailboxSimulator(capacity=2) as sim:
        for i in range(3):
            send(sim, subject=f"m{i}")
        listed = sim.client().get("/_sim/messages").json()
        assert [m["subject"] for m in listed["messages"]] == ["m1", "m2"]
        assert listed["dropped"] == 1


def test_required_login_is_checked_and_the_user_recorded_without_the_password() -> None:
    with MailboxSimulator(smtp_credentials=("bridge", "s3cret-pass")) as sim:
        assert sim.smtp_port is not None
        with (
            smtplib.SMTP("127.0.0.1", sim.smtp_port, timeout=5) as smtp,
            pytest.raises(smtplib.SMTPAuthenticationError),
        ):
            smtp.login("bridge", "wrong")
        with (
            smtplib.SMTP("127.0.0.1", sim.smtp_port, timeout=5) as smtp,
            pytest.raises(smtplib.SMTPSenderRefused),  # 530 authentication required
        ):
            smtp.sendmail("a@example.fi", ["b@example.fi"], "Subject: x\r\n\r\nbody")
        with smtplib.SMTP("127.0.0.1", sim.smtp_port, timeout=5) as smtp:
            smtp.login("bridge", "s3cret-pass")
            smtp.sendmail("a@example.fi", ["b@example.fi"], "Subject: x\r\n\r\nbody")
        detail = sim.client().get("/_sim/messages/1").json()
        assert detail["auth_user"] == "bridge"
        assert "s3cret-pass" not in str(sim.export_state())


def test_serve_runs_http_and_smtp_and_stop_ends_both() -> None:
    sim = MailboxSimulator()
    server = sim.serve()
    try:
        info = httpx.get(f"{server.url}/_sim/smtp", timeout=5).json()
        assert info["running"] is True and info["port"] == sim.smtp_port
        send(sim, subject="over the wire")
        listed = httpx.get(f"{server.url}/_sim/messages", params={"subject": "wire"}, timeout=5).json()
        assert listed["count"] == 1
    finally:
        server.stop()
    assert not sim.smtp_running
    assert sim.smtp_port is None


def test_start_smtp_is_idempotent_and_restartable() -> None:
    sim = MailboxSimulator()
    port = sim.start_smtp()
    assert sim.start_smtp() == port
    sim.stop_smtp()
    sim.stop_smtp()
    assert sim.start_smtp() > 0
    send(sim)
    sim.stop_smtp()
    assert len(sim.find()) == 1


@given(
    subject=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60),
    body=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=200),
)
def test_any_unicode_subject_and_body_survive_the_trip(
    started: MailboxSimulator, subject: str, body: str
) -> None:
    started.clear()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.fi", "b@example.fi", subject
    msg.set_content(body)
    assert started.smtp_port is not None
    with smtplib.SMTP("127.0.0.1", started.smtp_port, timeout=5) as smtp:
        smtp.send_message(msg)
    [got] = started.find()
    # what a reader of the very bytes that were sent would see: the trip itself changes nothing
    expected = BytesParser(policy=policy.default).parsebytes(msg.as_bytes())
    assert got.subject == str(expected["Subject"])
    assert got.text == expected.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert got.rcpt_tos == ["b@example.fi"]
