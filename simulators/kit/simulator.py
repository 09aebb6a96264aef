"""The service-agnostic core of every fake: state lifecycle, request pipeline, control plane.

A service subclasses `Simulator`, builds its backend in `build_state`, registers its routes
and says how its errors look (`error_response`). The kit then gives it, for free:

* `POST /_sim/reset`, `GET|PUT /_sim/state` (versioned snapshots), `GET|DELETE /_sim/journal`,
  `GET|POST|DELETE /_sim/faults`, `GET|POST /_sim/clock`, `GET /_sim/credentials`,
  `GET /_sim/routes`, and the service's own actors under `/_sim/...`;
* the same operations as Python methods for in-process use;
* one seeded `IdFactory` (`self.ids`) for every id, GUID and token the service mints, its
  counter in the snapshot (`"ids"`): same seed and requests, same world;
* a journal of every exchange with secrets redacted, fault injection in the service's own
  error envelope, near-miss help on unknown routes, a request body limit, and serialised
  access to the state (one request at a time mutates it). Bodies are read completely and
  parsed (`request_json`) before the lock is taken (`kit.body`), so a slow client holds up
  nobody else; a route marked `@unlocked` takes the lock itself around its state changes.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import httpx
from flask import Blueprint, Flask, Response, current_app, g, has_app_context, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from .body import BODY_PROBLEM_KEY, BodyBuffer, BodyProblem
from .clock import ClockError, SimClock
from .faults import FaultEngine, FaultRule, FaultRuleError, Match, parse_rule
from .hosts import HostPolicy
from .ids import IdFactory, namespace_for
from .journal import DEFAULT_MAX_BYTES as DEFAULT_JOURNAL_BYTES
from .journal import Journal
from .jsontext import (
    DEFAULT_MAX_DEPTH,
    SURROGATE_HINT,
    JSONNestingError,
    has_lone_surrogate,
    lone_surrogate_path,
    parse_json,
)
from .nearmiss import closest_routes, route_templates, routes_matching
from .redact import Redactor, SecretRegistry
from .server import NetworkFaultMiddleware, ThreadedServer
from .transport import INPROCESS_KEY, NETWORK_FAULT_KEY, InProcessTransport

SNAPSHOT_FORMAT = "severa-sandbox.state"
CONTROL_PREFIX = "/_sim"
DEFAULT_MAX_BODY = 10 * 1024 * 1024
CONTROL_MAX_DEPTH = 100  # snapshots nest about ten levels deep; anything far deeper is not ours


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


class SnapshotError(ValueError):
    """A state snapshot that cannot be imported; the message says why."""


class ControlError(Exception):
    """A bad control-plane request (400 unless told otherwise)."""

    def __init__(self, message: str, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def control_error(message: str, status: int = 400, code: str = "bad_request") -> Response:
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    return resp


def request_json(max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The request's JSON body, parsed once per request (a ValueError, like `parse_json`, when it
    is not JSON). The kit parses bodies before a route takes the simulator's lock, so routes that
    read their body through this never parse under it."""
    cache: dict[int, tuple[bool, Any]] = g.setdefault("sim_json", {})
    if max_depth not in cache:
        try:
            cache[max_depth] = (True, parse_json(request.get_data(), max_depth))
        except ValueError as exc:
            cache[max_depth] = (False, exc)
    ok, value = cache[max_depth]
    if not ok:
        raise value
    return value


def unlocked(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a route that takes `sim.lock` itself, only around its state changes, so its slow
    work (parsing and validating an upload) never holds up the fake's other callers."""
    view.sim_unlocked = True  # type: ignore[attr-defined]
    return view


def json_body(required: bool = False) -> dict[str, Any]:
    """The JSON object of a control-plane request, or a clear ControlError."""
    if not request.get_data().strip():
        if required:
            raise ControlError("expected a JSON object in the request body")
        return {}
    try:
        data = request_json(CONTROL_MAX_DEPTH)
    except ValueError as exc:
        raise ControlError(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ControlError(f"expected a JSON object, got {type(data).__name__}")
    return data


class Simulator:
    """Base class of the Severa, Maventa and Maestro fakes."""

    service: ClassVar[str] = "generic"
    state_version: ClassVar[int] = 1
    presets: ClassVar[tuple[str, ...]] = ("empty", "demo")
    default_preset: ClassVar[str] = "demo"
    max_json_depth: ClassVar[int] = DEFAULT_MAX_DEPTH  # deeper request bodies get a 400 (ASP.NET's 64)
    id_namespace: ClassVar[uuid.UUID | None] = None  # None: derived from `service`

    def __init__(
        self,
        preset: str | None = None,
        seed: int = 0,
        *,
        clock: SimClock | None = None,
        journal_capacity: int = 2000,
        journal_max_bytes: int = DEFAULT_JOURNAL_BYTES,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        body_deadline: float = 60.0,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.clock = clock or SimClock()
        self.secrets = SecretRegistry()  # every secret known since the journal was last cleared
        self._redactor = Redactor(())
        self.journal = Journal(journal_capacity, journal_max_bytes)
        self.journal.redactor = self.redactor
        self.faults = FaultEngine()
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.max_body_bytes = max_body_bytes
        self.body_deadline = body_deadline
        self.allowed_hosts = HostPolicy(allowed_hosts)
        self.preset = preset or self.default_preset
        self.seed = seed
        self.ids = self._new_ids(seed)
        self._app: Flask | None = None
        self.reset(self.preset, seed, clear_faults=True)

    # ----------------------------------------------------------------- hooks for services
    def build_state(self, preset: str, seed: int) -> None:
        """Create a fresh backend for `preset` with deterministic data from `seed`."""
        raise NotImplementedError

    def export_data(self) -> dict[str, Any]:
        raise NotImplementedError

    def import_data(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def register_routes(self, app: Flask) -> None:
        raise NotImplementedError

    def register_actors(self, control: Blueprint) -> None:
        """Add the service's actors (humans, outside systems) to the control plane."""

    def error_response(
        self, status: int, message: str, *, code: str | None = None, details: Any = None
    ) -> Response:
        """An error in the service's own envelope."""
        resp = jsonify({"error": {"code": code or str(status), "message": message, "details": details}})
        resp.status_code = status
        return resp

    def invalid_text_response(self, field: str, message: str) -> Response:
        """400 for request text that is not valid Unicode, naming the field (`field` is a JSON
        path such as ``rows[1].description``); services shape it as their validation errors."""
        return self.error_response(400, message, details={field: message})

    def rate_limited_response(self, retry_after: int) -> Response:
        resp = self.error_response(429, "Too many requests", code="rate_limited")
        resp.headers["Retry-After"] = str(retry_after)
        return resp

    def tenant_of(self, req: Any) -> str | None:
        """Which tenant a request belongs to (for fault matching and the journal), without side effects."""
        return None

    def credentials(self) -> dict[str, Any]:
        """The credentials that the current state accepts (sandbox secrets)."""
        return {}

    def secret_values(self) -> list[str]:
        """Known secret values to scrub from the journal wherever they appear."""
        return []

    def legacy_id_counter(self, data: dict[str, Any]) -> int:
        """Where the id sequence stood in a snapshot written before snapshots carried ``"ids"``."""
        return 0

    def normalize_path(self, path: str) -> str:
        """The path as fault rules see it (e.g. an API version alias mapped to its canonical form)."""
        return path

    def describe(self) -> dict[str, Any]:
        return {}

    # ----------------------------------------------------------------- state lifecycle
    def reset(self, preset: str | None = None, seed: int | None = None, *, clear_faults: bool = True) -> None:
        preset = preset or self.preset
        if preset not in self.presets:
            raise ControlError(f"unknown preset {preset!r}; known presets: {', '.join(self.presets)}")
        seed = self.seed if seed is None else seed
        with self.lock:
            self.ids.load_json({"seed": seed, "counter": 0})  # before the preset: presets may mint ids
            self.build_state(preset, seed)
            self.preset, self.seed = preset, seed
            if clear_faults:
                self.faults.reset()
            self.clear_journal()

    def export_state(self, *, redact: bool = False) -> dict[str, Any]:
        with self.lock:
            snap = {
                "format": SNAPSHOT_FORMAT,
                "service": self.service,
                "version": self.state_version,
                "preset": self.preset,
                "seed": self.seed,
                "clock": self.clock.to_json(),
                "faults": self.faults.to_json(),
                "ids": self.ids.to_json(),
                "data": self.export_data(),
            }
        if redact:
            snap = self.redactor().obj(snap)
            snap["redacted"] = True
        return snap

    def import_state(self, snap: Any) -> None:
        if not isinstance(snap, dict):
            raise SnapshotError("a state snapshot must be a JSON object")
        if snap.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(f"not a severa-sandbox state snapshot (format {snap.get('format')!r})")
        if snap.get("service") != self.service:
            raise SnapshotError(
                f"this snapshot is of the {snap.get('service')!r} simulator; this is the {self.service!r} simulator"
            )
        if snap.get("version") != self.state_version:
            raise SnapshotError(
                f"snapshot version {snap.get('version')!r} is not supported by this {self.service} simulator "
                f"(it reads version {self.state_version}); export the state again with this release"
            )
        if snap.get("redacted"):
            raise SnapshotError("this snapshot was exported with secrets redacted and cannot be imported")
        if not isinstance(snap.get("data"), dict):
            raise SnapshotError("snapshot field 'data': expected an object")
        seed = snap.get("seed", self.seed)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise SnapshotError(f"snapshot field 'seed': expected an integer, got {seed!r}")
        preset = snap.get("preset", self.preset)
        if not isinstance(preset, str):
            raise SnapshotError(f"snapshot field 'preset': expected a string, got {preset!r}")
        ids = snap.get("ids")
        if ids is None:  # written before snapshots carried the id sequence
            ids = {"seed": seed, "counter": self.legacy_id_counter(snap["data"])}
        try:
            clock = SimClock.parse_json(snap.get("clock") or {})
            self._new_ids(seed).load_json(ids, default_seed=seed)  # validate before touching anything
        except (TypeError, ValueError) as exc:
            raise SnapshotError(f"snapshot is inconsistent: {exc}") from exc
        with self.lock:
            self.secrets.update(self.secret_values())  # the journal may still show them
            previous, previous_ids = self.export_data(), self.ids.to_json()
            try:
                self.ids.load_json(ids, default_seed=seed)
                self.import_data(snap["data"])
                self.faults.load_json(snap.get("faults") or [])
            except (KeyError, TypeError, ValueError, FaultRuleError) as exc:
                self.ids.load_json(previous_ids)
                self.import_data(previous)  # never lose the state we had
                raise SnapshotError(f"snapshot data is inconsistent: {exc}") from exc
            self.clock.apply(clock)
            self.preset, self.seed = preset, seed

    def _new_ids(self, seed: int) -> IdFactory:
        return IdFactory(self.id_namespace or namespace_for(self.service), seed, on_secret=self.secrets.add)

    def redactor(self) -> Redactor:
        """Redacts every secret the fake knows now or has known since the journal was cleared
        (exports, journal, logs); rebuilt only when that set changes."""
        with self.lock:  # the state's secret dictionaries must not change while they are read
            live = self.secret_values()
        known = Redactor.relevant([*self.secrets.values(), *live])
        if known != self._redactor.secrets:
            self._redactor = Redactor(known)
        return self._redactor

    def clear_journal(self) -> None:
        with self.lock:
            self.journal.clear()
            self.secrets.clear()

    def add_fault(self, rule: dict[str, Any]) -> FaultRule:
        """Add a fault rule. A rule whose ``match.path`` can match no route of this fake (a typo,
        the control plane, an alias the rule never sees) is refused, naming the closest routes."""
        self._check_fault_path(parse_rule(rule, 0).match)
        return self.faults.add(rule)

    def _check_fault_path(self, match: Match) -> None:
        if match.path is None or routes_matching(self.app, match.method, match.path, self.normalize_path):
            return
        said = f"{match.method.upper()} {match.path}" if match.method else match.path
        seen_as = self.normalize_path(match.path)
        if seen_as != match.path and routes_matching(self.app, match.method, seen_as, self.normalize_path):
            raise FaultRuleError(
                f"match.path: fault rules see requests to {match.path!r} as {seen_as!r}; write that instead"
            )
        probe = re.sub(r"\[[^]]*\]|[*?]", "", match.path) or "/"
        near = closest_routes(self.app, match.method or "GET", probe)
        raise FaultRuleError(
            f"match.path: {said!r} matches no route of the {self.service} simulator"
            + (f"; closest routes: {', '.join(near)}" if near else "")
        )

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
        control = self._control_blueprint()
        self.register_actors(control)
        app.register_blueprint(control)
        app.before_request(self._before)
        app.after_request(self._after)
        app.teardown_request(self._teardown)
        app.register_error_handler(HTTPException, self._http_error)
        app.register_error_handler(ControlError, lambda e: control_error(e.message, e.status, e.code))
        app.register_error_handler(Exception, self._unexpected)
        body = BodyBuffer(app.wsgi_app, lambda: self.max_body_bytes, self.body_deadline)
        app.wsgi_app = NetworkFaultMiddleware(body, self.stopping)  # type: ignore[method-assign]
        return app

    @staticmethod
    def _is_control(path: str) -> bool:
        return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")

    def _before(self) -> Response | None:
        g.sim_started = time.perf_counter()
        g.sim_fault = None
        control = self._is_control(request.path)
        cross_site = self._refuse_cross_site(control)
        if cross_site is not None:
            return cross_site
        problem: BodyProblem | None = request.environ.get(BODY_PROBLEM_KEY)
        if problem is not None:  # the body was cut short, too large or too slow (kit.body)
            resp = (
                control_error(
                    problem.message, problem.status, _reason(problem.status).lower().replace(" ", "_")
                )
                if control
                else self.error_response(problem.status, problem.message)
            )
            return resp
        if control:
            return self._refuse_bad_text(control=True)
        request.get_data(cache=True)  # keep the body for the journal (form parsing still works)
        try:
            g.sim_tenant = self.tenant_of(request)
        except Exception:  # a tenant guess must never break the request
            g.sim_tenant = None
        rule = self.faults.evaluate(request.method, self.normalize_path(request.path), g.sim_tenant)
        if rule is not None:
            g.sim_fault = rule
            if rule.effect.type == "delay":
                self.stopping.wait(rule.effect.seconds)
            elif not rule.effect.after_processing:
                g.sim_fault_applied = True
                return self._fault_response(rule)
        refused = self._refuse_bad_text(control=False)
        if refused is not None:
            return refused
        if _is_json(request.mimetype):
            try:  # parse before the lock: routes reading request_json() find it done
                request_json(self.max_json_depth)
            except ValueError:
                pass  # the route answers it in its own words
        view = self.app.view_functions.get(request.endpoint or "")
        if getattr(view, "sim_unlocked", False):
            return None  # the route takes the lock itself around its state changes
        self.lock.acquire()
        g.sim_locked = True
        return None

    def _refuse_cross_site(self, control: bool) -> Response | None:
        """Refuse what a web page on another site could make a browser send (SPEC §6 security).

        * A ``Host`` that is not the address the server is bound to, a loopback name or one of
          `allowed_hosts` is refused (400) on every route: DNS rebinding needs a host name the
          attacker controls, and without this a page could read ``/_sim/credentials``.
        * A state-changing control call (POST, PUT, PATCH under ``/_sim/``) needs
          ``Content-Type: application/json`` (415 otherwise): a cross-site form or a no-cors
          fetch cannot send it without a CORS preflight, which the fakes never grant. A DELETE
          needs that preflight in any case.
        The in-process transport is not reachable from a browser and is not checked."""
        env = request.environ
        if env.get(INPROCESS_KEY):
            return None
        host = request.host
        if not self.allowed_hosts.allows(host, str(env.get("SERVER_NAME", ""))):
            message = (
                f"Host {host[:100]!r} is not an address of this simulator: it answers the address it is "
                "bound to and loopback names (localhost, 127.0.0.1, ::1); allow more with "
                "allowed_hosts (severa-sandbox serve --allow-host NAME)"
            )
            if control:
                return control_error(message, 400, "host_not_allowed")
            return self.error_response(400, message)
        if control and request.method in ("POST", "PUT", "PATCH") and not _is_json(request.mimetype):
            return control_error(
                f"Content-Type must be application/json for {request.method} {request.path}, got "
                f"{request.mimetype or 'none'!r}: control calls that change state accept JSON only, "
                "so that no other web site can make a browser send them",
                415,
                "unsupported_media_type",
            )
        return None

    def _refuse_bad_text(self, *, control: bool) -> Response | None:
        """A 400 for a JSON body that nests too deeply or holds a lone surrogate, else None.

        Checked here for every service, before anything is stored: a RecursionError in any
        parser would be a 500, and a string with a lone UTF-16 surrogate (``"\\ud800"``) cannot
        be encoded, so once stored every listing, export and journal read answered 500. Only
        bodies that could hold either are parsed here (the parse is kept for the route)."""
        body = request.get_data(cache=True)
        depth = CONTROL_MAX_DEPTH if control else self.max_json_depth
        deep = body.count(b"[") + body.count(b"{") > depth
        if not deep and SURROGATE_HINT.search(body) is None:
            return None
        try:
            value = request_json(depth)
        except JSONNestingError as exc:
            if control:
                return control_error(f"request body is not valid JSON: {exc}")
            return self.error_response(400, f"The request body is not valid JSON: {exc}")
        except ValueError:
            return None  # not JSON, or bad JSON the route itself answers
        field = lone_surrogate_path(value)
        if field is None:
            return None
        message = (
            f"{field}: the text holds a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF escape), "
            "which is not Unicode; send the character itself or a complete surrogate pair"
        )
        if control:
            return control_error(message, 400, "invalid_text")
        return self.invalid_text_response(field, message)

    def _fault_response(self, rule: FaultRule) -> Response:
        e = rule.effect
        if e.type == "status":
            return self.error_response(e.status, e.message or _reason(e.status), code=e.code)
        if e.type == "rate_limit":
            return self.rate_limited_response(e.retry_after)
        if e.type == "malformed":
            return Response(
                '{"error": {"code": ',
                status=e.status if e.status < 400 else 200,
                content_type="application/json",
            )
        # hang / reset: the middleware turns this marker into a real network fault
        request.environ[NETWORK_FAULT_KEY] = (e.type, e.seconds)
        return Response(b"", status=200)

    def _after(self, response: Response) -> Response:
        if self._is_control(request.path):
            return response
        rule: FaultRule | None = g.get("sim_fault")
        late = rule is not None and rule.effect.after_processing and rule.effect.type != "delay"
        if late and rule is not None and not g.get("sim_fault_applied"):
            response = self._fault_response(rule)
        self._record(response, rule)
        return response

    def _teardown(self, exc: BaseException | None) -> None:
        if g.get("sim_locked"):
            g.sim_locked = False
            self.lock.release()

    def _record(self, response: Response, rule: FaultRule | None) -> None:
        ctype = response.content_type or ""
        if response.direct_passthrough or not _is_text(ctype):
            body = f"<{response.content_length or 0} bytes {ctype}>"
        else:
            body = response.get_data(as_text=True)
        req_ctype = request.content_type or ""
        try:
            if _is_text(req_ctype) or not req_ctype:
                req_body = request.get_data(as_text=True)
            elif "multipart" in req_ctype:
                req_body = _describe_multipart()
            else:
                req_body = f"<{request.content_length or 0} bytes {req_ctype}>"
        except HTTPException as exc:  # e.g. a body over the limit: note it, never read it
            req_body = f"<body not read: {exc.description}>"
        network = request.environ.get(NETWORK_FAULT_KEY)
        self.journal.record(
            at=self.clock.now().isoformat().replace("+00:00", "Z"),
            method=request.method,
            path=request.path,
            query=request.query_string.decode("latin-1"),
            tenant=g.get("sim_tenant"),
            status=0 if network else response.status_code,
            duration_ms=(time.perf_counter() - g.get("sim_started", time.perf_counter())) * 1000,
            request_headers=list(request.headers.items()),
            request_body=req_body,
            request_content_type=req_ctype,
            response_headers=list(response.headers.items()),
            response_body="" if network else body,
            response_content_type=ctype,
            fault=rule.describe() if rule else None,
        )

    def _http_error(self, exc: HTTPException) -> Response:
        status = exc.code or 500
        if self._is_control(request.path):
            return control_error(
                exc.description or _reason(status), status, code=_reason(status).lower().replace(" ", "_")
            )
        if isinstance(exc, NotFound) and request.url_rule is None:
            near = closest_routes(self.app, request.method, request.path)
            hint = f"; closest known routes: {', '.join(near)}" if near else ""
            return self.error_response(
                404,
                f"No route matches {request.method} {request.path}{hint}",
                details={"closest_routes": near},
            )
        if isinstance(exc, MethodNotAllowed):
            allowed = sorted(set(exc.valid_methods or []) - {"HEAD", "OPTIONS"})
            resp = self.error_response(
                405,
                f"Method {request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}",
            )
            resp.headers["Allow"] = ", ".join(allowed)
            return resp
        if status == 413:
            return self.error_response(413, f"Request body too large (limit {self.max_body_bytes} bytes)")
        return self.error_response(status, exc.description or _reason(status))

    def _unexpected(self, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return self._http_error(exc)
        self.app.logger.exception("unexpected error in the %s simulator", self.service)
        if self._is_control(request.path):
            return control_error(f"internal error in the simulator: {type(exc).__name__}", 500, "internal")
        return self.error_response(500, "An internal error occurred in the simulator.")

    # ----------------------------------------------------------------- control plane
    def _control_blueprint(self) -> Blueprint:
        bp = Blueprint("sim_control", __name__, url_prefix=CONTROL_PREFIX)
        sim = self

        @bp.get("/")
        def info() -> Response:
            return jsonify(
                {
                    "service": sim.service,
                    "state_version": sim.state_version,
                    "preset": sim.preset,
                    "seed": sim.seed,
                    "presets": list(sim.presets),
                    "clock": sim.clock.describe(),
                    "journal_entries": len(sim.journal),
                    "faults": len(sim.faults.rules()),
                    **sim.describe(),
                }
            )

        @bp.post("/reset")
        def reset() -> Response:
            body = json_body()
            seed = body.get("seed", sim.seed)
            if isinstance(seed, bool) or not isinstance(seed, int) or not -(2**63) <= seed < 2**63:
                raise ControlError(
                    f"seed: expected an integer from -2**63 to 2**63-1, got {str(seed)[:40]!r}"
                )
            preset = body.get("preset", sim.default_preset)
            if not isinstance(preset, str):
                raise ControlError(f"preset: expected a string, got {preset!r}")
            sim.reset(preset, seed, clear_faults=not body.get("keep_faults", False))
            return jsonify({"preset": sim.preset, "seed": sim.seed})

        @bp.get("/state")
        def get_state() -> Response:
            return jsonify(
                sim.export_state(redact=request.args.get("redact", "").lower() in {"1", "true", "yes"})
            )

        @bp.put("/state")
        def put_state() -> Response:
            try:
                sim.import_state(json_body(required=True))
            except SnapshotError as exc:
                raise ControlError(
                    str(exc), 409 if "version" in str(exc) else 400, "snapshot_refused"
                ) from exc
            return jsonify({"imported": True, "preset": sim.preset, "seed": sim.seed})

        @bp.get("/journal")
        def journal() -> Response:
            a = request.args

            def as_int(name: str, low: int, high: int = 10**15) -> int | None:
                v = a.get(name)
                if v is None or v == "":
                    return None
                if not re.fullmatch(r"-?[0-9]{1,16}", v) or not low <= int(v) <= high:
                    raise ControlError(
                        f"query parameter {name!r}: expected an integer from {low} to {high}, got {v[:40]!r}"
                    )
                return int(v)

            faulted = a.get("faulted")
            entries = sim.journal.entries(
                method=a.get("method"),
                path=a.get("path"),
                path_prefix=a.get("path_prefix"),
                status=as_int("status", 0, 999),  # 0: a simulated network fault (no answer)
                tenant=a.get("tenant"),
                since_id=as_int("since", 0),
                faulted=None if faulted is None else faulted.lower() in {"1", "true", "yes"},
                limit=as_int("limit", 1),
            )
            return jsonify(
                {
                    "entries": [e.to_json() for e in entries],
                    "capacity": sim.journal.capacity,
                    "max_bytes": sim.journal.max_bytes,
                    "bytes": sim.journal.bytes,
                    "dropped": sim.journal.dropped,
                }
            )

        @bp.delete("/journal")
        def clear_journal() -> Response:
            sim.clear_journal()
            return Response(status=204)

        @bp.get("/faults")
        def list_faults() -> Response:
            return jsonify({"faults": sim.faults.to_json()})

        @bp.post("/faults")
        def add_faults() -> Response:
            try:
                data = request_json(CONTROL_MAX_DEPTH) if request.get_data().strip() else None
            except ValueError as exc:
                raise ControlError(f"request body is not valid JSON: {exc}") from exc
            rules = data if isinstance(data, list) else [data]
            added = []
            for i, r in enumerate(rules):
                try:
                    added.append(sim.add_fault(r).to_json())
                except FaultRuleError as exc:
                    for done in added:
                        sim.faults.remove(done["id"])
                    where = f"rule {i}: " if isinstance(data, list) else ""
                    raise ControlError(f"{where}{exc}", code="invalid_fault_rule") from exc
            resp = jsonify(added if isinstance(data, list) else added[0])
            resp.status_code = 201
            return resp

        @bp.delete("/faults")
        def clear_faults() -> Response:
            sim.faults.clear()
            return Response(status=204)

        @bp.delete("/faults/<int:rule_id>")
        def delete_fault(rule_id: int) -> Response:
            if not sim.faults.remove(rule_id):
                raise ControlError(f"no fault rule with id {rule_id}", 404, "not_found")
            return Response(status=204)

        @bp.get("/clock")
        def get_clock() -> Response:
            return jsonify(sim.clock.describe())

        @bp.post("/clock")
        def move_clock() -> Response:
            from datetime import datetime

            body = json_body(required=True)
            known = {"advance", "set", "freeze"}
            if not set(body) & known or set(body) - known:
                raise ControlError(
                    "expected one of {'advance': seconds, 'set': ISO-8601 time, 'freeze': bool}"
                )
            if "freeze" in body and not isinstance(body["freeze"], bool):
                raise ControlError(f"freeze: expected true or false, got {str(body['freeze'])[:40]!r}")
            try:
                if "advance" in body:
                    adv = body["advance"]
                    if isinstance(adv, bool) or not isinstance(adv, (int, float)) or adv < 0:
                        raise ControlError(
                            f"advance: expected a number of seconds >= 0, got {str(adv)[:40]!r}"
                        )
                    sim.clock.advance(float(adv))
                if "set" in body:
                    try:
                        when = datetime.fromisoformat(str(body["set"]).replace("Z", "+00:00"))
                    except ValueError as exc:
                        raise ControlError(
                            f"set: expected an ISO-8601 date-time, got {str(body['set'])[:60]!r}"
                        ) from exc
                    sim.clock.set(when)
            except (ClockError, OverflowError) as exc:
                name = "set" if "set" in body and "advance" not in body else "advance"
                raise ControlError(f"{name}: {exc}") from exc
            if "freeze" in body:
                sim.clock.freeze(body["freeze"])
            sim.on_clock_moved()
            return jsonify(sim.clock.describe())

        @bp.get("/credentials")
        def credentials() -> Response:
            return jsonify(sim.credentials())

        @bp.get("/routes")
        def routes() -> Response:
            return jsonify(
                {"routes": [{"path": p, "methods": sorted(m)} for p, m in route_templates(sim.app, True)]}
            )

        return bp

    def on_clock_moved(self) -> None:
        """Called after the control plane moves the clock (e.g. to progress deliveries)."""


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _is_text(ctype: str) -> bool:
    c = ctype.lower()
    return c.startswith("text/") or "json" in c or "xml" in c or "x-www-form-urlencoded" in c


def _describe_multipart() -> str:
    """A readable summary of a multipart request: fields (values redacted later) and files."""
    parts = [f"{k}={v}" for k, v in request.form.items(multi=True)]
    for name, f in request.files.items(multi=True):
        size = f.content_length or len(f.stream.read())
        f.stream.seek(0)
        parts.append(f"{name}=<file {f.filename!r} {f.mimetype} {size} bytes>")
    return "multipart: " + "&".join(parts)
