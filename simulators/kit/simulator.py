"""`Simulator`: the base class of every fake, and the Flask app the kit builds for it.

A service subclasses `Simulator` in its ``service.py`` and says, as data, what it serves:

* `blueprint` – its API, a module-level blueprint (``routes.py``) whose views reach the domain
  with `kit.current_backend` (never a closure over the simulator);
* `actors` – its control-plane actors, a module-level blueprint (``actors.py``) mounted under
  ``/_sim`` next to the kit's own control plane (`kit.control`);
* `error_response` – its error envelope (``errors.py``); every `ServiceError` it raises
  answers itself (`ServiceError.response`);
* `build_state` / `export_data` / `import_data` – its `backend` (``backend.py``) for a preset.

The kit then gives it, for free: reset, versioned snapshots, the journal (secrets redacted),
fault injection in the service's own envelope, the simulated clock, near-miss help on unknown
routes, body limits, cross-site refusal, one seeded `IdFactory` (`self.ids`, its counter in the
snapshot) and serialised access to the state (one request at a time mutates it; bodies are
read and parsed before the lock is taken, see `kit.body`).
"""

from __future__ import annotations

import logging
import traceback
from types import ModuleType
from typing import Any, ClassVar, Generic, TypeVar, overload

import httpx
from flask import Blueprint, Flask, current_app, has_app_context
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from . import control
from .body import BodyBuffer
from .errors import ControlError, ServiceError
from .jsontext import has_lone_surrogate
from .pipeline import RequestPipeline
from .server import NetworkFaultMiddleware, ThreadedServer
from .transport import InProcessTransport


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, keys in insertion order, non-ASCII as itself; but a string that cannot be
    encoded (a lone surrogate that reached the state through the Python API, or a mail header
    of raw bytes) is written as a ``\\uXXXX`` escape instead of failing the whole answer."""

    sort_keys = False
    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        text = super().dumps(obj, **kwargs)
        if not text.isascii() and has_lone_surrogate(text):
            text = super().dumps(obj, **{**kwargs, "ensure_ascii": True})
        return text


class _RedactingLogFilter(logging.Filter):
    """Each record of a simulator's logger (message and traceback) with every secret the
    simulator serving the request knows replaced: logs are shared as freely as journals."""

    def filter(self, record: logging.LogRecord) -> bool:
        sim = current_app.extensions.get("simulator") if has_app_context() else None
        if not isinstance(sim, Simulator):
            return True
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.stack_info:
            text += "\n" + record.stack_info
        record.msg, record.args = sim.redactor().text(text), ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_LOG_FILTER = _RedactingLogFilter()
T = TypeVar("T")


class Alias(Generic[T]):
    """A read-only attribute that reads another one, along a path of names:
    ``state = Alias[SeveraState]("backend", "state")`` keeps ``sim.state`` meaning
    ``sim.backend.state`` (an old name kept working after the thing moved)."""

    def __init__(self, *path: str) -> None:
        self.path = path

    @overload
    def __get__(self, obj: None, owner: type) -> Alias[T]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> T: ...

    def __get__(self, obj: object | None, owner: type) -> Any:
        if obj is None:
            return self
        value: Any = obj
        for name in self.path:
            value = getattr(value, name)
        return value


class Simulator(RequestPipeline):
    """Base class of the Severa, Maventa, Maestro and mailbox fakes.

    A service names its parts where it subclasses, as data::

        class SeveraSimulator(Simulator, service="severa", routes=routes, actors=actors, errors=errors):

    `routes.bp` becomes `blueprint`, `actors.bp` the control-plane actors, `errors.error_response`
    (and `errors.invalid_text_response`, when there is one) the envelope the kit answers in."""

    blueprint: ClassVar[Blueprint | None] = None  # the service's API (routes.py)
    actors: ClassVar[Blueprint | None] = None  # its control-plane actors (actors.py), under /_sim

    def __init_subclass__(
        cls,
        *,
        service: str | None = None,
        routes: ModuleType | None = None,
        actors: ModuleType | None = None,
        errors: ModuleType | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if service is not None:
            cls.service = service
        if routes is not None:
            cls.blueprint = routes.bp
        if actors is not None:
            cls.actors = actors.bp
        for hook in ("error_response", "invalid_text_response"):
            if errors is not None and hasattr(errors, hook):
                setattr(cls, hook, staticmethod(getattr(errors, hook)))

    def register_routes(self, app: Flask) -> None:
        """Register the service's API; by default its `blueprint`."""
        if self.blueprint is None:
            raise NotImplementedError(f"{type(self).__name__} declares no blueprint")
        app.register_blueprint(self.blueprint)

    def register_actors(self, control: Blueprint) -> None:
        """Add actors to a per-app control blueprint (a service declares `actors` instead)."""

    # ----------------------------------------------------------------- transports
    @property
    def app(self) -> Flask:
        if self._app is None:
            self._app = self._create_app()
        return self._app

    def transport(self) -> InProcessTransport:
        return InProcessTransport(self.app)

    def client(self, base_url: str = "http://sim.local", **kwargs: Any) -> httpx.Client:
        return httpx.Client(transport=self.transport(), base_url=base_url, **kwargs)

    def serve(self, host: str = "127.0.0.1", port: int = 0, *, read_timeout: float = 30.0) -> ThreadedServer:
        return ThreadedServer(
            self.app, host=host, port=port, stopping=self.stopping, read_timeout=read_timeout
        ).start()

    # ----------------------------------------------------------------- the app
    def _create_app(self) -> Flask:
        app = Flask(f"simulators.{self.service}")
        app.json = SafeJSONProvider(app)
        if _LOG_FILTER not in app.logger.filters:
            app.logger.addFilter(_LOG_FILTER)
        app.config["MAX_CONTENT_LENGTH"] = self.max_body_bytes
        app.extensions["simulator"] = self
        app.url_map.strict_slashes = False
        self.register_routes(app)
        app.register_blueprint(control.bp)
        if self.actors is not None:
            app.register_blueprint(self.actors, url_prefix=control.CONTROL_PREFIX)
        extra = Blueprint("sim_actors", __name__, url_prefix=control.CONTROL_PREFIX)
        self.register_actors(extra)
        if extra.deferred_functions:
            app.register_blueprint(extra)
        app.before_request(self._before)
        app.after_request(self._after)
        app.teardown_request(self._teardown)
        app.register_error_handler(HTTPException, self._http_error)
        app.register_error_handler(ServiceError, self._service_error)
        app.register_error_handler(ControlError, self._control_error)
        app.register_error_handler(Exception, self._unexpected)
        body = BodyBuffer(app.wsgi_app, lambda: self.max_body_bytes, self.body_deadline)
        app.wsgi_app = NetworkFaultMiddleware(body, self.stopping)  # type: ignore[method-assign]
        return app
