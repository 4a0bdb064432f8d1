"""`cockpit demo`: a first look with no server — create or reuse a sandbox and open the cockpit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cockpit.commands.common import (
    EXIT_BAD_INPUT,
    fail,
    load_config,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="open the cockpit on the embedded sandbox (created on first use)")
    parser.add_argument("--dir", metavar="D", help="sandbox folder (default: the state folder's sandbox)")
    parser.add_argument("--operator", metavar="NAME", help="who drills (default: $SUDO_USER or $USER)")
    parser.add_argument("--read-only", action="store_true", help="look without acting")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from cockpit.commands.tui import run_tui
    from cockpit.plan import PlanError
    from cockpit.sandbox import SandboxError, create_sandbox, default_sandbox_dir

    directory = Path(args.dir) if args.dir else default_sandbox_dir()
    try:
        result = create_sandbox(directory)
    except (PlanError, SandboxError) as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    # printed before the full-screen app takes the terminal, and shown again inside it
    print(result.message, file=sys.stderr)
    print(f"sandbox config: {result.config_path}  (shell drill: cockpit run 10 flags-off --config {result.config_path})", file=sys.stderr)
    plan = load_config(result.config_path)
    return run_tui(plan, read_only=args.read_only, operator=args.operator,
                   welcome=f"{result.message}\nconfig: {result.config_path}")
