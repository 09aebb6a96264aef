"""How a `severa-sandbox bridge` error reads: what happened, the URL or file involved, the next step.

* A service that does not answer: the configured base URL and, for a fake on this machine, the
  `severa-sandbox serve ...` command that starts it (else: check the base URL and the network).
* A service that refuses the bridge's own credentials: which configuration keys hold them.
* Another system's exact words (``VerbatimError``, e.g. Severa's MV-14 refusal): kept as they
  are on the first line, the fix on the next.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from bridge.config import Config
from sandbox.cli_support import VerbatimError, one_line
from sandbox.local_fakes import SERVICE_SECTIONS, LocalFakes, is_local, serve_command

__all__ = ["Session", "error_lines"]

#: Which configuration keys hold the bridge's own credentials for each service.
CREDENTIAL_KEYS = {"severa": "client_id and client_secret", "maventa": "vendor_api_key", "maestro": "api_key"}


@dataclass
class Session:
    """What one command knows about where it talks to (for its error messages)."""

    args: argparse.Namespace
    config: Config | None = None
    fakes: LocalFakes = field(default_factory=LocalFakes)

    def reset_command(self) -> str:
        config = f" --config {self.args.config}" if self.args.config else ""
        return f"severa-sandbox bridge{config} reset --yes"

    @property
    def config_file(self) -> str:
        return (self.config.source if self.config else None) or "bridge.toml"


def error_lines(exc: BaseException, session: Session) -> list[str]:
    """The error as the user reads it (the first line follows ``error:``)."""
    from bridge.connectors.maventa.integration import IntegrationError
    from bridge.errors import ServiceError, TransportFailure

    if isinstance(exc, VerbatimError):
        return [exc.words, exc.fix]
    text = one_line(str(exc))
    config = session.config
    if config is None:
        return [text]
    failure = in_chain(exc, TransportFailure)
    if isinstance(failure, TransportFailure) and failure.service in SERVICE_SECTIONS:
        section = SERVICE_SECTIONS[failure.service][0]
        base_url: str = getattr(config, section).base_url
        if is_local(base_url):
            step = (
                f"start the {failure.service} fake ({serve_command(failure.service, base_url)}), or correct "
                f"[{section}] base_url in {session.config_file}"
            )
        else:
            step = f"check [{section}] base_url in {session.config_file} and the network, then try again"
        return [f"{text}. Nothing answers at {base_url}: {step}"]
    refused = in_chain(exc, ServiceError)
    # a Maventa refusal of a company's own key is the settings page's to explain (it does)
    if isinstance(refused, ServiceError) and refused.is_auth and not isinstance(exc, IntegrationError):
        section = SERVICE_SECTIONS.get(refused.service, ("", "", 0))[0]
        if section:
            return [
                f"{text}. {refused.service} at {getattr(config, section).base_url} refused the credentials: "
                f"check [{section}] {CREDENTIAL_KEYS[section]} in {session.config_file} (or the environment)"
            ]
    return [text]


def in_chain(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """``exc`` or the first exception it was raised from (or during) that is a ``kind``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
