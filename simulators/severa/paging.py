"""Severa's two paging styles.

* Token paging (invoices, rows, customers, users, products, source items): `pageToken` +
  `rowCount`; the answer is a bare array and a `NextPageToken` header while more remain.
  The token is opaque to clients; here it encodes the offset and a fingerprint of the
  filters, so a token reused with other filters is refused (400 InvalidParameter).
* Offset paging (statuses, work types, travel expense types, business units, addresses):
  `firstRow` (0-based) + `rowCount`.

`rowCount` above the cap is clamped to the cap ([uncertain] in the notes; the cap is
configurable, default 100); 0 or less is a 400.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import TypeVar

from simulators.kit import parse_json

from .errors import bad_param

T = TypeVar("T")


def _fingerprint(filters: str) -> str:
    return hashlib.sha1(filters.encode()).hexdigest()[:8]


def encode_token(offset: int, filters: str) -> str:
    raw = json.dumps({"o": offset, "f": _fingerprint(filters)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, filters: str) -> int:
    try:
        pad = "=" * (-len(token) % 4)
        data = parse_json(base64.urlsafe_b64decode(token + pad).decode(), max_depth=1)
        offset = data["o"]
        fp = data["f"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise bad_param("pageToken", f"Invalid page token '{token}'.") from exc
    if not isinstance(offset, int) or offset < 0:
        raise bad_param("pageToken", f"Invalid page token '{token}'.")
    if fp != _fingerprint(filters):
        raise bad_param("pageToken", "The page token does not belong to this query (the filters changed).")
    return offset


def token_page(
    items: Sequence[T], page_token: str | None, row_count: int, filters: str
) -> tuple[list[T], str | None]:
    offset = decode_token(page_token, filters) if page_token else 0
    page = list(items[offset : offset + row_count])
    nxt = offset + row_count
    return page, (encode_token(nxt, filters) if nxt < len(items) else None)


def offset_page(items: Sequence[T], first_row: int, row_count: int) -> list[T]:
    return list(items[first_row : first_row + row_count])
