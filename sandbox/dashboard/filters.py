"""Template helpers: formatting filters and what every page shows (navigation, clock, worker)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, current_app, request

from .security import FORM_TOKEN_FIELD, form_token

#: The navigation: (section, [(endpoint, Finnish label, English label)]).
NAV: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "Severa",
        (
            ("severa_maventa.page", "Maventa/AutoInvoice", "e-invoicing integration"),
            ("severa_maestro.page", "Maestro-integraatio", "Maestro integration"),
            ("severa.invoices", "Laskut", "invoices"),
            ("severa.statuses", "Laskun tilat", "invoice statuses"),
            ("severa.codes", "Tuotteet ja koodit", "products, work types, travel"),
        ),
    ),
    (
        "Palvelut",
        (
            ("maventa.page", "Maventa", "what Maventa did"),
            ("maestro.page", "Maestro", "what Maestro booked"),
            ("mail.inbox", "Posti", "mail inbox"),
        ),
    ),
    (
        "Työkalut",
        (
            ("tools.journal", "Loki", "journal"),
            ("tools.faults", "Viat", "faults"),
            ("tools.scenarios", "Skenaariot", "scenarios"),
            ("tools.reset", "Nollaus", "reset"),
        ),
    ),
)


#: The icon inline (a data: URL): no request of its own, so none a fast navigation could abort.
FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' "
    "height='32' rx='7' fill='%231672c4'/%3E%3Ctext x='16' y='23' font-family='Arial' font-size='20' "
    "font-weight='700' fill='%23fff' text-anchor='middle'%3ES%3C/text%3E%3C/svg%3E"
)


def when(value: Any) -> str:
    """A timestamp as ``2026-11-02 09:00:05`` (UTC, as every service of the sandbox keeps time)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def euros(value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    return f"{text} €"


def yesno(value: Any) -> str:
    return "Kyllä / yes" if value else "Ei / no"


def install(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["euros"] = euros
    app.jinja_env.filters["yesno"] = yesno
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def common() -> dict[str, Any]:
        sandbox = current_app.extensions["sandbox"]
        world = sandbox.world
        return {
            "nav": NAV,
            "sandbox": sandbox,
            "clock_now": world.clock.now() if world is not None else None,
            "worker": sandbox.worker,
            "token_field": FORM_TOKEN_FIELD,
            "form_token": form_token(),
            "endpoint": request.endpoint or "",
            "favicon": FAVICON,
        }
