"""`severa-sandbox bridge maventa ...`: the buttons of *Asetukset > Integraatiot > Maventa/AutoInvoice*.

register (Rekisteröidy Maventaan, MV-1/MV-2), connect an existing account (MV-4), send the
authentication request (Lähetä autentikointipyyntö, MV-3), status (the Refresh button, Päivitä),
the settings (MV-6 ... MV-12), activate / deactivate the synchronisation (MV-13/MV-14) and the
transfer log (siirtoloki). Each prints text, or with ``--json`` one JSON document (keys below).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sandbox.cli_support import UsageError, VerbatimError, print_json

if TYPE_CHECKING:
    from bridge.app import Bridge
    from bridge.store import LogEntry, SendingCompany, StatusRef, Store

__all__ = ["MAVENTA_ACTIONS", "company_json", "company_table", "log_json", "run_maventa"]

Action = Callable[["Bridge", argparse.Namespace, Console, Console], int]


class StoreHolder(Protocol):
    """What the transfer log needs: the store only (a ``Bridge`` is one; so is the store alone)."""

    @property
    def store(self) -> Store: ...


# ---------------------------------------------------------------------------------- shapes
def _status_json(ref: StatusRef | None) -> dict[str, str] | None:
    return {"guid": ref.guid, "name": ref.name} if ref is not None else None


def company_json(c: SendingCompany) -> dict[str, Any]:
    """A sending company as ``--json`` prints it (the user API key only as ``user_api_key_set``)."""
    s = c.settings
    return {
        "name": c.name,
        "business_unit_guid": c.business_unit_guid,
        "business_id": c.business_id,
        "maventa_company_uuid": c.maventa_company_uuid,
        "user_api_key_set": bool(c.maventa_api_key),
        "registration": c.registration_state.value,
        "authentication": c.auth_state.value,
        "company_state": c.company_state.value,
        "approver": c.auth_email,
        "active": c.active,
        "settings": {
            "send_original_pdf": s.send_original_pdf,
            "send_by_email": s.send_by_email,
            "notification_email": s.notification_email,
            "status_to_transfer": _status_json(s.status_to_transfer),
            "status_after_transfer": _status_json(s.status_after_transfer),
            "status_after_error": _status_json(s.status_after_error),
        },
    }


def log_json(line: LogEntry, company: str | None = None) -> dict[str, Any]:
    return {
        "id": line.id,
        "at": line.at.isoformat(),
        "level": line.level.value,
        "connector": line.connector,
        "account": line.account,
        "company": company,
        "invoice_number": line.invoice_number,
        "invoice_guid": line.invoice_guid,
        "message": line.message,
    }


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def company_table(c: SendingCompany) -> Table:
    s = c.settings
    # names come from Severa: "[x]" in them is text, not Rich markup
    table = Table(title=escape(c.name), title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    rows = [
        ("business unit", c.business_unit_guid),
        ("business ID (Y-tunnus)", c.business_id or "-"),
        ("Maventa company UUID", c.maventa_company_uuid or "-"),
        ("user API key", "set" if c.maventa_api_key else "not set"),
        ("registration", c.registration_state.value),
        ("authentication", c.auth_state.value),
        ("company state", c.company_state.value),
        ("approver", c.auth_email or "-"),
        ("synchronisation", "ACTIVE" if c.active else "off"),
        ("send original PDF", _yes(s.send_original_pdf)),
        ("send by e-mail", _yes(s.send_by_email)),
        ("notification address", s.notification_email or "-"),
        ("status to transfer", s.status_to_transfer.name if s.status_to_transfer else "-"),
        ("status after transfer", s.status_after_transfer.name if s.status_after_transfer else "-"),
        ("status after error", s.status_after_error.name if s.status_after_error else "-"),
    ]
    for field_name, value in rows:
        table.add_row(field_name, escape(value))
    return table


def _said(args: argparse.Namespace, out: Console, message: str, company: SendingCompany, **extra: Any) -> int:
    """A one-line outcome: the message as text, or ``{"message", "company", ...extra}`` as JSON."""
    if args.json:
        print_json({"message": message, **extra, "company": company_json(company)}, out.file)
    else:
        out.print(message, markup=False)
    return 0


# ---------------------------------------------------------------------------------- actions
def _register(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    result = b.integration.register(args.unit, args.registrant)
    if args.json:
        return _said(args, out, result.message, result.company, key_returned=result.key_returned)
    out.print(result.message, markup=False)
    if result.key_returned:
        out.print(f"company UUID: {result.company.maventa_company_uuid}", markup=False)
    return 0


def _connect(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    key: str | None = None
    if args.api_key_env:
        if args.api_key_env not in os.environ:
            raise UsageError(
                f"--api-key-env: environment variable {args.api_key_env} is not set; export it with the user "
                "API key (Käyttäjän API-avain) from Maventa, or use --api-key-stdin"
            )
        key = os.environ[args.api_key_env].strip()
        if not key:
            raise UsageError(f"--api-key-env: environment variable {args.api_key_env} is empty")
    elif args.api_key_stdin:
        key = sys.stdin.readline().strip()
        if not key:
            raise UsageError("--api-key-stdin: no user API key on standard input; pipe it in, one line")
    company = b.integration.connect(
        args.unit, key, args.company_uuid, approver_email=args.approver, locale=args.language.upper()
    )
    message = (
        f"{company.name} connected to Maventa company {company.maventa_company_uuid}: "
        f"authentication {company.auth_state.value}, company {company.company_state.value}"
    )
    return _said(args, out, message, company)


def _auth_request(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    company = b.integration.send_authentication_request(
        args.unit, args.approver, args.also, locale=args.language.upper()
    )
    sent_to = [args.approver] + ([args.also] if args.also else [])
    message = (
        f"Authentication request sent to {', '.join(sent_to)}: authentication {company.auth_state.value}, "
        f"company {company.company_state.value}. The approver signs in Maventa; then run "
        f"`severa-sandbox bridge maventa status --unit {_quoted(company.name)}` to refresh (Päivitä)."
    )
    return _said(args, out, message, company, sent_to=sent_to)


def _quoted(text: str) -> str:
    return f'"{text}"' if any(ch.isspace() for ch in text) else text


def _status(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    without: list[str] = []
    if args.unit:
        companies = [b.integration.company(args.unit)]
    else:
        companies = b.integration.companies()
        without = b.integration.units_without_business_id()
    if not args.no_refresh:
        companies = [
            b.integration.refresh(c.business_unit_guid) if c.has_credentials else c for c in companies
        ]
    if args.json:
        print_json(
            {"companies": [company_json(c) for c in companies], "units_without_business_id": without},
            out.file,
        )
        return 0
    if not companies:
        out.print("No business unit with a business ID (Y-tunnus) in Severa.")
    for c in companies:
        out.print(company_table(c))
    if without:
        out.print(
            f"Units without a business ID (cannot send through Maventa): {', '.join(without)}", markup=False
        )
    return 0


def _settings(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    changes = (
        args.send_pdf,
        args.email,
        args.notify,
        args.no_notify or None,
        args.transfer_status,
        args.after_transfer,
        args.after_error,
    )
    company = b.integration.company(args.unit)
    if all(v is None for v in changes):
        if args.json:
            print_json(company_json(company), out.file)
        else:
            out.print(company_table(company))
        return 0
    current = company.settings

    def status(new: str | None, ref: Any) -> str | None:
        return new if new is not None else (ref.guid if ref is not None else None)

    company = b.integration.save_settings(
        args.unit,
        send_original_pdf=current.send_original_pdf if args.send_pdf is None else args.send_pdf,
        send_by_email=current.send_by_email if args.email is None else args.email,
        notification_email=None
        if args.no_notify
        else (args.notify if args.notify is not None else current.notification_email),
        status_to_transfer=status(args.transfer_status, current.status_to_transfer),
        status_after_transfer=status(args.after_transfer, current.status_after_transfer),
        status_after_error=status(args.after_error, current.status_after_error),
    )
    if args.json:
        print_json(company_json(company), out.file)
        return 0
    out.print(f"Settings of {company.name} saved.", markup=False)
    out.print(company_table(company))
    return 0


def _activate(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    company = b.integration.activate(args.unit)
    return _said(args, out, f"{company.name}: synchronisation switched on.", company)


def _deactivate(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    company = b.integration.deactivate(args.unit)
    return _said(args, out, f"{company.name}: synchronisation switched off.", company)


def show_log(b: StoreHolder, args: argparse.Namespace, out: Console, err: Console) -> int:
    from bridge.store import LogLevel

    names = {str(c.id): c.name for c in b.store.companies.all()}
    account: str | None = None
    if args.unit:
        account = str(_stored_company_id(b, args.unit))
    lines = b.store.log.entries(
        connector="maventa" if account else None,
        account=account,
        min_level=LogLevel(args.level) if args.level else None,
        limit=args.limit,
    )

    def company_of(line: LogEntry) -> str | None:
        return names.get(line.account or "") if line.connector == "maventa" else None

    if args.json:
        print_json({"entries": [log_json(line, company_of(line)) for line in lines]}, out.file)
        return 0
    if not lines:
        out.print("The transfer log is empty." if not (args.unit or args.level) else "No matching log lines.")
        return 0
    print_log_lines(out, [(line, company_of(line) or "-") for line in lines])
    return 0


def print_log_lines(out: Console, lines: list[tuple[LogEntry, str]]) -> None:
    """One line per entry (never wrapped, so it can be searched with grep): time, level, who, invoice."""
    for line, who in lines:
        style = {"ERROR": "red", "WARNING": "yellow"}.get(line.level.value)
        level = f"{line.level.value:<7}"
        out.print(
            f"{line.at:%Y-%m-%d %H:%M:%S}  {f'[{style}]{level}[/]' if style else level}  "
            f"{escape(who)}  {escape(line.invoice_number or '-'):>8}  {escape(line.message)}",
            soft_wrap=True,
        )


def _stored_company_id(b: StoreHolder, unit: str) -> int:
    """The unit's company from the store (the log is local: no service is asked)."""
    wanted = unit.strip().lower()
    companies = b.store.companies.all()
    for c in companies:
        if wanted in (c.name.lower(), c.business_unit_guid.lower()):
            return c.id
    known = ", ".join(sorted(c.name for c in companies)) or "none yet"
    raise UsageError(
        f"--unit: no company {unit!r} in the store {b.store.path} (it knows: {known}); the log holds only "
        "what this store's bridge did"
    )


MAVENTA_ACTIONS: dict[str, Action] = {
    "register": _register,
    "connect": _connect,
    "auth-request": _auth_request,
    "status": _status,
    "settings": _settings,
    "activate": _activate,
    "deactivate": _deactivate,
    "log": show_log,
}


def run_maventa(action: str, b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run a Maventa action; the settings page's refusals are said in the command line's words."""
    from bridge.connectors.maventa.integration import SENT_FLAG_ERROR, IntegrationError

    try:
        return MAVENTA_ACTIONS[action](b, args, out, err)
    except IntegrationError as exc:
        text = str(exc)
        unit = getattr(args, "unit", None) or "UNIT"
        if text == SENT_FLAG_ERROR:  # MV-14: Severa's words stay; the help article's fix follows
            then = "activate again" if action == "activate" else "save the settings again"
            raise VerbatimError(text, sent_flag_fix(b, unit, then)) from exc
        for button, command in _BUTTONS.items():  # the page's buttons are commands here
            text = text.replace(button, command.format(unit=_quoted(unit)))
        if text != str(exc):
            raise IntegrationError(text) from exc
        raise


#: The settings page's words for its buttons, and the commands that are those buttons here.
_BUTTONS = {
    "Send the authentication request or press Refresh.": (
        "Send the authentication request (bridge maventa auth-request); once the approver has signed, "
        "refresh the state with `severa-sandbox bridge maventa status --unit {unit}` (the Refresh button, "
        "Päivitä)."
    ),
}


def sent_flag_fix(b: Bridge, unit: str, then: str = "activate again") -> str:
    """MV-14's fix, as the help article gives it, naming the unit's status to transfer."""
    status = "the status to transfer"
    wanted = unit.strip().lower()
    for c in b.store.companies.all():
        if wanted in (c.name.lower(), c.business_unit_guid.lower()) and c.settings.status_to_transfer:
            status = f"the status to transfer '{c.settings.status_to_transfer.name}'"
    return (
        f"Fix: in Severa, Asetukset > Laskutus > Laskun tilat, clear the Sent flag (Lähetetty) of {status} "
        f"and save; then {then} (or choose another status to transfer with "
        "`bridge maventa settings --transfer-status`)."
    )
