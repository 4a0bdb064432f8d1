"""What every command shares: loading the config, one-line failures, exit codes, the operator.

The design's contract is one clear line on stderr and a meaningful exit code, never a
traceback: an operator in an SSH session at night acts on the first line they read.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import NoReturn

from cockpit.plan import Plan, PlanError, load_plan

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3

DEFAULT_CONFIG = Path("phases.toml")


def fail(message: str, code: int) -> NoReturn:
    """Print one line to stderr and leave with `code`."""
    print(f"cockpit: {message}", file=sys.stderr)
    raise SystemExit(code)


def load_config(path: str | Path | None) -> Plan:
    """The plan named by --config (./phases.toml by default), or exit 2 with its one-line error."""
    try:
        return load_plan(Path(path) if path else DEFAULT_CONFIG)
    except PlanError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def operator_name(explicit: str | None = None) -> str:
    """Who is at the keyboard: --operator, then COCKPIT_OPERATOR, then the sudo caller, then the login."""
    for candidate in (explicit, os.environ.get("COCKPIT_OPERATOR"), os.environ.get("SUDO_USER"), os.environ.get("USER")):
        if candidate:
            return candidate
    try:
        return getpass.getuser()
    except Exception:  # getuser raises various errors on exotic systems; a name is still needed
        return "unknown"


def add_common_arguments(parser: argparse.ArgumentParser, operator: bool = False) -> None:
    parser.add_argument("--config", metavar="F", help="the plan file (default: ./phases.toml)")
    if operator:
        parser.add_argument("--operator", metavar="NAME", help="who runs this (default: $SUDO_USER or $USER)")
