"""The control plane every fake mounts under ``/_sim`` (SPEC §3.3), and the actors' plumbing.

`bp` is one module-level blueprint: its views reach the simulator serving the request through
`current_simulator()` (the app's ``extensions["simulator"]``), never through a closure, so one
blueprint serves every fake. A service's routes reach its domain root the same way,
`current_backend(Backend)`; its actors (humans and outside systems: an approver signing, a
recipient's network failing a delivery) are a module-level blueprint of their own
(``actors.py``), mounted under ``/_sim`` by the kit, each view wrapped in `locked`.

`POST /_sim/reset`, `GET|PUT /_sim/state`, `GET|DELETE /_sim/journal`,
`GET|POST|DELETE /_sim/faults`, `GET|POST /_sim/clock`, `GET /_sim/credentials`,
`GET /_sim/routes`, `GET /_sim/` (what this fake is).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request

from .body import CONTROL_MAX_DEPTH, json_body, request_json
from .clock import ClockError
from .errors import ControlError, SnapshotError
from .faults import FaultRuleError
from .lifecycle import SimulatorCore
from .nearmiss import route_rules

CONTROL_PREFIX = "/_sim"
T = TypeVar("T")

bp = Blueprint("sim_control", __name__, url_prefix=CONTROL_PREFIX)


def current_simulator() -> SimulatorCore:
    """The simulator serving this request."""
    sim = current_app.extensions.get("simulator")
    if not isinstance(sim, SimulatorCore):
        raise RuntimeError("this app was not made by a simulator of the kit")
    return sim


def current_backend(kind: type[T]) -> T:
    """The domain root (`sim.backend`) of the simulator serving this request, as a `kind`."""
    backend = current_simulator().backend
    if not isinstance(backend, kind):
        raise RuntimeError(f"the simulator's backend is a {type(backend).__name__}, not a {kind.__name__}")
    return backend


def locked(view: Callable[..., Response]) -> Callable[..., Response]:
    """An actor's view: its JSON body read and parsed first (never under the lock), then run under
    the simulator's lock (control routes skip the lock the kit takes around API routes)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        if request.get_data().strip():
            try:
                request_json(CONTROL_MAX_DEPTH)  # cached: the view's json_body() finds it parsed
            except ValueError:
                pass  # the view's json_body() says what is wrong
        with current_simulator().lock:
            return view(*args, **kwargs)

    return wrapper


def found(value: T | None, what: str) -> T:
    """`value`, or a 404 control error naming what was not found."""
    if value is None:
        raise ControlError(f"no {what}", 404, "not_found")
    return value


@bp.get("/")
def info() -> Response:
    """What this fake is: service, preset, seed, clock, journal size, fault count.

    Body: none
    """
    sim = current_simulator()
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
    """Start over: the preset's seeded data, the clock, an empty journal (faults too unless keep_faults).

    Body: {"preset"?: str, "seed"?: int, "keep_faults"?: bool}
    """
    sim = current_simulator()
    body = json_body()
    seed = body.get("seed", sim.seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or not -(2**63) <= seed < 2**63:
        raise ControlError(f"seed: expected an integer from -2**63 to 2**63-1, got {str(seed)[:40]!r}")
    preset = body.get("preset", sim.default_preset)
    if not isinstance(preset, str):
        raise ControlError(f"preset: expected a string, got {preset!r}")
    sim.reset(preset, seed, clear_faults=not body.get("keep_faults", False))
    return jsonify({"preset": sim.preset, "seed": sim.seed})


@bp.get("/state")
def get_state() -> Response:
    """The whole state as a snapshot (?redact=1 replaces secrets by placeholders).

    Body: none
    """
    sim = current_simulator()
    return jsonify(sim.export_state(redact=request.args.get("redact", "").lower() in {"1", "true", "yes"}))


@bp.put("/state")
def put_state() -> Response:
    """Load a snapshot from GET /_sim/state (this fake's state_version).

    Body: a snapshot from GET /_sim/state
    """
    sim = current_simulator()
    try:
        sim.import_state(json_body(required=True))
    except SnapshotError as exc:
        raise ControlError(str(exc), 409 if "version" in str(exc) else 400, "snapshot_refused") from exc
    return jsonify({"imported": True, "preset": sim.preset, "seed": sim.seed})


@bp.get("/journal")
def journal() -> Response:
    """The recorded requests and answers, newest last; filters method, path, path_prefix, status, tenant, since, faulted, limit.

    Body: none
    """
    sim = current_simulator()
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
    """Forget the recorded requests.

    Body: none
    """
    sim = current_simulator()
    sim.clear_journal()
    return Response(status=204)


@bp.get("/faults")
def list_faults() -> Response:
    """The fault rules in force.

    Body: none
    """
    sim = current_simulator()
    return jsonify({"faults": sim.faults.to_json()})


@bp.post("/faults")
def add_faults() -> Response:
    """Add one fault rule or a list of them (e.g. a 503 on the next matching call).

    Body: {"match": {"method"?, "path"? (glob), "tenant"?}, "effect": {"type": "status"|"delay"|"hang"|"reset"|"malformed"|"rate_limit", ...}, "trigger"?: {"type": "always"|"next"|"after"|"probability", ...}} or a list of them
    """
    sim = current_simulator()
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
    """Remove every fault rule.

    Body: none
    """
    sim = current_simulator()
    sim.faults.clear()
    return Response(status=204)


@bp.delete("/faults/<int:rule_id>")
def delete_fault(rule_id: int) -> Response:
    """Remove one fault rule by its id.

    Body: none
    """
    sim = current_simulator()
    if not sim.faults.remove(rule_id):
        raise ControlError(f"no fault rule with id {rule_id}", 404, "not_found")
    return Response(status=204)


@bp.get("/clock")
def get_clock() -> Response:
    """The simulated clock: now, offset, frozen.

    Body: none
    """
    sim = current_simulator()
    return jsonify(sim.clock.describe())


@bp.post("/clock")
def move_clock() -> Response:
    """Move the simulated clock: advance by seconds, set to a time, freeze or unfreeze.

    Body: {"advance": seconds} | {"set": ISO-8601} | {"freeze": bool}
    """
    sim = current_simulator()
    body = json_body(required=True)
    known = {"advance", "set", "freeze"}
    if not set(body) & known or set(body) - known:
        raise ControlError("expected one of {'advance': seconds, 'set': ISO-8601 time, 'freeze': bool}")
    if "freeze" in body and not isinstance(body["freeze"], bool):
        raise ControlError(f"freeze: expected true or false, got {str(body['freeze'])[:40]!r}")
    try:
        if "advance" in body:
            adv = body["advance"]
            if isinstance(adv, bool) or not isinstance(adv, (int, float)) or adv < 0:
                raise ControlError(f"advance: expected a number of seconds >= 0, got {str(adv)[:40]!r}")
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
    """The sandbox credentials the bridge needs for this fake.

    Body: none
    """
    sim = current_simulator()
    return jsonify(sim.credentials())


def _view_doc(view: Callable[..., Any] | None) -> tuple[str | None, str | None]:
    """A view's docstring as (what it does, its body): the text before a ``Body:`` line, and that
    line on (``none`` when the route takes no body)."""
    text = inspect.getdoc(view) if view is not None else None
    if not text:
        return None, None
    what, _, body = text.partition("Body:")
    body = " ".join(body.split())
    return " ".join(what.split()) or None, None if body in ("", "none") else body


@bp.get("/routes")
def routes() -> Response:
    """Every route of this fake; the control plane and the actors with what they do and their body.

    Body: none
    """
    out = []
    for path, methods, endpoint in route_rules(current_app, True):
        item: dict[str, Any] = {"path": path, "methods": sorted(methods)}
        if path.startswith(CONTROL_PREFIX):
            item["kind"] = "control" if endpoint.startswith(f"{bp.name}.") else "actor"
            item["doc"], item["body"] = _view_doc(current_app.view_functions.get(endpoint))
        else:
            item["kind"] = "api"
        out.append(item)
    return jsonify({"routes": out})
