"""`severa-sandbox bridge maestro ...`: the Severa → Maestro integration from the command line.

* ``preflight``: what the help article asks for, checked now (MA-4: the API credentials reach
  customers, projects and users — *Asiakkaat*, *Työt*, *Käyttäjät* => *Kaikki*; MA-8: the two
  invoice statuses of Maestro's settings exist in Severa). Exit 0 ready, 1 problems found.
* ``settings``: Maestro's Severa integration settings (*Severa-liittymän asetukset*: the source
  status, the transferred status, the fallback product *oletustuote*), which live in Maestro,
  and the bridge's own options for Maestro (status after an error, notification address), kept
  in the bridge's store under the Maestro company. Options change them; statuses must exist in
  Severa (*Asetukset > Laskutus > Laskun tilat*).
* ``sync-customers [--full]``: copy the customer register (*asiakasrekisteri*, MA-2) now; who
  was created, updated or refused (by name, with the reason). Exit 1 when any was refused.
* ``audit-codes``: the Severa products (*Tuotteet*), work types (*Työlajit*) and travel expense
  types (*Matkakulut*) whose code is empty or not an active Maestro product, and the rows of
  waiting invoices that would land on the fallback product ``A/0`` (MA-5 ... MA-7). Exit 0
  clean, 1 when anything would fall back.
* ``log``: the transfer log (*siirtoloki*) of the Maestro connector.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from rich.console import Console

from bridge.connectors.maestro.connector import AFTER_ERROR_KEY, NOTIFY_KEY, maestro_message
from bridge.connectors.maestro.customers import CONNECTOR, KIND, WATERMARK, CustomerSync
from bridge.errors import MaestroError
from bridge.severa.model import CustomerCard, RowKind, StatusInfo
from bridge.severa.source import SeveraSource
from sandbox.bridge_maventa import StoreHolder, log_json, print_log_lines
from sandbox.cli_support import EXIT_FOUND, EXIT_OK, UsageError, print_json

if TYPE_CHECKING:
    from bridge.app import Bridge
    from bridge.connectors.maestro import MaestroClient
    from bridge.connectors.maestro.connector import MaestroConnector

__all__ = ["KIND_NAMES", "MAESTRO_ACTIONS"]

Action = Callable[["Bridge", argparse.Namespace, Console, Console], int]

#: How the tables name a row's or a code's register (English, with Severa's Finnish menu).
KIND_NAMES: dict[RowKind, str] = {
    RowKind.PRODUCT: "product (Tuotteet)",
    RowKind.WORK_TYPE: "work type (Työlajit)",
    RowKind.TRAVEL_EXPENSE: "travel expense (Matkakulut)",
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _wired(b: Bridge) -> tuple[MaestroClient, MaestroConnector]:
    # bridge_cli checks this first and says how to give the key; this is the type's guard
    assert b.maestro is not None and b.maestro_connector is not None, "Maestro is not configured"
    return b.maestro, b.maestro_connector


def _company(client: MaestroClient) -> dict[str, Any]:
    company = client.company()
    return {
        "company_id": str(company.get("company_id") or ""),
        "name": str(company.get("name") or ""),
        "business_id": company.get("business_id"),
    }


# ---------------------------------------------------------------------------------- preflight
def _preflight(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    _, connector = _wired(b)
    result = connector.check(SeveraSource(b.severa))
    if args.json:
        print_json(result.to_json(), out.file)
    elif result.ok:
        company = result.company or {}
        out.print(
            f"Maestro integration ready: Maestro company {company.get('name')} ({company.get('company_id')}); "
            f"invoices in '{result.source_status.name if result.source_status else '-'}' are imported and "
            f"then set to '{result.transferred_status.name if result.transferred_status else '-'}'.",
            markup=False,
        )
    else:
        out.print(result.message(), markup=False)
    return EXIT_OK if result.ok else EXIT_FOUND


# ---------------------------------------------------------------------------------- settings
def _settings_json(
    company: dict[str, Any], maestro: Mapping[str, Any], options: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "company": company,
        "maestro": {
            "source_status": maestro.get("source_status_name") or None,
            "transferred_status": maestro.get("transferred_status_name") or None,
            "fallback_product": maestro.get("fallback_product_code") or None,
            "updated_at": maestro.get("updated_at"),
        },
        "bridge": {
            "status_after_error": options.get(AFTER_ERROR_KEY) or None,
            "notification_email": options.get(NOTIFY_KEY) or None,
        },
    }


def _print_settings(out: Console, data: dict[str, Any]) -> None:
    company, maestro, bridge = data["company"], data["maestro"], data["bridge"]
    out.print(f"{company['name']} (Maestro company {company['company_id']})", markup=False, style="bold")
    out.print("In Maestro (Severa-liittymän asetukset):", markup=False)
    _plain_table(
        out,
        None,
        [
            ("source status", maestro["source_status"] or "-"),
            ("transferred status", maestro["transferred_status"] or "-"),
            ("fallback product", f"{maestro['fallback_product'] or 'A/0'} (oletustuote)"),
        ],
    )
    out.print("In the bridge:", markup=False)
    after_error = bridge["status_after_error"]
    _plain_table(
        out,
        None,
        [
            (
                "status after error",
                after_error if after_error else "-  (refused imports stay in the source status)",
            ),
            ("notification address", bridge["notification_email"] or "-"),
        ],
    )


def _severa_status(source: SeveraSource, wanted: str, option: str) -> StatusInfo:
    found = source.status(wanted)
    if found is None:
        known = ", ".join(s.name for s in source.statuses()) or "none"
        raise UsageError(
            f"{option}: no invoice status {wanted!r} in Severa; existing statuses: {known} "
            "(add it in Severa: Asetukset > Laskutus > Laskun tilat)"
        )
    return found


def _settings(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    client, _ = _wired(b)
    company = _company(client)
    account = company["company_id"]
    current = client.get_settings()
    source = SeveraSource(b.severa)
    in_maestro = (args.source_status, args.transferred_status, args.fallback_product)
    changed = False
    if any(v is not None for v in in_maestro):
        src = current.get("source_status_name") or ""
        dst = current.get("transferred_status_name") or ""
        if args.source_status is not None:
            src = _severa_status(source, args.source_status, "--source-status").name
        if args.transferred_status is not None:
            dst = _severa_status(source, args.transferred_status, "--transferred-status").name
        if not src or not dst:
            raise UsageError(
                "Maestro's settings name no "
                + ("source status" if not src else "transferred status")
                + " yet: give both --source-status and --transferred-status"
            )
        if src.strip().lower() == dst.strip().lower():
            raise UsageError(
                f"the source status and the transferred status must differ (both are {src!r}), or every "
                "transferred invoice would be imported again"
            )
        fallback = (
            args.fallback_product
            if args.fallback_product is not None
            else current.get("fallback_product_code")
        )
        try:
            current = client.put_settings(str(src), str(dst), str(fallback) if fallback else None)
        except MaestroError as exc:
            if not exc.is_validation:
                raise
            raise UsageError(
                f"Maestro refused the settings: {maestro_message(exc)}"
                + (
                    "; the fallback product must be an active Maestro product (see its products, or "
                    "leave --fallback-product out to keep the current one)"
                    if "fallback_product_code" in exc.fields
                    else ""
                )
            ) from exc
        changed = True
    if args.after_error is not None or args.no_after_error:
        value = None
        if args.after_error is not None:
            status = _severa_status(source, args.after_error, "--after-error")
            src_now = str(current.get("source_status_name") or "")
            if src_now and status.name.lower() == src_now.lower():
                raise UsageError(
                    f"--after-error: it must differ from the source status {src_now!r}, or a failed import "
                    "would be tried again on every pass"
                )
            value = status.name
        b.store.state.set(CONNECTOR, account, AFTER_ERROR_KEY, value)
        changed = True
    if args.notify is not None or args.no_notify:
        if args.notify is not None and not _EMAIL.fullmatch(args.notify):
            raise UsageError(f"--notify: {args.notify!r} is not an e-mail address (like laskutus@example.fi)")
        b.store.state.set(CONNECTOR, account, NOTIFY_KEY, args.notify)
        changed = True
    data = _settings_json(company, current, b.store.state.all(CONNECTOR, account))
    if args.json:
        print_json(data, out.file)
        return EXIT_OK
    if changed:
        out.print("Settings saved.")
    _print_settings(out, data)
    return EXIT_OK


# ---------------------------------------------------------------------------------- customers
class _TrackingSource(SeveraSource):
    """A ``SeveraSource`` that remembers which customer cards the sync saw."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.seen: list[CustomerCard] = []

    def iter_changed_customers(self, changed_since: str | None) -> Iterator[CustomerCard]:
        for card in super().iter_changed_customers(changed_since):
            self.seen.append(card)
            yield card


@dataclass
class _RecordingMaestro:
    """Maestro's answer to each customer upsert: created (201) or updated (200), by number."""

    client: MaestroClient
    created: dict[str, bool] = field(default_factory=dict)

    def put_customer(self, number: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        customer, created = self.client.put_customer(number, body)
        self.created[number] = created
        return customer, created


def _sync_customers(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    client, _ = _wired(b)
    company = _company(client)
    account = company["company_id"]
    since = None if args.full else b.store.state.get(CONNECTOR, account, WATERMARK)
    source = _TrackingSource(b.severa)
    recorder = _RecordingMaestro(client)
    result = CustomerSync(b.store, cast("MaestroClient", recorder), account).run(source, full=args.full)
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    failed_now = set(result.failed)
    for card in source.seen:
        who = {"name": card.name, "number": card.number, "guid": card.guid}
        number = "" if card.number is None else str(card.number)
        record = b.store.records.get(CONNECTOR, account, KIND, card.guid)
        if record is not None and record.error and record.error in failed_now:
            refused.append({**who, "reason": record.error})
        elif number in recorder.created:
            (created if recorder.created[number] else updated).append(who)
    if args.json:
        print_json(
            {
                "company": company,
                "full": bool(args.full),
                "changed_since": since,
                "created": created,
                "updated": updated,
                "refused": refused,
                "unchanged": result.unchanged,
            },
            out.file,
        )
        return EXIT_FOUND if refused else EXIT_OK
    scope = "every customer" if args.full or not since else f"customers changed since {since}"
    out.print(
        f"Customer register (asiakasrekisteri) to Maestro company {company['name']} ({account}), {scope}:",
        markup=False,
    )
    for word, people in (("created", created), ("updated", updated)):
        for p in people:
            out.print(f"  {word:<8} {p['name']} ({_number(p)})", markup=False)
    for p in refused:
        out.print(f"  refused  {p['name']} ({_number(p)}): {p['reason']}", markup=False)
    out.print(
        f"{len(created)} created, {len(updated)} updated, {len(refused)} refused, "
        f"{result.unchanged} unchanged.",
        markup=False,
    )
    if refused:
        out.print(
            "Correct the refused customers in Severa (Asiakkaat); they are copied again when they change, "
            "or now with `sync-customers --full`.",
            markup=False,
        )
    return EXIT_FOUND if refused else EXIT_OK


def _number(person: Mapping[str, Any]) -> str:
    return "no number" if person.get("number") is None else f"customer number {person['number']}"


# ---------------------------------------------------------------------------------- audit
def _audit_codes(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    from bridge.connectors.maestro.audit import audit_codes

    client, _ = _wired(b)
    report = audit_codes(SeveraSource(b.severa), client)
    if args.json:
        print_json(report.to_json(), out.file)
        return EXIT_OK if report.clean else EXIT_FOUND
    fallback = report.fallback_product
    if report.clean:
        out.print(
            f"Nothing would fall back to {fallback}: every active product, work type and travel expense type "
            "has the code of an active Maestro product"
            + (
                f", and no row of the invoices in '{report.source_status}' lacks one."
                if report.source_status
                else "."
            ),
            markup=False,
        )
        return EXIT_OK
    if report.catalogue:
        out.print(f"Severa codes Maestro cannot match (their rows land on {fallback}):", markup=False)
        _plain_table(
            out,
            ("kind", "name", "code", "problem"),
            [(KIND_NAMES[p.kind], p.name, p.code or "-", p.problem) for p in report.catalogue],
        )
    if report.rows:
        out.print(
            f"Rows of invoices in '{report.source_status or '-'}' that would land on {fallback}:",
            markup=False,
        )
        _plain_table(
            out,
            ("invoice", "row", "kind", "code", "description"),
            [
                (r.invoice_number, str(r.row), KIND_NAMES[r.kind], ", ".join(r.codes) or "-", r.description)
                for r in report.rows
            ],
        )
    out.print(
        "Give each the code of an active Maestro product in Severa (Asetukset: Tuotteet, Työlajit, "
        "Matkakulut), or add the product to Maestro; then run audit-codes again.",
        markup=False,
    )
    return EXIT_FOUND


def _plain_table(out: Console, headers: tuple[str, ...] | None, rows: list[tuple[str, ...]]) -> None:
    """Columns two spaces apart, one line per row, never wrapped (so a row can be found with grep)."""
    lines = [headers, *rows] if headers else rows
    widths = [max(len(str(cell)) for cell in column) for column in zip(*lines, strict=True)]
    for i, row in enumerate(lines):
        line = "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        out.print(f"  {line}", markup=False, style="bold" if headers and i == 0 else None, soft_wrap=True)


# ---------------------------------------------------------------------------------- log
def show_log(b: StoreHolder, args: argparse.Namespace, out: Console, err: Console) -> int:
    from bridge.store import LogLevel

    lines = b.store.log.entries(
        connector=CONNECTOR,
        min_level=LogLevel(args.level) if args.level else None,
        limit=args.limit,
    )
    if args.json:
        print_json({"entries": [log_json(line, None) for line in lines]}, out.file)
        return EXIT_OK
    if not lines:
        out.print("The Maestro transfer log is empty." if not args.level else "No matching log lines.")
        return EXIT_OK
    print_log_lines(out, [(line, f"Maestro {line.account or '-'}") for line in lines])
    return EXIT_OK


MAESTRO_ACTIONS: dict[str, Action] = {
    "preflight": _preflight,
    "settings": _settings,
    "sync-customers": _sync_customers,
    "audit-codes": _audit_codes,
    "log": show_log,
}
