"""Työkalut / tools: the journal, fault rules, scenarios and reset, through the fakes' control planes.

* Loki / Journal: every exchange of every fake (``GET /_sim/journal``; secrets already redacted by
  the fake), filtered by service, method, path and status, each with a "copy as curl" line.
* Viat / Faults: add a rule (``POST /_sim/faults``), clear one or all, and how often each fired.
* Skenaariot / Scenarios: run one from the catalogue (``scenarios.engine.run_scenario``, in its
  own in-process world, not this one) and see its timeline and verdicts.
* Nollaus / Reset: a fresh demo world from a seed (every fake reset, the mailbox emptied, the
  bridge's store cleared).
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response

from ..forms import Form
from . import back, notice, sb, wake_worker

bp = Blueprint("tools", __name__, url_prefix="/tyokalut")

SERVICES = ("severa", "maventa", "maestro", "mailbox")
FAULT_SERVICES = ("severa", "maventa", "maestro")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
EFFECTS = {
    "status": "HTTP-virhe / error status",
    "rate_limit": "429 Too Many Requests",
    "delay": "viive / delay",
    "hang": "ei vastausta / hang",
    "reset": "yhteys katkeaa / connection reset",
    "malformed": "rikkinäinen vastaus / malformed body",
}
TRIGGERS = {
    "always": "aina / always",
    "next": "seuraavat N / next N calls",
    "after": "N kutsun jälkeen / after N calls",
}
SKIP_HEADERS = {"host", "content-length", "connection", "accept-encoding", "user-agent"}
FAULT_FIELDS = (
    ("match.path", "path"),
    ("match.method", "method"),
    ("effect.status", "status"),
    ("effect.seconds", "seconds"),
    ("effect.type", "effect"),
    ("trigger.count", "count"),
    ("trigger.type", "trigger"),
)


def _control_error(r: Any) -> str:
    try:
        return str(r.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {r.status_code}: {r.text[:200]}"


# ---------------------------------------------------------------------- journal
def curl_line(root: str, entry: dict[str, Any]) -> str:
    """The exchange as a curl command (secrets stay redacted as the journal shows them)."""
    url = root + entry.get("path", "") + (f"?{entry['query']}" if entry.get("query") else "")
    parts = ["curl", "-X", str(entry.get("method", "GET")), shlex.quote(url)]
    headers = entry.get("request_headers") or {}
    items = headers.items() if isinstance(headers, dict) else [tuple(h) for h in headers]
    for name, value in items:
        if str(name).lower() in SKIP_HEADERS:
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = entry.get("request_body") or ""
    if body and not body.startswith("<"):
        parts += ["--data-raw", shlex.quote(body)]
    return " ".join(parts)


def _at(entry: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(entry.get("at", "")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


@bp.get("/loki")
def journal() -> str:
    form = Form("journal", dict(request.args))
    service = form.choice("palvelu", SERVICES, required=False, label="palvelu / service")
    method = form.choice("metodi", METHODS, required=False, label="metodi / method")
    path = form.text("polku", label="polku / path", max_length=200)
    status = form.integer("tila", required=False, low=0, high=599, label="tila / status")
    limit = 150
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    if form.ok:
        params: dict[str, Any] = {"limit": limit}
        if method:
            params["method"] = method
        if path:
            params["path"] = path
        if status is not None:
            params["status"] = status
        for name in [service] if service else SERVICES:
            r = sb().control(name).get("/_sim/journal", params=params)
            if r.status_code != 200:
                problems.append(f"{name}: {_control_error(r)}")
                continue
            root = sb().root_url(name)
            for e in r.json().get("entries", []):
                e["service"] = name
                e["curl"] = curl_line(root, e)
                entries.append(e)
    entries.sort(key=_at, reverse=True)
    return render_template(
        "journal.html",
        form=form,
        forms={"journal": form},
        entries=entries[:limit],
        problems=problems,
        services=SERVICES,
        methods=METHODS,
    )


# ---------------------------------------------------------------------- faults
def _faults_page(forms: dict[str, Form] | None = None) -> str:
    rules: dict[str, list[dict[str, Any]]] = {}
    for name in FAULT_SERVICES:
        r = sb().control(name).get("/_sim/faults")
        rules[name] = r.json().get("faults", []) if r.status_code == 200 else []
    return render_template(
        "faults.html",
        forms=forms or {},
        rules=rules,
        services=FAULT_SERVICES,
        methods=METHODS,
        effects=EFFECTS,
        triggers=TRIGGERS,
    )


@bp.get("/viat")
def faults() -> str:
    return _faults_page()


@bp.post("/viat")
def add_fault() -> str | Response:
    form = Form("fault")
    service = form.choice("service", FAULT_SERVICES, label="palvelu / service")
    method = form.choice("method", METHODS, required=False, label="metodi / method")
    path = form.text("path", required=True, label="polku / path", max_length=200)
    if path is not None and not path.startswith("/"):
        form.fail("path", f"a path starts with '/', e.g. /rest-api/v1/invoices* (got {path[:40]!r})")
    effect = form.choice("effect", EFFECTS, label="vaikutus / effect")
    trigger = form.choice("trigger", TRIGGERS, label="milloin / trigger")
    status = form.integer(
        "status", required=effect == "status", low=400, high=599, label="HTTP-tila / status"
    )
    seconds = form.number(
        "seconds", required=effect in ("delay", "hang"), low=0, high=120, label="sekunnit / seconds"
    )
    count = form.integer("count", required=trigger in ("next", "after"), low=1, high=1000, label="N")
    if form.ok and service and path and effect and trigger:
        rule: dict[str, Any] = {
            "match": {"path": path, **({"method": method} if method else {})},
            "effect": {"type": effect, "after_processing": form.flag("after_processing")},
            "trigger": {"type": trigger},
        }
        if status is not None and effect == "status":
            rule["effect"]["status"] = status
        if seconds is not None and effect in ("delay", "hang"):
            rule["effect"]["seconds"] = seconds
        if count is not None and trigger in ("next", "after"):
            rule["trigger"]["count"] = count
        r = sb().control(service).post("/_sim/faults", json=rule)
        if r.status_code == 201:
            sb().record(f"Vika lisätty / fault rule added on {service}: {path}", service=service)
            notice(f"Vikasääntö lisätty / fault rule added on {service}: {path} → {EFFECTS[effect]}.")
            return back("tools.faults")
        message = _control_error(r)
        field = next((f for prefix, f in FAULT_FIELDS if prefix in message), "_form")
        form.fail(field, message)
    return _faults_page({"fault": form})


@bp.post("/viat/<service>/tyhjenna")
def clear_faults(service: str) -> Response:
    if service not in FAULT_SERVICES:
        abort(404)
    r = sb().control(service).delete("/_sim/faults")
    notice(
        f"{service}: kaikki viat poistettu / every fault rule cleared."
        if r.status_code == 204
        else _control_error(r)
    )
    return back("tools.faults")


@bp.post("/viat/<service>/<int:rule_id>/poista")
def delete_fault(service: str, rule_id: int) -> Response:
    if service not in FAULT_SERVICES:
        abort(404)
    r = sb().control(service).delete(f"/_sim/faults/{rule_id}")
    notice(
        f"{service}: sääntö / rule {rule_id} poistettu / removed."
        if r.status_code == 204
        else _control_error(r)
    )
    return back("tools.faults")


# ---------------------------------------------------------------------- scenarios
def _catalogue() -> list[Any]:
    from sandbox.scenario_cli import catalogue

    found, _ = catalogue()
    return found


@bp.get("/skenaariot")
def scenarios() -> str:
    return render_template(
        "scenarios.html", scenarios=_catalogue(), runs=sb().scenario_runs, result=None, selected=None
    )


@bp.get("/skenaariot/<scenario_id>")
def scenario(scenario_id: str) -> str:
    found = {s.id: s for s in _catalogue()}
    if scenario_id not in found:
        abort(404, f"no scenario {scenario_id!r} in the catalogue")
    return render_template(
        "scenarios.html",
        scenarios=list(found.values()),
        runs=sb().scenario_runs,
        selected=found[scenario_id],
        result=sb().scenario_runs.get(scenario_id),
    )


@bp.post("/skenaariot/<scenario_id>/aja")
def run_scenario(scenario_id: str) -> Response:
    from scenarios.engine import run_scenario as run

    found = {s.id: s for s in _catalogue()}
    if scenario_id not in found:
        abort(404, f"no scenario {scenario_id!r} in the catalogue")
    with sb().scenario_lock:  # one at a time: in-process runs share this process's simulators
        result = run(found[scenario_id])
    sb().scenario_runs[scenario_id] = result
    notice(
        f"{scenario_id}: {result.outcome} ({sum(v.ok for v in result.verdicts)}/{len(result.verdicts)} checks, {result.seconds:.2f} s)",
        "ok" if result.passed else "error",
    )
    return back("tools.scenario", scenario_id=scenario_id)


# ---------------------------------------------------------------------- reset
@bp.get("/nollaus")
def reset() -> str:
    return render_template("reset.html", forms={})


@bp.post("/nollaus")
def do_reset() -> str | Response:
    form = Form("reset")
    seed = form.integer("seed", low=0, high=2**31 - 1, label="siemen / seed")
    if not form.ok or seed is None:
        return render_template("reset.html", forms={"reset": form})
    with sb().driving():
        sb().reset(seed)
    wake_worker()
    notice(f"Uusi demomaailma siemenellä {seed} / a fresh demo world from seed {seed}.")
    return back("home.index")
