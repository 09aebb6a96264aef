"""Typed errors of the bridge's HTTP clients.

Every failure of a call to Severa, Maventa or Maestro ends in one of these exceptions, so the
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
    * ``MaestroError``: ``{"code", "message", "details": [{"field", "message"}]}`` gives
      ``code`` (e.g. ``invalid_api_key``, ``validation_failed``) and ``details``.
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
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BridgeError",
    "ConfigurationError",
    "MaestroError",
    "MaestroMalformedResponse",
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


class _EnvelopeError(ServiceError):
    """A service error read from the service's own JSON error body.

    ``code`` is the machine-readable kind the service names (Severa's ``type``, Maventa's and
    Maestro's ``code``), ``details`` the body's detail entries as sent. Subclasses say how to
    read their envelope (``_envelope``) and how to show a detail (``_detail_text``).
    """

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        details: list[Any] | None = None,
        body: str = "",
        *,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.details: list[Any] = list(details or [])
        super().__init__(status, message, body=body, method=method, url=url, retry_after=retry_after)

    #: envelope codes that mean the credentials were refused / the content was refused
    auth_codes: frozenset[str] = frozenset()
    validation_codes: frozenset[str] = frozenset()

    @property
    def is_auth(self) -> bool:
        return super().is_auth or self.code in self.auth_codes

    @property
    def is_validation(self) -> bool:
        return super().is_validation or self.code in self.validation_codes

    def _render(self) -> str:
        kind = f" {self.code}" if self.code else ""
        where = f" ({self.method} {self.url})" if self.method else ""
        shown = [t for t in (self._detail_text(d) for d in self.details) if t]
        extra = f" [{'; '.join(shown)}]" if shown else ""
        return f"{self.service} answered {self.status}{kind}{where}: {self.message}{extra}"

    def _detail_text(self, detail: Any) -> str:
        """How one detail entry reads in the message ("" = not shown)."""
        return ""

    @classmethod
    def _envelope(cls, payload: Any) -> tuple[str | None, str, list[Any]]:
        """``(code, message, details)`` from the parsed error body (``None`` when not JSON).

        By default the flat ``{"code", "message", "details"}`` body that Maventa and Maestro
        share; ``_details`` reads the details.
        """
        if not isinstance(payload, Mapping):
            return None, "", []
        code, message = payload.get("code"), payload.get("message")
        return (
            code if isinstance(code, str) else None,
            message if isinstance(message, str) else "",
            cls._details(payload.get("details")),
        )

    @classmethod
    def _details(cls, raw: Any) -> list[Any]:
        return list(raw) if isinstance(raw, list) else []

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
    ) -> Self:
        """Build from an error answer; ``payload`` is the parsed JSON or None."""
        code, message, details = cls._envelope(payload)
        message = message or _short_text(text) or _reason(status)
        return cls(status, code, message, details, text, method=method, url=url, retry_after=retry_after)

    @classmethod
    def from_response(cls, response: httpx.Response, payload: Any, retry_after: float | None) -> Self:
        """The typed error of an error answer (a ``ServiceHttp`` ``error_factory``)."""
        return cls.from_body(
            response.status_code,
            response.text,
            payload,
            method=response.request.method,
            url=response.request.url.path,
            retry_after=retry_after,
        )


class SeveraError(_EnvelopeError):
    """An error answer of Visma Severa's REST API (``ExceptionModel`` envelope)."""

    service = "Severa"
    details: list[dict[str, Any]]
    auth_codes = frozenset({"AuthenticationRequired", "InsufficientApiScope"})
    validation_codes = frozenset({"InvalidParameter", "InvalidRequest", "InvalidOperation"})

    @property
    def type(self) -> str | None:
        """The envelope's ``type`` (``InvalidParameter``, ``AuthenticationRequired`` ...)."""
        return self.code

    @property
    def is_scope(self) -> bool:
        """The credentials lack an API scope for this call (403 ``InsufficientApiScope``)."""
        return self.type == "InsufficientApiScope"

    @classmethod
    def _envelope(cls, payload: Any) -> tuple[str | None, str, list[Any]]:
        # the details' messages are the message; they are not repeated after it
        if not isinstance(payload, Mapping):
            return None, "", []
        inner = payload.get("error", payload)
        if not isinstance(inner, Mapping):
            return None, "", []
        kind = inner.get("type")
        raw = inner.get("details")
        details = [d for d in raw if isinstance(d, dict)] if isinstance(raw, list) else []
        message = "; ".join(
            d["message"] for d in details if isinstance(d.get("message"), str) and d["message"]
        )
        if not message and isinstance(inner.get("message"), str):
            message = inner["message"]
        return (kind if isinstance(kind, str) else None), message, details


class MaventaError(_EnvelopeError):
    """An error answer of Maventa's AutoXChange API (``{"code","message","details"}``)."""

    service = "Maventa"
    details: list[str]
    auth_codes = frozenset({"invalid_credentials", "auth_unauthorized"})

    def _detail_text(self, detail: Any) -> str:
        return str(detail)

    @classmethod
    def _details(cls, raw: Any) -> list[Any]:
        if isinstance(raw, list):
            return [str(d) for d in raw]
        return [raw] if isinstance(raw, str) else []


class MaestroError(_EnvelopeError):
    """An error answer of the Maestro ERP API (virheilmoitus: ``{"code","message","details"}``).

    ``code`` is Maestro's stable code (``invalid_api_key``, ``validation_failed``,
    ``totals_mismatch``, ``customer_not_found``, ``fallback_product_protected`` ...);
    ``details`` the ``[{"field", "message"}]`` entries, each naming the offending field
    (``rows[1].codes``) or ``None``.
    """

    service = "Maestro"
    details: list[dict[str, Any]]
    auth_codes = frozenset({"missing_api_key", "invalid_api_key"})
    validation_codes = frozenset(
        {"bad_request", "validation_failed", "totals_mismatch", "customer_not_found"}
    )

    @property
    def fields(self) -> list[str]:
        """The fields the details name, in order (e.g. ``["business_id"]``)."""
        return [str(d["field"]) for d in self.details if d.get("field")]

    def _detail_text(self, detail: Any) -> str:
        field, message = detail.get("field"), detail.get("message") or ""
        return f"{field}: {message}" if field else str(message)

    @classmethod
    def _details(cls, raw: Any) -> list[Any]:
        entries = raw if isinstance(raw, list) else []
        return [
            {
                "field": d["field"] if isinstance(d.get("field"), str) else None,
                "message": str(d.get("message") or ""),
            }
            for d in entries
            if isinstance(d, Mapping)
        ]


class MalformedResponseError(ServiceError):
    """A success status whose body is not what the API promises (e.g. not JSON)."""

    @property
    def retryable(self) -> bool:
        return True

    @classmethod
    def for_response(cls, response: httpx.Response, why: str) -> Self:
        """The error for an unreadable 2xx answer (a ``ServiceHttp`` ``malformed_factory``)."""
        return cls(
            response.status_code,
            why,
            body=response.text,
            method=response.request.method,
            url=response.request.url.path,
        )


class _MalformedEnvelope(MalformedResponseError, _EnvelopeError):
    def __init__(self, status: int, message: str, body: str = "", *, method: str = "", url: str = "") -> None:
        _EnvelopeError.__init__(self, status, None, message, None, body, method=method, url=url)


class SeveraMalformedResponse(_MalformedEnvelope, SeveraError):
    """Severa answered 2xx with an unreadable body."""


class MaventaMalformedResponse(_MalformedEnvelope, MaventaError):
    """Maventa answered 2xx with an unreadable body."""


class MaestroMalformedResponse(_MalformedEnvelope, MaestroError):
    """Maestro answered 2xx with an unreadable body."""


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
