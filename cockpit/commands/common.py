"""What every command shares: loading the config, one-line failures, exit codes, the operator.

The design's contract is one clear line on stderr and a meaningful exit code, never a
traceback: an operator in an SSH session at night acts on the first line they read.

Which plan a command acts on is never a guess. `--config F` names it, or the
`COCKPIT_CONFIG` environment variable does; `./phases.toml` is only a default for
commands that read. A command that can change something (a step, the emergency, a tick,
a note, the log, a drill) refuses with exit 2 when the plan was not named, and says which
target the default would have hit — the README's drill run from the repository root
would otherwise have acted on the production target of the shipped plan.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import NoReturn

from cockpit.operator import operator_name as operator_name  # re-exported: commands import it from here
from cockpit.plan import Plan, PlanError, load_plan

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3

DEFAULT_CONFIG = Path("phases.toml")
CONFIG_ENV = "COCKPIT_CONFIG"
IN_MEMORY = Path(":memory:")


def fail(message: str, code: int) -> NoReturn:
    """Print one line to stderr and leave with `code`."""
    print(f"cockpit: {message}", file=sys.stderr)
    raise SystemExit(code)


def named_config(path: str | Path | None) -> Path | None:
    """The plan the operator named: --config, else $COCKPIT_CONFIG; None when neither."""
    if path:
        return Path(path)
    env = os.environ.get(CONFIG_ENV, "").strip()
    return Path(env) if env else None


def _load(path: Path) -> Plan:
    try:
        return load_plan(path)
    except PlanError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def load_config(path: str | Path | None, *, acting: bool = False, quiet: bool = False) -> Plan:
    """The plan named by --config or $COCKPIT_CONFIG, or exit 2 with its one-line error.

    Unnamed, `./phases.toml` is read: a reading command says on stderr which target it
    read (unless `quiet`), an acting one (`acting`) refuses, naming that target."""
    named = named_config(path)
    if named is not None:
        return _load(named)
    plan = _load(DEFAULT_CONFIG)
    if acting:
        fail(f"no --config given; ./{DEFAULT_CONFIG} targets {plan.target.label} — name it with --config "
             f"(or {CONFIG_ENV}) to act on it", EXIT_BAD_INPUT)
    if not quiet:
        print(f"cockpit: reading ./{DEFAULT_CONFIG} (target {plan.target.label}); name a plan with --config", file=sys.stderr)
    return plan


CONFIG_HELP = f"the plan file (or ${CONFIG_ENV}); ./phases.toml is read by default but never acted on"


def add_common_arguments(parser: argparse.ArgumentParser, operator: bool = False) -> None:
    parser.add_argument("--config", metavar="F", help=CONFIG_HELP)
    if operator:
        parser.add_argument("--operator", metavar="NAME", help="who runs this (default: $SUDO_USER or $USER)")


def reading_plan(plan: Plan) -> Plan:
    """The plan a read-only command opens: the same, but a journal that does not exist yet
    is read as an empty in-memory one, so looking never creates a file."""
    if plan.paths.journal.exists():
        return plan
    return dataclasses.replace(plan, paths=dataclasses.replace(plan.paths, journal=IN_MEMORY))
