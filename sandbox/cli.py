"""The `severa-sandbox` command line (SPEC §5).

    severa-sandbox serve severa|maventa|maestro|mailbox [--port N] [--host H] [--seed S] [--preset P] [--no-rate-limit]
    severa-sandbox demo
    severa-sandbox specs fetch|where
    severa-sandbox bridge [--config FILE] maventa ...|maestro ...|sync|run|reset   (see sandbox.bridge_cli)
    severa-sandbox up [--port-base N] [--seed S] [--state FILE] [--import BUNDLE] [--no-worker]   (see sandbox.up)
    severa-sandbox scenario list|show|run|export|replay ...   (see sandbox.scenario_cli)

Errors end with one clear line on stderr and a non-zero exit, never a stack trace. Commands
that print data take ``--json``. Exit codes (``sandbox.cli_support``): 0 done, 1 something
found or failed by design, 2 usage or environment error, 3 an unexpected error (a bug).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from sandbox.cli_support import (
    EXIT_ERROR,
    EXIT_FOUND,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNEXPECTED,
    add_json_flag,
    exit_codes_epilog,
    print_json,
)
from sandbox.services import SERVICES
from simulators.kit import ControlError
from simulators.kit.hosts import is_loopback

err = Console(stderr=True, highlight=False, soft_wrap=True)  # commands and paths never broken mid-line
out = Console(highlight=False, soft_wrap=True)


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="severa-sandbox",
        description="A test world for the Severa -> Maventa/AutoInvoice and Severa -> Maestro integrations.",
        epilog=exit_codes_epilog("e.g. a preflight with problems, codes that would fall back to A/0")
        + "\n\nCommands that print data take --json. More: severa-sandbox COMMAND --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="serve one simulated service over HTTP until Ctrl-C",
        description="Serve one simulated service over HTTP until Ctrl-C (prints its URLs first).",
        epilog=exit_codes_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("service", choices=sorted(SERVICES), help="which service to simulate")
    serve.add_argument(
        "--port",
        type=_port,
        default=None,
        help="port (default: the service's usual sandbox port; 0 = any free port)",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; anything else exposes the fake)",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME ('.example' = any subdomain, '*' = any); by default "
        "only the bound address and loopback names are answered (no DNS rebinding); repeatable",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed of the demo data (same seed, same data)")
    serve.add_argument("--preset", default=None, help="initial state: demo (default) or empty")
    serve.add_argument(
        "--no-rate-limit", action="store_true", help="Severa: switch off the 10 requests/s limit"
    )
    serve.add_argument("--smtp-port", type=_port, default=8025, help="mailbox: its SMTP port (default 8025)")
    add_json_flag(serve)

    sub.add_parser("demo", help="a narrated walk-through in-process, then exit 0")

    specs = sub.add_parser("specs", help="the vendor documents used for strict validation")
    specs_sub = specs.add_subparsers(dest="specs_command", required=True, metavar="ACTION")
    fetch = specs_sub.add_parser(
        "fetch",
        help="download the official Finvoice 3.0 XSD into the user cache",
        epilog=exit_codes_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fetch.add_argument("--cache-dir", default=None, help="where to keep it (default: the user cache)")
    add_json_flag(fetch)
    where = specs_sub.add_parser(
        "where",
        help="print where the Finvoice XSD is found, if anywhere",
        epilog=exit_codes_epilog("no Finvoice XSD found: validation is structural only"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_json_flag(where)

    from sandbox import bridge_cli, scenario_cli, up

    bridge_cli.add_parser(sub)
    scenario_cli.add_parser(sub)
    up.add_parser(sub)
    return parser


def cmd_serve(args: argparse.Namespace) -> int:
    entry = SERVICES[args.service]
    options: dict[str, Any] = {"seed": args.seed, "allowed_hosts": args.allow_host}
    if args.preset:
        options["preset"] = args.preset
    if args.service == "severa":
        options["rate_limit"] = not args.no_rate_limit
    elif args.no_rate_limit:
        raise CliError("--no-rate-limit applies to the severa simulator only")
    if args.service == "mailbox":
        options["smtp_port"] = args.smtp_port
        options["smtp_host"] = args.host
    try:
        sim = entry.create(**options)
    except ImportError as exc:
        raise CliError(f"the {args.service} simulator is not available in this installation ({exc})") from exc
    except (ValueError, ControlError) as exc:
        raise CliError(str(getattr(exc, "message", exc))) from exc
    port = entry.default_port if args.port is None else args.port
    from simulators.kit import ThreadedServer

    try:
        server = ThreadedServer(sim.app, host=args.host, port=port, stopping=sim.stopping)
    except OSError as exc:
        raise CliError(
            f"cannot listen on {args.host}:{port}: {exc.strerror or exc}; stop what uses the port (another "
            "fake?) or give another --port (0 = any free port), and point the bridge's base_url at it"
        ) from exc
    smtp: int | None = None
    start_smtp = getattr(sim, "start_smtp", None)
    if callable(start_smtp):
        try:
            smtp = start_smtp()
        except OSError as exc:
            raise CliError(
                f"cannot listen for SMTP on {args.host}:{args.smtp_port}: {exc.strerror or exc}; give another "
                "--smtp-port and the same [smtp] port in the bridge's configuration"
            ) from exc
    if not is_loopback(args.host):
        err.print(f"[yellow]warning:[/] serving on {args.host}: other machines can reach this fake")
    if args.json:  # one line a script can read, printed once the port is bound
        print_json(
            {
                "service": args.service,
                "summary": entry.summary,
                "preset": sim.preset,
                "seed": sim.seed,
                "api": f"{server.url}{entry.base_path}",
                "control_plane": f"{server.url}/_sim",
                "credentials": f"{server.url}/_sim/credentials",
                "smtp": f"{args.host}:{smtp}" if smtp is not None else None,
            },
            lines=True,
        )
    else:
        # soft_wrap: a URL is never broken over two lines, whatever the terminal (or pipe) width
        out.print(
            f"[bold]{entry.summary}[/] simulator ({sim.preset} preset, seed {sim.seed})", soft_wrap=True
        )
        out.print(f"  API:           {server.url}{entry.base_path}", soft_wrap=True)
        if smtp is not None:
            out.print(f"  SMTP:          {args.host}:{smtp}", soft_wrap=True)
        out.print(
            f"  control plane: {server.url}/_sim  (credentials: {server.url}/_sim/credentials)",
            soft_wrap=True,
        )
        out.print("Ctrl-C to stop.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        if not args.json:
            out.print("stopped.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    return run_demo(out)


def cmd_specs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sandbox import specs

    if args.specs_command == "fetch":
        try:
            path = specs.fetch_finvoice_xsd(Path(args.cache_dir) if args.cache_dir else None)
        except specs.SpecFetchError as exc:
            raise CliError(str(exc)) from exc
        if args.json:
            print_json({"path": str(path), "verified": True})
        else:
            out.print(f"Finvoice 3.0 XSD verified and stored at {path}")
        return EXIT_OK
    found = specs.find_finvoice_xsd()
    if args.json:
        print_json({"path": str(found) if found else None, "found": found is not None})
        return EXIT_OK if found else EXIT_FOUND
    if found is None:
        out.print("No Finvoice XSD found: validation is structural only. Run: severa-sandbox specs fetch")
        return EXIT_FOUND
    out.print(str(found))
    return EXIT_OK


def cmd_bridge(args: argparse.Namespace) -> int:
    from sandbox.bridge_cli import cmd_bridge as run_bridge

    return run_bridge(args)


def cmd_up(args: argparse.Namespace) -> int:
    from sandbox.up import cmd_up as run_up

    return run_up(args)


def cmd_scenario(args: argparse.Namespace) -> int:
    from sandbox.scenario_cli import cmd_scenario as run_scenario_command

    return run_scenario_command(args)


COMMANDS = {
    "serve": cmd_serve,
    "demo": cmd_demo,
    "specs": cmd_specs,
    "bridge": cmd_bridge,
    "scenario": cmd_scenario,
    "up": cmd_up,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CliError as exc:
        err.print(f"severa-sandbox {args.command}: error: {exc}", markup=False)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: one clear line, no stack trace
        err.print(
            f"severa-sandbox {args.command}: unexpected error: {type(exc).__name__}: {exc} "
            "(a bug: please report it with the command and this output)",
            markup=False,
        )
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
