"""SMTP AUTH (PLAIN/LOGIN, accepted without TLS: a local catcher). With credentials configured
(`MailboxSimulator(smtp_credentials=(user, password))`) a login must match them; without, any
login is accepted. Either way the user name is recorded on the message, never the password."""

from __future__ import annotations

import hmac


def smtp_login_ok(required: tuple[str, str] | None, user: str, password: str) -> bool:
    if required is None:  # the sandbox accepts any login and remembers who it was
        return True
    return hmac.compare_digest(user.encode(), required[0].encode()) & hmac.compare_digest(
        password.encode(), required[1].encode()
    )
