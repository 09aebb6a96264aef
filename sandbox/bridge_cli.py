"""`severa-sandbox bridge ...`: the Severa → Maventa and Severa → Maestro bridge from the command line.

    severa-sandbox bridge [--config FILE] [--no-rate-limit] maventa register --unit U --registrant USER
    severa-sandbox bridge maventa connect --unit U [--api-key-env VAR | --api-key-stdin] [--company-uuid X]
    severa-sandbox bridge maventa auth-request --unit U --approver A [--also B] [--language FI]
    severa-sandbox bridge maventa status [--unit U] [--no-refresh]
    severa-sandbox bridge maventa settings --unit U [--send-pdf/--no-send-pdf] [--email/--no-email]
        [--notify ADDR | --no-notify] [--transfer-status S] [--after-transfer S] [--after-error S]
    severa-sandbox bridge maventa activate|deactivate --unit U
    severa-sandbox bridge maventa log [--unit U] [--limit N] [--level INFO|WARNING|ERROR]
    severa-sandbox bridge maestro preflight | settings [...] | sync-customers [--full] | audit-codes | log
    severa-sandbox bridge sync [--once]
    severa-sandbox bridge run [--interval S] [--passes N]
    severa-sandbox bridge reset --yes

Every command that prints data takes ``--json`` (one JSON document with stable keys; ``run``: one
line per pass). The Maventa commands are the buttons of Severa's settings page *Asetukset >
Integraatiot > Maventa/AutoInvoice* (``sandbox.bridge_maventa``); the Maestro commands are the
Severa → Maestro integration's checks and settings (``sandbox.bridge_maestro``). ``sync`` and
``run`` drive both connectors (Maestro when ``[maestro] api_key`` is set, or borrowed from a
local Maestro fake) and report per connector. ``reset`` deletes the bridge's store, to start
over after the sandbox fakes were restarted.

Configuration: the TOML file of `bridge.config` (`--config FILE`, else `$SEVERA_BRIDGE_CONFIG`,
else `./bridge.toml` when it exists, else the defaults that point at the local sandbox). Secrets
come from the file or the environment (see `bridge.config`); against simulators on this machine,
credentials left unset are taken from their `GET /_sim/credentials` (`with_sandbox_credentials`);
a Maventa user API key is read from an environment variable (`--api-key-env`) or standard input
(`--api-key-stdin`), never from the command line, and is never printed.

`--no-rate-limit` switches off the client-side spacing of Severa calls (10 per second), for the
sandbox simulator started with its limit off; never use it against the real Severa.

Errors end with one line on stderr, `severa-sandbox bridge <command>: error: ...`, naming the
URL or file involved and the next step (Severa's own words, such as MV-14's, stay as they are and
the fix follows on the next line). Exit codes: see ``sandbox.cli_support`` (0 done, 1 found or
failed by design, 2 usage or environment error, 3 a bug).

The wiring is ``bridge.app.build_bridge`` (the one the sandbox world uses too).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from bridge.app import Bridge, build_bridge
from bridge.config import Config, ConfigError, load_config
from sandbox import bridge_maestro, bridge_maventa
from sandbox import bridge_passes as passes
from sandbox.bridge_errors import Session, error_lines
from sandbox.bridge_maestro import MAESTRO_ACTIONS
from sandbox.bridge_maventa import company_table, run_maventa
from sandbox.cli_support import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_UNEXPECTED,
    UsageError,
    VerbatimError,
    add_json_flag,
    exit_codes_epilog,
    one_line,
)
from sandbox.local_fakes import (
    SERVICE_SECTIONS,
    LocalFakes,
    missing_credential_hint,
    serve_command,
    stale_store_problem,
    with_sandbox_credentials,
)

if TYPE_CHECKING:
    from bridge.http import RetryPolicy
    from bridge.store import Store

__all__ = [
    "CONFIG_ENV",
    "Bridge",
    "UsageError",
    "add_parser",
    "build_bridge",
    "cmd_bridge",
    "resolve_config_path",
    "with_sandbox_credentials",
]

CONFIG_ENV = "SEVERA_BRIDGE_CONFIG"
DEFAULT_CONFIG_FILE = "bridge.toml"

#: The retry policy of every client; `None` = the bridge's default. Tests put a fast one here.
RETRY_POLICY: RetryPolicy | None = None
#: How `bridge run` waits between passes (a seam for tests).
SLEEP: Callable[[float], None] = time.sleep

_company_table = company_table  # the name the tests know


def resolve_config_path(explicit: str | None, env: dict[str, str] | None = None) -> str | None:
    """`--config`, else `$SEVERA_BRIDGE_CONFIG`, else `./bridge.toml` if present, else None (defaults)."""
    env = dict(os.environ) if env is None else env
    if explicit:
        return explicit
    if env.get(CONFIG_ENV):
        return env[CONFIG_ENV]
    return DEFAULT_CONFIG_FILE if Path(DEFAULT_CONFIG_FILE).is_file() else None


# ---------------------------------------------------------------------------------- the parser
def _leaf(
    sub: Any, name: str, help_text: str, *, found: str | None = None, data: bool = True, **kwargs: Any
) -> argparse.ArgumentParser:
    """A command with its exit codes in ``--help`` (``found``: what exit code 1 means) and ``--json``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=kwargs.pop("description", help_text[:1].upper() + help_text[1:] + "."),
        epilog=exit_codes_epilog(found),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )
    if data:
        add_json_flag(parser)
    return parser


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add `bridge` to the `severa-sandbox` subcommands (`sub` is the `add_subparsers()` object)."""
    from bridge.transfer import DEFAULT_MAX_NOTIFY_ATTEMPTS, DEFAULT_MAX_SEND_ATTEMPTS

    bridge = sub.add_parser(
        "bridge",
        help="run the Severa -> Maventa and Severa -> Maestro bridge: settings, sync, transfer log",
        description="The Severa -> Maventa/AutoInvoice and Severa -> Maestro bridge "
        "(Asetukset > Integraatiot > Maventa/AutoInvoice; Maestro's Severa integration).",
        epilog=exit_codes_epilog("see each command's --help"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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

    p = _leaf(mv, "register", "register the unit's company to Maventa (Rekisteröidy Maventaan)")
    unit_arg(p)
    p.add_argument("--registrant", required=True, help="the Severa user who registers: e-mail or GUID")

    p = _leaf(mv, "connect", "connect an existing Maventa account (user API key + company UUID)")
    unit_arg(p)
    key = p.add_mutually_exclusive_group()
    key.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the user API key")
    key.add_argument("--api-key-stdin", action="store_true", help="read the user API key from standard input")
    p.add_argument("--company-uuid", help="the company UUID (Yrityksen UUID) from Maventa")
    p.add_argument("--approver", help="e-mail of the approver, if the authentication request must go out")
    p.add_argument("--language", default="FI", help="language of the authentication request (default FI)")

    p = _leaf(mv, "auth-request", "send the authentication request (Lähetä autentikointipyyntö)")
    unit_arg(p)
    p.add_argument("--approver", required=True, help="e-mail of the person with the right to sign")
    p.add_argument("--also", help="a second e-mail address for the request")
    p.add_argument(
        "--language",
        default="FI",
        help="language of the invitation: FI, SE (Swedish), EN, NO, NL or BE (default FI)",
    )

    p = _leaf(mv, "status", "the registered companies and their state, refreshed from Maventa (Päivitä)")
    unit_arg(p, required=False)
    p.add_argument("--no-refresh", action="store_true", help="show the stored state without asking Maventa")

    p = _leaf(mv, "settings", "show or change the settings (no options: show them)")
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

    p = _leaf(mv, "activate", "switch the synchronisation on (MV-13)")
    unit_arg(p)
    p = _leaf(mv, "deactivate", "switch the synchronisation off")
    unit_arg(p)

    p = _leaf(mv, "log", "the transfer log (siirtoloki), newest first")
    unit_arg(p, required=False)
    _log_args(p)

    _add_maestro_parser(actions)

    p = _leaf(
        actions,
        "sync",
        "one pass of every connector: pick up, send, follow, notify",
        description=(
            "One pass of the transfer for every connector (Maventa; Maestro when configured), reported "
            "per connector.\n\n"
            "A step that cannot be done now (a service down, a timeout) is retried by the next pass and "
            "reported as a warning. A send whose answer was lost is asked about first and never sent "
            f"twice; after {DEFAULT_MAX_SEND_ATTEMPTS} attempts that could not tell whether it arrived, "
            "the invoice is failed (status after error, transfer-log line, notification). A notification "
            f"is tried at most {DEFAULT_MAX_NOTIFY_ATTEMPTS} times. The transfer log (bridge maventa log, "
            "bridge maestro log) shows each attempt."
        ),
    )
    p.add_argument("--once", action="store_true", help="one pass, then exit (the default)")
    p.epilog = exit_codes_epilog() + "  (2 also: the pass reported problems; each printed as a warning)"

    p = _leaf(actions, "run", "run passes until Ctrl-C (JSON: one line per pass)")
    p.add_argument(
        "--interval",
        type=_non_negative_float,
        default=None,
        help="seconds between passes (default: [sync] poll_interval of the config, 60)",
    )
    p.add_argument("--passes", type=_positive_int, default=None, help="stop after N passes")

    p = _leaf(
        actions,
        "reset",
        "delete the bridge's store ([store] path) to start over",
        description=(
            "Delete the bridge's store: the sending companies with their Maventa keys and settings, the "
            "ledger, the transfer log and the Maestro options. Use it when the sandbox fakes were "
            "restarted (the store then names companies they no longer know). Nothing in Severa, Maventa "
            "or Maestro is changed."
        ),
    )
    p.add_argument("--yes", action="store_true", help="really delete it (without: say what would go)")
    return bridge


def _log_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=_non_negative_int, default=50, help="how many lines (default 50)")
    p.add_argument(
        "--level",
        type=str.upper,
        choices=("INFO", "WARNING", "ERROR"),
        default=None,
        help="the lowest level shown (ERROR: errors only)",
    )


def _add_maestro_parser(actions: Any) -> None:
    maestro = actions.add_parser(
        "maestro",
        help="the Severa -> Maestro integration: preflight, settings, customers, code audit, log",
        description="The Severa -> Maestro integration (MA-1 ... MA-8). Needs [maestro] api_key "
        "(borrowed from a local Maestro fake when unset).",
    )
    ma = maestro.add_subparsers(dest="maestro_command", required=True, metavar="ACTION")
    _leaf(
        ma,
        "preflight",
        "check the Severa API access (MA-4) and the two invoice statuses of Maestro's settings (MA-8)",
        found="the integration is not ready: the problems are listed",
    )
    p = _leaf(
        ma,
        "settings",
        "show or change Maestro's Severa settings and the bridge's Maestro options (no options: show)",
    )
    p.add_argument(
        "--source-status", metavar="NAME", help="in Maestro: the Severa status invoices are fetched from"
    )
    p.add_argument(
        "--transferred-status", metavar="NAME", help="in Maestro: the Severa status set after the transfer"
    )
    p.add_argument(
        "--fallback-product",
        metavar="CODE",
        help="in Maestro: the product unmatched rows are booked on (A/0)",
    )
    after = p.add_mutually_exclusive_group()
    after.add_argument(
        "--after-error", metavar="NAME", help="bridge: Severa status for invoices Maestro refused"
    )
    after.add_argument(
        "--no-after-error", action="store_true", help="bridge: failed imports stay in the source status"
    )
    notify = p.add_mutually_exclusive_group()
    notify.add_argument("--notify", metavar="ADDR", help="bridge: e-mail failed imports to this address")
    notify.add_argument("--no-notify", action="store_true", help="bridge: mail nothing")
    p = _leaf(
        ma,
        "sync-customers",
        "copy the customer register to Maestro now (MA-2): who was created, updated or refused",
        found="Maestro refused a customer (listed by name, with the reason)",
    )
    p.add_argument(
        "--full", action="store_true", help="every customer, not only those changed since the last sync"
    )
    _leaf(
        ma,
        "audit-codes",
        "which Severa codes (products, work types, travel expenses) would land on A/0 (MA-5 ... MA-7)",
        found="something would fall back to A/0 (the tables list it)",
    )
    p = _leaf(ma, "log", "the Maestro connector's transfer log (siirtoloki), newest first")
    _log_args(p)


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
    if args.bridge_command == "maestro":
        return f"bridge maestro {args.maestro_command}"
    return f"bridge {args.bridge_command}"


def cmd_bridge(args: argparse.Namespace) -> int:
    """Run one `bridge` action; every error ends as one line on stderr (see the exit codes)."""
    from bridge.errors import BridgeError

    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    name = command_name(args)
    session = Session(args)
    try:
        session.config = load_config(resolve_config_path(args.config))
        if args.bridge_command == "reset":
            return passes.reset(session.config, args, out, session)
        if _local_only(args):  # the transfer log is the store's: no service, no credentials needed
            return _local_log(session.config, args, out, err)
        with _bridge(session, err) as bridge:
            if args.bridge_command == "maventa":
                return run_maventa(args.maventa_command, bridge, args, out, err)
            if args.bridge_command == "maestro":
                return MAESTRO_ACTIONS[args.maestro_command](bridge, args, out, err)
            if args.bridge_command == "sync":
                return passes.sync(bridge, args, out, err)
            return passes.run(bridge, args, out, err, SLEEP)
    except (ConfigError, BridgeError, UsageError, VerbatimError) as exc:
        for i, line in enumerate(error_lines(exc, session)):
            err.print(f"severa-sandbox {name}: error: {line}" if i == 0 else line, markup=False)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: one clear line, no stack trace
        err.print(
            f"severa-sandbox {name}: unexpected error: {type(exc).__name__}: {one_line(str(exc))} "
            "(a bug: please report it with the command and this output)",
            markup=False,
        )
        return EXIT_UNEXPECTED


@contextmanager
def _bridge(session: Session, err: Console) -> Iterator[Bridge]:
    from sandbox.specs import find_finvoice_xsd

    args = session.args
    assert session.config is not None
    config = session.config = with_sandbox_credentials(session.config, err, session.fakes)
    for service, key, missing in (  # in the order build_bridge checks them: the first one missing
        (
            "Severa",
            "client_secret" if config.severa.client_id else "client_id",
            not (config.severa.client_id and config.severa.client_secret),
        ),
        ("Maventa", "vendor_api_key", not config.maventa.vendor_api_key),
    ):
        if missing:
            hint = missing_credential_hint(config, session.fakes, service)
            if hint:  # the cause is that nothing answers at the URL: say so, not "not set"
                raise ConfigError(f"[{SERVICE_SECTIONS[service][0]}] {key} is not set: {hint}")
            break
    bridge = build_bridge(
        config,
        severa_rate_limit=not args.no_rate_limit,
        policy=RETRY_POLICY,
        xsd_path=find_finvoice_xsd(),
    )
    try:
        stale = stale_store_problem(config, bridge.store, session.fakes, session.reset_command())
        if stale:
            raise UsageError(stale)
        if args.bridge_command == "maestro" and bridge.maestro is None:
            raise ConfigError(_maestro_missing(config, session.fakes))
        yield bridge
    finally:
        bridge.close()


def _local_only(args: argparse.Namespace) -> bool:
    return (
        args.bridge_command in ("maventa", "maestro")
        and getattr(args, f"{args.bridge_command}_command") == "log"
    )


@dataclass
class _StoreOnly:
    store: Store


def _local_log(config: Config, args: argparse.Namespace, out: Console, err: Console) -> int:
    from bridge.store import Store

    show_log = bridge_maventa.show_log if args.bridge_command == "maventa" else bridge_maestro.show_log
    path = config.store.path
    if path != ":memory:" and not Path(path).exists():
        raise UsageError(
            f"no store at {path} ([store] path{' in ' + config.source if config.source else ''}): the bridge "
            "has not run here yet, so there is no transfer log; run a bridge command first, or give the "
            "--config of the bridge whose log you want"
        )
    try:
        store = Store(path)
    except Exception as exc:
        raise ConfigError(f"[store] path {path!r}: cannot open the store ({exc})") from exc
    with store:
        return show_log(_StoreOnly(store), args, out, err)


def _maestro_missing(config: Config, fakes: LocalFakes) -> str:
    hint = missing_credential_hint(config, fakes, "Maestro")
    if hint:
        return f"[maestro] api_key is not set: {hint}"
    where = config.source or "bridge.toml"
    return (
        f"[maestro] api_key is not set (no key in {where}, no MAESTRO_API_KEY): give "
        f'api_key_env = "VAR" in the [maestro] table of {where} with the Maestro company\'s API key '
        f"(API-avain), or set MAESTRO_API_KEY; against the sandbox, start the Maestro fake "
        f"({serve_command('Maestro', config.maestro.base_url)}) and its key is borrowed"
    )
