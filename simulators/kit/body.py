"""Read each request body completely, within its limits, before the fake sees the request.

(The same middleware escapes raw non-ASCII bytes in the query string; see `BodyBuffer`.)

A fake answers one request at a time under its lock, so nothing that can be slow may happen
under it: reading a body from a slow (or malicious) client used to, and one client that sent
half a body blocked every other caller. `BodyBuffer` reads the body first, on the request's
own thread, into memory; the application then finds a complete body (``CONTENT_LENGTH`` set,
``wsgi.input`` a ``BytesIO``) or a problem in ``environ[BODY_PROBLEM_KEY]`` that the kit
answers in the service's own envelope:

* 413 when ``Content-Length`` is over the limit, or a chunked body grows past it (werkzeug
  cut such a body at the limit and the service reported "bad JSON");
* 408 when the client stops sending (a socket read timeout) or takes longer than `deadline`
  seconds for the whole body; 400 when it closes the connection before the body is complete.

Routes read the parsed body with `request_json` (the kit parses JSON before it takes the lock,
so no route parses under it) and control routes with `json_body`; a route marked `@unlocked`
takes the simulator's lock itself around its state changes.
"""

from __future__ import annotations

import io
import select
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import g, request

from .errors import ControlError
from .jsontext import DEFAULT_MAX_DEPTH, parse_json

BODY_PROBLEM_KEY = "severa_sandbox.body_problem"
CHUNK = 64 * 1024
CONTROL_MAX_DEPTH = 100  # snapshots nest about ten levels deep; anything far deeper is not ours


class BodyProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def read_body(environ: dict[str, Any], max_bytes: int, deadline: float) -> bytes:
    """The whole body of the request in `environ`, or a BodyProblem."""
    raw_length = (environ.get("CONTENT_LENGTH") or "").strip()
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    length: int | None = None
    if raw_length and not chunked:
        if not raw_length.isascii() or not raw_length.isdigit() or len(raw_length) > 18:
            raise BodyProblem(400, f"Content-Length is not a number of bytes: {raw_length[:40]!r}")
        length = int(raw_length)
        if length > max_bytes:
            raise BodyProblem(413, f"Request body too large ({length} bytes; the limit is {max_bytes} bytes)")
    elif not chunked and not environ.get("wsgi.input_terminated"):
        return b""  # neither a length nor a terminated stream: no body (what werkzeug assumes too)
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    wanted = length if length is not None else max_bytes + 1
    sock = environ.get("werkzeug.socket")
    if sock is not None and not chunked and hasattr(stream, "read1"):
        parts, got = _read_socket(stream, sock, wanted, deadline)
    else:
        parts, got = _read_stream(stream, wanted, deadline)
    if length is not None and got < length:
        raise BodyProblem(400, f"The request body ended after {got} of {length} bytes")
    if got > max_bytes:
        raise BodyProblem(413, f"Request body too large (over the limit of {max_bytes} bytes)")
    return b"".join(parts)


def _read_stream(stream: Any, wanted: int, deadline: float) -> tuple[list[bytes], int]:
    """A stream that blocks on its own (in-process, or a chunked body on a socket with a timeout)."""
    parts: list[bytes] = []
    got = 0
    ends = time.monotonic() + deadline
    while got < wanted:
        if time.monotonic() > ends:
            raise BodyProblem(408, f"The request body did not arrive within {deadline:g} s")
        try:
            part = stream.read(min(CHUNK, wanted - got))
        except TimeoutError as exc:
            raise BodyProblem(408, "The client stopped sending the request body (read timed out)") from exc
        except OSError as exc:  # the connection was reset, or a chunked body is malformed
            raise BodyProblem(400, f"The request body could not be read: {exc}") from exc
        if not part:
            break
        parts.append(part)
        got += len(part)
    return parts, got


def _read_socket(stream: Any, sock: socket.socket, wanted: int, deadline: float) -> tuple[list[bytes], int]:
    """The body from a server socket, waiting with `select` instead of a socket timeout.

    A socket read that times out leaves the connection unusable (werkzeug then fails to answer);
    so the socket is read without blocking, and the wait between reads is bounded by the
    server's read timeout (the socket's timeout) and by `deadline` for the whole body."""
    parts: list[bytes] = []
    got = 0
    ends = time.monotonic() + deadline
    idle = sock.gettimeout()
    sock.setblocking(False)
    try:
        while got < wanted:
            part = stream.read1(min(CHUNK, wanted - got))  # what is buffered or has arrived
            if not part:
                left = ends - time.monotonic()
                if left <= 0:
                    raise BodyProblem(408, f"The request body did not arrive within {deadline:g} s")
                wait = left if idle is None else min(idle, left)
                if not select.select([sock], [], [], wait)[0]:
                    if wait < left:
                        raise BodyProblem(408, "The client stopped sending the request body (read timed out)")
                    continue
                part = stream.read1(min(CHUNK, wanted - got))
                if not part:
                    break  # readable and empty: the client closed the connection
            parts.append(part)
            got += len(part)
    except OSError as exc:
        raise BodyProblem(400, f"The request body could not be read: {exc}") from exc
    finally:
        sock.settimeout(idle)
    return parts, got


class BodyBuffer:
    """WSGI middleware: the body read completely first (see the module docstring)."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], max_bytes: Callable[[], int], deadline: float = 60.0
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.deadline = deadline

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            # raw (unescaped) bytes in the query: werkzeug decodes the query strictly as UTF-8,
            # so "?a=\xff" was a 500 in every route reading a parameter; escaped, they decode
            # as everywhere else (invalid UTF-8 becomes U+FFFD)
            environ["QUERY_STRING"] = "".join(c if c < "\x80" else f"%{ord(c):02X}" for c in query)
        try:
            body = read_body(environ, self.max_bytes(), self.deadline)
        except BodyProblem as problem:
            environ[BODY_PROBLEM_KEY] = problem
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("wsgi.input_terminated", None)
        return self.app(environ, start_response)


# ---------------------------------------------------------------------------- what routes read
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


def unlocked(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a route that takes `sim.lock` itself, only around its state changes, so its slow
    work (parsing and validating an upload) never holds up the fake's other callers."""
    view.sim_unlocked = True  # type: ignore[attr-defined]
    return view
