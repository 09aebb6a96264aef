"""A mail with raw 8-bit bytes in its envelope or headers never breaks the mailbox.

aiosmtpd hands over MAIL FROM / RCPT TO arguments that are not UTF-8 as lone surrogates
(``surrogateescape``); stored as they were, every listing and export of the mailbox answered
500 until a reset."""

from __future__ import annotations

import socket

from simulators.mailbox import MailboxSimulator

RAW = (
    b"From: L\xe4hett\xe4j\xe4 <a@example.fi>\r\n"  # Latin-1 bytes: not UTF-8
    b"To: b@example.fi\r\n"
    b"Subject: Lasku \xc3\xa4\xff\r\n"  # UTF-8 and one stray byte
    b"\r\nterve\r\n"
)


def test_surrogate_escaped_envelope_text_is_kept_as_valid_text_and_every_view_answers() -> None:
    sim = MailboxSimulator()
    msg = sim.receive("l\udce4hettaja@example.fi", ["b\udcff@example.fi"], RAW, auth_user="k\udce4")
    assert msg.mail_from == "l\ufffdhettaja@example.fi" and msg.rcpt_tos == ["b\ufffd@example.fi"]
    assert msg.subject == "Lasku ä\ufffd" and msg.auth_user == "k\ufffd"
    with sim.client() as http:
        assert http.get("/_sim/messages").status_code == 200
        assert http.get(f"/_sim/messages/{msg.id}").json()["mail_from"] == "l\ufffdhettaja@example.fi"
        assert http.get("/_sim/state").status_code == 200


def _reply(sock: socket.socket) -> bytes:
    """One whole SMTP reply (its last line has a space after the code)."""
    data = b""
    while not any(len(ln) > 3 and ln[3:4] == b" " for ln in data.split(b"\r\n")):
        data += sock.recv(4096)
    return data


def _say(sock: socket.socket, line: bytes) -> bytes:
    sock.sendall(line + b"\r\n")
    return _reply(sock)


def test_over_smtp_raw_bytes_in_the_envelope_arrive_readable() -> None:
    sim = MailboxSimulator()
    port = sim.start_smtp()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            _reply(sock)  # greeting
            _say(sock, b"EHLO tester")
            assert _say(sock, b"MAIL FROM:<l\xe4hett\xe4j\xe4@example.fi>").startswith(b"250")
            assert _say(sock, b"RCPT TO:<b@example.fi>").startswith(b"250")
            assert _say(sock, b"DATA").startswith(b"354")
            assert _say(sock, RAW + b".").startswith(b"250")
            _say(sock, b"QUIT")
        with sim.client() as http:
            listed = http.get("/_sim/messages")
            assert listed.status_code == 200
            assert listed.json()["messages"][0]["mail_from"] == "l\ufffdhett\ufffdj\ufffd@example.fi"
    finally:
        sim.stop_smtp()
