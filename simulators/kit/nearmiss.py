"""Near-miss help for unmatched routes: name the closest known routes (WireMock-style)."""

from __future__ import annotations

import difflib
import re

from flask import Flask

_PLACEHOLDER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def route_templates(app: Flask, include_control: bool = False) -> list[tuple[str, set[str]]]:
    """Every route as a readable template ("/v1/invoices/{guid}") with its methods."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = _PLACEHOLDER.sub(r"{\1}", rule.rule)
        if not include_control and path.startswith("/_sim"):
            continue
        out.append((path, set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
    return out


def _shape(path: str) -> str:
    # GUIDs, numbers and long ids look alike to a human reader: compare shapes, not values.
    path = re.sub(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "{id}", path
    )
    path = re.sub(r"/\d+(?=/|$)", "/{id}", path)
    return re.sub(r"\{[^}]+\}", "{id}", path)


def closest_routes(app: Flask, method: str, path: str, limit: int = 3) -> list[str]:
    templates = route_templates(app)
    shaped: dict[str, str] = {}
    for tpl, methods in templates:
        for m in sorted(methods):
            shaped.setdefault(f"{m} {_shape(tpl)}", f"{m} {tpl}")
    wanted = f"{method.upper()} {_shape(path)}"
    hits = difflib.get_close_matches(wanted, list(shaped), n=limit, cutoff=0.5)
    if not hits:
        hits = difflib.get_close_matches(wanted, list(shaped), n=limit, cutoff=0.0)
    return [shaped[h] for h in hits]
