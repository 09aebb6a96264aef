"""What every `severa-sandbox` command shares: exit codes, `--json` output, one-line errors.

Exit codes (the same for every command, printed by ``--help``):

* 0: done;
* 1: something was found or failed *by design*: a preflight with problems, codes that would
  fall back to ``A/0``, customers Maestro refused, no Finvoice XSD found;
* 2: a usage or environment error: a bad option, a configuration problem, a service that
  cannot be reached or refuses (the message names the URL or file and what to do next);
* 3: an unexpected error (a bug: report it with the command and what it printed);
* 130: interrupted (Ctrl-C).

``--json``: a command that prints data prints one JSON document on stdout instead (``run``: one
per pass, a line each), with stable keys; errors stay one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

__all__ = [
    "EXIT_CODES",
    "EXIT_ERROR",
    "EXIT_FOUND",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNEXPECTED",
    "UsageError",
    "VerbatimError",
    "add_json_flag",
    "exit_codes_epilog",
    "one_line",
    "print_json",
]

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_ERROR = 2
EXIT_UNEXPECTED = 3
EXIT_INTERRUPTED = 130

EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_FOUND: "something found or failed by design ({found})",
    EXIT_ERROR: "usage or environment error: a bad option, the configuration, a service that cannot be "
    "reached or refuses (the message names the URL or file and the next step)",
    EXIT_UNEXPECTED: "unexpected error (a bug: report it with the command and its output)",
}


class UsageError(Exception):
    """A command-line mistake the parser cannot see (printed as one line, exit 2)."""


def exit_codes_epilog(found: str | None = None) -> str:
    """The "exit codes" block of a ``--help``; ``found``: what exit code 1 means for this command."""
    lines = ["exit codes:"]
    for code, text in EXIT_CODES.items():
        if code == EXIT_FOUND:
            if found is None:
                continue
            text = text.format(found=found)
        lines.append(f"  {code}  {text}")
    return "\n".join(lines)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the data as JSON (stable keys) instead of text; errors stay one line on stderr",
    )


def print_json(data: Any, file: IO[str] | None = None, *, lines: bool = False) -> None:
    """One JSON document (``lines``: on one line, for JSON Lines) on stdout."""
    text = json.dumps(data, ensure_ascii=False, default=str, indent=None if lines else 2)
    print(text, file=file or sys.stdout, flush=True)


def one_line(text: str) -> str:
    return " ".join(text.split())


class VerbatimError(Exception):
    """Another system's exact words, kept as they are (e.g. Severa's MV-14 refusal), and the fix,
    printed on the next line (as the help article does)."""

    def __init__(self, words: str, fix: str) -> None:
        super().__init__(words)
        self.words = words
        self.fix = fix
