"""The request pipeline every fake shares: checks, faults, locking, the journal, the errors.

Before a route: cross-site refusal (Host, JSON-only control writes), a body that was cut short
or too large (`kit.body`), the tenant guess, fault rules, JSON that nests too deep or holds a
lone surrogate, the JSON parse (before the lock), then the simulator's lock (unless the route is
`@unlocked`). After it: a late fault and the journal entry. Errors: the service's own
`ServiceError` answers itself (`response()`), HTTP errors and bugs are answered in the service's
envelope (`error_response`), with near-miss help on an unknown route.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from .body import BODY_PROBLEM_KEY, CONTROL_MAX_DEPTH, BodyProblem, request_json
from .control import CONTROL_PREFIX
from .errors import ControlError, ServiceError, control_error
from .faults import FaultRule
from .jsontext import SURROGATE_HINT, JSONNestingError, lone_surrogate_path
from .lifecycle import SimulatorCore
from .nearmiss import closest_routes
from .transport import INPROCESS_KEY, NETWORK_FAULT_KEY


class RequestPipeline(SimulatorCore):
    """`SimulatorCore` plus the hooks and handlers of every HTTP request."""

    # ----------------------------------------------------------------- hooks for services
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

    # ----------------------------------------------------------------- before and after a request
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

    def _service_error(self, exc: ServiceError) -> Response:
        if self._is_control(request.path):  # an actor let a domain error through: say it plainly
            return control_error(exc.message or str(exc), exc.status, "refused")
        return exc.response()

    @staticmethod
    def _control_error(exc: ControlError) -> Response:
        return control_error(exc.message, exc.status, exc.code)


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
        parts.append(f"{name}=<file {f.filename!r} {f.mimetype} {_size(f.stream)} bytes>")
    return "multipart: " + "&".join(parts)


def _size(stream: Any) -> int:
    """The whole size of an uploaded file, wherever the route left its stream: a route that read
    the file (an upload) left it at the end, and reading on from there counted 0 bytes."""
    try:
        at = stream.tell()
        size = int(stream.seek(0, 2))
        stream.seek(at)
    except (AttributeError, OSError, ValueError):
        return 0
    return size
