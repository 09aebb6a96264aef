"""`severa-sandbox bridge ...`: the Severa → Maventa bridge from the command line (issue 5, item 9).

    severa-sandbox bridge [--config FILE] [--no-rate-limit] maventa register --unit U --registrant USER
    severa-sandbox bridge maventa connect --unit U [--api-key-env VAR | --api-key-stdin] [--company-uuid X]
    severa-sandbox bridge maventa auth-request --unit U --approver A [--also B] [--language FI]
    severa-sandbox bridge maventa status [--unit U] [--no-refresh]
    severa-sandbox bridge maventa settings --unit U [--send-pdf/--no-send-pdf] [--email/--no-email]
        [--notify ADDR | --no-notify] [--transfer-status S] [--after-transfer S] [--after-error S]
    severa-sandbox bridge maventa activate|deactivate --unit U
    severa-sandbox bridge maventa log [--unit U] [--limit N] [--level INFO|WARNING|ERROR]
    severa-sandbox bridge sync [--once]
    severa-sandbox bridge run [--interval S] [--passes N]

The commands are the buttons of Severa's settings page *Asetukset > Integraatiot >
Maventa/AutoInvoice*: register (Rekisteröidy Maventaan, MV-1/MV-2), connect an existing account
(MV-4), send the authentication request (Lähetä autentikointipyyntö, MV-3), the settings (MV-6 ...
MV-12), switch the synchronisation on or off (MV-13/MV-14) and the transfer log (siirtoloki).
A business unit (liiketoimintayksikkö) is given by name or GUID with `--unit`.

Configuration: the TOML file of `bridge.config` (`--config FILE`, else `$SEVERA_BRIDGE_CONFIG`,
else `./bridge.toml` when it exists, else the defaults that point at the local sandbox). Secrets
come from the file or the environment (see `bridge.config`); against simulators on this machine,
credentials left unset are taken from their `GET /_sim/credentials` (`with_sandbox_credentials`); a Maventa user API key is read from an
environment variable (`--api-key-env`) or standard input (`--api-key-stdin`), never from the
command line, and is never printed (`status` says only whether one is stored).

`--no-rate-limit` switches off the client-side spacing of Severa calls (10 per second), for the
sandbox simulator started with its limit off; never use it against the real Severa.

Errors: a refusal of the settings page, a configuration problem, a service error or an unreachable
service ends with one line on stderr, `severa-sandbox bridge <command>: error: ...`, and exit code 2;
anything unexpected with `... unexpected error: ...` and exit code 1. `sync` exits 2 when its pass
reported problems (each printed as a warning first), so a scheduler notices.

`build_bridge(config)` wires every piece from a `Config`; `severa-sandbox up` can reuse it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bridge.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from bridge.connectors.maventa import MaventaClient
    from bridge.connectors.maventa.integration import MaventaIntegration
    from bridge.http import RetryPolicy
    from bridge.notify import Notifier
    from bridge.severa import SeveraClient
    from bridge.store import SendingCompany, Store
    from bridge.transfer import PassReport, TransferEngine

__all__ = ["CONFIG_ENV", "Bridge", "add_parser", "build_bridge", "cmd_bridge", "resolve_config_path"]

CONFIG_ENV = "SEVERA_BRIDGE_CONFIG"
DEFAULT_CONFIG_FILE = "bridge.toml"

#: The retry policy of both clients; `None` = the bridge's default. Tests put a fast one here.
RETRY_POLICY: RetryPolicy | None = None
#: How `bridge run` waits between passes (a seam for tests).
SLEEP: Callable[[float], None] = time.sleep


class UsageError(Exception):
    """A command-line mistake the parser cannot see (printed as one line, exit 2)."""


# ---------------------------------------------------------------------------------- wiring
@dataclass
class Bridge:
    """Every piece of the bridge for one Severa organisation, built from a `Config`."""

    config: Config
    severa: SeveraClient
    maventa: MaventaClient
    store: Store
    integration: MaventaIntegration
    engine: TransferEngine
    notifier: Notifier

    def close(self) -> None:
        for close in (self.severa.close, self.maventa.close, self.store.close):
            try:
                close()
            except Exception:  # closing must not hide the command's own outcome
                pass

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_bridge(
    config: Config,
    *,
    severa_rate_limit: bool = True,
    policy: RetryPolicy | None = None,
    xsd_path: Path | None = None,
    find_xsd: bool = True,
    sleep: Callable[[float], None] | None = None,
) -> Bridge:
    """Wire the Severa and Maventa clients, the store, the settings page, the notifier and the engine.

    Raises `ConfigError` when a credential the bridge needs is missing. `xsd_path`: the Finvoice
    XSD to validate every invoice against before sending; by default the official one is used when
    `sandbox.specs` finds it (`find_xsd=False` to skip).
    """
    from bridge.connectors.maventa import MaventaClient
    from bridge.connectors.maventa.connector import MaventaConnector
    from bridge.connectors.maventa.integration import MaventaIntegration
    from bridge.notify import Notifier
    from bridge.severa import SeveraClient
    from bridge.store import Store
    from bridge.transfer import TransferEngine

    where = f" in {config.source}" if config.source else ""
    sev, mav = config.severa, config.maventa
    if not sev.client_id:
        raise ConfigError(f"[severa] client_id is not set{where}")
    if not sev.client_secret:
        raise ConfigError(
            f'[severa] client_secret is not set{where}: give client_secret_env = "VAR" '
            "or set SEVERA_CLIENT_SECRET"
        )
    if not mav.vendor_api_key:
        raise ConfigError(
            f'[maventa] vendor_api_key is not set{where}: give vendor_api_key_env = "VAR" '
            "or set MAVENTA_VENDOR_API_KEY"
        )
    seams: dict[str, Any] = {"policy": policy}
    if sleep is not None:
        seams["sleep"] = sleep
    severa_options: dict[str, Any] = {"scopes": sev.scopes} if sev.scopes else {}
    severa = SeveraClient(
        sev.base_url,
        sev.client_id,
        sev.client_secret.reveal(),
        rate_limit=severa_rate_limit,
        **severa_options,
        **seams,
    )
    maventa = MaventaClient(mav.base_url, mav.vendor_api_key.reveal(), **seams)
    try:
        store = Store(config.store.path)
    except Exception as exc:
        severa.close()
        maventa.close()
        raise ConfigError(f"[store] path {config.store.path!r}: cannot open the store: {exc}") from exc
    if xsd_path is None and find_xsd:
        from sandbox.specs import find_finvoice_xsd

        xsd_path = find_finvoice_xsd()
    integration = MaventaIntegration(severa, maventa, store)
    notifier = Notifier(config.smtp)
    engine = TransferEngine(
        severa, store, [MaventaConnector(integration, xsd_path=xsd_path)], notifier=notifier
    )
    return Bridge(config, severa, maventa, store, integration, engine, notifier)


def resolve_config_path(explicit: str | None, env: dict[str, str] | None = None) -> str | None:
    """`--config`, else `$SEVERA_BRIDGE_CONFIG`, else `./bridge.toml` if present, else None (defaults)."""
    env = dict(os.environ) if env is None else env
    if explicit:
        return explicit
    if env.get(CONFIG_ENV):
        return env[CONFIG_ENV]
    return DEFAULT_CONFIG_FILE if Path(DEFAULT_CONFIG_FILE).is_file() else None


# ---------------------------------------------------------------------------------- the parser
def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add `bridge` to the `severa-sandbox` subcommands (`sub` is the `add_subparsers()` object)."""
    bridge = sub.add_parser(
        "bridge",
        help="run the Severa -> Maventa bridge: settings page, sync, transfer log",
        description="The Severa -> Maventa/AutoInvoice bridge (Asetukset > Integraatiot > Maventa/AutoInvoice).",
    )
    bridge.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help=f"the bridge's TOML file (default: ${CONFIG_ENV}, else ./{DEFAULT_CONFIG_FILE}, else sandbox defaults)",
    )
    bridge.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="do not space Severa calls 100 ms apart (sandbox simulator only)",
    )
    actions = bridge.add_subparsers(dest="bridge_command", required=True, metavar="ACTION")

    maventa = actions.add_parser("maventa", help="the Maventa/AutoInvoice settings of a business unit")
    mv = maventa.add_subparsers(dest="maventa_command", required=True, metavar="ACTION")

    def unit_arg(p: argparse.ArgumentParser, required: bool = True) -> None:
        p.add_argument(
            "--unit", required=required, help="business unit (liiketoimintayksikkö) by name or GUID"
        )

    p = mv.add_parser("register", help="register the unit's company to Maventa (Rekisteröidy Maventaan)")
    unit_arg(p)
    p.add_argument("--registrant", required=True, help="the Severa user who registers: e-mail or GUID")

    p = mv.add_parser("connect", help="connect an existing Maventa account (user API key + company UUID)")
    unit_arg(p)
    key = p.add_mutually_exclusive_group()
    key.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the user API key")
    key.add_argument("--api-key-stdin", action="store_true", help="read the user API key from standard input")
    p.add_argument("--company-uuid", help="the company UUID (Yrityksen UUID) from Maventa")
    p.add_argument("--approver", help="e-mail of the approver, if the authentication request must go out")
    p.add_argument("--language", default="FI", help="language of the authentication request (default FI)")

    p = mv.add_parser("auth-request", help="send the authentication request (Lähetä autentikointipyyntö)")
    unit_arg(p)
    p.add_argument("--approver", required=True, help="e-mail of the person with the right to sign")
    p.add_argument("--also", help="a second e-mail address for the request")
    p.add_argument(
        "--language",
        default="FI",
        help="language of the invitation: FI, SE (Swedish), EN, NO, NL or BE (default FI)",
    )

    p = mv.add_parser("status", help="the registered companies and their state (refreshed from Maventa)")
    unit_arg(p, required=False)
    p.add_argument("--no-refresh", action="store_true", help="show the stored state without asking Maventa")

    p = mv.add_parser("settings", help="show or change the settings (no options: show them)")
    unit_arg(p)
    p.add_argument(
        "--send-pdf",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send the original invoice PDF (Lähetä alkuperäinen laskun PDF, MV-6)",
    )
    p.add_argument(
        "--email",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send invoices by e-mail (Lähetä laskut sähköpostilla, MV-8)",
    )
    notify = p.add_mutually_exclusive_group()
    notify.add_argument("--notify", metavar="ADDR", help="notification address for sending errors (MV-9)")
    notify.add_argument("--no-notify", action="store_true", help="clear the notification address")
    p.add_argument("--transfer-status", metavar="NAME", help="status of invoices to transfer (MV-10)")
    p.add_argument("--after-transfer", metavar="NAME", help="status after transfer (MV-11)")
    p.add_argument("--after-error", metavar="NAME", help="status after an error (MV-12)")

    p = mv.add_parser("activate", help="switch the synchronisation on (MV-13)")
    unit_arg(p)
    p = mv.add_parser("deactivate", help="switch the synchronisation off")
    unit_arg(p)

    p = mv.add_parser("log", help="the transfer log (siirtoloki), newest first")
    unit_arg(p, required=False)
    p.add_argument("--limit", type=_non_negative_int, default=50, help="how many lines (default 50)")
    p.add_argument(
        "--level",
        type=str.upper,
        choices=("INFO", "WARNING", "ERROR"),
        default=None,
        help="the lowest level shown (ERROR: errors only)",
    )

    p = actions.add_parser("sync", help="one pass of the transfer: pick up, send, follow, notify")
    p.add_argument("--once", action="store_true", help="one pass, then exit (the default)")

    p = actions.add_parser("run", help="run passes until Ctrl-C")
    p.add_argument(
        "--interval",
        type=_non_negative_float,
        default=None,
        help="seconds between passes (default: [sync] poll_interval of the config, 60)",
    )
    p.add_argument("--passes", type=_positive_int, default=None, help="stop after N passes")
    return bridge


def _non_negative_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {n}")
    return n


def _positive_int(value: str) -> int:
    n = _non_negative_int(value)
    if n == 0:
        raise argparse.ArgumentTypeError("expected 1 or more, got 0")
    return n


def _non_negative_float(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not 0 <= x <= 86_400:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds from 0 to 86400 (a day), got {value!r}"
        )
    return x


# ---------------------------------------------------------------------------------- running
def command_name(args: argparse.Namespace) -> str:
    if args.bridge_command == "maventa":
        return f"bridge maventa {args.maventa_command}"
    return f"bridge {args.bridge_command}"


def cmd_bridge(args: argparse.Namespace) -> int:
    """Run one `bridge` action; every error ends as one line on stderr (exit 2, or 1 if unexpected)."""
    from bridge.errors import BridgeError

    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    name = command_name(args)
    try:
        with _bridge(args, err) as bridge:
            if args.bridge_command == "maventa":
                return MAVENTA_ACTIONS[args.maventa_command](bridge, args, out, err)
            if args.bridge_command == "sync":
                return _sync(bridge, out, err)
            return _run(bridge, args, out, err)
    except (ConfigError, BridgeError, UsageError) as exc:
        err.print(f"severa-sandbox {name}: error: {_one_line(str(exc))}", markup=False)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: one clear line, no stack trace
        err.print(
            f"severa-sandbox {name}: unexpected error: {type(exc).__name__}: {_one_line(str(exc))}",
            markup=False,
        )
        return 1


def with_sandbox_credentials(config: Config, err: Console | None = None) -> Config:
    """Fill in what the configuration leaves unset from the local sandbox's simulators.

    Only for base URLs on this machine (127.0.0.1, ::1, localhost): the Severa client credentials
    come from the Severa simulator's `GET /_sim/credentials` (its first, full-access client) and the
    vendor API key from the Maventa simulator's. Anything set in the file or the environment wins;
    a real service (any other host) is never asked, and an unreachable simulator changes nothing
    (the command then says which setting is missing)."""
    import dataclasses
    from urllib.parse import urlsplit

    import httpx

    from bridge.config import Secret

    def sim_credentials(base_url: str) -> dict[str, Any] | None:
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "::1", "localhost"):
            return None
        origin = f"{parts.scheme}://{parts.netloc}"
        try:
            answer = httpx.get(f"{origin}/_sim/credentials", timeout=2.0)
            data = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        if isinstance(data, dict):
            if err is not None:
                err.print(
                    f"note: using the sandbox credentials of {origin} (GET /_sim/credentials)", markup=False
                )
            return data
        return None

    if config.severa.client_id is None and config.severa.client_secret is None:
        data = sim_credentials(config.severa.base_url)
        clients = data.get("clients") if data else None
        if isinstance(clients, list) and clients and isinstance(clients[0], dict):
            config = dataclasses.replace(
                config,
                severa=dataclasses.replace(
                    config.severa,
                    client_id=str(clients[0].get("client_id")),
                    client_secret=Secret.of(str(clients[0].get("client_secret") or "")),
                ),
            )
    if config.maventa.vendor_api_key is None:
        data = sim_credentials(config.maventa.base_url)
        keys = data.get("vendor_api_keys") if data else None
        if isinstance(keys, list) and keys:
            config = dataclasses.replace(
                config, maventa=dataclasses.replace(config.maventa, vendor_api_key=Secret.of(str(keys[0])))
            )
    return config


@contextmanager
def _bridge(args: argparse.Namespace, err: Console | None = None) -> Iterator[Bridge]:
    config = with_sandbox_credentials(load_config(resolve_config_path(args.config)), err)
    bridge = build_bridge(config, severa_rate_limit=not args.no_rate_limit, policy=RETRY_POLICY)
    try:
        yield bridge
    finally:
        bridge.close()


def _one_line(text: str) -> str:
    return " ".join(text.split())


Action = Callable[[Bridge, argparse.Namespace, Console, Console], int]


def _register(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    result = b.integration.register(args.unit, args.registrant)
    out.print(result.message, markup=False)
    if result.key_returned:
        out.print(f"company UUID: {result.company.maventa_company_uuid}", markup=False)
    return 0


def _connect(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    key: str | None = None
    if args.api_key_env:
        if args.api_key_env not in os.environ:
            raise UsageError(f"--api-key-env: environment variable {args.api_key_env} is not set")
        key = os.environ[args.api_key_env].strip()
        if not key:
            raise UsageError(f"--api-key-env: environment variable {args.api_key_env} is empty")
    elif args.api_key_stdin:
        key = sys.stdin.readline().strip()
        if not key:
            raise UsageError("--api-key-stdin: no user API key on standard input")
    company = b.integration.connect(
        args.unit, key, args.company_uuid, approver_email=args.approver, locale=args.language.upper()
    )
    out.print(
        f"{company.name} connected to Maventa company {company.maventa_company_uuid}: "
        f"authentication {company.auth_state.value}, company {company.company_state.value}",
        markup=False,
    )
    return 0


def _auth_request(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    company = b.integration.send_authentication_request(
        args.unit, args.approver, args.also, locale=args.language.upper()
    )
    sent_to = ", ".join([args.approver] + ([args.also] if args.also else []))
    out.print(
        f"Authentication request sent to {sent_to}: authentication {company.auth_state.value}, "
        f"company {company.company_state.value}. The approver signs in Maventa; then run "
        "`bridge maventa status` to refresh.",
        markup=False,
    )
    return 0


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
    if not companies:
        out.print("No business unit with a business ID (Y-tunnus) in Severa.")
    for c in companies:
        out.print(_company_table(c))
    if without:
        out.print(
            f"Units without a business ID (cannot send through Maventa): {', '.join(without)}", markup=False
        )
    return 0


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _company_table(c: SendingCompany) -> Table:
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
        out.print(_company_table(company))
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
    out.print(f"Settings of {company.name} saved.", markup=False)
    out.print(_company_table(company))
    return 0


def _activate(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    company = b.integration.activate(args.unit)
    out.print(f"{company.name}: synchronisation switched on.", markup=False)
    return 0


def _deactivate(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    company = b.integration.deactivate(args.unit)
    out.print(f"{company.name}: synchronisation switched off.", markup=False)
    return 0


def _log(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
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
    if not lines:
        out.print("The transfer log is empty." if not (args.unit or args.level) else "No matching log lines.")
        return 0
    # one line per entry (never wrapped, so it can be searched with grep): time, level, company, invoice
    for line in lines:
        company = names.get(line.account or "", "-") if line.connector == "maventa" else "-"
        style = {"ERROR": "red", "WARNING": "yellow"}.get(line.level.value)
        level = f"{line.level.value:<7}"
        out.print(
            f"{line.at:%Y-%m-%d %H:%M:%S}  {f'[{style}]{level}[/]' if style else level}  "
            f"{_escape(company)}  {_escape(line.invoice_number or '-'):>8}  {_escape(line.message)}",
            soft_wrap=True,
        )
    return 0


def _stored_company_id(b: Bridge, unit: str) -> int:
    """The unit's company from the store (the log is local: no Severa call when it is known)."""
    wanted = unit.strip().lower()
    for c in b.store.companies.all():
        if wanted in (c.name.lower(), c.business_unit_guid.lower()):
            return c.id
    return b.integration.company(unit).id


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


MAVENTA_ACTIONS: dict[str, Action] = {
    "register": _register,
    "connect": _connect,
    "auth-request": _auth_request,
    "status": _status,
    "settings": _settings,
    "activate": _activate,
    "deactivate": _deactivate,
    "log": _log,
}


def _report_line(report: PassReport) -> str:
    return (
        f"picked up {report.picked_up}, sent {report.sent}, status patched {report.status_patched}, "
        f"delivered {report.delivered}, failed {report.failed}, error status patched {report.error_patched}, "
        f"notified {report.notified}, waiting for delivery {report.pending}, "
        f"retries deferred {report.retries_deferred}"
    )


def _sync(b: Bridge, out: Console, err: Console) -> int:
    active = b.store.companies.all(active=True)
    if not active:
        out.print("No company has the synchronisation switched on; nothing to do.")
        return 0
    report = b.engine.run_once()
    out.print(f"pass: {_report_line(report)}", markup=False)
    for problem in report.problems:
        err.print(f"warning: {_one_line(problem)}", markup=False)
    if report.problems:
        from bridge.errors import BridgeError

        raise BridgeError(f"the pass reported {len(report.problems)} problem(s); see the warnings above")
    return 0


def _run(b: Bridge, args: argparse.Namespace, out: Console, err: Console) -> int:
    interval = b.config.sync.poll_interval if args.interval is None else args.interval
    n = 0
    try:
        while True:
            n += 1
            report = b.engine.run_once()
            out.print(f"pass {n}: {_report_line(report)}", markup=False)
            for problem in report.problems:
                err.print(f"warning: {_one_line(problem)}", markup=False)
            if args.passes is not None and n >= args.passes:
                return 0
            SLEEP(interval)
    except KeyboardInterrupt:
        out.print(f"stopped after {n} pass(es).")
        return 0
