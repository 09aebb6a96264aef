"""Near-miss help for unmatched routes: name the closest known routes (WireMock-style)."""

from __future__ import annotations

import difflib
import fnmatch
import re
import string
from collections.abc import Callable

from flask import Flask

_PLACEHOLDER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def route_rules(app: Flask, include_control: bool = False) -> list[tuple[str, set[str], str]]:
    """Every route as a readable template ("/v1/invoices/{guid}") with its methods and endpoint."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = _PLACEHOLDER.sub(r"{\1}", rule.rule)
        if not include_control and path.startswith("/_sim"):
            continue
        out.append((path, set(rule.methods or ()) - {"HEAD", "OPTIONS"}, rule.endpoint))
    return out


def route_templates(app: Flask, include_control: bool = False) -> list[tuple[str, set[str]]]:
    """Every route as a readable template ("/v1/invoices/{guid}") with its methods."""
    return [(path, methods) for path, methods, _ in route_rules(app, include_control)]


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


# ----------------------------------------------------------------------------- fault rule paths
# A pattern is a list of atoms: (the characters of the alphabet it accepts, "one" or "star").
Atom = tuple[frozenset[str], str]
_SAMPLE = string.printable.strip() + " äöåé€"
_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")
MAX_GLOB = 500


def _glob_atoms(glob: str, alphabet: frozenset[str]) -> list[Atom]:
    """fnmatch's language: ``*`` any text (also ``/``), ``?`` one character, ``[...]``/``[!...]``."""
    atoms: list[Atom] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            atoms.append((alphabet, "star"))
        elif c == "?":
            atoms.append((alphabet, "one"))
        elif c == "[" and "]" in glob[i + 2 :]:
            end = glob.index("]", i + 2)
            chars = re.compile(fnmatch.translate(glob[i : end + 1]))
            atoms.append((frozenset(ch for ch in alphabet if chars.match(ch)), "one"))
            i = end
        else:
            atoms.append((frozenset(c), "one"))
        i += 1
    return atoms


def _template_atoms(rule: str, alphabet: frozenset[str]) -> list[Atom]:
    """A werkzeug rule: literal characters, and placeholders that match one path segment (``int``:
    digits; ``path``: anything, slashes too)."""
    segment = frozenset(alphabet - {"/"})
    atoms: list[Atom] = []
    pos = 0
    for m in _CONVERTER.finditer(rule):
        atoms += [(frozenset(c), "one") for c in rule[pos : m.start()]]
        conv = m.group(1) or "default"
        chars = frozenset(string.digits) if conv == "int" else alphabet if conv == "path" else segment
        atoms += [(chars, "one"), (chars, "star")]
        pos = m.end()
    atoms += [(frozenset(c), "one") for c in rule[pos:]]
    return atoms


def _intersects(a: list[Atom], b: list[Atom]) -> bool:
    """Is there a path both patterns match? (a search over pairs of positions)"""
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i][1] == "star":
            todo.append((i + 1, j))
        if j < len(b) and b[j][1] == "star":
            todo.append((i, j + 1))
        if i < len(a) and j < len(b) and not a[i][0].isdisjoint(b[j][0]):
            todo.append((i if a[i][1] == "star" else i + 1, j if b[j][1] == "star" else j + 1))
    return False


def routes_matching(
    app: Flask, method: str | None, glob: str, normalize: Callable[[str], str] = lambda p: p
) -> list[str]:
    """The routes (``METHOD /template``) whose paths, as fault rules see them (`normalize`), a
    fault rule's ``match.path`` glob can match; the control plane is never matched."""
    wanted = None if method is None else ("GET" if method.upper() == "HEAD" else method.upper())
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static" and not r.rule.startswith("/_sim")]
    alphabet = frozenset(_SAMPLE + glob + "".join(normalize(r.rule) for r in rules))
    pattern = _glob_atoms(glob[:MAX_GLOB], alphabet)
    out = []
    for rule in rules:
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        if wanted not in (None, "OPTIONS") and wanted not in methods:
            continue
        template = normalize(rule.rule)
        if _intersects(pattern, _template_atoms(template, alphabet)):
            shown = _PLACEHOLDER.sub(r"{\1}", template)
            out.append(f"{'|'.join(sorted(methods))} {shown}")
    return list(dict.fromkeys(out))
