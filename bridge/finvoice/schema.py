"""Checking a Finvoice document against the official Finvoice 3.0 XSD (Finanssiala ry).

The schema is third-party material and is not shipped with the project: it is found by path.
:func:`default_xsd_path` follows the project convention (environment variable
``SEVERA_SANDBOX_SPECS`` naming the folder, else ``../shared/specs`` next to the project root);
the engine's configuration may pass any other path. Documents are parsed without entity
expansion, DTD loading or network access, and a document with a DOCTYPE is refused.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from lxml import etree

XSD_FILE_NAME = "Finvoice3.0.xsd"
SPECS_ENV = "SEVERA_SANDBOX_SPECS"


def default_xsd_path() -> Path:
    """Where the Finvoice 3.0 XSD is expected: ``$SEVERA_SANDBOX_SPECS/Finvoice3.0.xsd``, else
    ``<project root>/../shared/specs/Finvoice3.0.xsd``."""
    folder = os.environ.get(SPECS_ENV)
    if folder:
        return Path(folder).expanduser() / XSD_FILE_NAME
    project_root = Path(__file__).resolve().parents[2]
    return (project_root / ".." / "shared" / "specs" / XSD_FILE_NAME).resolve()


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@lru_cache(maxsize=4)
def _schema(path: str, mtime_ns: int) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path, _safe_parser()))


def load_schema(xsd_path: str | os.PathLike[str]) -> etree.XMLSchema:
    """The compiled schema (cached per file and modification time). ``FileNotFoundError`` when absent."""
    path = Path(xsd_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"Finvoice XSD not found at {path} (set {SPECS_ENV} to the folder that has it)"
        )
    return _schema(str(path.resolve()), path.stat().st_mtime_ns)


def validate_against_xsd(xml: bytes, xsd_path: str | os.PathLike[str]) -> list[str]:
    """Schema violations of ``xml`` as ``line N: message`` strings; an empty list means valid.

    A document that is not well-formed XML, or that carries a DOCTYPE, gives one message saying
    so. Raises ``FileNotFoundError`` when the XSD is missing (a configuration problem, not a
    document problem).
    """
    schema = load_schema(xsd_path)
    try:
        document = etree.fromstring(xml, _safe_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        return [f"line {exc.lineno}: the document is not well-formed XML: {exc.msg}"]
    if document.docinfo.doctype:
        return ["line 1: the document has a DOCTYPE declaration, which is refused"]
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]
