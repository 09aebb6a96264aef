"""Text clean-up for Finvoice fields.

Length policy (documented, applied by the builder):

* Identifiers (business IDs, VAT numbers, IBAN, BIC, reference numbers, the invoice number,
  e-invoice addresses, order and buyer references, article codes) are never shortened: too long
  is an error.
* Postal address parts are never shortened either (see :mod:`.address`).
* Party names longer than 70 characters are split across repeated name elements, as Finvoice
  allows.
* Descriptive text is shortened to the element's maximum with a trailing ``…``: ``ArticleName``
  (100; the full text then goes to ``ArticleDescription`` or, beyond 512 characters, to
  ``RowFreeText`` pieces), contact names (70), the beneficiary name in the payment order (35),
  unit labels (14).
* Characters that XML 1.0 cannot carry (control characters, lone surrogates) are removed; all
  whitespace runs, line breaks included, become single spaces in one-line fields.
"""

from __future__ import annotations

import re
import textwrap

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ELLIPSIS = "…"


def xml_safe(value: object) -> str:
    """``value`` as text without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", "" if value is None else str(value))


def one_line(value: object) -> str:
    """XML-safe text with every whitespace run (newlines too) collapsed to one space."""
    return " ".join(xml_safe(value).split())


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in ``…`` when something was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def chunks(text: str, size: int) -> list[str]:
    """``text`` in consecutive pieces of at most ``size`` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def split_name(name: str, limit: int = 70) -> list[str]:
    """A party name split into pieces of 2..``limit`` characters, at spaces where possible."""
    pieces = textwrap.wrap(name, limit, break_long_words=True, break_on_hyphens=False)
    if all(len(piece) >= 2 for piece in pieces):
        return pieces
    size = limit
    pieces = chunks(name, size)
    while len(pieces) > 1 and len(pieces[-1]) < 2:
        size -= 1
        pieces = chunks(name, size)
    return pieces
