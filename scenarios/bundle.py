"""Reproduction bundles: one JSON file that carries a scenario run to another machine.

``export_bundle(result)`` writes (version ``BUNDLE_VERSION``): the scenario (its YAML text), the
resolved starting point (the state of every service and of the bridge after ``given``), the
settings and fault rules, the state after every step, every service's journal, the verdicts and
the timeline. ``replay_bundle(path)`` runs the scenario again from the bundle, compares the
verdicts and, when they differ, names the first step whose state diverges.

**Secrets never leave.** Redaction is by value: every secret the world knows (Severa client
secrets and tokens, Maventa vendor and user API keys and tokens, the Maestro API key, the SMTP
password) is replaced wherever it appears — as it is, JSON-escaped, escaped twice (JSON inside a
journal body) or URL-encoded — by a stable placeholder ``«secret-N»`` (the same secret, the same
placeholder, so correlations survive). The export is refused when a known secret is still present
in any of those forms.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from scenarios.engine import RunResult, run_scenario
from scenarios.model import Scenario, parse_scenario
from scenarios.world import World

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "BundleError",
    "Replay",
    "export_bundle",
    "load_bundle",
    "replay_bundle",
    "world_secrets",
]

BUNDLE_FORMAT = "severa-sandbox-bundle"
BUNDLE_VERSION = 1
PLACEHOLDER = "«secret-{}»"


class BundleError(Exception):
    """A bundle cannot be written or read; ``str()`` says why and what to do."""


def world_secrets(world: World) -> list[str]:
    """Every secret value the world knows, longest first (so a secret inside another goes second)."""
    found: set[str] = set()
    for sim in world.sims.values():
        found.update(v for v in sim.secret_values() if v)
    config = world.bridge.config
    for secret in (
        config.severa.client_secret,
        config.maventa.vendor_api_key,
        config.maestro.api_key,
        config.smtp.password,
    ):
        if secret:
            found.add(secret.reveal())
    for company in world.store.companies.all():
        if company.maventa_api_key:
            found.add(company.maventa_api_key.reveal())
    for client in (world.severa, world.maventa, world.bridge.maestro):
        if client is None:
            continue
        try:
            for value in client.auth_headers().values():
                found.add(value.split(" ", 1)[-1])
        except Exception:  # a client without a token yet has nothing to hide
            pass
    return sorted((s for s in found if len(s) >= 6), key=lambda s: (-len(s), s))


def _forms(secret: str) -> list[str]:
    escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
    twice = json.dumps(escaped, ensure_ascii=False)[1:-1]
    ascii_escaped = json.dumps(secret)[1:-1]
    return list(
        dict.fromkeys([secret, escaped, twice, ascii_escaped, quote(secret, safe=""), quote_plus(secret)])
    )


def redact_text(text: str, secrets: list[str]) -> tuple[str, dict[str, str]]:
    """``text`` with every form of every secret replaced by its placeholder; and the mapping."""
    mapping: dict[str, str] = {}
    for n, secret in enumerate(sorted(secrets), start=1):
        mapping[secret] = PLACEHOLDER.format(n)
    for secret in secrets:  # longest first
        for form in _forms(secret):
            text = text.replace(form, mapping[secret])
    return text, mapping


def leftover(text: str, secrets: list[str]) -> list[str]:
    """Which secrets (shown by their first four characters) are still in ``text`` in any form."""
    left = []
    for secret in secrets:
        forms = [*_forms(secret), base64.b64encode(secret.encode()).decode()]
        if any(f and f in text for f in forms):
            left.append(secret[:4] + "…")
    return left


def _journal(world: World) -> dict[str, list[dict[str, Any]]]:
    return {name: [e.to_json() for e in sim.journal.entries()] for name, sim in world.sims.items()}


def export_bundle(result: RunResult, out: Path | str) -> Path:
    """Write the bundle of ``result`` (run with ``keep_world=True, snapshots=True``) to ``out``."""
    world = result.world
    if world is None:
        raise BundleError("the run kept no world: run the scenario with keep_world=True, snapshots=True")
    s = result.scenario
    bundle = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": {"id": s.id, "title": s.title, "file": s.path.name, "text": s.text},
        "transport": result.transport,
        "seed": s.seed,
        "given": s.given,
        "faults": s.faults,
        "settings": _settings(world),
        "steps": [
            {
                "index": st.index,
                "name": st.name,
                "source": st.source,
                "ok": st.ok,
                "error": st.error,
                "state": st.state,
            }
            for st in result.steps
        ],
        "journal": _journal(world),
        "outcome": result.outcome,
        "verdicts": [v.to_json() for v in result.verdicts],
        "timeline": result.timeline.to_json(),
    }
    secrets = world_secrets(world)
    text = json.dumps(bundle, ensure_ascii=False, indent=1, default=str)
    text, mapping = redact_text(text, secrets)
    left = leftover(text, secrets)
    if left:
        raise BundleError(
            f"the bundle would still hold {len(left)} secret(s) ({', '.join(left)}); nothing was written"
        )
    doc = json.loads(text)
    doc["redaction"] = {"placeholders": len(mapping), "by": "value (as is, JSON-escaped, URL-encoded)"}
    path = Path(out)
    _write_atomically(path, json.dumps(doc, ensure_ascii=False, indent=1))
    return path


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _settings(world: World) -> dict[str, Any]:
    companies = [
        {
            "unit": c.name,
            "business_id": c.business_id,
            "registration": c.registration_state.value,
            "authentication": c.auth_state.value,
            "active": c.active,
            "send_original_pdf": c.settings.send_original_pdf,
            "send_by_email": c.settings.send_by_email,
            "notification_email": c.settings.notification_email,
            "status_to_transfer": c.settings.status_to_transfer.name
            if c.settings.status_to_transfer
            else None,
            "status_after_transfer": c.settings.status_after_transfer.name
            if c.settings.status_after_transfer
            else None,
            "status_after_error": c.settings.status_after_error.name
            if c.settings.status_after_error
            else None,
        }
        for c in world.store.companies.all()
    ]
    maestro: dict[str, Any] | None = None
    if world.bridge.maestro is not None:
        try:
            maestro = world.bridge.maestro.get_settings()
        except Exception:
            maestro = None
    return {"maventa_companies": companies, "maestro": maestro}


def load_bundle(path: Path | str) -> dict[str, Any]:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{p}: no such bundle file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{p}: not a readable bundle ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            f"{p}: not a severa-sandbox reproduction bundle (format {doc.get('format') if isinstance(doc, dict) else None!r})"
        )
    if doc.get("version") != BUNDLE_VERSION:
        raise BundleError(
            f"{p}: bundle version {doc.get('version')!r}; this release reads version {BUNDLE_VERSION}: export it again"
        )
    return doc


@dataclass
class Replay:
    result: RunResult
    same_verdicts: bool
    differences: list[str] = field(default_factory=list)
    first_divergent_step: int | None = None


#: Fields that differ between two runs of the same scenario by design (which process did it).
VOLATILE = frozenset({"pass_id", "notify_claimed_by"})


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _normalise(value: Any) -> Any:
    """A state as compared between machines: without who-did-it fields and secrets' numbering."""
    import re

    text = json.dumps(_strip(value), sort_keys=True, ensure_ascii=False, default=str)
    return re.sub(r"«secret-\d+»", "«secret»", text)


def replay_bundle(path: Path | str) -> Replay:
    """Run the bundle's scenario again and compare its verdicts and step states with the bundle's."""
    doc = load_bundle(path)
    scenario: Scenario = parse_scenario(
        Path(str(doc["scenario"].get("file") or "bundle.yaml")), str(doc["scenario"]["text"])
    )
    result = run_scenario(scenario, doc.get("transport") or "inprocess", keep_world=True, snapshots=True)
    assert result.world is not None
    secrets = world_secrets(result.world)
    mine_steps = []
    for st in result.steps:
        text, _ = redact_text(json.dumps(st.state, ensure_ascii=False, default=str), secrets)
        mine_steps.append((st.index, json.loads(text)))
    result.world.close()
    theirs = {v["index"]: (v["ok"], v["diffs"]) for v in doc.get("verdicts", [])}
    mine = {
        v.index: (v.ok, [vars(d) if not isinstance(d, dict) else d for d in v.to_json()["diffs"]])
        for v in result.verdicts
    }
    differences = []
    if doc.get("outcome") != result.outcome:
        differences.append(f"outcome: the bundle says {doc.get('outcome')}, this machine {result.outcome}")
    for index in sorted(set(theirs) | set(mine)):
        if theirs.get(index, (None,))[0] != mine.get(index, (None,))[0]:
            differences.append(
                f"expectation {index}: the bundle says {theirs.get(index)}, this machine {mine.get(index)}"
            )
    first = None
    recorded = {st["index"]: st.get("state") for st in doc.get("steps", [])}
    for index, state in mine_steps:
        if index in recorded and _normalise(recorded[index]) != _normalise(state):
            first = index
            break
    return Replay(result, not differences, differences, first)
