"""Reading a submitted form (or JSON body) with a message per field for anything wrong.

Every form of the dashboard goes through ``Form``: a value that is missing, too long, not an
e-mail address, not a number or not one of the choices gets a message that the page shows next
to that field (``errors[field]``); ``errors["_form"]`` is for what belongs to the whole form (e.g.
a refusal of the bridge). Nothing here raises for bad input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import request

__all__ = ["EMAIL", "Form", "submitted"]

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_TEXT = 500


def submitted() -> dict[str, Any]:
    """The submitted values: the form fields, or a JSON object's members."""
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        if isinstance(data, dict):
            return {str(k): v for k, v in data.items()}
        return {}
    return {k: v for k, v in request.form.items() if k != "_token"}


class Form:
    """One submitted form: ``values`` as given (to show them again) and ``errors`` per field."""

    def __init__(self, name: str, values: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.values: dict[str, Any] = dict(submitted() if values is None else values)
        self.errors: dict[str, str] = {}

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raw(self, field: str) -> str:
        value = self.values.get(field)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "on" if value else ""
        return str(value)

    def text(
        self, field: str, *, required: bool = False, label: str = "", max_length: int = MAX_TEXT
    ) -> str | None:
        value = self.raw(field).strip()
        if not value:
            if required:
                self.fail(field, f"{label or field} is required")
            return None
        if len(value) > max_length:
            self.fail(field, f"{label or field}: at most {max_length} characters (got {len(value)})")
            return None
        if any(ord(c) < 32 for c in value):
            self.fail(field, f"{label or field}: control characters are not allowed")
            return None
        return value

    def email(self, field: str, *, required: bool = False, label: str = "") -> str | None:
        value = self.text(field, required=required, label=label, max_length=254)
        if value is not None and not EMAIL.fullmatch(value):
            self.fail(field, f"{value!r} is not an e-mail address")
            return None
        return value

    def choice(
        self, field: str, choices: Iterable[str], *, required: bool = True, label: str = ""
    ) -> str | None:
        options = list(choices)
        value = self.raw(field).strip()
        if not value:
            if required:
                self.fail(field, f"choose {label or field}")
            return None
        if value not in options:
            self.fail(field, f"{label or field}: {value[:60]!r} is not one of the choices")
            return None
        return value

    def integer(
        self,
        field: str,
        *,
        required: bool = True,
        low: int | None = None,
        high: int | None = None,
        label: str = "",
    ) -> int | None:
        value = self.raw(field).strip()
        if not value:
            if required:
                self.fail(field, f"{label or field} is required")
            return None
        if not re.fullmatch(r"-?[0-9]{1,12}", value):
            self.fail(field, f"{label or field}: expected a whole number, got {value[:30]!r}")
            return None
        number = int(value)
        if (low is not None and number < low) or (high is not None and number > high):
            self.fail(field, f"{label or field}: expected {low} ... {high}, got {number}")
            return None
        return number

    def number(
        self, field: str, *, required: bool = True, low: float = 0.0, high: float = 1e9, label: str = ""
    ) -> float | None:
        value = self.raw(field).strip().replace(",", ".")
        if not value:
            if required:
                self.fail(field, f"{label or field} is required")
            return None
        try:
            number = float(value)
        except ValueError:
            self.fail(field, f"{label or field}: expected a number, got {value[:30]!r}")
            return None
        if not math.isfinite(number) or not low <= number <= high:
            self.fail(field, f"{label or field}: expected a number from {low:g} to {high:g}")
            return None
        return number

    def flag(self, field: str) -> bool:
        value = self.values.get(field)
        if isinstance(value, bool):
            return value
        return str(value or "").strip().lower() in {"on", "1", "true", "yes"}
