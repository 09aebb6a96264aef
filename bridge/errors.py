"""Typed errors of the bridge's HTTP clients.

Every failure of a call to Severa or Maventa ends in one of these exceptions, so the
transfer engine can decide what to do without looking at raw HTTP:

``BridgeError``
    Base class of everything the bridge raises on purpose.
``ServiceError``
    The service *answered* with an error status (4xx/5xx) or with a body we could not
    read. Carries ``status``, ``message`` and the raw ``body`` text, plus the
    classification properties the engine needs: ``retryable`` (5xx, 429, 408),
    ``is_auth`` (401/403), ``is_validation`` (400/422), ``is_not_found`` (404),
    ``is_conflict`` (409). Subclasses add the fields of each service's own envelope:

    * ``SeveraError``: the ``ExceptionModel`` envelope
      ``{"error": {"httpStatusCode", "type", "details": [{"message", "location"...}]}}``
      gives ``type`` (e.g. ``InvalidParameter``, ``InsufficientApiScope``) and ``details``
      (the list of detail objects as sent).
    * ``MaventaError``: ``{"code", "message", "details": [str, ...]}`` gives ``code``
      (e.g. ``invalid_credentials``, ``invalid_parameters``) and ``details``.
    * ``MalformedResponseError`` (and its per-service subclasses): a 2xx answer whose
      body is not what the API promises (not JSON, wrong shape). Retryable when the
      request itself was safe to repeat.
``TransportFailure``
    No answer at all (timeout, connection reset, DNS ...). ``maybe_delivered`` is False
    only when the request certainly never left (connection refused, connect timeout);
    otherwise the caller must treat the request as "maybe delivered" and reconcile
    (for a Maventa send: look the invoice up by its uuid) before trying anything else.
``MissingScopesError``
    The Severa credentials were granted fewer API scopes than an integration needs
    (Finnish UI: "Valitse API-oikeudet"); ``missing`` names them.
``ConfigurationError``
    The client was built with unusable arguments (e.g. a Maventa call that needs the
    company UUID and user API key before registration stored them).

Messages never contain credentials: tokens, client secrets and API keys are not put
into exception text, and the bodies kept are the services' answers (which do not echo
secrets back).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "BridgeError",
    "ConfigurationError",
    "MalformedResponseError",
    "MaventaError",
    "MaventaMalformedResponse",
    "MissingScopesError",
    "ServiceError",
    "SeveraError",
    "SeveraMalformedResponse",
    "TransportFailure",
]

_BODY_LIMIT = 4000


class BridgeError(Exception):
    """Base class of every error the bridge raises on purpose."""


class ConfigurationError(BridgeError):
    """A client was constructed or called with arguments it cannot work with."""


class ServiceError(BridgeError):
    """The service answered with an error status (or an unreadable body)."""

    service: str = "service"
    #: how many attempts the retry loop made before giving up (set by ``ServiceHttp``)
    attempts: int = 1
    #: True when an earlier attempt of the same call may have reached the service
    earlier_maybe_delivered: bool = False

    def __init__(
        self,
        status: int,
        message: str,
        *,
        body: str = "",
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.body = body[:_BODY_LIMIT]
        self.method = method
        self.url = url
        self.retry_after = retry_after
        super().__init__(self._render())

    def _render(self) -> str:
        where = f" ({self.method} {self.url})" if self.method else ""
        return f"{self.service} answered {self.status}{where}: {self.message}"

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed later (5xx, 429, 408)."""
        return self.status >= 500 or self.status in (408, 429)

    @property
    def is_auth(self) -> bool:
        """Authentication or authorisation refused (401/403)."""
        return self.status in (401, 403)

    @property
    def is_validation(self) -> bool:
        """The request was understood but its content refused (400/422)."""
        return self.status in (400, 422)

    @property
    def is_not_found(self) -> bool:
        return self.status == 404

    @property
    def is_conflict(self) -> bool:
        return self.status == 409

    @property
    def is_rate_limited(self) -> bool:
        return self.status == 429


class SeveraError(ServiceError):
    """An error answer of Visma Severa's REST API (``ExceptionModel`` envelope)."""

    service = "Severa"

    def __init__(
        self,
        status: int,
        type: str | None,
        message: str,
        details: list[dict[str, Any]] | None = None,
        body: str = "",
        *,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.type = type
        self.details: list[dict[str, Any]] = list(details or [])
        super().__init__(status, message, body=body, method=method, url=url, retry_after=retry_after)

    def _render(self) -> str:
        kind = f" {self.type}" if self.type else ""
        where = f" ({self.method} {self.url})" if self.method else ""
        return f"Severa answered {self.status}{kind}{where}: {self.message}"

    @property
    def is_scope(self) -> bool:
        """The credentials lack an API scope for this call (403 ``InsufficientApiScope``)."""
        return self.type == "InsufficientApiScope"

    @property
    def is_auth(self) -> bool:
        return super().is_auth or self.type in ("AuthenticationRequired", "InsufficientApiScope")

    @property
    def is_validation(self) -> bool:
        return super().is_validation or self.type in (
            "InvalidParameter",
            "InvalidRequest",
            "InvalidOperation",
        )

    @classmethod
    def from_body(
        cls,
        status: int,
        text: str,
        payload: Any,
        *,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> SeveraError:
        """Build from an error answer; ``payload`` is the parsed JSON or None."""
        err_type: str | None = None
        details: list[dict[str, Any]] = []
        message = ""
        if isinstance(payload, Mapping):
            inner = payload.get("error", payload)
            if isinstance(inner, Mapping):
                t = inner.get("type")
                err_type = t if isinstance(t, str) else None
                raw_details = inner.get("details")
                if isinstance(raw_details, list):
                    details = [d for d in raw_details if isinstance(d, dict)]
                message = "; ".join(
                    str(d.get("message"))
                    for d in details
                    if isinstance(d.get("message"), str) and d.get("message")
                )
                if not message and isinstance(inner.get("message"), str):
                    message = inner["message"]
        if not message:
            message = _short_text(text) or _reason(status)
        return cls(status, err_type, message, details, text, method=method, url=url, retry_after=retry_after)


class MaventaError(ServiceError):
    """An error answer of Maventa's AutoXChange API (``{"code","message","details"}``)."""

    service = "Maventa"

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        details: list[str] | None = None,
        body: str = "",
        *,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.details: list[str] = list(details or [])
        super().__init__(status, message, body=body, method=method, url=url, retry_after=retry_after)

    def _render(self) -> str:
        kind = f" {self.code}" if self.code else ""
        where = f" ({self.method} {self.url})" if self.method else ""
        extra = f" [{'; '.join(self.details)}]" if self.details else ""
        return f"Maventa answered {self.status}{kind}{where}: {self.message}{extra}"

    @property
    def is_auth(self) -> bool:
        return super().is_auth or self.code in ("invalid_credentials", "auth_unauthorized")

    @classmethod
    def from_body(
        cls,
        status: int,
        text: str,
        payload: Any,
        *,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> MaventaError:
        code: str | None = None
        message = ""
        details: list[str] = []
        if isinstance(payload, Mapping):
            c = payload.get("code")
            code = c if isinstance(c, str) else None
            m = payload.get("message")
            message = m if isinstance(m, str) else ""
            raw = payload.get("details")
            if isinstance(raw, list):
                details = [str(d) for d in raw]
            elif isinstance(raw, str):
                details = [raw]
        if not message:
            message = _short_text(text) or _reason(status)
        return cls(status, code, message, details, text, method=method, url=url, retry_after=retry_after)


class MalformedResponseError(ServiceError):
    """A success status whose body is not what the API promises (e.g. not JSON)."""

    @property
    def retryable(self) -> bool:
        return True


class SeveraMalformedResponse(MalformedResponseError, SeveraError):
    """Severa answered 2xx with an unreadable body."""

    def __init__(self, status: int, message: str, body: str = "", *, method: str = "", url: str = "") -> None:
        SeveraError.__init__(self, status, None, message, None, body, method=method, url=url)


class MaventaMalformedResponse(MalformedResponseError, MaventaError):
    """Maventa answered 2xx with an unreadable body."""

    def __init__(self, status: int, message: str, body: str = "", *, method: str = "", url: str = "") -> None:
        MaventaError.__init__(self, status, None, message, None, body, method=method, url=url)


class TransportFailure(BridgeError):
    """No answer from the service (timeout, connection reset, refused ...).

    ``maybe_delivered`` is True unless the request certainly never reached the server.
    When True, the caller must assume the service may have acted on it.
    """

    def __init__(
        self,
        service: str,
        method: str,
        url: str,
        reason: str,
        *,
        maybe_delivered: bool = True,
        attempts: int = 1,
    ) -> None:
        self.service = service
        self.method = method
        self.url = url
        self.reason = reason
        self.maybe_delivered = maybe_delivered
        self.attempts = attempts
        state = "may have been delivered" if maybe_delivered else "was not delivered"
        super().__init__(
            f"no answer from {service} ({method} {url}) after {attempts} attempt(s): {reason}; the request {state}"
        )

    @property
    def retryable(self) -> bool:
        return True


class MissingScopesError(BridgeError):
    """The Severa API credentials were granted fewer scopes than an integration needs."""

    def __init__(self, missing: Iterable[str], granted: Iterable[str], purpose: str = "") -> None:
        self.missing = sorted(set(missing))
        self.granted = sorted(set(granted))
        self.purpose = purpose
        for_what = f" for {purpose}" if purpose else ""
        super().__init__(
            f"The Severa API credentials lack the scope(s) {', '.join(self.missing)}{for_what}. "
            "Add them to the client credentials in Severa (Settings > Integrations > REST API) "
            "and try again."
        )


def _short_text(text: str) -> str:
    line = " ".join(text.split())
    return line[:300]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
