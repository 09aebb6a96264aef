"""The mailbox's state: the e-mails it received, parsed once on arrival (`parse_message`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from simulators.kit.jsontext import has_lone_surrogate
from simulators.kit.serde import pick


@dataclass
class Attachment:
    filename: str | None
    content_type: str
    size: int


# the order of a message's fields in a snapshot and on the control plane
RECORD = (
    *("id", "received_at", "mail_from", "rcpt_tos", "subject", "from_header", "to_header", "message_id"),
    *("text", "attachments", "size", "html", "headers", "peer", "auth_user", "raw"),
)


@dataclass
class MailMessage:
    """One received e-mail, as the control plane shows it."""

    id: int
    received_at: str  # simulated time, ISO-8601 UTC
    mail_from: str  # SMTP envelope sender (MAIL FROM)
    rcpt_tos: list[str]  # SMTP envelope recipients (RCPT TO)
    subject: str
    from_header: str
    to_header: str
    message_id: str | None
    text: str  # the text/plain body ("" when the message has none)
    html: str | None
    headers: list[list[str]]
    attachments: list[Attachment] = field(default_factory=list)
    size: int = 0
    peer: str | None = None
    auth_user: str | None = None  # who logged in (never the password)
    raw: str = ""

    def to_json(self) -> dict[str, Any]:
        """The whole record (what a snapshot holds); `views.py` shows parts of it."""
        out = pick(self, RECORD, {"from_header": "from", "to_header": "to"})
        out["attachments"] = [vars(a) for a in self.attachments]
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MailMessage:
        return cls(
            id=int(d["id"]),
            received_at=str(d["received_at"]),
            mail_from=str(d["mail_from"]),
            rcpt_tos=[str(r) for r in d["rcpt_tos"]],
            subject=str(d["subject"]),
            from_header=str(d.get("from", "")),
            to_header=str(d.get("to", "")),
            message_id=d.get("message_id"),
            text=str(d.get("text", "")),
            html=d.get("html"),
            headers=[[str(k), str(v)] for k, v in d.get("headers", [])],
            attachments=[
                Attachment(a.get("filename"), str(a["content_type"]), int(a["size"]))
                for a in d.get("attachments", [])
            ],
            size=int(d.get("size", 0)),
            peer=d.get("peer"),
            auth_user=d.get("auth_user"),
            raw=str(d.get("raw", "")),
        )


def parse_message(
    msg_id: int,
    received_at: str,
    mail_from: str,
    rcpt_tos: list[str],
    content: bytes,
    *,
    peer: str | None = None,
    auth_user: str | None = None,
) -> MailMessage:
    """Parse raw RFC 5322 bytes; a malformed message is kept with whatever could be read."""
    parsed = BytesParser(policy=policy.default).parsebytes(content)
    assert isinstance(parsed, EmailMessage)
    text, html = "", None
    attachments: list[Attachment] = []
    try:
        plain = parsed.get_body(preferencelist=("plain",))
        text = _lf(plain.get_content()) if plain is not None else ""
        rich = parsed.get_body(preferencelist=("html",))
        html = _lf(rich.get_content()) if rich is not None else None
        for part in parsed.iter_attachments():
            payload = part.get_payload(decode=True)
            attachments.append(
                Attachment(
                    part.get_filename(),
                    part.get_content_type(),
                    len(payload) if isinstance(payload, bytes) else 0,
                )
            )
    except (LookupError, ValueError, AttributeError, TypeError):
        text = content.decode("utf-8", "replace")  # keep something readable
    message_id = _clean(_header(parsed, "Message-ID")).strip()  # an identifier: folding is not part of it
    return MailMessage(
        id=msg_id,
        received_at=received_at,
        mail_from=_clean(mail_from),
        rcpt_tos=[_clean(r) for r in rcpt_tos],
        subject=_clean(_header(parsed, "Subject")),
        from_header=_clean(_header(parsed, "From")),
        to_header=_clean(_header(parsed, "To")),
        message_id=message_id or None,
        text=_clean(text),
        html=None if html is None else _clean(html),
        headers=[[_clean(k), _clean(_str(v))] for k, v in parsed.items()],
        attachments=[
            Attachment(None if a.filename is None else _clean(a.filename), _clean(a.content_type), a.size)
            for a in attachments
        ],
        size=len(content),
        peer=peer,
        auth_user=None if auth_user is None else _clean(auth_user),
        raw=content.decode("utf-8", "replace"),
    )


def _clean(text: str) -> str:
    """Text as valid Unicode. The e-mail parser keeps the raw 8-bit bytes of a header it cannot
    decode as lone surrogates (``surrogateescape``), which no JSON answer can carry (every
    listing answered 500): the bytes are read as UTF-8 instead, anything else becomes U+FFFD."""
    if text.isascii() or not has_lone_surrogate(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError):
        return ""
    return _str(value) if value is not None else ""  # as a reader of the very bytes would see it


def _str(value: Any) -> str:
    try:
        return str(value)
    except (ValueError, IndexError, TypeError):
        return repr(value)


def _lf(text: str) -> str:
    """SMTP carries CRLF; readers want plain newlines."""
    return text.replace("\r\n", "\n")
